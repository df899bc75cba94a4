"""vidgen's exceptions live in ``vidgen.errors``, and the HTTP face maps them by class."""

from __future__ import annotations

import pytest

from vidgen import errors
from vidgen.api.app import status_for
from vidgen.pipeline import queue


class _RedisGone(errors.QueueUnavailable):
    """A subclass named nothing like its base: mapped by class, not by name."""


def test_the_queue_raises_the_errors_of_vidgen_errors_and_defines_none() -> None:
    own = [
        name
        for name, value in vars(queue).items()
        if isinstance(value, type)
        and issubclass(value, BaseException)
        and value.__module__ == queue.__name__
    ]
    assert own == []
    assert issubclass(errors.QueueDamaged, errors.QueueUnavailable)


@pytest.mark.parametrize(
    ("exc", "status"),
    [
        (errors.NotFound("Job 9 not found"), 404),
        (errors.Refused("Cannot retry job with status 'running'."), 400),
        (errors.InvalidInput("limit must be between 1 and 1000 (got 0)"), 422),
        (errors.StoreBusy("the job store stayed locked"), 503),
        (errors.QueueUnavailable("the queue could not take job 1"), 503),
        (errors.QueueDamaged("the queue file is damaged"), 503),
        (_RedisGone("redis://localhost:6379/0 is unreachable"), 503),
        (errors.StageError("ffmpeg crashed"), 500),
    ],
)
def test_http_statuses_follow_the_exception_class(exc: errors.VidgenError, status: int) -> None:
    assert status_for(exc) == status
