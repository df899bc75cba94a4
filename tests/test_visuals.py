"""Visual sources: real ffmpeg renders at preview size, network only through recorded responses."""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from PIL import Image, ImageDraw

from httpkit import SleepRecorder
from vidgen.cancel_token import Deadline
from vidgen.errors import FatalStageError, StageError, StageTimeout
from vidgen.media import visuals as visuals_module
from vidgen.media.ffmpeg import ffmpeg_exe, probe
from vidgen.media.visuals import (
    PEXELS_SEARCH_URL,
    PIXABAY_SEARCH_URL,
    Clip,
    ClipSpec,
    ImageKenBurns,
    PexelsVideos,
    PixabayVideos,
    ProceduralVisuals,
    VisualSource,
    _portrait_file,
    get_visual_source,
)

FIXTURES = Path(__file__).parent / "fixtures" / "http"
SEARCH_JSON = json.loads((FIXTURES / "pexels_videos_search.json").read_text())
W, H, FPS = 180, 320, 24


def spec(**overrides: Any) -> ClipSpec:
    values: dict[str, Any] = {
        "index": 0,
        "duration": 2.0,
        "width": W,
        "height": H,
        "fps": FPS,
        "style": "product-demo",
        "keywords": ["laptop", "desk"],
        "seed": 7,
    }
    values.update(overrides)
    return ClipSpec(**values)


def gray_frame(path: Path, at: float, size: str = "45x80") -> bytes:
    """One decoded frame as raw 8-bit gray bytes, downscaled so comparisons are cheap."""
    proc = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-ss", f"{at}", "-i", str(path), "-frames:v", "1",
         "-vf", f"scale={size}", "-pix_fmt", "gray", "-f", "rawvideo", "-"],
        capture_output=True, check=True,
    )  # fmt: skip
    assert len(proc.stdout) == 45 * 80
    return proc.stdout


def mean_abs_diff(a: bytes, b: bytes) -> float:
    return sum(abs(x - y) for x, y in zip(a, b, strict=True)) / len(a)


def assert_clip_contract(clip: Clip, out: Path, wanted: ClipSpec) -> None:
    assert clip.path == out and out.is_file()
    info = probe(out)
    assert (info.width, info.height) == (wanted.width, wanted.height)
    assert info.fps == wanted.fps
    assert info.video_codec == "h264" and info.pixel_format == "yuv420p"
    assert info.audio_codec is None
    frame = 1.0 / wanted.fps
    assert abs(info.duration - wanted.duration) <= frame + 0.01
    assert abs(clip.duration - wanted.duration) <= frame
    assert clip.cost >= 0
    # Published atomically: no temporary siblings are left behind.
    assert sorted(p.name for p in out.parent.iterdir()) == [out.name]


@pytest.fixture(scope="module")
def recorded_mp4(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """Stands in for a Pexels download: a small portrait H.264 file with an audio track."""
    path = tmp_path_factory.mktemp("pexels") / "clip.mp4"
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", "testsrc2=s=240x426:r=25:d=4",
         "-f", "lavfi", "-i", "sine=f=440:d=4", "-c:v", "libx264", "-preset", "ultrafast",
         "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(path)],
        check=True,
    )  # fmt: skip
    return path.read_bytes()


@pytest.fixture
def pexels_api(recorded_mp4: bytes, monkeypatch: pytest.MonkeyPatch) -> Iterator[respx.MockRouter]:
    monkeypatch.setenv("VIDGEN_PEXELS_API_KEY", "test-pexels-key")
    monkeypatch.setenv("VIDGEN_PIXABAY_API_KEY", "test-pixabay-key")
    pixabay = json.loads((FIXTURES / "pixabay_videos_search.json").read_text())
    with respx.mock(assert_all_called=False) as router:
        router.get(PEXELS_SEARCH_URL).respond(200, json=SEARCH_JSON)
        router.get(PIXABAY_SEARCH_URL).respond(200, json=pixabay)
        for cdn in ("https://videos.pexels.com/", "https://cdn.pixabay.com/"):
            router.get(url__startswith=cdn).respond(
                200, content=recorded_mp4, headers={"content-type": "video/mp4"}
            )
        yield router


