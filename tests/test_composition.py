"""The composition stage: one ffmpeg run from synthetic clips, voiceover and music to an MP4."""

from __future__ import annotations

import itertools
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageStat

from conftest import typed_outputs
from framekit import gray_frame, mean_abs_diff, seam_rows, sharpness_ratio
from vidgen.errors import StageError
from vidgen.media import ffmpeg
from vidgen.media.compose import (
    CompositionSpec,
    build_audio_command,
    build_command,
    build_filtergraph,
    overlay_layers,
    transition_for,
)
from vidgen.media.ffmpeg import ffmpeg_exe, probe
from vidgen.media.overlays import (
    SCENE_TEXT_STYLE,
    Overlay,
    _font_index_for,
    clean_text,
    font_chain,
    render_text,
    visual_runs,
)
from vidgen.stages import composition, content_generation
from vidgen.stages.base import StageContext

TRICKY = (
    "It's \"50%\" off: C:\\temp\\new 100%% {x} [0:v] $HOME `id` ; rm -rf / 'q'\n"
    "second line 🚀🔥 שלום עולם مرحبا بالعالم"
)
VOICEOVER = (
    "This is the first sentence of our voiceover. Then another short line, with a pause. Done!"
)
WORDS = VOICEOVER.split()


def _ffmpeg(*args: str) -> None:
    subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args],
        check=True,
        timeout=120,
    )


