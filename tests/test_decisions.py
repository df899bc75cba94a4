"""Approve and reject released together: exactly one wins, on SQLite and on PostgreSQL.

Two reviewers (threads released by a barrier, each with its own store connection) decide the
same pending video at the same instant. The winner's decision is recorded and its files are
in its folder, the log saying the same; the loser gets the one-line Refused -- never a
FileNotFoundError, never a second "success".
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import CliResult
from vidgen import service
from vidgen.errors import Refused
from vidgen.review_folders import folder
from vidgen.settings import Settings, load_settings
from vidgen.statuses import VideoStatus
from vidgen.store import Store, get_store, jobs, reset_stores, videos

ROUNDS = 25


def _pending_video(store: Store, settings: Settings) -> int:
    """A job's video filed for review the way the review stage files it: four files, one row."""
    job_id = jobs.create(store, "race", "/tmp/race.yml")
    _job, lease = jobs.claim(store, job_id, "reviewer-test", 60)
    review_dir = folder(settings, VideoStatus.PENDING_REVIEW.value)
    review_dir.mkdir(parents=True, exist_ok=True)
    base = review_dir / f"job-{job_id}-race"
    files = (base.with_suffix(".mp4"), base.with_suffix(".jpg"), base.with_suffix(".json"))

    def publish(video: object) -> None:
        files[0].write_bytes(b"mp4")
        files[1].write_bytes(b"jpg")
        base.with_suffix(".srt").write_text("1\n00:00:00,000 --> 00:00:01,000\nhi\n")
        log = {"job_id": job_id, "review": {"status": "pending_review"}}
        files[2].write_text(json.dumps(log))

    video, _decided, _stale = videos.file_for_review(
        store,
        lease,
        plan_id=None,
        title="race",
        files=files,
        duration_seconds=1.0,
        before_commit=publish,
    )
    assert video.id is not None
    return video.id


def _race(settings: Settings, video_id: int) -> dict[str, object]:
    barrier = threading.Barrier(2)
    outcome: dict[str, object] = {}

    def decide(kind: str) -> None:
        barrier.wait()
        try:
            if kind == "approved":
                outcome[kind] = service.approve_video(settings, video_id)
            else:
                outcome[kind] = service.reject_video(settings, video_id, "not on brand")
        except Exception as exc:  # anything but Refused fails the test below
            outcome[kind] = exc

    threads = [threading.Thread(target=decide, args=(k,)) for k in ("approved", "rejected")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return outcome


def _check_round(
    store: Store, settings: Settings, video_id: int, outcome: dict[str, object]
) -> str:
    winners = [k for k, v in outcome.items() if not isinstance(v, Exception)]
    assert len(winners) == 1, outcome
    (winner,) = winners
    (loser,) = {"approved", "rejected"} - {winner}
    refusal = outcome[loser]
    assert isinstance(refusal, Refused), repr(refusal)
    assert str(refusal) == (
        f"video {video_id} is already {winner}; "
        "only videos pending review can be approved or rejected"
    )
    row = videos.get(store, video_id)
    assert row is not None and row.status == winner
    here = folder(settings, winner)
    stem = Path(row.video_path).stem
    assert Path(row.video_path).parent == here
    for suffix in (".mp4", ".jpg", ".json", ".srt"):
        assert (here / f"{stem}{suffix}").is_file(), suffix
        for other in (VideoStatus.PENDING_REVIEW.value, loser):
            assert not (folder(settings, other) / f"{stem}{suffix}").exists()
    log = json.loads(Path(row.log_path).read_text())
    assert log["review"]["status"] == winner
    return winner


def _rounds(settings: Settings) -> None:
    store = get_store(settings)
    wins: list[str] = []
    for _ in range(ROUNDS):
        video_id = _pending_video(store, settings)
        wins.append(_check_round(store, settings, video_id, _race(settings, video_id)))
    assert len(wins) == ROUNDS


def test_approve_and_reject_released_together_on_sqlite(settings: Settings) -> None:
    _rounds(settings)


@pytest.mark.slow
def test_approve_and_reject_released_together_on_postgresql(
    database_url: str, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VIDGEN_DATABASE_URL", database_url)
    reset_stores()
    try:
        _rounds(load_settings())
    finally:
        reset_stores()


def test_the_loser_of_a_decision_is_refused_on_the_command_line(
    settings: Settings, cli: Callable[..., CliResult]
) -> None:
    video_id = _pending_video(get_store(settings), settings)
    assert cli("approve", str(video_id)).code == 0
    lost = cli("reject", str(video_id), "--reason", "late")
    assert lost.code == 1
    assert "Traceback" not in lost.err
    assert f"video {video_id} is already approved" in lost.err
