"""A store that knows it exists, and files deleted only by the store that recorded them.

Real ``vidgen`` processes (``processkit``): a second home sharing the output folder runs
``recover`` and a worker next to the first home's videos waiting for review; a store file is
deleted, truncated or replaced while idle and under a running worker. Scenarios and promises:
docs/RELIABILITY.md ("Store lost, shared output folder").
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import CliResult
from processkit import LEASE, Factory, Proc

pytestmark = pytest.mark.slow

FAKE = {"STAGEKIT_COMPOSITION": "fakevideo", "STAGEKIT_FAKEVIDEO_BYTES": "2000"}
FAKE_REVIEW = {**FAKE, "STAGEKIT_REVIEW": "real"}


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())} if folder.is_dir() else {}


def _one_line_refusal(proc: Proc, *needles: str) -> str:
    assert proc.popen.returncode == 1, (proc.out, proc.err)
    text = (proc.out + proc.err).strip()
    assert "Traceback" not in text, text
    assert len(text.splitlines()) == 1, text
    for needle in needles:
        assert needle in text, (needle, text)
    return text


def _completed_job(factory: Factory) -> tuple[int, Proc]:
    job_id = factory.generate()
    worker = factory.worker()
    factory.wait_status(job_id, "completed")
    return job_id, worker


def test_a_second_home_sharing_the_output_folder_deletes_none_of_the_first_homes_videos(
    tmp_path: Path,
) -> None:
    shared = tmp_path / "shared-output"
    first, second = Factory(tmp_path / "one"), Factory(tmp_path / "two")
    try:
        for factory in (first, second):
            factory.env.update(VIDGEN_OUTPUT_DIR=str(shared), **FAKE_REVIEW)
        job_id, worker = _completed_job(first)
        worker.kill_group()
        review = shared / "review"
        published = _files(review)
        assert sorted(Path(n).suffix for n in published) == [".jpg", ".json", ".mp4"]

        # The trial: `VIDGEN_HOME=home2 vidgen recover` removed the first home's videos as
        # "left by killed attempts"; so did every worker of home 2 at start-up.
        recovered = second.vidgen("recover", "--json")
        assert recovered.popen.returncode == 0, recovered.err
        assert "removed" not in json.loads(recovered.out)["message"]
        assert _files(review) == published
        other_job, other_worker = _completed_job(second)  # its start-up recover, then a job
        assert other_job == job_id == 1  # the same job id, the same theme: the same name
        other_worker.kill_group()
        now = _files(review)
        assert {name: now[name] for name in published} == published  # untouched
        theirs = sorted(set(now) - set(published))
        assert len(theirs) == 3, now  # home 2's own publication, under a name of its own

        approved = first.vidgen("approve", str(job_id), "--json")
        assert approved.popen.returncode == 0, approved.err
        assert sorted(_files(shared / "approved")) == sorted(published)
        assert sorted(_files(review)) == theirs
    finally:
        first.cleanup()
        second.cleanup()


@pytest.mark.parametrize("damage", ["deleted", "truncated", "replaced"])
def test_a_lost_store_is_refused_in_one_line_never_recreated(
    factory: Factory, tmp_path: Path, damage: str
) -> None:
    factory.env.update(FAKE_REVIEW)
    _job_id, worker = _completed_job(factory)
    worker.kill_group()
    review = factory.home / "output" / "review"
    old_video = _files(review)
    db = factory.home / "vidgen.db"
    if damage == "deleted":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
    elif damage == "truncated":
        db.write_bytes(b"")
    else:  # another home's store file copied over this one
        other = Factory(tmp_path / "other")
        other.generate()
        for suffix in ("-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        shutil.copyfile(other.home / "vidgen.db", db)

    why = {"deleted": "missing", "truncated": "empty", "replaced": "replaced by another store"}[
        damage
    ]
    for args in (("jobs",), ("status", "1"), ("generate",), ("worker",)):
        refused = factory.vidgen(*args, timeout=20)
        _one_line_refusal(refused, why, "restore it", "vidgen recover --new-store")
    if damage == "deleted":
        assert not db.exists()  # nothing recreated it

    fresh = factory.vidgen("recover", "--new-store", "--json")
    assert fresh.popen.returncode == 0, fresh.err
    assert "started a new, empty job store" in json.loads(fresh.out)["message"]
    if damage != "deleted":
        assert list(factory.home.glob("vidgen.db.lost-*"))  # kept aside, not deleted
    new_job = factory.generate()
    assert new_job == 1
    factory.worker()
    factory.wait_status(new_job, "completed")
    now = _files(review)
    assert {name: now[name] for name in old_video} == old_video  # the old job 1 video stays
    assert len(now) == 2 * len(old_video)


@pytest.mark.parametrize("damage", ["deleted", "truncated"])
def test_a_worker_whose_store_file_goes_away_stops_in_one_line(
    factory: Factory, damage: str
) -> None:
    job_id, worker = _completed_job(factory)
    db = factory.home / "vidgen.db"
    if damage == "deleted":
        db.unlink()
    else:
        with open(db, "r+b") as handle:
            handle.truncate(0)
    worker.wait(timeout=LEASE + 10)  # within a few beats
    assert worker.popen.returncode == 1, worker.err
    assert "Traceback" not in worker.out + worker.err
    assert "vidgen recover --new-store" in worker.err.strip().splitlines()[-1]
    refused = factory.vidgen("generate", timeout=20)
    _one_line_refusal(refused, "vidgen recover --new-store")
    assert job_id == 1


def test_a_publication_from_before_names_were_recorded_is_replaced_not_orphaned(
    cli: Callable[..., CliResult],
    stagekit: Path,
    drain: Callable[[], int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """After an upgrade, a job's own pending video (its row, no recorded name, a log without
    the store id) is the store's: a retry from review publishes under the same name and leaves
    no old file behind."""
    from sqlalchemy import delete

    from vidgen.settings import load_settings
    from vidgen.store import get_store
    from vidgen.store.models import OwnedName

    for name, value in FAKE_REVIEW.items():
        monkeypatch.setenv(name, value)
    assert cli("generate", "--theme", "legacy").code == 0
    drain()
    review = stagekit / "output" / "review"
    before = sorted(_files(review))
    with get_store(load_settings()).write() as session:
        session.execute(delete(OwnedName))
    log = review / next(n for n in before if n.endswith(".json"))
    data = json.loads(log.read_text())
    del data["store_id"]
    log.write_text(json.dumps(data))
    assert cli("retry", "1", "--from-stage", "review").code == 0
    drain()
    assert cli("status", "1", "--json").json()["status"] == "completed"
    assert sorted(_files(review)) == before
