"""The old name of the HTTP app: nothing lives here; the app is ``vidgen.api.app``.

Kept so imports of ``vidgen.shim.create_app`` (tests, scripts of the old layout) keep working.
"""

from vidgen.api.app import create_app, status_for, validation_detail
from vidgen.web.responses import MAX_BODY_BYTES

__all__ = ["MAX_BODY_BYTES", "create_app", "status_for", "validation_detail"]