@pytest.fixture(scope="session")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Synthetic sources made once: clips of several sizes, a short voiceover, a music loop."""
    folder = tmp_path_factory.mktemp("media")
    sources = {
        "test-a.mp4": "testsrc2=s=320x240:r=25:d=3",
        "test-b.mp4": "testsrc2=s=640x360:r=30:d=3",
        "test-c.mp4": "testsrc2=s=360x640:r=24:d=3",
        "flat-a.mp4": "color=c=0x2050a0:s=360x640:r=30:d=3",
        "flat-b.mp4": "color=c=0x2050a0:s=360x640:r=30:d=3",
        "flat-c.mp4": "color=c=0x2050a0:s=360x640:r=30:d=3",
    }
    for name, source in sources.items():
        _ffmpeg("-f", "lavfi", "-i", source, "-c:v", "libx264", "-preset", "ultrafast",
                "-pix_fmt", "yuv420p", str(folder / name))  # fmt: skip
    # Voiceover shorter than the video (3.5 s of 6.5 s): the stage must pad with silence.
    _ffmpeg("-f", "lavfi", "-i", "sine=f=220:d=3.5", "-ar", "22050", "-ac", "1",
            str(folder / "voice.wav"))  # fmt: skip
    _ffmpeg("-f", "lavfi", "-i", "sine=f=660:d=2", "-ar", "44100", "-ac", "2",
            str(folder / "music.wav"))  # fmt: skip
    return folder


def _words() -> list[dict[str, Any]]:
    words, t = [], 0.1
    for word in WORDS:
        words.append({"text": word, "start": round(t, 3), "end": round(t + 0.22, 3)})
        t += 0.27 + (0.3 if word.endswith((".", "!")) else 0.0)
    return words


def _outputs(
    job_dir: Path,
    media: Path,
    *,
    flat: bool = False,
    texts: tuple[str, ...] = ('Hook: "wow"', "Step 2 — 100%", "Follow ✨"),
    durations: tuple[float, ...] = (2.0, 2.5, 2.0),
    width: int = 360,
    height: int = 640,
) -> dict[str, dict[str, Any]]:
    """content_generation outputs as that stage records them, files copied into the job."""
    folder = job_dir / "content_generation" / "attempt-1"
    folder.mkdir(parents=True, exist_ok=True)
    names = ("flat-a.mp4", "flat-b.mp4", "flat-c.mp4") if flat else (
        "test-a.mp4", "test-b.mp4", "test-c.mp4")  # fmt: skip
    clips = []
    for i, (name, duration) in enumerate(zip(names, durations, strict=True)):
        shutil.copyfile(media / name, folder / f"clip-{i}.mp4")
        clips.append({"path": f"content_generation/attempt-1/clip-{i}.mp4", "duration": 3.0})
        assert duration <= 3.0
    shutil.copyfile(media / "voice.wav", folder / "voice.wav")
    words = _words()
    scenes = [
        {
            "index": i,
            "duration_seconds": d,
            "on_screen_text": text,
            "narration": "n",
            "keywords": [],
        }
        for i, (d, text) in enumerate(zip(durations, texts, strict=True))
    ]
    return {
        "content_generation": {
            "plan_id": 1,
            "plan_path": "content_generation/attempt-1/plan.json",
            "plan": {
                "title": "T",
                "description": "D",
                "hashtags": ["#a"],
                "style": "product-demo",
                "duration_seconds": sum(durations),
                "scenes": scenes,
                "voiceover_script": " ".join(WORDS),
            },
            "clips": clips,
            "voiceover": {
                "path": "content_generation/attempt-1/voice.wav",
                "duration": 3.5,
                "words": words,
                "sentences": [{"text": " ".join(WORDS), "start": 0.1, "end": words[-1]["end"]}],
            },
            "providers": {
                "planner": "local",
                "visuals": "procedural",
                "tts": "espeak",
                "models": {"planner": None, "tts": None},
                "clip_sources": [None] * len(clips),
            },
            "prompts": {},
            "width": width,
            "height": height,
            "fps": 30,
        }
    }


def _content(ctx: StageContext) -> content_generation.Output:
    """The content_generation outputs the composition stage will read (a test may edit them)."""
    return ctx.output(content_generation.Output)


@pytest.fixture
def make_ctx(
    stage_context: Callable[..., StageContext],
    theme_config: Callable[..., Any],
    media: Path,
) -> Callable[..., StageContext]:
    def make(music: bool | str = False, **kwargs: Any) -> StageContext:
        # music: False = `music: none`, True = the test's own file, "library" = the default bed.
        overrides: dict[str, Any] = {"thumbnail_time": 1.0, "music": "none"}
        if music == "library":
            del overrides["music"]
        elif music:
            overrides["music"] = {"path": str(media / "music.wav"), "volume": 0.3}
        config = theme_config(**overrides)
        ctx = stage_context("composition", config=config)
        texts = kwargs.pop("texts", None)
        ctx.outputs = typed_outputs(_outputs(ctx.job_dir, media, **kwargs))
        if texts is not None:
            # Set past the plan's validation: composition copes with any text, even text a
            # plan's model refuses (empty, or past MAX_ON_SCREEN_CHARS).
            for scene, text in zip(_content(ctx).plan.scenes, texts, strict=True):
                scene.on_screen_text = text
        return ctx

    return make


def _frame(video: Path, at: float, dest: Path) -> Image.Image:
    _ffmpeg("-ss", f"{at:.3f}", "-i", str(video), "-frames:v", "1", "-update", "1", str(dest))
    return Image.open(dest).convert("RGB")


def _region_stddev(image: Image.Image, box: tuple[int, int, int, int]) -> float:
    return sum(ImageStat.Stat(image.crop(box).convert("L")).stddev)


def _pixels(image: Image.Image) -> list[tuple[int, int, int]]:
    raw = image.convert("RGB").tobytes()
    return [(raw[i], raw[i + 1], raw[i + 2]) for i in range(0, len(raw), 3)]


def _top_level_boxes(path: Path) -> list[str]:
    """Types of the MP4's top-level boxes, in file order (walking sizes, not searching bytes)."""
    data = path.read_bytes()
    boxes, offset = [], 0
    while offset + 8 <= len(data):
        size = int.from_bytes(data[offset : offset + 4], "big")
        kind = data[offset + 4 : offset + 8].decode("latin-1")
        if size == 1:
            size = int.from_bytes(data[offset + 8 : offset + 16], "big")
        elif size == 0:
            size = len(data) - offset
        boxes.append(kind)
        offset += size
    return boxes


def _leftovers(ctx: StageContext) -> list[Path]:
    return [p for p in ctx.work_dir.rglob("*") if p.suffix in (".mp4", ".tmp", ".jpg")]


# -- the stage end to end ----------------------------------------------------------------------


