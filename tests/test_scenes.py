"""What a scene shows: icons chosen by its words, layouts, accents, and the rendered layers."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from framekit import resampled, sharpness_ratio
from vidgen.media import icons, music
from vidgen.media.scenes import (
    card_title,
    plan_scene_visuals,
    render_kinetic_text,
    render_static_layer,
)


def _scenes(*texts: str) -> list[dict[str, object]]:
    return [
        {"index": i, "on_screen_text": t, "narration": t, "duration_seconds": 3.0}
        for i, t in enumerate(texts)
    ]


@pytest.mark.parametrize(
    ("text", "wanted"),
    [
        ("Here is the FocusFlow Desk Lamp", {"lightbulb"}),
        ("Boils half a litre in three minutes", {"fire-burner", "stopwatch", "glass-water"}),
        ("Charges your phone while you work", {"battery-three-quarters", "mobile-screen"}),
        ("The PocketBrew Travel Kettle", {"mug-hot"}),
        ("Your morning routine", {"calendar-check", "sun"}),
        ("Follow for more", {"user-plus"}),
        ("Best coffee beans", {"mug-hot", "trophy"}),
    ],
)
def test_icon_relates_to_the_scene_words(text: str, wanted: set[str]) -> None:
    (icon,) = icons.choose_icons([text])
    assert icon.name in wanted, (text, icon)
    assert icon.matched is not None and icon.matched in text.lower()


def test_icon_words_come_from_the_set_itself() -> None:
    # No curated entry: the word is found among Font Awesome's own names and search terms.
    (icon,) = icons.choose_icons(["A rocket for your ideas"])
    assert icon.name == "rocket" and icon.matched == "rocket"
    (icon,) = icons.choose_icons(["Get an umbrella before it pours"])
    assert icon.name == "umbrella"


def test_icon_choice_is_pure_and_avoids_repeats() -> None:
    texts = ["Warm light", "Cool light", "Light for reading", "Light again"]
    first = icons.choose_icons(texts)
    assert first == icons.choose_icons(texts)
    names = [icon.name for icon in first]
    assert len(set(names)) == len(names), names
    # Words the set knows nothing about fall back to the style's generic pictures.
    (fallback,) = icons.choose_icons(["Zxqv blorp"], "tutorial")
    assert fallback.matched is None and fallback.codepoint > 0xE000


def test_compound_nouns_pick_their_head() -> None:
    assert icons.scene_words("The FocusFlow desk lamp")[:1] == ["lamp"]


def test_layouts_cards_numbers_and_accents() -> None:
    scenes = _scenes("Here is the lamp", "Warm light", "One touch", "Charges phones", "Follow")
    visuals = plan_scene_visuals(
        scenes, style="product-demo", title="FocusFlow Desk Lamp: warm light", theme="Demo"
    )
    assert [v.layout for v in visuals] == ["hook", "feature", "feature", "feature", "cta"]
    assert visuals[1].card_title == "FocusFlow Desk Lamp" and visuals[0].card_title is None
    assert all(a.accent != b.accent for a, b in itertools.pairwise(visuals))
    assert len({v.icon.name for v in visuals}) == len(visuals)
    listicle = plan_scene_visuals(scenes, style="listicle", title="3 lamps", theme="Demo")
    assert [v.number for v in listicle] == [None, 1, 2, 3, None]
    other = plan_scene_visuals(
        scenes, style="product-demo", title="FocusFlow Desk Lamp: warm light", theme="Morning"
    )
    assert [v.accent for v in other] != [v.accent for v in visuals], "themes should differ"


def test_assets_name_icon_and_licence() -> None:
    (visual,) = plan_scene_visuals(_scenes("A lamp"), style="tutorial", title="T", theme="x")
    asset = visual.asset()
    assert asset["id"] == "fontawesome-free-6:lightbulb" and asset["licence"] == "CC-BY-4.0"
    assert "Font Awesome" in str(asset["attribution"])


def test_card_title_is_the_product_name() -> None:
    assert card_title("FocusFlow Desk Lamp: Warm light in the evening") == "FocusFlow Desk Lamp"
    assert card_title("Plain title") == "Plain title"


def _text_frame(width: int, height: int, tmp_path: Path) -> np.ndarray:
    (visual,) = plan_scene_visuals(
        _scenes("Warm light for deep work"), style="product-demo", title="T", theme="x"
    )
    overlay = render_kinetic_text(
        visual, "Warm light for deep work", tmp_path / f"t{width}",
        width=width, height=height, fps=30, start=0.0, end=3.0,
    )  # fmt: skip
    assert overlay is not None and overlay.motion == "sequence"
    listing = overlay.path.read_text().split("\n")
    last = overlay.path.parent / listing[-2].split("'")[1]
    frame = Image.new("RGBA", (width, height), (40, 60, 90, 255))
    with Image.open(last) as text:
        frame.alpha_composite(text.convert("RGBA"), (overlay.x, overlay.y))
    box = (overlay.x, overlay.y, overlay.x + overlay.width, overlay.y + overlay.height)
    return np.asarray(frame.convert("L").crop(box), dtype=float)


def test_text_is_drawn_at_output_size(tmp_path: Path) -> None:
    native = _text_frame(1080, 1920, tmp_path)
    assert sharpness_ratio(native) > 1.6
    # The check fails for text that was rendered smaller and scaled up.
    assert sharpness_ratio(resampled(native)) < 1.6


def test_kinetic_text_reveals_words_in_order(tmp_path: Path) -> None:
    (visual,) = plan_scene_visuals(_scenes("One two three"), style="tutorial", title="T", theme="x")
    overlay = render_kinetic_text(
        visual, "One two three", tmp_path, width=360, height=640, fps=30, start=1.0, end=4.0
    )
    assert overlay is not None
    files = [line.split("'")[1] for line in overlay.path.read_text().split("\n") if "file" in line]
    coverage = []
    for name in files:
        with Image.open(tmp_path / name) as image:
            coverage.append(sum(1 for a in image.getchannel("A").tobytes() if a > 128))
    assert coverage[0] == 0, "nothing is shown before the first word"
    assert coverage == sorted(coverage), "words only ever appear"
    assert coverage[-1] > 0 and coverage[-1] == max(coverage)


def test_static_layer_is_inside_the_frame(tmp_path: Path) -> None:
    (visual,) = plan_scene_visuals(_scenes("A lamp"), style="tutorial", title="T", theme="x")
    overlay = render_static_layer(
        visual, tmp_path / "c.png", width=360, height=640, start=0.0, end=2.0
    )
    assert overlay.x >= 0 and overlay.y >= 0 and overlay.x % 2 == 0 and overlay.y % 2 == 0
    assert overlay.x + overlay.width <= 360 and overlay.y + overlay.height <= 640


def test_music_mood_follows_style_and_tone() -> None:
    assert music.mood_for("tutorial", "") == "calm"
    assert music.mood_for("product-demo", "upbeat") == "energetic"
    assert music.mood_for("cinematic", "calm and gentle") == "calm"
    track = music.choose_track("listicle", "fun", "job-1")
    assert track is not None and track.mood == "happy" and track.path.is_file()
    assert track == music.choose_track("listicle", "fun", "job-1")
    assert track.asset()["licence"] == "MIT"


@pytest.mark.parametrize(
    ("value", "wanted"),
    [("none", "none"), (False, "none"), (None, None), ("bed.mp3", Path("bed.mp3"))],
)
def test_music_config_shorthands(value: object, wanted: object) -> None:
    from vidgen.config import Music, ThemeSettings

    music_setting = ThemeSettings(music=value).music  # type: ignore[arg-type]
    got = music_setting.path if isinstance(music_setting, Music) else music_setting
    assert got == wanted
