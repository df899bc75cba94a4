"""Publication status moves (``vidgen.store.publications``): exactly one of racing claims wins,
a claim's lease fences every later write, and a worker's death hands the upload on -- on
SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from vidgen.errors import LeaseLost, Refused
from vidgen.settings import load_settings
from vidgen.store import Store, get_store, jobs, publications, reset_stores
from vidgen.store.models import Video, utcnow

RACERS = 6


@pytest.fixture(params=["sqlite", "postgresql"])
def moves_store(
    request: pytest.FixtureRequest, home: Path, monkeypatch: pytest.MonkeyPatch
) -> Store:
    if request.param == "postgresql":
        url = request.getfixturevalue("database_url")
        monkeypatch.setenv("VIDGEN_DATABASE_URL", url)
        reset_stores()
    return get_store(load_settings())


def _approved_video(store: Store) -> int:
    job_id = jobs.create(store, "moves", "/tmp/moves.yml")
    with store.write() as session:
        video = Video(
            job_id=job_id,
            status="approved",
            video_path="/tmp/v.mp4",
            thumbnail_path="/tmp/v.jpg",
            log_path="/tmp/v.json",
        )
        session.add(video)
        session.flush()
        assert video.id is not None
        return video.id


def _schedule(store: Store, video_id: int, dest: str = "youtube", **kw: Any) -> int:
    pub = publications.schedule(
        store, video_id, dest, "default", kw.get("at", utcnow()), "public", {"title": "t"}
    )
    assert pub.id is not None
    return pub.id


def test_racing_claims_upload_once(moves_store: Store) -> None:
    pub_id = _schedule(moves_store, _approved_video(moves_store))
    barrier = threading.Barrier(RACERS)
    won: list[str] = []
    refused: list[str] = []

    def claim(owner: str) -> None:
        barrier.wait()
        try:
            publications.claim(moves_store, pub_id, owner, 60)
            won.append(owner)
        except Refused:
            refused.append(owner)

    threads = [threading.Thread(target=claim, args=(f"w{i}",)) for i in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(won) == 1 and len(refused) == RACERS - 1


def test_a_lost_lease_fences_the_old_worker_out(moves_store: Store) -> None:
    pub_id = _schedule(moves_store, _approved_video(moves_store))
    _pub, old = publications.claim(moves_store, pub_id, "old", 0.2)
    publications.record_upload(moves_store, old, {"offset": 10}, 0.2)
    with pytest.raises(Refused):
        publications.claim(moves_store, pub_id, "new", 60)  # the lease still runs
    time.sleep(0.3)
    assert [p.id for p in publications.due(moves_store, utcnow())] == [pub_id]
    pub, new = publications.claim(moves_store, pub_id, "new", 60)
    assert pub.upload == {"offset": 10} and pub.attempts == 2 and new.epoch == old.epoch + 1
    assert pub.started_at is not None and abs(pub.started_at - utcnow()) < timedelta(seconds=30)
    for write in (
        lambda: publications.record_upload(moves_store, old, {"offset": 99}, 60),
        lambda: publications.publish(moves_store, old, "x", None, None, {}),
        lambda: publications.fail(moves_store, old, "no", {}),
    ):
        with pytest.raises(LeaseLost):
            write()
    done = publications.publish(
        moves_store, new, "vid1", "https://y/vid1", "public", {"offset": 20}
    )
    assert (done.status, done.remote_id, done.upload) == ("published", "vid1", {"offset": 20})
    with pytest.raises(Refused, match="Only 'scheduled'"):
        publications.cancel(moves_store, pub_id)


def test_one_live_publication_per_video_and_destination(moves_store: Store) -> None:
    video_id = _approved_video(moves_store)
    later = utcnow() + timedelta(hours=1)
    first = _schedule(moves_store, video_id, at=later)
    with pytest.raises(Refused, match="already has publication"):
        _schedule(moves_store, video_id)
    _schedule(moves_store, video_id, "tiktok", at=later)  # another destination is fine
    publications.cancel(moves_store, first)
    _schedule(moves_store, video_id)  # once cancelled, it can be scheduled again
    assert publications.due(moves_store, utcnow())[0].destination == "youtube"