@pytest.mark.parametrize("music", [False, True], ids=["voice-only", "with-music"])
def test_composes_preview_video(make_ctx: Callable[..., StageContext], music: bool) -> None:
    ctx = make_ctx(music=music)
    result = composition.run(ctx)

    out = result.outputs
    assert set(out) == {
        "video_path", "thumbnail_path", "duration", "width", "height",
        "video_codec", "audio_codec", "size_bytes", "subtitles_path", "assets", "attribution",
    }  # fmt: skip
    video, thumb = ctx.path(out["video_path"]), ctx.path(out["thumbnail_path"])
    assert result.files == [video, thumb, ctx.path(out["subtitles_path"])]
    assert (out["width"], out["height"]) == (360, 640)
    assert (out["video_codec"], out["audio_codec"]) == ("h264", "aac")
    assert out["size_bytes"] == video.stat().st_size

    info = probe(video)
    assert (info.width, info.height) == (360, 640)
    assert info.video_codec == "h264" and info.video_profile == "High"
    assert info.pixel_format == "yuv420p"
    assert info.fps == 30
    assert info.audio_codec == "aac" and info.sample_rate == 48000
    assert abs(info.duration - 6.5) <= 0.5, info.duration
    boxes = _top_level_boxes(video)
    assert boxes.index("moov") < boxes.index("mdat"), f"faststart wants moov first: {boxes}"

    assert thumb.read_bytes()[:3] == b"\xff\xd8\xff"
    with Image.open(thumb) as image:
        assert image.format == "JPEG" and image.size == (360, 640)
    assert not [p for p in ctx.work_dir.rglob("*.tmp")]


