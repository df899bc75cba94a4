"""Your own photos and clips: probing, the media folder index, matching scenes, and end to end
at the preview profile (the scenes that name a photo or clip show it, a clip's audio is dropped,
an undecodable file is refused at ``generate`` naming it)."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from PIL import Image, ImageDraw

from conftest import CliResult
from test_bad_input import assert_http_error, assert_one_line_error, job_count
from test_content_generation import REPORT, ScriptedTTS
from vidgen.api.app import create_app
from vidgen.config import ThemeConfig, load_config
from vidgen.errors import FatalStageError
from vidgen.media import ffmpeg
from vidgen.media.library import (
    MediaItem,
    SceneWords,
    build_library,
    match_scenes,
    read_sidecar,
    words,
)
from vidgen.media.probe import inspect_media, media_problem
from vidgen.media.visuals import ClipSpec, YourMedia
from vidgen.stages import content_generation
from vidgen.stages.base import StageContext


def make_photo(
    path: Path, size: tuple[int, int] = (640, 400), colour: Any = (200, 120, 40)
) -> Path:
    picture = Image.new("RGB", size, colour)
    draw = ImageDraw.Draw(picture)
    for k in range(0, size[0], 40):
        draw.rectangle((k, 0, k + 16, size[1]), fill=(250, 240, 200))
    path.parent.mkdir(parents=True, exist_ok=True)
    picture.save(path)
    return path


def make_clip(path: Path, seconds: float = 1.5, size: str = "320x240", audio: bool = True) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sound = ["-f", "lavfi", "-i", f"sine=f=440:d={seconds}", "-c:a", "aac"] if audio else []
    subprocess.run(
        [ffmpeg.ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i",
         f"testsrc2=s={size}:r=25:d={seconds}", *sound, "-c:v", "libx264", "-preset",
         "ultrafast", "-pix_fmt", "yuv420p", "-shortest", str(path)],
        check=True,
    )  # fmt: skip
    return path


def item(name: str, *tags: str, **flags: Any) -> MediaItem:
    return MediaItem(
        path=Path(name), kind="photo", words=frozenset(words(" ".join([name, *tags]))), **flags
    )


# --- probing ----------------------------------------------------------------------------------


def test_probe_accepts_photos_and_clips_and_says_what_they_are(tmp_path: Path) -> None:
    photo = inspect_media(make_photo(tmp_path / "a.jpg"))
    clip = inspect_media(make_clip(tmp_path / "b.mp4", seconds=1.0))
    assert not isinstance(photo, str) and not isinstance(clip, str)
    assert (photo.kind, photo.width, photo.height, photo.duration) == ("photo", 640, 400, None)
    assert clip.kind == "clip" and (clip.width, clip.height) == (320, 240) and clip.has_audio
    assert clip.duration is not None and abs(clip.duration - 1.0) < 0.1


def test_probe_refuses_undecodable_files_in_one_line(tmp_path: Path) -> None:
    text = tmp_path / "notes.jpg"
    text.write_text("not a picture at all\n" * 20)
    truncated = tmp_path / "cut.mp4"
    truncated.write_bytes(make_clip(tmp_path / "whole.mp4").read_bytes()[:300])
    for path in (text, truncated):
        problem = media_problem(path)
        assert problem is not None and "ffmpeg can decode" in problem, problem
        assert "\n" not in problem
    assert media_problem(tmp_path / "gone.png") == "file not found"
    assert "not a photo or clip" in (media_problem(tmp_path / "doc.pdf") or "")


def test_probe_never_opens_a_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "photo.jpg"
    os.mkfifo(fifo)
    started = time.monotonic()
    assert media_problem(fifo) == "is a FIFO (named pipe), not a regular file"
    assert time.monotonic() - started < 5


# --- the index -------------------------------------------------------------------------------


def test_file_names_sidecars_and_config_notes_describe_items(tmp_path: Path) -> None:
    from vidgen.media.library import ItemNote

    folder = tmp_path / "media"
    make_photo(folder / "Desk-Lamp_warm.jpg")
    make_photo(folder / "trips" / "IMG_0042.png")
    (folder / "trips" / "IMG_0042.png.yml").write_text(
        "tags: [beach, sunsets]\nfocus: [0.2, 0.7]\n"
    )
    (folder / "readme.txt").write_text("not media")
    library = build_library(
        folder=folder, notes=[ItemNote(Path("Desk-Lamp_warm.jpg"), ("lighting",), (0.5, 0.3))]
    )
    assert library.problems == []
    by_name = {i.path.name: i for i in library.items}
    assert set(by_name) == {"Desk-Lamp_warm.jpg", "IMG_0042.png"}
    assert by_name["Desk-Lamp_warm.jpg"].words == {"desk", "lamp", "warm", "lighting"}
    assert by_name["Desk-Lamp_warm.jpg"].focus == (0.5, 0.3)
    assert by_name["IMG_0042.png"].words == {"beach", "sunset"}
    assert by_name["IMG_0042.png"].focus == (0.2, 0.7)


def test_a_bad_sidecar_or_file_is_a_problem_naming_it(tmp_path: Path) -> None:
    folder = tmp_path / "media"
    make_photo(folder / "ok.jpg")
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    make_photo(folder / "odd.jpg")
    (folder / "odd.jpg.yml").write_text("focus: [2, 0.5]\n")
    library = build_library(folder=folder)
    lines = [problem.line() for problem in library.problems]
    assert any("broken.png" in line and "decode" in line for line in lines), lines
    assert any("odd.jpg.yml" in line and "focus" in line for line in lines), lines
    assert [i.path.name for i in library.items] == ["ok.jpg"]
    note, problem = read_sidecar(folder / "ok.jpg")
    assert note is None and problem is None


# --- matching --------------------------------------------------------------------------------


def test_each_scene_gets_the_item_its_words_name() -> None:
    items = [item("beach.jpg", "sea", "sand"), item("coffee.mp4"), item("lamp.jpg")]
    scenes = [
        SceneWords(subjects=["coffee"], narration="Fresh coffee to start the morning."),
        SceneWords(narration="Then a long walk by the sea."),
        SceneWords(narration="Follow for more ideas."),
    ]
    picks = match_scenes(items, scenes)
    assert [p.item.path.name if p else None for p in picks] == ["coffee.mp4", "beach.jpg", None]
    assert picks[1] is not None and picks[1].matched == ("sea",)


def test_adjacent_scenes_do_not_repeat_an_item_while_another_matches() -> None:
    items = [item("lamp-desk.jpg"), item("lamp.jpg")]
    scenes = [SceneWords(subjects=["lamp", "desk"])] * 3
    names = [p.item.path.name for p in match_scenes(items, scenes) if p]
    assert names == ["lamp-desk.jpg", "lamp.jpg", "lamp-desk.jpg"]
    # With only one item that matches, it is shown again rather than nothing.
    only = match_scenes([item("lamp.jpg")], scenes[:2])
    assert [p.item.path.name for p in only if p] == ["lamp.jpg", "lamp.jpg"]


def test_the_subjects_own_photos_win_ties_and_config_images_fill_the_rest() -> None:
    items = [
        item("lamp-a.jpg"),
        item("lamp-b.jpg", reference=True),
        item("cover.jpg", always=True),
    ]
    scenes = [
        SceneWords(narration="This lamp."),
        SceneWords(narration="Nothing in common."),
    ]
    picks = match_scenes(items, scenes)
    assert picks[0] is not None and picks[0].item.path.name == "lamp-b.jpg"
    assert picks[1] is not None and picks[1].item.path.name == "cover.jpg"


def test_video_subject_words_count_less_than_the_scenes_own() -> None:
    items = [item("kettle.jpg"), item("backpack.jpg")]
    scene = SceneWords(subjects=["backpack"], video_subject=["travel kettle"])
    assert match_scenes(items, [scene])[0].item.path.name == "backpack.jpg"  # type: ignore[union-attr]
    alone = SceneWords(narration="Folds flat.", video_subject=["travel kettle"])
    assert match_scenes(items, [alone])[0].item.path.name == "kettle.jpg"  # type: ignore[union-attr]


# --- rendering -------------------------------------------------------------------------------


def _spec(**overrides: Any) -> ClipSpec:
    values: dict[str, Any] = {
        "index": 0, "duration": 2.0, "width": 90, "height": 160, "fps": 12,
        "style": "cinematic", "keywords": [], "seed": 3,
    }  # fmt: skip
    values.update(overrides)
    return ClipSpec(**values)


def _mean_rgb(path: Path, at: float) -> tuple[int, ...]:
    raw = subprocess.run(
        [ffmpeg.ffmpeg_exe(), "-v", "error", "-ss", str(at), "-i", str(path), "-frames:v", "1",
         "-vf", "scale=1:1:flags=area", "-pix_fmt", "rgb24", "-f", "rawvideo", "-"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    return tuple(raw)


def test_a_photo_is_cropped_around_its_focus_point(tmp_path: Path) -> None:
    # Left half red, right half blue: a focus on the right keeps the blue in frame.
    picture = Image.new("RGB", (800, 400), (220, 20, 20))
    ImageDraw.Draw(picture).rectangle((400, 0, 800, 400), fill=(20, 20, 220))
    picture.save(tmp_path / "split.png")
    facts = inspect_media(tmp_path / "split.png")
    assert not isinstance(facts, str)
    right = MediaItem(path=facts.path, kind="photo", words=frozenset(), focus=(0.9, 0.5))
    left = MediaItem(path=facts.path, kind="photo", words=frozenset(), focus=(0.1, 0.5))
    source = YourMedia()
    a = source.render_item(right, _spec(), tmp_path / "right.mp4")
    b = source.render_item(left, _spec(), tmp_path / "left.mp4")
    assert a.shows_subject and a.source == str(facts.path)
    for at in (0.1, 1.8):
        r, _, bl = _mean_rgb(a.path, at)
        assert bl > r + 100, (r, bl)
        r, _, bl = _mean_rgb(b.path, at)
        assert r > bl + 100, (r, bl)


@pytest.mark.parametrize("seconds", [4.0, 1.5, 0.5], ids=["trimmed", "slowed", "looped"])
def test_a_clip_fills_the_scene_silently(seconds: float, tmp_path: Path) -> None:
    clip_file = make_clip(tmp_path / "clip.mp4", seconds=seconds)
    facts = inspect_media(clip_file)
    assert not isinstance(facts, str) and facts.has_audio
    media = MediaItem(
        path=clip_file, kind="clip", words=frozenset(), duration=facts.duration, has_audio=True
    )
    clip = YourMedia().render_item(media, _spec(duration=2.0), tmp_path / "out.mp4")
    info = ffmpeg.probe(clip.path)
    assert (info.width, info.height) == (90, 160)
    assert abs(info.duration - 2.0) <= 1 / 12 + 0.01
    assert info.audio_codec is None  # the clip's own sound is dropped
    assert clip.provider == "media" and clip.shows_subject


# --- end to end at the preview profile ---------------------------------------------------------


def write_theme(folder: Path, **config: Any) -> Path:
    raw: dict[str, Any] = {
        "config": {
            "theme": "Slow Mornings",
            "profile": "preview",
            "video_duration_seconds": 20,  # room to say both points whole
            "scenes": 5,  # the hook, what the guide is, both points, the call to action
            "style": "cinematic",
            "music": "none",
            "providers": {"tts": "espeak"},
            **config,
        },
        "content_references": [
            {
                "title": "Slow Morning Guide",
                "description": "Small rituals for a calm start.",
                "talking_points": ["Fresh coffee to start the day", "A long walk on the beach"],
            }
        ],
    }
    path = folder / "theme.yml"
    path.write_text(yaml.safe_dump(raw))
    return path


@pytest.fixture
def media_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "my-media"
    make_photo(folder / "seaside.jpg")
    (folder / "seaside.jpg.yml").write_text("tags: [beach, sand]\nfocus: [0.3, 0.6]\n")
    make_clip(folder / "coffee-pour.mp4", seconds=1.0)
    return folder


def test_scenes_that_name_a_photo_or_clip_show_it(
    media_folder: Path,
    tmp_path: Path,
    stage_context: Callable[..., StageContext],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = load_config(write_theme(tmp_path, media="my-media"))
    monkeypatch.setattr(content_generation, "get_tts", lambda name: ScriptedTTS(0.25))
    ctx = stage_context("content_generation", {"trend_analysis": REPORT}, config=config)
    out = content_generation.run(ctx).outputs
    scenes = out["plan"]["scenes"]
    choices = out["providers"]["clip_choices"]
    shown = {}
    for scene, choice, clip in zip(scenes, choices, out["clips"], strict=True):
        said = " ".join([scene["narration"], *scene["keywords"], *scene["subjects"]]).lower()
        shown[said] = (choice["provider"], choice["source"], clip["shows_subject"])
        info = ffmpeg.probe(ctx.path(clip["path"]))
        assert info.audio_codec is None
    coffee = next(v for k, v in shown.items() if "coffee" in k.lower())
    beach = next(v for k, v in shown.items() if "beach" in k.lower())
    assert coffee == ("media", str(media_folder / "coffee-pour.mp4"), True)
    assert beach == ("media", str(media_folder / "seaside.jpg"), True)
    beach_choice = choices[list(shown).index(next(k for k in shown if "beach" in k))]
    assert beach_choice["matched"] == ["beach"]
    # Scenes that name neither fall back to the backdrop the illustrations are drawn over.
    others = [v for k, v in shown.items() if "coffee" not in k.lower() and "beach" not in k.lower()]
    assert others and all(v == ("procedural", None, False) for v in others)
    assert out["providers"]["clip_sources"] == [c["source"] for c in choices]


def test_a_products_own_images_show_in_its_video(
    tmp_path: Path, stage_context: Callable[..., StageContext], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_theme(tmp_path)
    raw = yaml.safe_load(path.read_text())
    make_photo(tmp_path / "product" / "front.jpg")
    make_photo(tmp_path / "other" / "back.jpg")
    raw["content_references"][0]["images"] = ["product/front.jpg"]
    raw["content_references"].append(
        {"title": "Other Thing", "talking_points": ["Unrelated"], "images": ["other/back.jpg"]}
    )
    path.write_text(yaml.safe_dump(raw))
    config = load_config(path)
    monkeypatch.setattr(content_generation, "get_tts", lambda name: ScriptedTTS(0.25))
    ctx = stage_context("content_generation", {"trend_analysis": REPORT}, config=config)
    out = content_generation.run(ctx).outputs
    assert out["plan"]["subject"] == "Slow Morning Guide"
    sources = out["providers"]["clip_sources"]
    # The title's words are the video's subject: its own photo matches every scene (the only
    # picture, so shown again); the other reference's photo is never used.
    assert sources == [str(tmp_path / "product" / "front.jpg")] * len(sources)
    assert all(clip["shows_subject"] for clip in out["clips"])


Cli = Callable[..., CliResult]


@pytest.fixture
def client(home: Path) -> Iterator[TestClient]:
    with TestClient(create_app(), raise_server_exceptions=False) as test_client:
        yield test_client


def test_an_undecodable_file_is_refused_at_generate_naming_it(
    cli: Cli, client: TestClient, home: Path, media_folder: Path, tmp_path: Path
) -> None:
    broken = media_folder / "broken-clip.mp4"
    broken.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64)
    themes = home / "themes"
    themes.mkdir(parents=True, exist_ok=True)
    path = write_theme(themes, media=str(media_folder))
    result = cli("generate", "--config", str(path))
    assert_one_line_error(result, (2,), str(path), "config.media.path", str(broken), "decode")
    response = client.post("/api/generate", json={"config_path": "theme.yml"})
    assert 400 <= response.status_code < 500
    assert_http_error(response, response.status_code, "broken-clip.mp4")
    assert job_count(home) == 0
    broken.unlink()
    ok = cli("generate", "--config", str(path), "--json")
    assert ok.code == 0, ok.err
    assert json.loads(ok.out)["status"] == "queued"


def test_a_reference_image_that_is_not_a_picture_is_refused_at_generate(
    cli: Cli, home: Path, tmp_path: Path
) -> None:
    path = write_theme(tmp_path)
    raw = yaml.safe_load(path.read_text())
    (tmp_path / "front.jpg").write_text("<html>404 not found</html>")
    raw["content_references"][0]["images"] = ["front.jpg"]
    path.write_text(yaml.safe_dump(raw))
    result = cli("generate", "--config", str(path))
    assert_one_line_error(
        result, (2,), "content_references[0].images[0]", str(tmp_path / "front.jpg")
    )
    assert job_count(home) == 0


def test_a_file_broken_after_generate_fails_the_stage_at_once(
    media_folder: Path,
    tmp_path: Path,
    stage_context: Callable[..., StageContext],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config: ThemeConfig = load_config(write_theme(tmp_path, media="my-media"))
    (media_folder / "seaside.jpg").write_bytes(b"garbage")
    monkeypatch.setattr(content_generation, "get_tts", lambda name: ScriptedTTS(0.25))
    ctx = stage_context("content_generation", {"trend_analysis": REPORT}, config=config)
    with pytest.raises(FatalStageError, match=r"seaside\.jpg"):
        content_generation.run(ctx)


@pytest.mark.slow
def test_a_whole_job_shows_your_media_and_logs_each_choice(
    cli: Cli, home: Path, media_folder: Path, tmp_path: Path
) -> None:
    """Generate -> worker -> review at the preview profile: the video is made from the mixed
    clips (your photo and clip at full size, the backdrop smaller) and the generation log says
    which scene showed what."""
    from conftest import run_job
    from vidgen.statuses import JobStatus

    path = write_theme(tmp_path, media="my-media")
    queued = cli("generate", "--config", str(path), "--json")
    assert queued.code == 0, queued.err
    job_id = int(queued.json()["job_id"])
    assert run_job(job_id) == JobStatus.COMPLETED
    logs = list((home / "output" / "review").glob("*.json"))
    assert len(logs) == 1
    log = json.loads(logs[0].read_text())
    choices = log["providers"]["clip_choices"]
    sources = {choice["source"] for choice in choices}
    assert {str(media_folder / "seaside.jpg"), str(media_folder / "coffee-pour.mp4")} <= sources
    assert {choice["provider"] for choice in choices} <= {"media", "procedural"}
    for choice in choices:
        assert choice["licence"] == ("user-supplied" if choice["provider"] == "media" else None)
    video = next((home / "output" / "review").glob("*.mp4"))
    info = ffmpeg.probe(video)
    assert (info.width, info.height) == (360, 640) and info.audio_codec == "aac"


def test_the_scenes_own_things_beat_the_product_words_planners_add_to_every_scene() -> None:
    items = [item("desk-lamp.jpg"), item("phone-charging.jpg")]
    scene = SceneWords(
        subjects=["charges", "phone"],
        keywords=["charges", "phone", "work", "desk", "lamp"],  # the product's words again
        narration="And charges your phone while you work.",
        video_subject=["FocusFlow Desk Lamp"],
    )
    assert match_scenes(items, [scene])[0].item.path.name == "phone-charging.jpg"  # type: ignore[union-attr]


def test_on_a_tie_the_tighter_match_wins_so_each_scene_gets_its_own_picture() -> None:
    items = [item("kettle-backpack.jpg"), item("kettle.jpg")]
    scenes = [SceneWords(narration="The travel kettle."), SceneWords(subjects=["backpack"])]
    names = [p.item.path.name for p in match_scenes(items, scenes) if p]
    assert names == ["kettle.jpg", "kettle-backpack.jpg"]


def test_a_missing_media_folder_or_unknown_listed_file_is_refused_at_generate(
    cli: Cli, home: Path, media_folder: Path, tmp_path: Path
) -> None:
    path = write_theme(tmp_path, media="no-such-folder")
    assert_one_line_error(
        cli("generate", "--config", str(path)), (2,), "config.media.path",
        str(tmp_path / "no-such-folder"), "folder not found",
    )  # fmt: skip
    path = write_theme(
        tmp_path, media={"path": "my-media", "items": [{"file": "lamp.jpg", "tags": ["desk"]}]}
    )
    assert_one_line_error(
        cli("generate", "--config", str(path)), (2,), "config.media.items",
        str(media_folder / "lamp.jpg"), "not a photo or clip in the folder",
    )  # fmt: skip
    bad_focus = write_theme(
        tmp_path, media={"path": "my-media", "items": [{"file": "seaside.jpg", "focus": [1.5, 0]}]}
    )
    assert_one_line_error(
        cli("generate", "--config", str(bad_focus)), (2,), "config.media.items[0].focus"
    )
    assert job_count(home) == 0
