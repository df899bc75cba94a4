"""The one flat list of vidgen's exceptions.

Library code raises these; only the CLI (exit codes) and the HTTP shim (status codes)
translate them.
Every message is a single line a user can act on.
"""


class VidgenError(Exception):
    """Base class: anything vidgen raises on purpose."""


class InvalidInput(VidgenError):
    """The caller gave a value we cannot use (bad status, limit, config file...). Usage error."""


class NotFound(VidgenError):
    """A job, video or file the caller named does not exist."""


class Refused(VidgenError):
    """Understood but not allowed in the current state (e.g. retrying a running job)."""


class StoreBusy(VidgenError):
    """The job store stayed locked by another process for longer than the busy timeout."""


class QueueUnavailable(VidgenError):
    """The queue could not accept or hand out a message."""


class QueueDamaged(QueueUnavailable):
    """The SQLite queue file is truncated or corrupt; ``recover`` replaces it."""


class StageError(VidgenError):
    """A stage failed in a way another attempt may fix (network blip, ffmpeg crash, disk full)."""


class FatalStageError(VidgenError):
    """A failure no retry can fix (bad config, missing credentials): fail the job now."""


class StageTimeout(StageError):
    """A stage attempt ran past its time limit; counts as a failed, retryable attempt."""


class LeaseLost(VidgenError):
    """A runner's lease on its job is gone (it was declared lost and the job failed, or another
    run claimed it): nothing it writes for that job may be recorded any more."""