@pytest.fixture
def images(tmp_path: Path) -> list[Path]:
    """A landscape and a portrait picture with structure, so motion is measurable."""
    paths = []
    for name, size in (("wide.jpg", (640, 400)), ("tall.png", (300, 520))):
        picture = Image.new("RGB", size, (20, 40, 90))
        draw = ImageDraw.Draw(picture)
        for k in range(0, size[0], 40):
            draw.rectangle((k, 0, k + 18, size[1]), fill=(240, 200 - k % 160, 60))
        for k in range(0, size[1], 50):
            draw.ellipse((k % size[0], k, k % size[0] + 45, k + 45), fill=(255, 255, 255))
        path = tmp_path / "pictures" / name
        path.parent.mkdir(exist_ok=True)
        picture.save(path)
        paths.append(path)
    return paths


# --- the shared contract, over every source ----------------------------------------------------

SourceFactory = Callable[[list[Path]], VisualSource]
SOURCES: dict[str, SourceFactory] = {
    "procedural": lambda images: ProceduralVisuals(),
    "images": lambda images: ImageKenBurns(images),
    "pexels": lambda images: PexelsVideos(),
    "pixabay": lambda images: PixabayVideos(),
}


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_every_visual_source_keeps_the_contract(
    name: str, images: list[Path], pexels_api: respx.MockRouter, tmp_path: Path
) -> None:
    source = SOURCES[name](images)
    assert isinstance(source, VisualSource)
    assert source.name == name
    assert type(get_visual_source(name, images)) is type(source)
    wanted = spec(duration=1.5, index=1, style="tutorial")
    out = tmp_path / "clips" / f"{name}.mp4"
    clip = source.render(wanted, out)
    assert_clip_contract(clip, out, wanted)
    assert clip.provider == name


# --- procedural ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "style", ["cinematic", "talking-head", "tutorial", "listicle", "product-demo"]
)
def test_procedural_clip_is_moving_video_of_the_spec(style: str, tmp_path: Path) -> None:
    wanted = spec(style=style, duration=2.0)
    out = tmp_path / f"{style}.mp4"
    clip = ProceduralVisuals().render(wanted, out)
    assert_clip_contract(clip, out, wanted)
    assert clip.source is None and clip.cost == 0
    first, later = gray_frame(out, 0.1), gray_frame(out, 1.6)
    assert mean_abs_diff(first, later) > 2.0, "background should visibly move"
    assert max(first) - min(first) > 20, "frame should not be a flat colour"


def test_procedural_is_deterministic_per_seed_and_differs_between_seeds(tmp_path: Path) -> None:
    render = ProceduralVisuals().render
    a = render(spec(seed=11, duration=1.0), tmp_path / "a.mp4").path
    b = render(spec(seed=11, duration=1.0), tmp_path / "b.mp4").path
    c = render(spec(seed=12, duration=1.0), tmp_path / "c.mp4").path
    assert gray_frame(a, 0.5) == gray_frame(b, 0.5)
    assert mean_abs_diff(gray_frame(a, 0.5), gray_frame(c, 0.5)) > 2.0


def test_odd_duration_is_rounded_to_whole_frames(tmp_path: Path) -> None:
    wanted = spec(duration=1.37, fps=30)
    clip = ProceduralVisuals().render(wanted, tmp_path / "odd.mp4")
    assert abs(clip.duration - 1.37) <= 1 / 30
    assert abs(probe(clip.path).duration - 1.37) <= 1 / 30 + 0.01


def test_invalid_spec_is_fatal(tmp_path: Path) -> None:
    with pytest.raises(FatalStageError, match="invalid spec"):
        ProceduralVisuals().render(spec(duration=0), tmp_path / "x.mp4")


def test_cancelled_render_stops_and_leaves_no_file(tmp_path: Path) -> None:
    class Ctx:
        cancel = threading.Event()
        deadline = float("inf")

        def check_cancelled(self) -> None:
            if self.cancel.is_set():
                raise StageTimeout("stopped")

        def remaining(self) -> float:
            return float("inf")

    ctx = Ctx()
    ctx.cancel.set()
    out = tmp_path / "clips" / "cancelled.mp4"
    with pytest.raises(StageTimeout):
        ProceduralVisuals().render(spec(duration=30.0), out, ctx=ctx)  # type: ignore[arg-type]
    assert list(out.parent.iterdir()) == []


