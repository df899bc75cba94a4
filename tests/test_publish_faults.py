"""A real ``vidgen worker`` SIGKILLed mid-upload, again and again: the video is published once.

Each destination gets one publication; a worker uploads it to the local fake (slow chunks) and
is killed at a random offset, ``KILLS`` times; after each kill the lease runs out and the cron
line (``vidgen publish --due``) hands the publication to the next worker, which resumes the
recorded session. At the end: published, one video on the platform, byte-identical, nothing
left uploading.
"""

from __future__ import annotations

import json
import random
import sqlite3
from collections.abc import Iterator

import pytest

from platformkit import FakePlatform, FakeTikTok, FakeYouTube, write_credentials
from processkit import LEASE, Factory
from test_publish import PUBLISH, pending_video, theme_file
from vidgen import service
from vidgen.settings import load_settings
from vidgen.store import get_store, reset_stores

KILLS = 5
CHUNK = 16 * 1024


@pytest.fixture(params=["youtube", "tiktok"])
def fake(request: pytest.FixtureRequest) -> Iterator[FakePlatform]:
    platform: FakePlatform = FakeYouTube() if request.param == "youtube" else FakeTikTok()
    platform.chunk_delay = 0.03  # ~1.5 s for the whole video: time to kill mid-upload
    platform.start()
    yield platform
    platform.stop()


def _publication(factory: Factory) -> dict[str, object]:
    conn = sqlite3.connect(factory.home / "vidgen.db", timeout=30)
    conn.row_factory = sqlite3.Row
    try:
        rows = conn.execute("SELECT * FROM publication").fetchall()
    finally:
        conn.close()
    assert len(rows) == 1
    return dict(rows[0])


@pytest.mark.slow
def test_sigkill_mid_upload_publishes_once(factory: Factory, fake: FakePlatform) -> None:
    rng = random.Random(21)
    settings = load_settings({"VIDGEN_HOME": str(factory.home)})
    config = theme_file(factory.root, PUBLISH)
    store = get_store(settings)
    video_id = pending_video(store, settings, config)
    service.approve_video(settings, video_id)
    video_path = factory.home / "output" / "approved"
    mp4 = next(video_path.glob("*.mp4"))
    mp4.write_bytes(bytes(rng.getrandbits(8) for _ in range(50 * CHUNK + 999)))
    reset_stores()
    write_credentials(factory.home, fake.kind)
    env = {
        "VIDGEN_YOUTUBE_API_URL": fake.url,
        "VIDGEN_YOUTUBE_TOKEN_URL": f"{fake.url}/token",
        "VIDGEN_TIKTOK_API_URL": fake.url,
        "VIDGEN_TIKTOK_TOKEN_URL": f"{fake.url}/v2/oauth/token/",
        "VIDGEN_TIKTOK_POLL_SECONDS": "0.05",
        "VIDGEN_UPLOAD_CHUNK_BYTES": str(CHUNK),
    }
    factory.env.update(env)
    made = factory.vidgen("publish", str(video_id), "--to", fake.kind, "--json")
    assert made.popen.returncode == 0, made.err
    total = mp4.stat().st_size

    def received() -> int:
        return max((len(s.data) for s in fake.sessions.values()), default=0)

    for _kill in range(KILLS):
        worker = factory.worker()
        target = received() + rng.randint(CHUNK, 6 * CHUNK)
        factory.wait_for(lambda t=target: received() >= min(t, total - 1), 60, "bytes to arrive")
        worker.kill_group()
        assert fake.videos == [] or received() >= total
        factory.wait_for(
            lambda: (
                _publication(factory)["status"] != "uploading"
                or factory.vidgen("publish", "--due", "--json").out.count('"queued":[]') == 0
            ),
            LEASE * 4,
            "the lease to run out and the cron line to queue the resume",
        )
    factory.worker()
    factory.wait_for(
        lambda: _publication(factory)["status"] in ("published", "failed"), 60, "the end"
    )

    pub = _publication(factory)
    assert pub["status"] == "published", pub["error_message"]
    assert len(fake.videos) == 1, "never a second video"
    assert fake.videos[0]["bytes"] == mp4.read_bytes()
    assert pub["attempts"] == KILLS + 1, "each worker resumed the one before it"
    assert json.loads(str(pub["upload"]))["offset"] == total
