"""The upload destinations' shared contract, run against each one and a local fake of its API
(tests/platformkit.py): one video per publication whatever fails in between."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from platformkit import FakePlatform, FakeTikTok, FakeYouTube, point_at, write_credentials
from vidgen.errors import FatalStageError
from vidgen.providers.destinations import get_destination
from vidgen.providers.publish import Destination, UploadRequest, UploadState
from vidgen.registry import DESTINATIONS

CHUNK = 64 * 1024
SIZE = 5 * CHUNK + 1234  # not a whole number of chunks


class Killed(Exception):
    """Stands for SIGKILL between two records (the process would stop right there)."""


@pytest.fixture(params=DESTINATIONS)
def fake(request: pytest.FixtureRequest) -> Iterator[FakePlatform]:
    platform: FakePlatform = FakeYouTube() if request.param == "youtube" else FakeTikTok()
    platform.start()
    yield platform
    platform.stop()


@pytest.fixture
def video(tmp_path: Path) -> Path:
    path = tmp_path / "job-1-lamp.mp4"
    path.write_bytes(os.urandom(SIZE))
    (tmp_path / "job-1-lamp.jpg").write_bytes(b"\xff\xd8jpeg")
    (tmp_path / "job-1-lamp.srt").write_text("1\n00:00:00,000 --> 00:00:01,000\nHello\n")
    return path


def _request(video: Path, **changes: Any) -> UploadRequest:
    fields: dict[str, Any] = {
        "title": "FocusFlow lamp",
        "description": "Warm light.\n\n#productdemo #lamp",
        "tags": ["productdemo", "lamp"],
        "privacy": "public",
        "made_for_kids": False,
        "video_path": str(video),
        "thumbnail_path": str(video.with_suffix(".jpg")),
        "captions_path": str(video.with_suffix(".srt")),
    }
    return UploadRequest(**(fields | changes))


def _destination(fake: FakePlatform, home: Path, monkeypatch: pytest.MonkeyPatch) -> Destination:
    point_at(
        monkeypatch,
        fake if isinstance(fake, FakeYouTube) else None,
        fake if isinstance(fake, FakeTikTok) else None,
    )
    monkeypatch.setenv("VIDGEN_UPLOAD_CHUNK_BYTES", str(CHUNK))
    write_credentials(home, fake.kind)
    made = get_destination(fake.kind, "default", home)
    made.sleep = lambda _s: None  # type: ignore[attr-defined]
    return made


def test_one_upload_sends_the_video_once_and_records_before_the_first_byte(
    fake: FakePlatform, video: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    destination = _destination(fake, tmp_path, monkeypatch)
    records: list[tuple[UploadState, int]] = []

    def record(state: UploadState) -> None:
        received = max((len(s.data) for s in fake.sessions.values()), default=0)
        records.append((dict(state), received))

    result = destination.upload(_request(video), {}, record)

    assert len(fake.videos) == 1
    assert fake.videos[0]["bytes"] == video.read_bytes()
    assert records[0][1] == 0, "the session is recorded before any byte is sent"
    offsets = [state.get("offset") for state, _ in records if "offset" in state]
    assert offsets == sorted(offsets) and offsets[-1] == SIZE
    assert result.remote_id
    if isinstance(fake, FakeYouTube):
        sent = fake.videos[0]["metadata"]
        assert sent["status"]["selfDeclaredMadeForKids"] is False
        assert sent["status"]["privacyStatus"] == "public"
        assert sent["snippet"]["tags"] == ["productdemo", "lamp"]
        assert "#productdemo" in sent["snippet"]["description"]
        assert fake.thumbnails == [result.remote_id]
        assert fake.captions[0]["snippet"]["videoId"] == result.remote_id
        assert b"Hello" in fake.captions[0]["body"]
        assert result.url == f"https://www.youtube.com/shorts/{result.remote_id}"
    else:
        init = fake.videos[0]["metadata"]
        assert init["source_info"]["video_size"] == SIZE
        assert init["source_info"]["total_chunk_count"] == SIZE // CHUNK
        assert init["post_info"]["privacy_level"] == "PUBLIC_TO_EVERYONE"
        assert result.url is not None and "/@vidgen_test/video/" in result.url
    assert result.applied_privacy in ("public", "PUBLIC_TO_EVERYONE")


def test_a_killed_upload_resumes_at_the_recorded_offset_without_a_second_upload(
    fake: FakePlatform, video: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    destination = _destination(fake, tmp_path, monkeypatch)
    saved: UploadState = {}
    calls = 0

    def dies_after_two_chunks(state: UploadState) -> None:
        nonlocal calls, saved
        saved = dict(state)
        calls += 1
        if calls == 3:  # the session, two chunks: then the process is gone
            raise Killed

    with pytest.raises(Killed):
        destination.upload(_request(video), {}, dies_after_two_chunks)
    assert 0 < saved["offset"] < SIZE
    sessions_before = len(fake.sessions)

    again = _destination(fake, tmp_path, monkeypatch)
    again.upload(_request(video), saved, lambda s: None)

    assert len(fake.sessions) == sessions_before, "resumed the recorded session, opened none"
    assert len(fake.videos) == 1
    assert fake.videos[0]["bytes"] == video.read_bytes()


@pytest.mark.parametrize("fault", ["reset_mid_chunk", "fail_next_chunks", "reset_after_final"])
def test_network_faults_during_the_upload_still_make_one_whole_video(
    fault: str, fake: FakePlatform, video: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    destination = _destination(fake, tmp_path, monkeypatch)
    setattr(fake, fault, 2 if fault != "reset_after_final" else 1)

    result = destination.upload(_request(video), {}, lambda s: None)

    assert len(fake.videos) == 1, "a fault is settled by asking the platform, not re-uploading"
    assert fake.videos[0]["bytes"] == video.read_bytes()
    assert result.remote_id


def test_an_expired_access_token_is_refreshed_and_kept_private(
    fake: FakePlatform, video: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    destination = _destination(fake, tmp_path, monkeypatch)
    destination.upload(_request(video, thumbnail_path=None, captions_path=None), {}, lambda s: None)
    fake.expire_tokens()  # the stored token is now refused with 401

    destination.upload(_request(video, thumbnail_path=None, captions_path=None), {}, lambda s: None)

    assert len(fake.videos) == 2
    stored = tmp_path / "credentials" / f"{fake.kind}-default.json"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600


def test_a_revoked_refresh_token_fails_at_once_saying_how_to_fix_it(
    fake: FakePlatform, video: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    destination = _destination(fake, tmp_path, monkeypatch)
    fake.revoked.add("refresh-1")

    with pytest.raises(FatalStageError) as caught:
        destination.upload(_request(video), {}, lambda s: None)

    message = str(caught.value)
    assert "expired or was revoked" in message and f"vidgen auth {fake.kind}" in message
    assert "\n" not in message
    assert fake.videos == []


def test_a_spent_quota_fails_at_once_with_one_line(
    fake: FakePlatform, video: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    destination = _destination(fake, tmp_path, monkeypatch)
    fake.quota = True

    with pytest.raises(FatalStageError) as caught:
        destination.upload(_request(video), {}, lambda s: None)

    assert "quota" in str(caught.value) or "rate limit" in str(caught.value)
    assert "\n" not in str(caught.value)


def test_missing_credentials_say_to_run_auth(
    fake: FakePlatform, video: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    destination = _destination(fake, tmp_path, monkeypatch)
    (tmp_path / "credentials" / f"{fake.kind}-default.json").unlink()

    with pytest.raises(FatalStageError, match=f"run 'vidgen auth {fake.kind}' first"):
        destination.upload(_request(video), {}, lambda s: None)


def test_youtube_records_the_privacy_an_unverified_project_gets(
    video: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeYouTube(unverified=True).start()
    try:
        result = _destination(fake, tmp_path, monkeypatch).upload(
            _request(video, publish_at=None), {}, lambda s: None
        )
    finally:
        fake.stop()
    assert result.applied_privacy == "private"


def test_youtube_scheduled_release_is_private_with_publish_at(
    video: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeYouTube().start()
    try:
        _destination(fake, tmp_path, monkeypatch).upload(
            _request(video, publish_at="2030-01-01T18:00:00Z"), {}, lambda s: None
        )
    finally:
        fake.stop()
    status = fake.videos[0]["metadata"]["status"]
    assert status == {
        "privacyStatus": "private",
        "selfDeclaredMadeForKids": False,
        "publishAt": "2030-01-01T18:00:00Z",
    }


def test_tiktok_unaudited_client_posts_privately_and_says_so(
    video: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeTikTok(unaudited=True).start()
    try:
        result = _destination(fake, tmp_path, monkeypatch).upload(
            _request(video), {}, lambda s: None
        )
    finally:
        fake.stop()
    assert result.applied_privacy == "SELF_ONLY"
    assert fake.videos[0]["privacy"] == "SELF_ONLY"


def test_tiktok_without_direct_post_uploads_a_draft_to_the_inbox(
    video: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeTikTok(direct_allowed=False).start()
    try:
        result = _destination(fake, tmp_path, monkeypatch).upload(
            _request(video), {}, lambda s: None
        )
    finally:
        fake.stop()
    assert fake.videos[0]["mode"] == "inbox"
    assert result.applied_privacy is not None and result.applied_privacy.startswith("DRAFT")


def test_youtube_a_refused_thumbnail_is_a_note_not_a_failed_publication(
    video: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeYouTube().start()
    fake.refuse_thumbnails = True
    try:
        result = _destination(fake, tmp_path, monkeypatch).upload(
            _request(video), {}, lambda s: None
        )
    finally:
        fake.stop()
    assert len(fake.videos) == 1 and fake.captions, "the video and its captions are up"
    assert result.note is not None and "thumbnail not set" in result.note