def _loudness(video: Path) -> float:
    proc = subprocess.run(
        [
            ffmpeg_exe(),
            "-hide_banner",
            "-nostdin",
            "-i",
            str(video),
            "-af",
            "ebur128",
            "-f",
            "null",
            "-",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    summary = proc.stderr.rsplit("Integrated loudness:", 1)[1]
    return float(summary.split("I:", 1)[1].split("LUFS", 1)[0])


def test_composes_without_voiceover(make_ctx: Callable[..., StageContext]) -> None:
    ctx = make_ctx()
    _content(ctx).voiceover = None
    info = probe(ctx.path(composition.run(ctx).outputs["video_path"]))
    # A silent AAC track still: platforms and players expect one.
    assert info.audio_codec == "aac" and abs(info.duration - 6.5) <= 0.5


def test_audio_is_normalised_and_stereo(make_ctx: Callable[..., StageContext]) -> None:
    ctx = make_ctx(music=True)
    video = ctx.path(composition.run(ctx).outputs["video_path"])
    # Single-pass loudnorm on a short synthetic tone: within a few LU of -14, not exact.
    assert -18.0 <= _loudness(video) <= -11.0
    proc = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(video)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert "48000 Hz, stereo" in proc.stderr


@pytest.mark.parametrize("with_music", [False, True], ids=["voice", "voice+music"])
@pytest.mark.parametrize("provider", ["espeak", "piper"])
def test_real_voices_reach_minus_14_lufs(provider: str, with_music: bool, tmp_path: Path) -> None:
    from vidgen.media import music
    from vidgen.media.tts import get_tts

    script = (
        "Meet the lamp that follows your day. Cool light for deep work, warm light at night. "
        "One touch switches modes, and it charges your phone while you read. Try it today!"
    )
    voice = get_tts(provider).synthesize(script, tmp_path / "voice.wav", voice="en-us", rate=165)
    total = voice.duration + 1.0
    spec = CompositionSpec(
        clips=[tmp_path / "unused.mp4"],
        scene_durations=[total],
        output=tmp_path / "unused-out.mp4",
        width=360,
        height=640,
        voiceover=voice.path,
    )
    if with_music:
        track = music.choose_track("product-demo", "upbeat", "test")
        assert track is not None
        spec = replace(spec, music=track.path, music_volume=music.DEFAULT_VOLUME)
    soundtrack = tmp_path / "soundtrack.wav"
    ffmpeg.run(build_audio_command(spec, soundtrack), what="soundtrack")
    # Each provider's voice is shaped differently (Piper's sentences peak at full scale); all of
    # them must land within 1 LU of the platforms' -14 LUFS.
    assert -15.0 <= _loudness(soundtrack) <= -13.0


def test_overlays_share_one_canvas_per_band(tmp_path: Path) -> None:
    scene = [Overlay(tmp_path / f"s{i}.png", 41 + i, 101, i * 2.0, i * 2.0 + 2, 200, 81)
             for i in range(3)]  # fmt: skip
    captions = [Overlay(tmp_path / f"c{i}.png", 60, 401 + (i % 2) * 9, i * 1.0, i + 1.0, 151, 40)
                for i in range(6)]  # fmt: skip
    layers = overlay_layers([*scene, *captions])
    assert [len(layer.members) for layer in layers] == [3, 6]
    top, bottom = layers
    # Even corners and sizes (yuv420 chroma), covering every member.
    assert (top.x, top.y, top.width, top.height) == (40, 100, 204, 82)
    assert (bottom.x, bottom.y, bottom.width, bottom.height) == (60, 400, 152, 50)
    assert (bottom.start, bottom.end) == (0.0, 6.0)
    assert [index for index, _ in bottom.members] == [3, 4, 5, 6, 7, 8]
    spec = CompositionSpec(
        clips=[tmp_path / "a.mp4"], scene_durations=[6.0], output=tmp_path / "o.mp4",
        width=360, height=640, overlays=[*scene, *captions],
    )  # fmt: skip
    graph = build_filtergraph(spec)
    # Nine texts, but only two overlays onto the full frame.
    assert graph.count("overlay=") == 9 + 2 and graph.count("color=c=black@0") == 2


def test_each_text_shows_exactly_in_its_window(media: Path, tmp_path: Path) -> None:
    def text(name: str, words: str, start: float, end: float, y: int) -> Overlay:
        image = render_text(words, 360, 640, SCENE_TEXT_STYLE)
        assert image is not None
        image.save(tmp_path / name)
        return Overlay(tmp_path / name, 30, y, start, end, image.width, image.height)

    first = text("a.png", "First", 0.5, 1.0, 300)
    second = text("b.png", "Second", 1.0, 1.5, 304)  # same band, right after the first
    spec = CompositionSpec(
        clips=[media / "flat-a.mp4"], scene_durations=[3.0], output=tmp_path / "o.mp4",
        width=360, height=640, overlays=[first, second],
    )  # fmt: skip
    ffmpeg.run(build_command(spec), what="composition")
    band = (0, 280, 360, 400)
    shown = {t: _region_stddev(_frame(spec.output, t, tmp_path / f"{t}.png"), band)
             for t in (0.3, 0.75, 1.25, 2.0)}  # fmt: skip
    assert shown[0.3] < 3 and shown[2.0] < 3, shown  # before and after: nothing
    assert shown[0.75] > 10 and shown[1.25] > 10, shown
    a = _frame(spec.output, 0.75, tmp_path / "a-frame.png").crop(band)
    b = _frame(spec.output, 1.25, tmp_path / "b-frame.png").crop(band)
    assert a.tobytes() != b.tobytes()  # the second text replaced the first


def test_scene_pictures_and_captions_are_visible(
    make_ctx: Callable[..., StageContext], tmp_path: Path
) -> None:
    # Flat clips: any detail can only come from our cards and captions.
    spoken = make_ctx(flat=True, texts=SCENE_TEXTS)
    silent = make_ctx(flat=True, texts=SCENE_TEXTS)
    voiceover = _content(silent).voiceover
    assert voiceover is not None
    voiceover.words = []
    voiceover.sentences = []
    video_spoken = spoken.path(composition.run(spoken).outputs["video_path"])
    video_silent = silent.path(composition.run(silent).outputs["video_path"])

    picture_band = (20, 70, 340, 360)  # the cards sit between the top bar and the captions
    caption_band = (20, 380, 320, 500)
    framed = _frame(video_spoken, 3.0, tmp_path / "a.png")
    plain = _frame(video_silent, 3.0, tmp_path / "b.png")
    # The designed backdrop is plain behind the captions; the words add all the detail there.
    assert _region_stddev(plain, caption_band) < 12
    assert not any(
        r > 200 and g > 180 and b < 120 for r, g, b in _pixels(plain.crop(caption_band))
    ), "no voice, no caption"
    assert _region_stddev(plain, picture_band) > 10, "the scene's picture is drawn"
    # The picture is in colour (Twemoji art), not a white glyph on a badge.
    assert any(max(p) - min(p) > 80 for p in _pixels(plain.crop(picture_band)))
    assert _region_stddev(framed, caption_band) > _region_stddev(plain, caption_band) + 15
    assert any(r > 200 and g > 180 and b < 120 for r, g, b in _pixels(framed.crop(caption_band)))


def test_tricky_text_composes(make_ctx: Callable[..., StageContext], tmp_path: Path) -> None:
    ctx = make_ctx(flat=True, texts=(TRICKY, "%{pts} \\n '\"", "שלום 50% :)"))
    voiceover = _content(ctx).voiceover
    assert voiceover is not None
    words = voiceover.words
    words[0].text = "It's"
    words[1].text = '"100%":'
    words[2].text = "C:\\x"
    words[3].text = "שלום"
    result = composition.run(ctx)
    video = ctx.path(result.outputs["video_path"])
    assert abs(probe(video).duration - 6.5) <= 0.5
    frame = _frame(video, 1.0, tmp_path / "f.png")
    assert _region_stddev(frame, (20, 60, 320, 260)) > 10


def test_every_tricky_character_has_a_glyph() -> None:
    text = clean_text(TRICKY)
    missing = [ch for ch in text if not ch.isspace() and _font_index_for(ch) is None]
    assert missing == []
    names = {font_chain()[_font_index_for(ch) or 0].name for ch in "ש م 🚀"}
    assert {"NotoSansHebrew[wght].ttf", "NotoSansArabic[wght].ttf", "NotoEmoji[wght].ttf"} <= names


def _shown(line: str) -> list[tuple[str, int]]:
    """Non-blank runs, left to right on screen, with their direction (1 = right-to-left)."""
    return [(r.text.strip(), r.level % 2) for r in visual_runs(line) if r.text.strip()]


def test_rtl_runs_are_ordered_visually() -> None:
    # RTL paragraph: the LTR phrase sits left of the Hebrew, the final "!" leftmost, and the
    # first Hebrew word (read first, from the right) rightmost.
    assert _shown("שלום עולם 2024 Sale!") == [("!", 1), ("2024 Sale", 0), ("עולם", 1), ("שלום", 1)]
    assert _shown("Buy now שלום עולם today") == [
        ("Buy now", 0),
        ("עולם", 1),
        ("שלום", 1),
        ("today", 0),
    ]
    assert _shown("مرحبا 🚀") == [("🚀", 1), ("مرحبا", 1)]


def test_long_text_wraps_inside_the_safe_area() -> None:
    image = render_text("word " * 60, 360, 640, SCENE_TEXT_STYLE)
    assert image is not None
    assert image.width <= 360 * (1 - 0.06 - 0.13) + 20
    assert render_text("  \n ", 360, 640, SCENE_TEXT_STYLE) is None


def test_truncated_clip_fails_without_leftovers(make_ctx: Callable[..., StageContext]) -> None:
    ctx = make_ctx()
    clip = ctx.path(_content(ctx).clips[1].path)
    data = clip.read_bytes()
    clip.write_bytes(data[: len(data) // 3])
    with pytest.raises(StageError):
        composition.run(ctx)
    assert _leftovers(ctx) == []


def test_wrong_duration_is_rejected_and_deleted(
    make_ctx: Callable[..., StageContext], monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = make_ctx()

    def short_command(spec: CompositionSpec) -> list[str]:
        args = build_command(spec)
        args[args.index("-t") + 1] = "3.000"  # an encoder that stops early
        return args

    monkeypatch.setattr(composition, "build_command", short_command)
    with pytest.raises(StageError, match="duration"):
        composition.run(ctx)
    assert _leftovers(ctx) == []


def test_verify_output_deletes_a_mismatched_file(
    make_ctx: Callable[..., StageContext], tmp_path: Path
) -> None:
    ctx = make_ctx()
    video = ctx.path(composition.run(ctx).outputs["video_path"])
    copy = tmp_path / "copy.mp4"
    shutil.copyfile(video, copy)
    with pytest.raises(StageError, match="duration"):
        composition.verify_output(copy, width=360, height=640, duration=12.0)
    assert not copy.exists()
    shutil.copyfile(video, copy)
    with pytest.raises(StageError, match="size"):
        composition.verify_output(copy, width=1080, height=1920, duration=6.5)
    assert not copy.exists()


def test_clip_lengths_do_not_change_the_total(make_ctx: Callable[..., StageContext]) -> None:
    # Clips are 3 s each; scenes ask for 1.2 s, 3.4 s (padded with the last frame) and 2.0 s.
    ctx = make_ctx(durations=(1.2, 3.0, 2.0))
    plan = _content(ctx).plan
    plan.scenes[1].duration_seconds = 3.4
    plan.duration_seconds = 6.6
    video = ctx.path(composition.run(ctx).outputs["video_path"])
    assert abs(probe(video).duration - 6.6) <= 0.1


# -- pure helpers ------------------------------------------------------------------------------


def test_filtergraph_accounts_for_transitions(tmp_path: Path) -> None:
    durations = [2.0, 3.0, 1.5]
    fade = transition_for(durations)
    spec = CompositionSpec(
        clips=[tmp_path / "a.mp4", tmp_path / "b.mp4", tmp_path / "c.mp4"],
        scene_durations=durations,
        output=tmp_path / "o.mp4",
        width=360,
        height=640,
        voiceover=tmp_path / "v.wav",
        transition=fade,
    )
    graph = build_filtergraph(spec)
    assert f"trim=duration={2.0 + fade:.3f}" in graph
    assert f"trim=duration={3.0 + fade:.3f}" in graph
    assert "trim=duration=1.500" in graph
    assert "offset=2.000" in graph and "offset=5.000" in graph
    assert ":eval=frame" not in graph and "loudnorm=I=-14.0" in graph
    with_music = build_filtergraph(
        CompositionSpec(**{**spec.__dict__, "music": tmp_path / "m.wav"})
    )
    assert "volume='" in with_music and ":eval=frame" in with_music  # the ducking envelope
    args = build_command(spec)
    # Memory: one filter thread; speed and size: ultrafast with CABAC, deblocking (smooth
    # backdrops showed their macroblocks without it) and the 8x8 transform.
    assert args[args.index("-filter_complex_threads") + 1] == "1"
    x264 = args[args.index("-x264-params") + 1]
    assert args[args.index("-preset") + 1] == "ultrafast"
    assert "cabac=1" in x264 and "deblock=" in x264 and "8x8dct=1" in x264
    assert args[args.index("-movflags") + 1] == "+faststart"
    assert args[args.index("-profile:v") + 1] == "high"


def test_pictures_decode_on_one_thread_and_footage_on_its_own(tmp_path: Path) -> None:
    # Memory: a picture's decoder threads each held a frame; footage keeps its speed.
    card = Overlay(tmp_path / "cards.ffconcat", 10, 20, 0.0, 3.0, 100, 50, motion="float")
    text = Overlay(tmp_path / "t.png", 10, 400, 0.0, 3.0, 100, 50)
    spec = CompositionSpec(
        clips=[tmp_path / "still.jpg", tmp_path / "footage.mp4"],
        scene_durations=[1.5, 1.5],
        output=tmp_path / "o.mp4",
        width=360,
        height=640,
        overlays=[card, text],
    )
    args = build_command(spec)
    inputs = [k for k, arg in enumerate(args) if arg == "-i"]
    options = [args[(inputs[n - 1] + 2 if n else 0) : k] for n, k in enumerate(inputs)]
    one_thread = ["-threads" in o and o[o.index("-threads") + 1] == "1" for o in options]
    assert [args[k + 1] for k in inputs] == [
        str(tmp_path / name) for name in ("still.jpg", "footage.mp4", "cards.ffconcat", "t.png")
    ]
    assert one_thread == [True, False, True, True]


@pytest.mark.slow
def test_full_size_composition(make_ctx: Callable[..., StageContext]) -> None:
    ctx = make_ctx(music=True, texts=(TRICKY, "Step 2", "שלום עולם"), width=1080, height=1920)
    result = composition.run(ctx)
    info = probe(ctx.path(result.outputs["video_path"]))
    assert (info.width, info.height) == (1080, 1920)
    assert info.video_profile == "High" and info.pixel_format == "yuv420p"
    assert abs(info.duration - 6.5) <= 0.5
    with Image.open(ctx.path(result.outputs["thumbnail_path"])) as image:
        assert image.size == (1080, 1920)
    video = ctx.path(result.outputs["video_path"])
    for at in (1.0, 3.0, 5.5):
        frame = gray_frame(video, at)
        assert seam_rows(frame) == [], f"full-width seam rows at {at} s"
    # Text drawn at 1080x1920, not upscaled: the scene text band keeps one-pixel edges.
    assert sharpness_ratio(gray_frame(video, 3.0)[380:640, 100:980]) > 1.6


@pytest.mark.parametrize("transition", [0.0, 0.3], ids=["cut", "cross-fade"])
def test_two_clips_with_cut_or_fade(media: Path, tmp_path: Path, transition: float) -> None:
    from vidgen.media.ffmpeg import run

    spec = CompositionSpec(
        clips=[media / "test-a.mp4", media / "test-b.mp4"],
        scene_durations=[1.0, 1.5],
        output=tmp_path / "out.mp4",
        width=180,
        height=320,
        transition=transition,
    )
    assert ("xfade" in build_filtergraph(spec)) == (transition > 0)
    run(build_command(spec))
    info = probe(spec.output)
    assert (info.width, info.height) == (180, 320) and abs(info.duration - 2.5) <= 0.1


@pytest.mark.parametrize("suffix", [".jpg", ".png"])
def test_stills_cut_and_footage_cross_fades_in_any_mix(
    media: Path, tmp_path: Path, suffix: str
) -> None:
    """Designed backdrops (stills) cut; footage cross-fades into footage; the video keeps the
    planned length whatever the mix and whatever size each source has, in video range (a JPEG
    decodes full range: the composed file must still be plain yuv420p)."""
    from vidgen.media.ffmpeg import run

    still = tmp_path / f"backdrop{suffix}"
    Image.new("RGB", (180, 320), (200, 40, 40)).save(still)
    clips = [still, media / "test-a.mp4", media / "test-b.mp4", still, media / "test-c.mp4"]
    spec = CompositionSpec(
        clips=clips, scene_durations=[1.0, 1.2, 1.0, 0.9, 1.1], output=tmp_path / "mix.mp4",
        width=180, height=320, transition=0.3,
    )  # fmt: skip
    graph = build_filtergraph(spec)
    assert graph.count("xfade") == 1 and graph.count("concat") == 3
    run(build_command(spec))
    info = probe(spec.output)
    assert (info.width, info.height) == (180, 320) and abs(info.duration - 5.2) <= 0.1
    assert info.pixel_format == "yuv420p"


def test_single_clip_needs_no_transition(tmp_path: Path) -> None:
    assert transition_for([4.0]) == 0.0
    spec = CompositionSpec(
        clips=[tmp_path / "a.mp4"], scene_durations=[4.0], output=tmp_path / "o.mp4", width=360,
        height=640,
    )  # fmt: skip
    graph = build_filtergraph(spec)
    assert "xfade" not in graph and "concat" not in graph and "[c0]format=yuv420p[vout]" in graph
    with pytest.raises(ValueError, match="must match"):
        build_command(CompositionSpec(**{**spec.__dict__, "scene_durations": [1.0, 2.0]}))


def test_overlong_text_shrinks_and_is_never_ellipsised() -> None:
    from vidgen.media.overlays import CAPTION_STYLE, _layout

    text = "many words here " * 200
    size, lines = _layout(text, CAPTION_STYLE, 360, 280)
    assert size < round(360 * CAPTION_STYLE.min_size_ratio)
    assert " ".join(lines).split() == text.split(), "every word is kept"
    assert not any("\u2026" in line for line in lines)
    assert render_text("x" * 10_000, 360, 640, SCENE_TEXT_STYLE) is not None


# -- what a viewer sees and hears --------------------------------------------------------------


@pytest.fixture(scope="module")
def procedural_clips(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Real backdrops as content_generation renders them for a 360x640 video (half size)."""
    from vidgen.media.visuals import ClipSpec, ProceduralVisuals

    folder = tmp_path_factory.mktemp("procedural")
    source = ProceduralVisuals()
    return [
        source.render(
            ClipSpec(index=i, duration=3.0, width=180, height=320, fps=30,
                     style="product-demo", keywords=[], seed=11),
            folder / f"clip-{i}.mp4",
        ).path
        for i in range(3)
    ]  # fmt: skip


def _with_clips(ctx: StageContext, clips: list[Path]) -> StageContext:
    for clip, recorded in zip(clips, _content(ctx).clips, strict=True):
        shutil.copyfile(clip, ctx.path(recorded.path))
    return ctx


SCENE_TEXTS = ("Here is the desk lamp", "Charges your phone", "Follow for more")


def test_scenes_differ_show_their_subject_and_have_no_seams(
    make_ctx: Callable[..., StageContext], procedural_clips: list[Path]
) -> None:
    ctx = _with_clips(make_ctx(texts=SCENE_TEXTS), procedural_clips)
    out = composition.run(ctx).outputs
    video = ctx.path(out["video_path"])
    # Mid-scene, after the words have animated in (scenes: 0-2, 2-4.5, 4.5-6.5 s).
    frames = [gray_frame(video, t) for t in (1.6, 4.0, 6.2)]
    for at, frame in zip((1.6, 4.0, 6.2), frames, strict=True):
        assert seam_rows(frame) == [], f"full-width seam rows at {at} s"
    for a, b in itertools.combinations(frames, 2):
        assert mean_abs_diff(a, b) > 6, "two scenes look alike"
    pictures = [a for a in out["assets"] if a["kind"] == "illustration"]
    main = [a for a in pictures if a["role"] == "main"]
    assert [a["scene"] for a in main] == [0, 1, 2]
    assert main[0]["name"] == "light_bulb" and "desk lamp" in main[0]["matched_words"]
    assert {a["name"] for a in pictures if a["scene"] == 1} == {"mobile_phone", "battery"}
    assert all(a["licence"] == "CC-BY-4.0" for a in pictures)
    assert "Twemoji" in out["attribution"]
    # The pictures are crisp, drawn at the output size.
    picture_band = frames[0][int(640 * 0.12) : int(640 * 0.55), 20:340]
    assert sharpness_ratio(picture_band) > 1.6
    # The rendered layers are intermediates and are cleaned up.
    assert not (ctx.work_dir / "overlays").exists()


def _mean_volume(video: Path, start: float, seconds: float) -> float:
    proc = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostdin", "-ss", f"{start}", "-t", f"{seconds}",
         "-i", str(video), "-af", "volumedetect", "-f", "null", "-"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    value = proc.stderr.rsplit("mean_volume:", 1)[1].split("dB", 1)[0]
    return float(value)


def test_default_music_plays_ducked_under_the_voice(make_ctx: Callable[..., StageContext]) -> None:
    ctx = make_ctx(music="library")  # the voice speaks for the first 3.5 s of 6.5
    out = composition.run(ctx).outputs
    video = ctx.path(out["video_path"])
    with_voice = _mean_volume(video, 0.5, 2.5)
    music_only = _mean_volume(video, 4.6, 1.6)
    assert music_only > -40, f"no music bed after the voice ({music_only} dB)"
    assert with_voice - music_only >= 6, (with_voice, music_only)
    # A synthetic tone: within a few LU (real voices with music: test_real_voices_reach...).
    assert -18.0 <= _loudness(video) <= -11.0
    (track,) = [a for a in out["assets"] if a["kind"] == "music"]
    assert track["licence"] == "MIT" and track["id"].startswith("immich-memories-music:")


def test_music_none_means_no_music(make_ctx: Callable[..., StageContext]) -> None:
    ctx = make_ctx(music=False)
    out = composition.run(ctx).outputs
    assert _mean_volume(ctx.path(out["video_path"]), 4.6, 1.6) < -60
    assert not [a for a in out["assets"] if a["kind"] == "music"]


@pytest.mark.parametrize(
    ("aspect", "size"),
    [("9:16", (360, 640)), ("1:1", (360, 360)), ("4:5", (360, 450)), ("16:9", (640, 360))],
)
def test_other_shapes_compose_at_the_preview_profile(
    make_ctx: Callable[..., StageContext],
    theme_config: Callable[..., Any],
    tmp_path: Path,
    aspect: str,
    size: tuple[int, int],
) -> None:
    from vidgen.config import ThemeSettings

    settings = ThemeSettings(profile="preview", aspect=aspect)  # type: ignore[arg-type]
    config = theme_config(profile="preview", aspect=aspect)
    assert config.resolution[:2] == size and settings.aspect == aspect
    width, height = size
    ctx = make_ctx(texts=SCENE_TEXTS, width=width, height=height)
    out = composition.run(ctx).outputs
    info = probe(ctx.path(out["video_path"]))
    assert (info.width, info.height) == size
    with Image.open(ctx.path(out["thumbnail_path"])) as image:
        assert image.size == size
    frame = _frame(ctx.path(out["video_path"]), 1.0, tmp_path / "f.png")
    # The hook's picture is on screen, in colour, whatever the shape.
    assert any(max(p) - min(p) > 80 for p in _pixels(frame))
