"""Issue 11 (items 5 and 10): what killed attempts leave behind is removed, and a publication
is all-or-nothing. Real worker processes are SIGKILLed while the review stage copies the video,
between the renames that put a publication in place, and while a stage has a temporary file
open; ``vidgen recover`` (for jobs that are not running) and the next claim of the job remove
the leftovers. Scenarios and time bounds: docs/RELIABILITY.md.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from processkit import LEASE, Factory

pytestmark = pytest.mark.slow


def _entries(folder: Path) -> list[str]:
    """Every file and folder below ``folder``, hidden ones included."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) if folder.exists() else []


def _recover_reaps(factory: Factory, job_id: int) -> dict[str, object]:
    """Run ``vidgen recover`` until it has failed the killed job; returns its last answer."""
    answers: list[dict[str, object]] = []

    def reaped() -> bool:
        proc = factory.vidgen("recover", "--json")
        assert proc.popen.returncode == 0, proc.err
        answers.append(json.loads(proc.out))
        return factory.status(job_id) == "failed"

    factory.wait_for(reaped, LEASE + 10, "vidgen recover to reap the killed job")
    return answers[-1]


@pytest.mark.parametrize("moment", ["hold-copy", "hold-rename"])
def test_sigkill_while_publishing_leaves_no_partial_publication(
    factory: Factory, moment: str
) -> None:
    factory.env.update(
        STAGEKIT_COMPOSITION="fakevideo",
        STAGEKIT_FAKEVIDEO_BYTES="400000",
        STAGEKIT_REVIEW=f"{moment}+real",
    )
    job_id = factory.generate()
    doomed = factory.worker()
    factory.wait_inside("review")
    review = factory.home / "output" / "review"
    left = _entries(review)
    if moment == "hold-copy":  # half an MP4 under a temporary name in the staging folder
        assert any(name.endswith(".tmp") and ".mp4." in name for name in left), left
    else:  # the MP4 is in place; its thumbnail, log and row are not
        assert [n for n in left if n.endswith(".mp4") and "/" not in n], left
        assert not [n for n in left if n.endswith((".jpg", ".json")) and "/" not in n], left
    doomed.kill_group()
    killed_at = time.monotonic()

    if moment == "hold-rename":
        # recover fails the lost job and, since it is not running, removes the orphan MP4.
        answer = _recover_reaps(factory, job_id)
        assert time.monotonic() - killed_at < LEASE + 10
        assert _entries(review) == []
        assert "left by killed attempts" in str(answer["message"])
        factory.worker()
    else:
        factory.worker()  # reaps the job on its heartbeat; the retry's claim sweeps
        factory.wait_status(job_id, "failed", timeout=LEASE + 10)
    assert factory._query("SELECT count(*) FROM video")[0][0] == 0
    factory.retry(job_id)
    factory.wait_status(job_id, "completed")

    names = _entries(review)
    assert [Path(n).suffix for n in names] == [".jpg", ".json", ".mp4"], names
    assert len({Path(n).stem for n in names}) == 1
    rows = factory._query("SELECT video_path, thumbnail_path, log_path FROM video")
    assert len(rows) == 1
    assert sorted(Path(p).name for p in rows[0]) == names
    composed = next((factory.home / "jobs" / str(job_id) / "composition").rglob("video.mp4"))
    assert (review / names[2]).read_bytes() == composed.read_bytes()


def test_temp_files_of_killed_attempts_are_removed_at_recover_and_at_claim(
    factory: Factory,
) -> None:
    pause = {"STAGEKIT_CONTENT_GENERATION": "tempfile+pause"}
    jobs = factory.home / "jobs"
    temp_name = ".partial.mp4.deadbeef.tmp"

    # Job 1: killed with a temporary file open; `vidgen recover` removes it.
    first = factory.generate()
    doomed = factory.worker(**pause)
    factory.wait_inside("content_generation")
    doomed.kill_group()
    temp = jobs / str(first) / "content_generation" / "attempt-1" / temp_name
    assert temp.stat().st_size == 1 << 20
    answer = _recover_reaps(factory, first)
    assert not temp.exists()
    assert "removed 1 file(s) (1048576 bytes) left by killed attempts" in str(answer["message"])

    # Job 2: the same, but nobody runs recover: the retry's claim removes it.
    (factory.home / "inside-content_generation").unlink()
    second = factory.generate()
    doomed = factory.worker(**pause)
    factory.wait_for(lambda: factory.status(second) == "running", 30, "job 2 to start")
    factory.wait_inside("content_generation")
    doomed.kill_group()
    temp = jobs / str(second) / "content_generation" / "attempt-1" / temp_name
    assert temp.exists()
    factory.worker()  # reaps job 2 on its heartbeat (its start-up recover found it running)
    factory.wait_status(second, "failed", timeout=LEASE + 10)
    factory.retry(second)
    factory.wait_status(second, "completed")
    assert not temp.exists()
    leftovers = [p for p in jobs.rglob("*.tmp")]
    assert leftovers == [], leftovers