# --- Ken Burns ----------------------------------------------------------------------------------


def test_ken_burns_cycles_images_by_index_and_moves(images: list[Path], tmp_path: Path) -> None:
    source = ImageKenBurns(images)
    sources = []
    for index in range(3):
        wanted = spec(index=index, duration=2.0, seed=3)
        out = tmp_path / "clips" / f"{index}.mp4"
        clip = source.render(wanted, out)
        info = probe(out)
        assert (info.width, info.height, info.video_codec) == (W, H, "h264")
        assert abs(info.duration - 2.0) <= 1 / FPS + 0.01
        sources.append(clip.source)
        assert mean_abs_diff(gray_frame(out, 0.05), gray_frame(out, 1.9)) > 1.0
    assert sources == [str(images[0]), str(images[1]), str(images[0])]


def test_ken_burns_missing_image_is_fatal_and_names_it(images: list[Path], tmp_path: Path) -> None:
    missing = tmp_path / "nope" / "gone.jpg"
    with pytest.raises(FatalStageError, match=r"gone\.jpg"):
        ImageKenBurns([missing]).render(spec(), tmp_path / "out.mp4")
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not really a png")
    with pytest.raises(FatalStageError, match=r"broken\.png"):
        ImageKenBurns([broken]).render(spec(), tmp_path / "out.mp4")
    assert not (tmp_path / "out.mp4").exists()


def test_ken_burns_without_images_is_fatal() -> None:
    with pytest.raises(FatalStageError, match="images"):
        get_visual_source("images", [])


# --- Pexels -------------------------------------------------------------------------------------


def test_pexels_downloads_a_portrait_file_and_fits_it(
    pexels_api: respx.MockRouter, tmp_path: Path
) -> None:
    wanted = spec(duration=2.0)
    out = tmp_path / "p.mp4"
    clip = PexelsVideos().render(wanted, out)
    assert_clip_contract(clip, out, wanted)
    assert clip.cost == 0.0
    assert clip.source is not None and clip.source.startswith("https://www.pexels.com/video/")
    search = pexels_api.calls[0].request
    assert search.headers["Authorization"] == "test-pexels-key"
    assert search.url.params["orientation"] == "portrait"
    assert search.url.params["query"] == "laptop desk"
    download = pexels_api.calls[1].request.url
    # The landscape-only result is skipped; the smallest portrait file at least 180 px wide wins.
    assert str(download) in {
        "https://videos.pexels.com/video-files/7579564/7579564-sd_360_640_30fps.mp4",
        "https://videos.pexels.com/video-files/8953675/8953675-sd_240_426_25fps.mp4",
    }


def test_pexels_loops_footage_shorter_than_the_scene(
    pexels_api: respx.MockRouter, tmp_path: Path
) -> None:
    wanted = spec(duration=6.0, fps=12)
    clip = PexelsVideos().render(wanted, tmp_path / "long.mp4")
    assert_clip_contract(clip, tmp_path / "long.mp4", wanted)


