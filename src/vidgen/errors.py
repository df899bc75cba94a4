"""The one flat list of vidgen's exceptions.

Library code raises these; only the CLI (exit codes, ``cli.output``) and the HTTP API (status
codes, ``api.app.status_for``) translate them.
Every message is a single line a user can act on.
"""


def one_line(exc: BaseException, limit: int = 500) -> str:
    """An exception as one line for checkpoints, events and logs (at most ``limit`` characters):
    its message, named by its type unless it is one of ours or an OSError, whose messages say
    what happened on their own."""
    orig = getattr(exc, "orig", None)  # a SQLAlchemy error: the driver's message says it all
    if isinstance(orig, Exception):
        exc = orig
    text = " ".join(str(exc).split()) or type(exc).__name__
    if not isinstance(exc, VidgenError | OSError):
        text = f"{type(exc).__name__}: {text}"
    return text[:limit]


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


class StoreLost(Refused):
    """The job store this home recorded work in is gone, empty, damaged or replaced by another
    one: every command refuses (saying how to restore it or start a new store) instead of
    silently starting an empty store beside the old work."""
