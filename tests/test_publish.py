"""Publishing approved videos: the commands, their HTTP twins, the upload task, exactly once.

Uploads go to local fakes of the YouTube and TikTok APIs (tests/platformkit.py); the queue is
the real SqliteHuey one, drained here as a worker would (``drain``).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from conftest import SAMPLE_CONFIG, CliResult
from platformkit import FakeTikTok, FakeYouTube, point_at, write_credentials
from vidgen.review_folders import folder
from vidgen.settings import Settings, load_settings
from vidgen.statuses import VideoStatus
from vidgen.store import Store, get_store, jobs, publications, videos

Cli = Callable[..., CliResult]


@pytest.fixture
def fakes(home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[FakeYouTube, FakeTikTok]]:
    youtube, tiktok = FakeYouTube().start(), FakeTikTok().start()
    point_at(monkeypatch, youtube, tiktok)
    monkeypatch.setenv("VIDGEN_UPLOAD_CHUNK_BYTES", str(16 * 1024))
    write_credentials(home, "youtube")
    write_credentials(home, "tiktok")
    yield youtube, tiktok
    youtube.stop()
    tiktok.stop()


def theme_file(tmp_path: Path, publish: dict[str, Any] | None) -> Path:
    raw = yaml.safe_load(SAMPLE_CONFIG.read_text())
    if publish is not None:
        raw["publish"] = publish
    path = tmp_path / f"theme-{len(list(tmp_path.glob('theme-*.yml')))}.yml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True))
    return path


def pending_video(store: Store, settings: Settings, config: Path) -> int:
    """A job's video filed for review as the review stage files it (video, thumbnail, log,
    captions); returns the video id."""
    job_id = jobs.create(store, "Product Demo", str(config))
    _job, lease = jobs.claim(store, job_id, "publish-test", 60)
    review_dir = folder(settings, VideoStatus.PENDING_REVIEW.value)
    review_dir.mkdir(parents=True, exist_ok=True)
    base = review_dir / f"job-{job_id}-lamp"
    files = (base.with_suffix(".mp4"), base.with_suffix(".jpg"), base.with_suffix(".json"))

    def write(_video: object) -> None:
        files[0].write_bytes(bytes(range(256)) * 300)  # 76.8 kB: several chunks
        files[1].write_bytes(b"\xff\xd8jpeg")
        base.with_suffix(".srt").write_text("1\n00:00:00,000 --> 00:00:01,000\nLamp\n")
        log = {
            "job_id": job_id,
            "plan": {"title": "Lamp", "description": "Warm light.", "hashtags": ["#lamp"]},
            "description": "Warm light.\n\nMusic: Kevin MacLeod (CC BY 4.0)",
            "review": {"status": "pending_review"},
        }
        files[2].write_text(json.dumps(log))

    video, _decided, _stale = videos.file_for_review(
        store,
        lease,
        plan_id=None,
        title="FocusFlow lamp",
        files=files,
        duration_seconds=1.0,
        before_commit=write,
    )
    assert video.id is not None
    return video.id


PUBLISH = {"made_for_kids": False, "privacy": "public", "hashtags": ["#focus"]}


@pytest.fixture
def approved(home: Path, tmp_path: Path, cli: Cli, fakes: tuple[FakeYouTube, FakeTikTok]) -> int:
    """An approved video whose config has a publish: section without destinations."""
    settings = load_settings()
    video_id = pending_video(get_store(settings), settings, theme_file(tmp_path, PUBLISH))
    assert cli("approve", str(video_id)).code == 0
    return video_id


def test_approve_with_a_publish_section_schedules_each_destination(
    home: Path, tmp_path: Path, cli: Cli, fakes: tuple[FakeYouTube, FakeTikTok]
) -> None:
    settings = load_settings()
    config = theme_file(
        tmp_path,
        PUBLISH | {"destinations": ["youtube", "tiktok"], "times": ["09:30"], "timezone": "UTC"},
    )
    video_id = pending_video(get_store(settings), settings, config)

    assert cli("approve", str(video_id)).code == 0

    listed = cli("publications", "--json").json()
    assert listed["count"] == 2
    by_dest = {p["destination"]: p for p in listed["publications"]}
    tiktok = by_dest["tiktok"]
    assert tiktok["status"] == "scheduled" and tiktok["video_id"] == video_id
    slot = datetime.fromisoformat(tiktok["scheduled_at"])
    assert (slot.hour, slot.minute) == (9, 30) and slot > datetime.now(UTC)
    # YouTube holds the release itself: uploaded now, private until publishAt.
    youtube = get_store(settings)
    row = publications.get(youtube, by_dest["youtube"]["id"])
    assert row is not None and row.request["publish_at"] == slot.isoformat().replace("+00:00", "Z")


def test_publish_queues_and_a_worker_uploads_exactly_once(
    approved: int, cli: Cli, drain: Callable[[], int], fakes: tuple[FakeYouTube, FakeTikTok]
) -> None:
    youtube, _tiktok = fakes
    made = cli("publish", str(approved), "--to", "youtube", "--json")
    assert made.code == 0, made.err
    assert made.json()["status"] == "scheduled"
    assert youtube.videos == [], "nothing is uploaded inside the CLI call"

    drain()

    shown = cli("publications", "--json").json()["publications"][0]
    assert shown["status"] == "published", shown
    assert shown["url"] == f"https://www.youtube.com/shorts/{shown['remote_id']}"
    assert shown["applied_privacy"] == "public" and shown["attempts"] == 1
    assert len(youtube.videos) == 1
    sent = youtube.videos[0]["metadata"]
    assert sent["status"]["selfDeclaredMadeForKids"] is False
    assert "Kevin MacLeod" in sent["snippet"]["description"]  # attributions travel
    assert "#focus" in sent["snippet"]["description"] and "lamp" in sent["snippet"]["tags"]
    assert youtube.captions and youtube.thumbnails

    again = cli("publish", "--due", "--json").json()
    assert again["queued"] == []
    assert cli("publish", str(approved), "--to", "youtube").code == 1  # one video, one post


def test_tiktok_publication_records_the_post_link(
    approved: int, cli: Cli, drain: Callable[[], int], fakes: tuple[FakeYouTube, FakeTikTok]
) -> None:
    _youtube, tiktok = fakes
    assert cli("publish", str(approved), "--to", "tiktok").code == 0
    drain()
    shown = cli("publications", "--status", "published", "--json").json()["publications"]
    assert len(shown) == 1 and len(tiktok.videos) == 1
    assert shown[0]["url"].startswith("https://www.tiktok.com/@vidgen_test/video/")
    assert shown[0]["applied_privacy"] == "PUBLIC_TO_EVERYONE"


def test_bad_input_is_one_line_with_the_contract_exit_codes(
    approved: int, home: Path, tmp_path: Path, cli: Cli
) -> None:
    settings = load_settings()
    pending = pending_video(get_store(settings), settings, theme_file(tmp_path, PUBLISH))
    no_kids = pending_video(get_store(settings), settings, theme_file(tmp_path, None))
    assert cli("approve", str(no_kids)).code == 0
    past = (datetime.now(UTC) - timedelta(hours=2)).isoformat()
    cases = [
        (("publish", str(approved), "--to", "vimeo"), 2, "unknown destination 'vimeo'"),
        (("publish", str(pending), "--to", "youtube"), 1, "only approved videos"),
        (("publish", str(approved), "--to", "youtube", "--at", past), 2, "in the past"),
        (("publish", str(approved), "--to", "youtube", "--at", "tomorrow"), 2, "not a time"),
        (("publish", str(approved), "--to", "youtube", "--account", "brand"), 1, "vidgen auth"),
        (("publish", str(no_kids), "--to", "youtube"), 1, "made_for_kids is not set"),
        (("publish", "999", "--to", "youtube"), 1, "not found"),
        (("publications", "--status", "done"), 2, "unknown publication status"),
        (("publish",), 2, "give VIDEO and --to"),
    ]
    for args, code, words in cases:
        result = cli(*args)
        assert result.code == code, (args, result.err)
        assert words in result.err, (args, result.err)
        assert result.err.count("\n") == 1 and "Traceback" not in result.err
    assert cli("publications", "--json").json()["count"] == 0, "nothing half-written"


def test_http_twins_return_the_same_bodies_and_statuses(
    approved: int, home: Path, cli: Cli, fakes: tuple[FakeYouTube, FakeTikTok]
) -> None:
    from vidgen.api.app import create_app

    later = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    with TestClient(create_app()) as client:
        assert (
            client.post(f"/api/videos/{approved}/publish", json={"to": "vimeo"}).status_code == 422
        )
        made = client.post(f"/api/videos/{approved}/publish", json={"to": "tiktok", "at": later})
        assert made.status_code == 200, made.text
        pub_id = made.json()["id"]
        listed = client.get("/api/publications")
        assert listed.text == cli("publications", "--json").out.strip()
        due = client.post("/api/publications/due")
        assert due.status_code == 200 and due.json()["queued"] == []  # not due until tomorrow
        cancelled = client.post(f"/api/publications/{pub_id}/cancel")
        assert cancelled.json()["status"] == "cancelled"
        again = client.post(f"/api/publications/{pub_id}/cancel")
        assert again.status_code == 400 and "Only 'scheduled'" in again.json()["detail"]
        assert client.post("/api/publications/999/cancel").status_code == 404
        settings = load_settings()
        other = pending_video(get_store(settings), settings, theme_file(Path(str(home)), PUBLISH))
        refused = client.post(f"/api/videos/{other}/publish", json={"to": "youtube"})
        assert refused.status_code == 400 and "only approved" in refused.json()["detail"]


def test_status_and_videos_show_where_a_video_went_and_equal_their_twins(
    approved: int, cli: Cli, drain: Callable[[], int], fakes: tuple[FakeYouTube, FakeTikTok]
) -> None:
    from vidgen.api.app import create_app

    job_id = cli("videos", "--json").json()["videos"][0]["job_id"]
    assert cli("status", str(job_id), "--json").json()["publications"] == []
    later = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)
    tiktok = cli("publish", str(approved), "--to", "tiktok", "--at", later.isoformat(), "--json")
    youtube = cli("publish", str(approved), "--to", "youtube", "--json")
    assert tiktok.code == 0 and youtube.code == 0, (tiktok.err, youtube.err)
    drain()  # the YouTube one is due now: uploaded; the TikTok one waits for tomorrow

    status = cli("status", str(job_id), "--json").json()
    shown = {p["destination"]: p for p in status["publications"]}
    assert [p["destination"] for p in status["publications"]] == ["tiktok", "youtube"]
    assert shown["tiktok"] == {
        "id": tiktok.json()["id"], "destination": "tiktok", "status": "scheduled",
        "scheduled_at": later.isoformat(), "url": None, "error_message": None,
    }  # fmt: skip
    assert shown["youtube"]["status"] == "published"
    assert shown["youtube"]["url"].startswith("https://www.youtube.com/shorts/")
    video = cli("videos", "--json").json()["videos"][0]
    assert video["id"] == approved and video["publications"] == status["publications"]
    # The whole publication record says the same.
    full = {p["id"]: p for p in cli("publications", "--json").json()["publications"]}
    for summary in status["publications"]:
        assert {k: full[summary["id"]][k] for k in summary} == summary

    # --json is the HTTP body, byte for byte.
    with TestClient(create_app()) as client:
        for args, url in [
            (("status", str(job_id), "--json"), f"/api/jobs/{job_id}"),
            (("videos", "--json"), "/api/videos"),
            (("videos", "--status", "approved", "--json"), "/api/videos?status=approved"),
            (("jobs", "--json"), "/api/jobs"),
        ]:
            assert cli(*args).out.strip() == client.get(url).text, args

    # For people: the status panel and the videos table (plain rows when piped).
    panel = cli("status", str(job_id)).out
    assert f"publish tiktok scheduled {later.strftime('%Y-%m-%d %H:%M')} UTC" in panel
    assert f"publish youtube published {shown['youtube']['url']}" in panel
    rows = cli("videos").out.splitlines()
    assert rows[0].split("\t")[-1] == "published"
    assert rows[1].split("\t")[-1] == (  # oldest first: the TikTok one was made first
        f"tiktok scheduled {later.strftime('%Y-%m-%d %H:%M')} UTC (#{shown['tiktok']['id']}); "
        f"youtube published {shown['youtube']['url']} (#{shown['youtube']['id']})"
    )


def test_approve_shows_what_it_scheduled(
    home: Path, tmp_path: Path, cli: Cli, fakes: tuple[FakeYouTube, FakeTikTok]
) -> None:
    settings = load_settings()
    config = theme_file(tmp_path, PUBLISH | {"destinations": ["tiktok"], "times": ["09:30"]})
    video_id = pending_video(get_store(settings), settings, config)
    approved = cli("approve", "--video-id", str(video_id), "--json")
    assert approved.code == 0, approved.err
    (pub,) = approved.json()["publications"]
    assert pub["destination"] == "tiktok" and pub["status"] == "scheduled"


def test_publish_due_keeps_each_destination_within_max_per_day(
    home: Path, tmp_path: Path, cli: Cli, fakes: tuple[FakeYouTube, FakeTikTok]
) -> None:
    settings = load_settings()
    config = theme_file(tmp_path, PUBLISH | {"max_per_day": 1})
    ids = [pending_video(get_store(settings), settings, config) for _ in range(2)]
    soon = (datetime.now(UTC) + timedelta(seconds=1)).isoformat()
    for video_id in ids:
        assert cli("approve", str(video_id)).code == 0
        assert cli("publish", str(video_id), "--to", "tiktok", "--at", soon).code == 0
    import time

    time.sleep(1.2)
    first = cli("publish", "--due", "--json").json()
    assert len(first["queued"]) == 1
    # The queued one is not started yet; a second cron run must not exceed the budget either
    # once it has started.
    store = get_store(settings)
    publications.claim(store, first["queued"][0], "w", 60)
    second = cli("publish", "--due", "--json").json()
    assert second["queued"] == [] and second["held_back"] == {"tiktok": 1}
    assert "held back by publish.max_per_day" in cli("publish", "--due").out


def test_a_worker_that_died_mid_upload_is_resumed_by_the_next_due_run(
    approved: int, cli: Cli, drain: Callable[[], int], fakes: tuple[FakeYouTube, FakeTikTok]
) -> None:
    from vidgen.providers.destinations import get_destination
    from vidgen.providers.publish import UploadRequest

    youtube, _tiktok = fakes
    cli("publish", str(approved), "--to", "youtube")
    settings = load_settings()
    store = get_store(settings)
    pub_id = cli("publications", "--json").json()["publications"][0]["id"]
    # A worker claims it, records the session and two chunks, then dies (no more renewals).
    pub, lease = publications.claim(store, pub_id, "dead-worker", 0.5)
    request = UploadRequest.model_validate(pub.request)
    recorded = 0

    class Died(Exception):
        pass

    def record(state: dict[str, Any]) -> None:
        nonlocal recorded
        publications.record_upload(store, lease, state, 0.5)
        recorded += 1
        if recorded == 3:
            raise Died

    with pytest.raises(Died):
        get_destination("youtube", "default", settings.home).upload(request, {}, record)
    import time

    time.sleep(0.6)  # the lease runs out
    assert cli("publish", "--due", "--json").json()["queued"] == [pub_id]
    drain()  # the stale message from 'publish' and the new one: one claims, one is refused

    row = publications.get(store, pub_id)
    assert row is not None and row.status == "published" and row.attempts == 2
    assert len(youtube.videos) == 1 and len(youtube.sessions) == 1
    with pytest.raises(Exception, match="no longer this worker"):
        publications.record_upload(store, lease, {}, 1)  # the dead worker is fenced out


def test_quota_fails_the_publication_at_once_with_what_to_do(
    approved: int, cli: Cli, drain: Callable[[], int], fakes: tuple[FakeYouTube, FakeTikTok]
) -> None:
    youtube, _tiktok = fakes
    youtube.quota = True
    cli("publish", str(approved), "--to", "youtube")
    drain()
    shown = cli("publications", "--json").json()["publications"][0]
    assert shown["status"] == "failed" and shown["attempts"] == 1
    assert "quota" in shown["error_message"] and "midnight Pacific" in shown["error_message"]
    table = cli("publications")
    assert "failed" in table.out


def test_the_webhook_gets_the_publication_body_with_its_event_header(
    approved: int,
    cli: Cli,
    drain: Callable[[], int],
    monkeypatch: pytest.MonkeyPatch,
    fakes: tuple[FakeYouTube, FakeTikTok],
) -> None:
    got: list[tuple[dict[str, str], bytes]] = []
    done = threading.Event()

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            got.append((dict(self.headers), body))
            self.send_response(204)
            self.end_headers()
            done.set()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("VIDGEN_WEBHOOK_URL", f"http://127.0.0.1:{server.server_address[1]}/hook")
    try:
        cli("publish", str(approved), "--to", "tiktok")
        drain()
        assert done.wait(10)
    finally:
        server.shutdown()
    headers, body = got[0]
    assert headers["X-Vidgen-Event"] == "publication"
    listed = cli("publications", "--json").json()["publications"][0]
    assert json.loads(body) == listed and listed["status"] == "published"


def test_the_dashboard_shows_a_videos_publications_and_offers_publishing(
    approved: int, cli: Cli, drain: Callable[[], int], fakes: tuple[FakeYouTube, FakeTikTok]
) -> None:
    from vidgen.api.app import create_app

    with TestClient(create_app()) as client:
        assert "/api/dashboard/videos/" in client.get("/static/app.js").text
        empty = client.get(f"/api/dashboard/videos/{approved}/publications").json()
        assert empty == {"count": 0, "publications": []}
        # The page's "Publish to TikTok" button posts this; a worker uploads it.
        assert (
            client.post(f"/api/videos/{approved}/publish", json={"to": "tiktok"}).status_code == 200
        )
        drain()
        shown = client.get(f"/api/dashboard/videos/{approved}/publications").json()
        assert shown["count"] == 1
        assert shown["publications"][0]["url"].startswith("https://www.tiktok.com/@vidgen_test/")
        assert client.get("/api/dashboard/videos/999/publications").status_code == 404


def test_a_platform_that_keeps_failing_fails_the_publication_after_the_retries(
    approved: int,
    cli: Cli,
    drain: Callable[[], int],
    monkeypatch: pytest.MonkeyPatch,
    fakes: tuple[FakeYouTube, FakeTikTok],
) -> None:
    youtube, _tiktok = fakes
    monkeypatch.setenv("VIDGEN_STAGE_ATTEMPTS", "2")
    youtube.fail_next_chunks = 10_000  # every chunk answered 503
    cli("publish", str(approved), "--to", "youtube")
    drain()
    shown = cli("publications", "--json").json()["publications"][0]
    assert shown["status"] == "failed" and shown["attempts"] == 1
    assert shown["error_message"] == "YouTube answered HTTP 503 (after 2 tries)"
    assert youtube.videos == [] and len(youtube.sessions) == 1, "one session, resumed each time"


def test_a_store_of_the_previous_version_gains_the_publication_table(home: Path) -> None:
    import sqlite3

    from vidgen.store import reset_stores
    from vidgen.store.engine import SCHEMA_VERSION

    settings = load_settings()
    get_store(settings)
    reset_stores()
    db = sqlite3.connect(settings.home / "vidgen.db")
    db.execute("DROP TABLE publication")
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION - 1}")
    db.commit()
    db.close()

    store = get_store(settings)  # opening upgrades it

    assert publications.newest(store, None, 5) == []
    db = sqlite3.connect(settings.home / "vidgen.db")
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    db.close()


def test_a_worker_shutting_down_hands_the_upload_back_with_its_session(
    approved: int, cli: Cli, fakes: tuple[FakeYouTube, FakeTikTok]
) -> None:
    from vidgen.pipeline.execute import SHUTDOWN
    from vidgen.pipeline.upload import run_publication

    youtube, _tiktok = fakes
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    pub_id = cli("publish", str(approved), "--to", "tiktok", "--at", later, "--json").json()["id"]
    cli("publications", "cancel", str(pub_id))
    pub_id = cli("publish", str(approved), "--to", "youtube", "--json").json()["id"]
    settings = load_settings()
    youtube.chunk_delay = 0.05

    def stop_soon() -> None:
        import time

        while not any(s.data for s in youtube.sessions.values()):
            time.sleep(0.01)
        SHUTDOWN.set()  # SIGTERM to the worker

    stopper = threading.Thread(target=stop_soon)
    stopper.start()
    assert run_publication(settings, pub_id) == "scheduled"
    stopper.join()
    row = publications.get(get_store(settings), pub_id)
    assert row is not None and row.status == "scheduled" and 0 < row.upload["offset"] < 76800
    assert youtube.videos == []

    SHUTDOWN.clear()
    youtube.chunk_delay = 0
    assert run_publication(settings, pub_id) == "published"
    assert len(youtube.videos) == 1 and len(youtube.sessions) == 1


def test_a_job_without_a_publish_section_uses_the_default_configs(
    home: Path,
    tmp_path: Path,
    cli: Cli,
    drain: Callable[[], int],
    monkeypatch: pytest.MonkeyPatch,
    fakes: tuple[FakeYouTube, FakeTikTok],
) -> None:
    settings = load_settings()
    old = pending_video(get_store(settings), settings, theme_file(tmp_path, None))
    monkeypatch.setenv(
        "VIDGEN_CONFIG", str(theme_file(tmp_path, PUBLISH | {"privacy": "unlisted"}))
    )
    assert cli("approve", str(old)).code == 0
    made = cli("publish", str(old), "--to", "youtube", "--json")
    assert made.code == 0, made.err
    assert made.json()["privacy"] == "unlisted"


def test_publish_times_follow_the_configured_time_zone() -> None:
    from vidgen import service

    now = datetime(2026, 12, 4, 20, 0, tzinfo=UTC)  # 21:00 in Berlin
    assert service.next_slot(["09:00", "18:00"], "Europe/Berlin", now) == datetime(
        2026, 12, 5, 8, 0, tzinfo=UTC
    )
    assert service.next_slot(["22:30"], "UTC", now) == datetime(2026, 12, 4, 22, 30, tzinfo=UTC)
    local = service.parse_publish_time("2026-12-24T18:00", "Europe/Berlin", now)
    assert local == datetime(2026, 12, 24, 17, 0, tzinfo=UTC)
    assert service.parse_publish_time("2026-12-24T18:00+00:00", "Europe/Berlin", now).hour == 18


def test_a_platforms_error_text_is_printed_as_sent_not_as_markup(
    approved: int, home: Path, cli: Cli, fakes: tuple[FakeYouTube, FakeTikTok]
) -> None:
    """An error from a platform is user text: markup in it (``[link=…]``, ``[bold]``) is printed
    as sent, never turned into a hidden terminal hyperlink or dropped (``[/]`` alone broke the
    whole listing with Rich's MarkupError)."""
    made = cli("publish", str(approved), "--to", "youtube", "--json").json()
    store = get_store(load_settings())
    _pub, lease = publications.claim(store, made["id"], "markup-test", 60)
    text = "quota exceeded [link=https://evil.example]see[/link] [bold]now[/bold]"
    publications.fail(store, lease, text, {})
    listed = cli("publications")
    assert listed.code == 0, listed.err
    assert text in listed.out
    job_id = made["job_id"]
    for args in (("status", str(job_id)), ("videos",)):
        shown = cli(*args)
        assert shown.code == 0 and text in shown.out, (args, shown.err)
