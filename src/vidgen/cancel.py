"""The old name of ``vidgen.cancel_token``: nothing lives here.

Kept for ``vidgen.media``'s imports while another branch changes those modules; switch them to
``vidgen.cancel_token`` and delete this file (then ``cancel`` names only the CLI command).
"""

from vidgen.cancel_token import CancelToken, Deadline

__all__ = ["CancelToken", "Deadline"]
