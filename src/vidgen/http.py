"""The old name of ``vidgen.outgoing`` (outgoing calls to providers' APIs): nothing lives here.

Kept for ``vidgen.media``'s imports while another branch changes those modules; switch them to
``vidgen.outgoing`` and delete this file.
"""

from vidgen.outgoing import (
    Credential,
    RetryPolicy,
    Sleep,
    default_timeout,
    download,
    request_json,
    require_key,
)

__all__ = [
    "Credential",
    "RetryPolicy",
    "Sleep",
    "default_timeout",
    "download",
    "request_json",
    "require_key",
]
