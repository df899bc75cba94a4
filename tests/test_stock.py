"""Stock footage: the providers' shared contract, Pixabay's request shape, candidate scoring, the
shared download cache and the fallback chain (stock -> your media -> backdrop). Every response
is a recorded one (tests/fixtures/http, respx); the footage is made by the tests with ffmpeg."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from httpkit import FIXTURES, SleepRecorder, recorded
from test_content_generation import REPORT, ScriptedTTS
from test_media_library import make_clip, write_theme
from vidgen.config import load_config
from vidgen.errors import FatalStageError, StageError
from vidgen.media import ffmpeg
from vidgen.media.stock import (
    PEXELS_SEARCH_URL,
    PIXABAY_SEARCH_URL,
    StockCache,
    StockCandidate,
    StockProvider,
    get_stock_provider,
    score,
)
from vidgen.media.visuals import ClipSpec, StockVideos
from vidgen.registry import STOCK_SOURCES
from vidgen.stages import content_generation
from vidgen.stages.base import StageContext

W, H = 180, 320
PIXABAY_CDN = "https://cdn.pixabay.com/"
PEXELS_CDN = "https://videos.pexels.com/"


@dataclass(frozen=True)
class Recorded:
    url: str
    key_env: str
    found: str
    empty: str
    bad_key: httpx.Response
    cdn: str


RECORDED: dict[str, Recorded] = {
    "pexels": Recorded(
        PEXELS_SEARCH_URL, "VIDGEN_PEXELS_API_KEY", "pexels_videos_search.json",
        "pexels_videos_search_empty.json",
        httpx.Response(401, json=recorded("pexels_error_401.json")), PEXELS_CDN,
    ),
    "pixabay": Recorded(
        PIXABAY_SEARCH_URL, "VIDGEN_PIXABAY_API_KEY", "pixabay_videos_search.json",
        "pixabay_videos_search_empty.json",
        httpx.Response(400, text=(FIXTURES / "pixabay_error_400_key.txt").read_text()),
        PIXABAY_CDN,
    ),
}  # fmt: skip


def test_every_stock_source_is_a_visuals_name_with_recorded_responses() -> None:
    from vidgen.registry import PROVIDERS

    assert set(STOCK_SOURCES) <= set(PROVIDERS["visuals"])
    assert set(RECORDED) == set(STOCK_SOURCES)


@pytest.fixture(scope="module")
def footage(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """Stands in for a downloaded stock file: a small H.264 clip with a sound track."""
    return make_clip(tmp_path_factory.mktemp("stock") / "f.mp4", seconds=3.0).read_bytes()


@pytest.fixture
def keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in STOCK_SOURCES:
        monkeypatch.setenv(RECORDED[name].key_env, f"test-{name}-key")


# --- the shared contract, over every stock source ------------------------------------------------


@pytest.mark.parametrize("name", STOCK_SOURCES)
def test_every_stock_source_keeps_the_contract(
    name: str, keys: None, sleeps: SleepRecorder
) -> None:
    rec = RECORDED[name]
    provider = get_stock_provider(name, sleep=sleeps)
    assert isinstance(provider, StockProvider) and provider.name == name
    assert provider.key_env == rec.key_env and provider.licence
    with respx.mock() as router, httpx.Client() as client:
        route = router.get(rec.url)
        route.respond(200, json=recorded(rec.found))
        found = provider.search(client, "beach sea", width=W, height=H)
        assert found and all(isinstance(c, StockCandidate) for c in found)
        for candidate in found:
            assert candidate.provider == name
            assert candidate.file_url.startswith(rec.cdn)
            assert candidate.page_url.startswith("https://")
            assert candidate.width > 0 and candidate.height > 0 and candidate.duration > 0
        # Nothing found is an empty list, not an error.
        route.respond(200, json=recorded(rec.empty))
        assert provider.search(client, "nothing", width=W, height=H) == []
        # A rejected key is fatal and names the variable to fix.
        route.mock(return_value=rec.bad_key)
        with pytest.raises(FatalStageError, match=rec.key_env):
            provider.search(client, "beach", width=W, height=H)
        # A service that is down is retryable (the caller may fall back).
        route.mock(return_value=httpx.Response(503))
        with pytest.raises(StageError) as caught:
            provider.search(client, "beach", width=W, height=H)
        assert not isinstance(caught.value, FatalStageError)


@pytest.mark.parametrize("name", STOCK_SOURCES)
def test_a_missing_key_is_fatal_and_names_the_variable(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(RECORDED[name].key_env, raising=False)
    monkeypatch.delenv("PIXABAY_API_KEY", raising=False)
    with httpx.Client() as client, pytest.raises(FatalStageError, match=RECORDED[name].key_env):
        get_stock_provider(name).search(client, "beach", width=W, height=H)


# --- Pixabay ---------------------------------------------------------------------------------


def test_pixabay_request_follows_the_public_api(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VIDGEN_PIXABAY_API_KEY", raising=False)
    monkeypatch.setenv("PIXABAY_API_KEY", "alias-key")  # the name other tools use
    with respx.mock() as router, httpx.Client() as client:
        route = router.get(PIXABAY_SEARCH_URL).respond(
            200, json=recorded("pixabay_videos_search.json")
        )
        found = get_stock_provider("pixabay").search(client, "x" * 150, width=360, height=640)
    params = route.calls[0].request.url.params
    assert params["key"] == "alias-key"
    assert params["q"] == "x" * 100  # the API's limit
    assert params["video_type"] == "film" and params["safesearch"] == "true"
    assert 3 <= int(params["per_page"]) <= 200
    by_id = {c.id: c for c in found}
    # The smallest rendition that covers 360x640: a portrait "tiny", a landscape "medium".
    assert (by_id["201077"].width, by_id["201077"].height) == (360, 640)
    assert (by_id["201034"].width, by_id["201034"].height) == (1280, 720)
    assert by_id["201034"].tags == ("beach", "sea", "waves", "sand")
    assert by_id["201099"].file_url.endswith("-medium.mp4")  # its empty "large" is skipped


def test_scoring_prefers_orientation_tags_resolution_and_length() -> None:
    hits = recorded("pixabay_videos_search.json")["hits"]
    with respx.mock() as router, httpx.Client() as client:
        router.get(PIXABAY_SEARCH_URL).respond(200, json={"hits": hits})
        found = get_stock_provider("pixabay", api_key="k").search(
            client, "q", width=360, height=640
        )
    by_id = {c.id: c for c in found}

    def value(candidate_id: str, words: set[str], duration: float = 5.0) -> float:
        return score(by_id[candidate_id], width=360, height=640, duration=duration, words=words)

    assert value("201077", set()) > value("201034", set())  # portrait beats landscape
    assert value("201034", {"beach", "sea"}) > value("201077", {"beach", "sea"}) - 3.0 + 2.9
    assert value("201034", {"beach"}) > value("201034", set())
    assert value("201099", set(), duration=5.0) > value("201099", set(), duration=30.0)


# --- rendering, the cache ------------------------------------------------------------------------


def _spec(**overrides: Any) -> ClipSpec:
    values: dict[str, Any] = {
        "index": 0, "duration": 2.0, "width": W, "height": H, "fps": 12,
        "style": "cinematic", "keywords": ["sea"], "seed": 5, "subjects": ["coffee", "cup"],
        "subject_terms": ["morning"],
    }  # fmt: skip
    values.update(overrides)
    return ClipSpec(**values)


@pytest.fixture
def pixabay(footage: bytes, keys: None) -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        router.get(PIXABAY_SEARCH_URL).respond(200, json=recorded("pixabay_videos_search.json"))
        router.get(url__startswith=PIXABAY_CDN).respond(
            200, content=footage, headers={"content-type": "video/mp4"}
        )
        yield router


def test_stock_clip_is_the_best_candidate_fitted_and_silent(
    pixabay: respx.MockRouter, tmp_path: Path
) -> None:
    source = StockVideos(get_stock_provider("pixabay"))
    clip = source.render(_spec(), tmp_path / "out" / "c.mp4")
    assert clip.provider == "pixabay" and clip.shows_subject
    assert clip.source == "https://pixabay.com/videos/coffee-cup-morning-201077/"
    assert pixabay.calls[0].request.url.params["q"] == "coffee cup"  # the scene's nouns first
    info = ffmpeg.probe(clip.path)
    assert (info.width, info.height, info.audio_codec) == (W, H, None)
    assert abs(info.duration - 2.0) <= 1 / 12 + 0.01
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["c.mp4"]


def test_the_download_cache_is_shared_by_jobs(pixabay: respx.MockRouter, tmp_path: Path) -> None:
    cache = StockCache(tmp_path / "home" / "cache" / "stock")
    first = StockVideos(get_stock_provider("pixabay"), cache=cache)
    first.render(_spec(), tmp_path / "job1" / "c.mp4")
    second = StockVideos(get_stock_provider("pixabay"), cache=cache)  # another job
    second.render(_spec(), tmp_path / "job2" / "c.mp4")
    downloads = [c for c in pixabay.calls if str(c.request.url).startswith(PIXABAY_CDN)]
    searches = [c for c in pixabay.calls if str(c.request.url).startswith(PIXABAY_SEARCH_URL)]
    assert len(downloads) == 1
    assert len(searches) == 1  # the answer is kept for a day (Pixabay's terms)
    answers = list((cache.folder / "search").iterdir())
    assert len(answers) == 1
    day_old = time.time() - 25 * 3600
    os.utime(answers[0], (day_old, day_old))
    StockVideos(get_stock_provider("pixabay"), cache=cache).render(_spec(), tmp_path / "j3.mp4")
    assert sum(str(c.request.url).startswith(PIXABAY_SEARCH_URL) for c in pixabay.calls) == 2
    entries = list(cache.folder.glob("*.video"))
    assert [e.name for e in entries] == [cache.path_for(str(downloads[0].request.url)).name]
    # Over its size cap, the least recently used entries go (never the one just fetched).
    small = StockCache(cache.folder, max_bytes=1)
    (cache.folder / ("0" * 40 + ".video")).write_bytes(b"old")
    small._trim(keep=entries[0])
    assert [e.name for e in cache.folder.glob("*.video")] == [entries[0].name]


def test_adjacent_scenes_get_different_stock_when_there_is_a_choice(
    pixabay: respx.MockRouter, tmp_path: Path
) -> None:
    source = StockVideos(get_stock_provider("pixabay"))
    first = source.render(_spec(index=0), tmp_path / "a.mp4")
    second = source.render(_spec(index=1), tmp_path / "b.mp4")
    assert first.source != second.source


# --- the fallback chain, end to end at the preview profile -------------------------------------


def said(scene: dict[str, Any]) -> str:
    """Everything a scene says, as the matching reads it."""
    return " ".join([scene["narration"], *scene["keywords"], *scene["subjects"]]).lower()


def _chain_context(
    tmp_path: Path,
    stage_context: Callable[..., StageContext],
    monkeypatch: pytest.MonkeyPatch,
    sleeps: SleepRecorder,
) -> tuple[StageContext, list[str]]:
    make_clip(tmp_path / "my-media" / "coffee-pour.mp4", seconds=1.0)
    config = load_config(
        write_theme(tmp_path, media="my-media", providers={"tts": "espeak", "visuals": "pixabay"})
    )
    monkeypatch.setattr(content_generation, "get_tts", lambda name: ScriptedTTS(0.25))
    real = get_stock_provider
    monkeypatch.setattr(
        content_generation, "get_stock_provider", lambda name: real(name, sleep=sleeps)
    )
    ctx = stage_context("content_generation", {"trend_analysis": REPORT}, config=config)
    logged: list[str] = []
    ctx.log = logged.append
    return ctx, logged


def test_stock_down_falls_back_to_your_media_then_the_backdrop(
    tmp_path: Path,
    stage_context: Callable[..., StageContext],
    monkeypatch: pytest.MonkeyPatch,
    sleeps: SleepRecorder,
    keys: None,
) -> None:
    ctx, logged = _chain_context(tmp_path, stage_context, monkeypatch, sleeps)
    with respx.mock() as router:
        search = router.get(PIXABAY_SEARCH_URL).respond(503, text="Service Unavailable")
        out = content_generation.run(ctx).outputs
    providers = [choice["provider"] for choice in out["providers"]["clip_choices"]]
    narrations = [said(scene) for scene in out["plan"]["scenes"]]
    for narration, provider, clip in zip(narrations, providers, out["clips"], strict=True):
        expected = "media" if "coffee" in narration else "procedural"
        assert provider == expected, (narration, provider)
        assert clip["shows_subject"] == (expected == "media")
    warnings = [line for line in logged if line.startswith("warning:")]
    assert len(warnings) == 1 and "Pixabay is unavailable" in warnings[0], logged
    # Down is down: no scene after the first failure asks again (two may ask at once).
    assert search.call_count <= 2 * 4


def test_stock_with_nothing_for_a_scene_falls_back_without_a_warning(
    tmp_path: Path,
    stage_context: Callable[..., StageContext],
    monkeypatch: pytest.MonkeyPatch,
    sleeps: SleepRecorder,
    footage: bytes,
    keys: None,
) -> None:
    ctx, logged = _chain_context(tmp_path, stage_context, monkeypatch, sleeps)
    found, empty = (
        recorded("pixabay_videos_search.json"),
        recorded("pixabay_videos_search_empty.json"),
    )

    def answer(request: httpx.Request) -> httpx.Response:
        query = request.url.params["q"].lower()
        return httpx.Response(200, json=found if "beach" in query else empty)

    with respx.mock() as router:
        router.get(PIXABAY_SEARCH_URL).mock(side_effect=answer)
        router.get(url__startswith=PIXABAY_CDN).respond(200, content=footage)
        out = content_generation.run(ctx).outputs
    choices = out["providers"]["clip_choices"]
    narrations = [said(scene) for scene in out["plan"]["scenes"]]
    for narration, choice in zip(narrations, choices, strict=True):
        if "beach" in narration:
            assert choice["provider"] == "pixabay" and "beach" in choice["matched"][0].lower()
            assert choice["source"].startswith("https://pixabay.com/videos/")
            assert choice["licence"] == "Pixabay Content License"
        elif "coffee" in narration:
            assert choice["provider"] == "media"
        else:
            assert choice["provider"] == "procedural", (narration, choice)
    assert not [line for line in logged if line.startswith("warning:")]
    assert (ctx.settings.home / "cache" / "stock").is_dir()  # downloads go to the shared cache
    assert sleeps.calls == []


def test_a_rejected_stock_key_still_fails_the_job(
    tmp_path: Path,
    stage_context: Callable[..., StageContext],
    monkeypatch: pytest.MonkeyPatch,
    sleeps: SleepRecorder,
    keys: None,
) -> None:
    ctx, _ = _chain_context(tmp_path, stage_context, monkeypatch, sleeps)
    with respx.mock() as router:
        router.get(PIXABAY_SEARCH_URL).mock(return_value=RECORDED["pixabay"].bad_key)
        with pytest.raises(FatalStageError, match="VIDGEN_PIXABAY_API_KEY"):
            content_generation.run(ctx)


def test_footage_helper_makes_real_video(footage: bytes, tmp_path: Path) -> None:
    path = tmp_path / "f.mp4"
    path.write_bytes(footage)
    proc = subprocess.run(
        [ffmpeg.ffmpeg_exe(), "-v", "error", "-i", str(path), "-f", "null", "-"], check=False
    )
    assert proc.returncode == 0


def test_a_vanished_stock_file_falls_back_for_its_scene(
    tmp_path: Path,
    stage_context: Callable[..., StageContext],
    monkeypatch: pytest.MonkeyPatch,
    sleeps: SleepRecorder,
    keys: None,
) -> None:
    ctx, logged = _chain_context(tmp_path, stage_context, monkeypatch, sleeps)
    with respx.mock() as router:
        router.get(PIXABAY_SEARCH_URL).respond(200, json=recorded("pixabay_videos_search.json"))
        router.get(url__startswith=PIXABAY_CDN).respond(404, text="gone")
        out = content_generation.run(ctx).outputs
    providers = {choice["provider"] for choice in out["providers"]["clip_choices"]}
    assert providers <= {"media", "procedural"} and "media" in providers
    assert any("footage unusable" in line and "404" in line for line in logged), logged