def test_pexels_falls_back_to_fewer_keywords(
    recorded_mp4: bytes, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("VIDGEN_PEXELS_API_KEY", "k")
    empty = json.loads((FIXTURES / "pexels_videos_search_empty.json").read_text())
    with respx.mock() as router:
        router.get(PEXELS_SEARCH_URL, params={"query": "rare words here"}).respond(200, json=empty)
        router.get(PEXELS_SEARCH_URL, params={"query": "rare"}).respond(200, json=SEARCH_JSON)
        router.get(url__startswith="https://videos.pexels.com/").respond(200, content=recorded_mp4)
        clip = PexelsVideos().render(
            spec(keywords=["rare", "words", "here", "ignored"], duration=1.0), tmp_path / "f.mp4"
        )
    assert clip.path.is_file()


def test_pexels_without_results_is_fatal(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("VIDGEN_PEXELS_API_KEY", "k")
    empty = json.loads((FIXTURES / "pexels_videos_search_empty.json").read_text())
    with respx.mock() as router:
        router.get(PEXELS_SEARCH_URL).respond(200, json=empty)
        with pytest.raises(FatalStageError, match="no portrait videos"):
            PexelsVideos().render(spec(), tmp_path / "x.mp4")


def test_pexels_rejected_or_missing_key_is_fatal_and_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("VIDGEN_PEXELS_API_KEY", raising=False)
    with pytest.raises(FatalStageError, match="VIDGEN_PEXELS_API_KEY"):
        PexelsVideos().render(spec(), tmp_path / "x.mp4")
    monkeypatch.setenv("VIDGEN_PEXELS_API_KEY", "wrong")
    body = json.loads((FIXTURES / "pexels_error_401.json").read_text())
    with respx.mock() as router:
        router.get(PEXELS_SEARCH_URL).respond(401, json=body)
        with pytest.raises(FatalStageError, match="VIDGEN_PEXELS_API_KEY"):
            PexelsVideos().render(spec(), tmp_path / "x.mp4")


@pytest.mark.parametrize(
    "response", [httpx.Response(429), httpx.Response(503), httpx.ConnectError("down")]
)
def test_pexels_transient_failures_are_retryable(
    response: httpx.Response | Exception,
    monkeypatch: pytest.MonkeyPatch,
    sleeps: SleepRecorder,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("VIDGEN_PEXELS_API_KEY", "k")
    with respx.mock() as router:
        route = router.get(PEXELS_SEARCH_URL)
        if isinstance(response, Exception):
            route.mock(side_effect=response)
        else:
            route.mock(return_value=response)
        with pytest.raises(StageError) as caught:
            PexelsVideos(sleep=sleeps).render(spec(), tmp_path / "x.mp4")
    assert not isinstance(caught.value, FatalStageError)
    # The shared rule: a bounded number of tries with backoff, then the stage's own retry.
    assert route.call_count == 4 and sleeps.calls == [1.0, 2.0, 4.0]
    assert not (tmp_path / "x.mp4").exists()


def test_pexels_waits_for_retry_after_then_succeeds(
    recorded_mp4: bytes, monkeypatch: pytest.MonkeyPatch, sleeps: SleepRecorder, tmp_path: Path
) -> None:
    monkeypatch.setenv("VIDGEN_PEXELS_API_KEY", "k")
    limited = httpx.Response(429, text="Too Many Requests", headers={"retry-after": "3"})
    with respx.mock() as router:
        router.get(PEXELS_SEARCH_URL).mock(
            side_effect=[limited, httpx.Response(200, json=SEARCH_JSON)]
        )
        router.get(url__startswith="https://videos.pexels.com/").respond(200, content=recorded_mp4)
        clip = PexelsVideos(sleep=sleeps).render(spec(duration=1.0), tmp_path / "r.mp4")
    assert clip.path.is_file()
    assert sleeps.calls == [3.0]


def test_pexels_download_reset_midway_is_retried_from_scratch(
    recorded_mp4: bytes, monkeypatch: pytest.MonkeyPatch, sleeps: SleepRecorder, tmp_path: Path
) -> None:
    monkeypatch.setenv("VIDGEN_PEXELS_API_KEY", "k")

    class Broken(httpx.SyncByteStream):
        def __iter__(self) -> Iterator[bytes]:
            yield recorded_mp4[: len(recorded_mp4) // 2]
            raise httpx.ReadError("connection reset by peer")

    with respx.mock() as router:
        router.get(PEXELS_SEARCH_URL).respond(200, json=SEARCH_JSON)
        files = router.get(url__startswith="https://videos.pexels.com/").mock(
            side_effect=[
                httpx.Response(200, stream=Broken()),
                httpx.Response(200, content=recorded_mp4),
            ]
        )
        wanted = spec(duration=1.0)
        clip = PexelsVideos(sleep=sleeps).render(wanted, tmp_path / "r.mp4")
    assert files.call_count == 2 and sleeps.calls == [1.0]
    # A half file would fail ffmpeg or show a truncated clip; the contract holds instead.
    assert_clip_contract(clip, tmp_path / "r.mp4", wanted)


def test_pexels_vanished_file_is_fatal_without_retrying(
    monkeypatch: pytest.MonkeyPatch, sleeps: SleepRecorder, tmp_path: Path
) -> None:
    monkeypatch.setenv("VIDGEN_PEXELS_API_KEY", "k")
    with respx.mock() as router:
        router.get(PEXELS_SEARCH_URL).respond(200, json=SEARCH_JSON)
        files = router.get(url__startswith="https://videos.pexels.com/").respond(404, text="gone")
        with pytest.raises(FatalStageError, match=r"HTTP 404.*scene keywords"):
            PexelsVideos(sleep=sleeps).render(spec(), tmp_path / "x.mp4")
    assert files.call_count == 1 and sleeps.calls == []
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "streamed"])
def test_pexels_oversize_download_is_refused_and_leaves_no_file(
    declared: bool,
    recorded_mp4: bytes,
    monkeypatch: pytest.MonkeyPatch,
    sleeps: SleepRecorder,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("VIDGEN_PEXELS_API_KEY", "k")
    monkeypatch.setattr(visuals_module, "_MAX_DOWNLOAD_BYTES", 4096)
    total = 4 << 20  # a body far over the cap, so "stopped early" is measurable
    sent: list[int] = []

    class Counted(httpx.SyncByteStream):
        def __iter__(self) -> Iterator[bytes]:
            for _ in range(total // 1024):
                sent.append(1024)
                yield b"\0" * 1024

    headers = {"content-length": str(total)} if declared else {}
    with respx.mock() as router:
        router.get(PEXELS_SEARCH_URL).respond(200, json=SEARCH_JSON)
        router.get(url__startswith="https://videos.pexels.com/").mock(
            return_value=httpx.Response(200, stream=Counted(), headers=headers)
        )
        with pytest.raises(StageError, match="Pexels video is larger than 4096 bytes") as caught:
            PexelsVideos(sleep=sleeps).render(spec(), tmp_path / "out" / "x.mp4")
    assert not isinstance(caught.value, FatalStageError)
    assert sleeps.calls == []  # the same file would be as big on the next try
    assert list((tmp_path / "out").iterdir()) == []
    # A declared size over the cap is refused before any of the body is read; an undeclared one
    # once the cap is passed (give or take one 64 KiB read), not at the end of the body.
    assert sum(sent) <= (0 if declared else 4096 + (64 << 10) + 1024)


def test_pexels_cancel_between_chunks_stops_and_leaves_no_file(
    recorded_mp4: bytes, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("VIDGEN_PEXELS_API_KEY", "k")
    token = Deadline.after(600, what="test clip")

    class Cancelling(httpx.SyncByteStream):
        def __iter__(self) -> Iterator[bytes]:
            yield recorded_mp4[:1024]
            token.cancel.set()  # a shutdown arrives mid-download
            yield recorded_mp4[1024:]

    with respx.mock() as router:
        router.get(PEXELS_SEARCH_URL).respond(200, json=SEARCH_JSON)
        router.get(url__startswith="https://videos.pexels.com/").mock(
            return_value=httpx.Response(200, stream=Cancelling())
        )
        with pytest.raises(StageTimeout):
            PexelsVideos().render(spec(), tmp_path / "out" / "x.mp4", ctx=token)
    assert list((tmp_path / "out").iterdir()) == []


def test_pexels_retry_wait_past_the_deadline_is_not_started(
    monkeypatch: pytest.MonkeyPatch, sleeps: SleepRecorder, tmp_path: Path
) -> None:
    monkeypatch.setenv("VIDGEN_PEXELS_API_KEY", "k")
    limited = httpx.Response(503, headers={"retry-after": "45"})
    with respx.mock() as router:
        route = router.get(PEXELS_SEARCH_URL).mock(return_value=limited)
        with pytest.raises(StageError, match="time limit") as caught:
            PexelsVideos(sleep=sleeps).render(spec(), tmp_path / "x.mp4", ctx=Deadline.after(20))
    assert not isinstance(caught.value, FatalStageError)
    assert route.call_count == 1 and sleeps.calls == []


def test_portrait_file_choice() -> None:
    tall = SEARCH_JSON["videos"][2]
    assert _portrait_file(tall, 700) == tall["video_files"][1]["link"]  # 720x1280, not the 4K
    assert _portrait_file(tall, 5000) == tall["video_files"][0]["link"]  # nothing big enough
    assert _portrait_file(SEARCH_JSON["videos"][0], 100) is None  # landscape only


def test_unknown_visual_source_is_fatal() -> None:
    with pytest.raises(FatalStageError, match="unknown visual source"):
        get_visual_source("dalle", [])
