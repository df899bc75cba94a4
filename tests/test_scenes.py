"""What a scene shows: pictures chosen by its words, layouts by kind, colours, cards, the cover."""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from framekit import resampled, sharpness_ratio
from vidgen.media import captions, illustrations, music
from vidgen.media.scenes import (
    COVER_LAYOUTS,
    POP_SCALES,
    Frame,
    _rgb,
    beat_times,
    card_title,
    contrast_ratio,
    cover_claim,
    cover_picture,
    design_cover,
    fit_text,
    headline_adds,
    layout_scene,
    luminance,
    plan_scene_visuals,
    reveal_times,
    said_at,
    scene_card,
    stat_parts,
    unit_label,
    unnegated,
    write_card_track,
)
from vidgen.media.shots import MIN_LAND, MIN_REVEAL, build_up, scene_shots
from vidgen.planning import Scene
from vidgen.stages.composition import visual_cuts


def _scene(i: int, narration: str, **fields: Any) -> Scene:
    return Scene(
        index=i, duration_seconds=3.0, on_screen_text=narration[:60], narration=narration,
        **fields,
    )  # fmt: skip


def _words(text: str) -> set[str]:
    return set(illustrations.words_of(text))


@pytest.mark.parametrize(
    ("text", "misread"),
    [
        # Each was read as something else by a viewer: a coffee, "stop", the taxis it says to
        # skip, a date, a sunrise for waterfalls.
        ("It keeps its handle cool with boiling water inside", "hot_beverage"),
        ("so you can pour with a bare hand", "raised_hand"),
        ("In Copenhagen, rent a city bike instead of taking taxis", "cityscape"),
        ("a whole month of commutes", "calendar"),
        ("rice terraces and waterfalls in the north", "sunrise_over_mountains"),
        # The emoji's two equal hands at nine read as three o'clock.
        ("quiet if you arrive before nine", "nine_o\u2019clock"),
        ("knees tracking your toes", "leg"),
        ("knees tracking your toes", "foot"),
        ("Plus, they weigh 210 grams per shoe", "balance_scale"),
    ],
)
def test_a_picture_viewers_misread_is_not_chosen(text: str, misread: str) -> None:
    assert misread not in {p.name for p in illustrations.choose([], text, limit=6)}


@pytest.mark.parametrize(
    ("text", "wanted"),
    [
        ("Sourdough at home is easier than you think", {"bread"}),
        ("My morning run", {"person_running", "sunrise"}),
        ("Charges your phone while you work", {"mobile_phone", "battery"}),
        ("The PocketBrew travel kettle", {"electric_kettle"}),
        ("Water your plants once a week", {"potted_plant", "droplet"}),
        ("A skincare routine for glass skin", {"lotion_bottle"}),
        ("A rocket for your ideas", {"rocket"}),  # the emoji's own name, no synonym needed
        ("Get an umbrella before it pours", {"umbrella"}),
        # A tip names a city: its landmark or its country's flag, never another city's
        # ("Galata Tower" is not the Tokyo Tower emoji: our own stone tower).
        (
            "For the best view of Istanbul, go up Galata Tower an hour before sunset",
            {"stone_tower", "türkiye"},
        ),
        ("In Copenhagen, rent a city bike", {"denmark", "bicycle"}),
        # A can, not a glass with a straw: our own drawing.
        ("They weigh 210 grams, lighter than a can of soda", {"soda_can"}),
        # Moves no emoji does: our own drawings, not a barbell or a cartwheel.
        ("Hold a plank for 30 seconds", {"person_planking"}),
        ("Then 10 dead bugs and 15 glute bridges", {"person_dead_bug", "person_bridging"}),
        ("In Kyoto, climb Fushimi Inari at sunrise, before the crowds", {"shinto_shrine"}),
        # A form tip's before and after: the squat to fix, then the one done right.
        ("Before your next workout, fix your squat", {"squat_wrong"}),
        ("Hips back as if you were sitting down", {"squat_form"}),
        ("Squats and lunges", {"person_squatting", "person_lunging"}),
        # What a claim looks like, not the product as it always looks: our own drawings.
        ("It folds flat to two centimeters", {"folded_kettle"}),
        ("It keeps its handle cool with boiling water inside", {"cool_handle_kettle"}),
        ("Squats, push ups and lunges", {"person_squatting", "person_push_up", "person_lunging"}),
        ("A whole month of commutes", {"spiral_calendar", "train"}),
        (
            "Squats, lunges and jumping jacks",
            {"person_squatting", "person_lunging", "person_jumping_jack"},
        ),
        ("They have a reflective heel", {"reflective_shoe"}),
        # The sole giving energy back: the shoe on springs, not a lightning bolt ("electric").
        ("They return 85 percent of your energy with every stride", {"spring_shoe"}),
        # The product itself, not the emoji's headphones full of music notes ("a music app").
        ("Over-ear headphones that cancel noise", {"over_ear_headphones"}),
        ("It boils half a liter in three minutes", {"boiling_kettle"}),
        ("It weighs 350 grams", {"kitchen_scale"}),
        # Named in a tip and missed by four viewers: our own waterfall, a clock at the hour.
        (
            "Rice terraces and waterfalls are quiet if you arrive before nine",
            {"rice_terraces", "waterfall", "clock_nine"},
        ),
        ("In Bali, the rice terraces are quiet before nine", {"rice_terraces"}),
        # No emoji is a water bottle (a cup with a straw is not): our own drawing.
        ("It weighs less than a full bottle of water", {"water_bottle"}),
    ],
)
def test_picture_relates_to_the_scene_words(text: str, wanted: set[str]) -> None:
    picks = illustrations.choose([], text)
    assert wanted <= {p.name for p in picks}, (text, picks)
    for pick in picks:
        assert not pick.fallback
        # Every choice says which of the scene's words chose it.
        assert pick.matched and all(set(m.split()) <= _words(text) for m in pick.matched)


def test_signs_and_buttons_are_not_matched_by_chance() -> None:
    # "new", "top", "beginners" name emoji buttons and signs: never a picture of a scene.
    picks = illustrations.choose([], "The new top tips for beginners")
    assert all(p.fallback for p in picks), picks


def test_scene_without_a_match_shows_the_videos_subject() -> None:
    scenes = [
        _scene(0, "Sourdough bread at home.", kind="hook"),
        _scene(1, "Zxqv blorp quux.", kind="feature"),
        _scene(2, "Follow for more.", kind="cta"),
    ]
    visuals = plan_scene_visuals(
        scenes, title="Sourdough for beginners", theme="Baking", subject="Sourdough bread",
        subject_terms=["sourdough", "bread"],
    )  # fmt: skip
    assert visuals[1].picture.name == "bread" and visuals[1].picture.fallback
    assert visuals[1].assets()[0]["fallback"] is True
    # The hook and the call to action show the subject, and say it was chosen, not a stand-in.
    assert visuals[0].picture.name == "bread" and not visuals[0].picture.fallback
    assert visuals[2].picture.name == "bread"


def _plan(kinds: list[str]) -> list[Scene]:
    texts = {
        "hook": ("Sourdough at home is easier than you think.", {"headline": "Sourdough 101"}),
        "step": ("Feed your starter with flour and water.", {"number": 1, "subjects": ["flour"]}),
        "list_item": ("Water your plants in the morning.", {"number": 2, "subjects": ["plant"]}),
        "fact": ("Bake it very hot for a crisp crust.", {"headline": "250 °C"}),
        "comparison": ("Coffee or tea with your toast?", {"subjects": ["coffee", "tea"]}),
        "feature": ("Charges your phone while you go camping.", {}),
        "cta": ("Follow for more baking ideas.", {"headline": "Follow for more"}),
    }
    return [_scene(i, texts[k][0], kind=k, **texts[k][1]) for i, k in enumerate(kinds)]


def test_layouts_follow_the_scene_kind() -> None:
    kinds = ["hook", "step", "list_item", "fact", "comparison", "feature", "cta"]
    visuals = plan_scene_visuals(
        _plan(kinds), title="Sourdough for beginners", theme="Baking", subject="Sourdough bread"
    )
    assert [v.layout for v in visuals] == [
        "hook", "step", "list_item", "fact", "comparison", "trio", "cta",
    ]  # fmt: skip
    assert [v.number for v in visuals] == [None, 1, 2, None, None, None, None]
    assert {p.name for p in visuals[4].pictures} == {"hot_beverage", "teacup_without_handle"}
    assert visuals[3].headline == "250 °C"


@pytest.mark.parametrize(
    "kinds",
    [
        ["hook", "feature", "feature", "feature", "cta"],
        ["hook", "list_item", "list_item", "list_item", "cta"],
        ["hook", "fact", "fact", "cta"],
    ],
)
def test_adjacent_scenes_differ_in_layout_or_picture(kinds: list[str]) -> None:
    text = "Sourdough bread, more sourdough bread."
    same = [_scene(i, text, kind=k) for i, k in enumerate(kinds)]
    for scenes in (same, _plan(kinds)):
        visuals = plan_scene_visuals(scenes, title="Sourdough", theme="Baking", subject="bread")
        for a, b in itertools.pairwise(visuals):
            assert (a.layout, a.picture.key) != (b.layout, b.picture.key), (a, b)
            assert a.backdrop != b.backdrop, "neighbours differ in colour too"


def test_colours_come_from_the_subjects_picture() -> None:
    def hook(subject: str, text: str) -> Any:
        (visual,) = plan_scene_visuals(
            [_scene(0, text, kind="hook")], title=subject, theme=subject, subject=subject
        )
        return visual

    bread = hook("Sourdough bread", "Sourdough at home.")
    plant = hook("Houseplants", "Keep your houseplants happy.")
    assert bread.picture.name == "bread" and plant.picture.name == "potted_plant"
    assert bread.hue < 0.12 or bread.hue > 0.95, "bread is warm"
    assert bread.backdrop != plant.backdrop and bread.accent != plant.accent
    # Backdrops are calm: dark stops, the lightest well below full brightness.
    for visual in (bread, plant):
        assert max(int(visual.backdrop[2][k : k + 2], 16) for k in (0, 2, 4)) < 160


def test_headline_never_repeats_the_spoken_sentence() -> None:
    said = "Feed your starter with flour and water every morning."
    assert not headline_adds(said, said)
    assert not headline_adds("feed your starter with flour and water", said)
    assert headline_adds("Step 1", said) and headline_adds("250 °C", said)
    assert headline_adds("Sourdough 101", "Sourdough at home is easy.")
    # A heading naming the place the voice names at that moment is the name twice at once.
    assert not headline_adds("Copenhagen on a budget", "In Copenhagen, rent a city bike.")
    assert not headline_adds("Hidden gems in Bali", "Skip the beaches: Bali's rice terraces.")
    assert headline_adds("HushBuds Wireless Headphones", "Your commute is about to get quieter.")
    scenes = [
        _scene(0, said, kind="hook", headline=said[:40]),
        _scene(1, "Bake it hot.", kind="fact", headline="250 °C"),
        _scene(2, "Follow for more.", kind="cta"),
    ]
    visuals = plan_scene_visuals(scenes, title="Sourdough", theme="Baking")
    assert visuals[0].headline is None and visuals[1].headline == "250 °C"


def test_long_text_shrinks_and_is_never_cut() -> None:
    text = "An unusually long headline that would never fit on two lines at the size asked for"
    size, lines = fit_text(text, 300, 2, 80)
    assert size < 80 and " ".join(lines) == text and not any("\u2026" in x for x in lines)


FRAMES = [(1080, 1920), (360, 640), (360, 360), (360, 450), (640, 360)]


@pytest.mark.parametrize(("width", "height"), FRAMES)
def test_cards_fit_the_frame_and_leave_the_captions_clear(width: int, height: int) -> None:
    kinds = ["hook", "step", "list_item", "fact", "comparison", "feature", "cta"]
    visuals = plan_scene_visuals(_plan(kinds), title="Sourdough", theme="Baking", subject="bread")
    frame = Frame.for_size(width, height)
    look = captions.caption_look(width, height)
    caption_top = height * (1 - look.bottom_margin) - 2 * look.size_ratio * width * 1.2
    for visual in visuals:
        card = scene_card(visual, frame, start=0.0, end=2.0)
        assert card is not None
        assert card.x >= 0 and card.y >= 0 and card.x % 2 == 0 and card.y % 2 == 0
        assert card.x + card.image.width <= width and card.y + card.image.height <= height
        # Solid drawing (pictures, text) stays above the caption band.
        solid = card.image.getchannel("A").point(lambda a: 255 if a > 200 else 0).getbbox()
        assert solid is not None and card.y + solid[3] <= caption_top + 2, visual.layout


@pytest.mark.parametrize(("width", "height"), [f for f in FRAMES if f[1] > f[0]])
def test_an_opening_naming_more_keeps_its_subject_large(width: int, height: int) -> None:
    """ "Your next cup of tea doesn't need a kitchen." shows a cup small under the kettle, the
    kettle still at least 40% of the frame's width (a third read as a small icon)."""
    scenes = [
        _scene(0, "Your next cup of tea doesn't need a kitchen.", kind="hook",
               subjects=["kettle"], headline="PocketBrew Folding Kettle"),
        _scene(1, "Where would you take it?", kind="cta", subjects=["kettle"]),
    ]  # fmt: skip
    hook, _ = plan_scene_visuals(
        scenes, title="PocketBrew", theme="Product Demo", subject="PocketBrew Folding Kettle",
        subject_terms=["kettle"],
    )  # fmt: skip
    assert len(hook.pictures) >= 2 and hook.headline
    placed = [p for p in layout_scene(hook, Frame.for_size(width, height)) if p.role == "picture"]
    main = placed[0].box
    assert main[2] - main[0] >= 0.4 * width, (width, height, main)


def test_hook_picture_is_large_and_in_colour() -> None:
    (visual,) = plan_scene_visuals(
        [_scene(0, "Sourdough at home.", kind="hook")], title="Sourdough", theme="Baking"
    )
    card = scene_card(visual, Frame.for_size(1080, 1920), start=0.0, end=2.0)
    assert card is not None
    solid = card.image.getchannel("A").point(lambda a: 255 if a > 200 else 0).getbbox()
    assert solid is not None and solid[2] - solid[0] >= 0.4 * 1080
    rgb = np.asarray(card.image.convert("RGB"), dtype=int)
    alpha = np.asarray(card.image.getchannel("A"))
    chroma = (rgb.max(axis=2) - rgb.min(axis=2))[alpha > 200]
    assert (chroma > 60).mean() > 0.3, "a full-colour picture, not a white glyph"


def test_pictures_are_drawn_at_output_size() -> None:
    (visual,) = plan_scene_visuals(
        [_scene(0, "A rocket for your ideas.", kind="hook")], title="T", theme="x"
    )
    card = scene_card(visual, Frame.for_size(1080, 1920), start=0.0, end=2.0)
    assert card is not None
    gray = np.asarray(card.image.convert("L"), dtype=float)
    # Flat-shaded art has fewer hard edges than text; drawn small and scaled up, fewer still.
    assert sharpness_ratio(gray) > 1.25
    assert sharpness_ratio(gray) > sharpness_ratio(resampled(gray)) + 0.1


def test_card_track_pops_in_then_holds(tmp_path: Path) -> None:
    visuals = plan_scene_visuals(_plan(["hook", "feature", "cta"]), title="Sourdough", theme="B")
    frame = Frame.for_size(360, 640)
    cards = [
        c for k, v in enumerate(visuals)
        if (c := scene_card(v, frame, start=3.0 * k, end=3.0 * k + 3.0)) is not None
    ]  # fmt: skip
    overlay = write_card_track(cards, tmp_path, fps=30, total=9.0)
    assert overlay is not None and overlay.motion == "float"
    listing = overlay.path.read_text().split("\n")
    files = [line.split("'")[1] for line in listing if line.startswith("file")]
    durations = [float(line.split()[1]) for line in listing if line.startswith("duration")]
    assert abs(sum(durations) - 9.0) < 1e-3, "the track lasts the whole video"

    def coverage(name: str) -> int:
        with Image.open(tmp_path / name) as image:
            return sum(1 for a in image.getchannel("A").tobytes() if a > 128)

    # The video's first card is whole from its first frame (a feed shows that frame), then
    # pushes in slowly: ten steps a second, each a little larger, then held.
    push = [k for k, d in enumerate(durations) if abs(d - 1 / 10) < 1e-6]
    assert push[0] == 0 and len(push) >= 15
    first = coverage(files[0])
    assert first > 0.85 * coverage(files[len(push)]) and coverage(files[len(push)]) > first

    def top(name: str) -> int:
        with Image.open(tmp_path / name) as image:
            box = image.getchannel("A").point(lambda a: 255 if a > 128 else 0).getbbox()
        assert box is not None
        return box[1]

    # It grows down from its top edge: about its centre, the headline rose into the progress
    # bar at the top of the screen.
    assert {top(files[k]) for k in push} == {top(files[0])}
    # The next card grows as it pops in (one frame per scale), then is held.
    pops = [files[len(push) + 1 + k] for k in range(4)]
    assert coverage(pops[0]) < coverage(pops[2])
    assert durations[len(push) + 4] > 2.5, "and is then held"


def test_cuts_wait_for_the_previous_caption() -> None:
    cue = captions.Cue
    word = captions.CueWord
    cues = [
        cue((word("Sourdough", 0.1, 0.6),), 0.1, 1.95, 0),  # lingers past the planned cut at 1.8
        cue((word("Bake", 2.05, 2.4),), 2.05, 3.9, 1),
    ]
    shown = visual_cuts([1.8, 2.2], cues, fade=0.3)
    assert shown[0] >= 1.95 - 1e-6 and abs(sum(shown) - 4.0) < 1e-6
    # A cut with no caption showing stays where the plan put it.
    assert visual_cuts([1.8, 2.2], [], fade=0.3) == [1.8, 2.2]


def test_cover_is_designed_with_the_subject_and_a_short_title() -> None:
    picture = illustrations.choose([], "sourdough")[0]
    frame = Frame.for_size(1080, 1920)
    cover = design_cover(None, picture, "Sourdough 101", 0.07, frame)
    assert cover.size == (1080, 1920)
    small = np.asarray(cover.resize((200, 356)).convert("RGB"), dtype=int)
    assert (small.min(axis=2) > 220).sum() > 300, "a title readable at 200 px wide"
    chroma = small.max(axis=2) - small.min(axis=2)
    assert (chroma > 60).mean() > 0.05, "the picture, in colour"


@pytest.mark.parametrize("layout", COVER_LAYOUTS)
def test_a_cover_survives_the_3_4_profile_grid_crop(layout: str) -> None:
    """Profile grids show the middle 3:4 of a 9:16 cover: the name chip, the title and the
    picture are all inside it (a chip at 11% from the top was cut in half)."""
    picture = illustrations.choose(["headphones"], "headphones")[0]
    title = "HushBuds Wireless Headphones: cut background noise by 30 decibels"
    cover = design_cover(None, picture, title, 0.6, Frame.for_size(1080, 1920),
                         stat="30 dB", layout=layout, seed="x")  # fmt: skip
    rows = np.asarray(cover.convert("L"), dtype=int)
    # Title letters, the chip and sticker borders are light; the backdrop is dark.
    white = (rows > 200).sum(axis=1)
    inside = white[240:1680].sum()
    assert inside > 0 and white[:240].sum() + white[1680:].sum() < 0.01 * inside


def _cover_of(title: str, stat: str | None, hue: float, seed: str) -> Any:
    picture = illustrations.choose(["headphones"], "headphones")[0]
    return np.asarray(
        design_cover(None, picture, title, hue, Frame.for_size(360, 640), stat=stat, seed=seed),
        dtype=float,
    )


def test_covers_of_two_videos_of_one_product_differ() -> None:
    a = _cover_of("HushBuds: cut background noise by 30 decibels", "30 decibels", 0.58, "a")
    b = _cover_of("HushBuds: play music for 40 hours", "40 hours", 0.1, "b")
    assert np.abs(a - b).mean() > 20
    # The same video gets the same cover (a retried job).
    again = _cover_of("HushBuds: play music for 40 hours", "40 hours", 0.1, "b")
    assert np.abs(b - again).max() == 0


def test_cover_claim_comes_from_the_title() -> None:
    assert cover_claim("HushBuds Wireless Headphones: cut background noise by 30 decibels") == (
        "HushBuds Wireless Headphones", "Cut background noise by 30 decibels",
    )  # fmt: skip
    assert cover_claim("Three travel ideas trending this week") == (
        None, "Three travel ideas trending this week",
    )  # fmt: skip


def test_card_title_is_the_product_name() -> None:
    assert card_title("FocusFlow Desk Lamp: Warm light in the evening") == "FocusFlow Desk Lamp"
    assert card_title("Plain title") == "Plain title"


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


def test_every_synonym_names_a_shipped_picture() -> None:
    missing = [
        name
        for names in illustrations.SYNONYMS.values()
        for name in names
        if illustrations._lookup(name) is None
    ]
    assert missing == []
    for picture in illustrations.choose([], "bread teapot sunrise"):
        assert (illustrations.svg_folder() / f"{picture.key}.svg").is_file()


def test_phrases_win_over_their_single_words() -> None:
    picks = illustrations.choose(["glass", "skin"], "Step three: glass skin in two weeks.")
    assert "glasses" not in {p.name for p in picks}
    assert {"sparkles", "lotion_bottle"} <= {p.name for p in picks}


def test_a_clip_showing_the_subject_gets_no_picture_over_it() -> None:
    scenes = [
        _scene(0, "Sourdough at home.", kind="hook", headline="Sourdough 101"),
        _scene(1, "Feed your starter.", kind="feature", headline="Day one"),
        _scene(2, "Follow for more.", kind="cta"),
    ]
    visuals = plan_scene_visuals(
        scenes, title="Sourdough", theme="Baking", shows_subject=[False, True, False]
    )
    assert visuals[1].layout == "clip" and visuals[1].assets() == []
    card = scene_card(visuals[1], Frame.for_size(360, 640), start=0.0, end=2.0)
    assert card is not None and card.image.height < 640 * 0.2, "only the headline is drawn"


@pytest.mark.parametrize("job_id", [1, 2, 3, 4, 5, 6])
def test_the_default_videos_scenes_show_what_each_one_adds(job_id: int) -> None:
    """The shipped sample, as the local planner writes it: the hook shows the product, and
    the scenes after it lead with the thing each sentence adds (noise, a battery, a book), so
    no two neighbours show the same main picture and most scenes are not the product again."""
    from conftest import SAMPLE_CONFIG
    from vidgen.config import load_config
    from vidgen.planning import LocalPlanner

    config = load_config(SAMPLE_CONFIG)
    plan = LocalPlanner().plan(config, {}, job_id).plan
    visuals = plan_scene_visuals(
        plan.scenes, title=plan.title, theme=config.config.theme, subject=plan.subject,
        subject_terms=plan.subject_terms,
    )  # fmt: skip
    mains = [v.pictures[0].key for v in visuals]
    # Neighbours differ in picture or layout: "Meet the HushBuds Wireless Headphones." after a
    # question hook shows the headphones again, now with their name (a wifi sign for
    # "wireless" was no better).
    shots = [(v.pictures[0].key, v.layout) for v in visuals]
    assert all(a != b for a, b in itertools.pairwise(shots)), shots
    middle = mains[1:-1]
    assert sum(key != mains[0] for key in middle) >= len(middle) / 2, mains
    for scene, visual in zip(plan.scenes, visuals, strict=True):
        words = {w.lower() for w in [*scene.subjects, *scene.narration.split()]}
        assert (
            visual.pictures[0].fallback
            or set(visual.pictures[0].matched) & words
            or any(m in scene.narration.lower() for m in visual.pictures[0].matched)
        ), (scene.narration, visual.pictures[0])


def test_a_kettle_is_our_own_kettle_drawing_not_a_teapot() -> None:
    """No emoji is a kettle; vidgen ships its own drawing for it, credited as ours (MIT)."""
    picture = illustrations.choose(["kettle"], "The PocketBrew Folding Kettle boils fast.")[0]
    assert picture.own and picture.name == "electric_kettle"
    assert illustrations.svg_path(picture.key).is_file()
    asset = picture.asset(0)
    assert asset["id"] == "vidgen:electric_kettle" and asset["licence"] == "MIT"
    assert asset["attribution"] is None
    image = illustrations.Rasterizer().image(picture, 64)
    assert image.size == (64, 64) and image.getbbox() is not None  # drawn, not blank
    assert illustrations.dominant_hue(picture) is not None  # it has colour for the palette
    # Every own drawing is named by its words and has its file.
    for stem in illustrations.OWN_ART:
        assert illustrations._lookup(stem) is not None
        assert (illustrations.own_art_folder() / f"{stem}.svg").is_file()
    # A drawing built round a Twemoji graphic is an adaptation: Twemoji's licence and credit.
    for stem in illustrations.ADAPTED:
        svg = (illustrations.own_art_folder() / f"{stem}.svg").read_text()
        assert "Twemoji" in svg  # the drawing itself says what it adapts
        entry = illustrations._lookup(stem)
        assert entry is not None
        shoe = illustrations.Illustration(entry.key, entry.name, (stem,), entry.words)
        assert shoe.own and shoe.asset(0)["licence"] == illustrations.LICENCE
        assert shoe.asset(0)["attribution"] == illustrations.ATTRIBUTION
    # The others are ours alone: a Twemoji graphic's path data in one would need the credit.
    for stem in set(illustrations.OWN_ART) - illustrations.ADAPTED:
        svg = (illustrations.own_art_folder() / f"{stem}.svg").read_text()
        assert "Twemoji" not in svg and not re.search(r"\d\.\d{3}", svg), stem


ALL_LAYOUT_KINDS = ["hook", "step", "list_item", "fact", "fact", "fact", "comparison", "feature",
                    "cta"]  # fmt: skip


def _every_layout() -> list[Scene]:
    scenes = _plan(ALL_LAYOUT_KINDS)
    figures = ["250 °C", "Under 25 s", "8M views"]
    for scene in scenes:
        if scene.kind == "fact":
            scene.headline = figures.pop(0)
        if scene.kind == "list_item":
            scene.headline = "2 cups"
    scenes.insert(
        len(scenes) - 1,
        _scene(len(scenes) - 1, "Bread and butter.", kind="feature", subjects=["bread", "butter"]),
    )
    for k, scene in enumerate(scenes):
        scene.index = k
    return scenes


@pytest.mark.parametrize(("width", "height"), [*FRAMES, (1080, 1080), (1080, 1350), (1920, 1080)])
def test_laid_out_boxes_never_intersect_and_stay_in_the_content_area(
    width: int, height: int
) -> None:
    visuals = plan_scene_visuals(
        _every_layout(), title="Sourdough", theme="Baking", subject="bread"
    )
    layouts = {v.layout for v in visuals}
    assert {"fact", "fact-side", "fact-below", "list_item", "comparison", "pair", "cta"} <= layouts
    frame = Frame.for_size(width, height)
    for visual in visuals:
        placed = layout_scene(visual, frame)
        assert placed, visual.layout
        for a, b in itertools.combinations(placed, 2):
            overlap_w = min(a.box[2], b.box[2]) - max(a.box[0], b.box[0])
            overlap_h = min(a.box[3], b.box[3]) - max(a.box[1], b.box[1])
            assert overlap_w <= 0 or overlap_h <= 0, (visual.layout, a.role, b.role)
        for item in placed:
            x0, y0, x1, y1 = item.box
            assert x0 >= frame.left - 1 and x1 <= frame.right + 1, (visual.layout, item.role)
            assert y0 >= frame.content_top - 1, (visual.layout, item.role)
            assert y1 <= frame.content_bottom + 1, (visual.layout, item.role)


def test_list_items_read_as_a_numbered_sequence() -> None:
    """ "1 / 3", "2 / 3", "3 / 3" on a chip of its own, never a bare "#2" beside a figure."""
    scenes = [_scene(0, "Three ways to keep plants happy.", kind="hook")] + [
        _scene(k + 1, text, kind="list_item", headline=figure)
        for k, (text, figure) in enumerate(
            [
                ("Water them weekly.", "1 liter"),
                ("Give them sun.", "6 hours"),
                ("Feed them in spring.", "2 drops"),
            ]
        )
    ]
    visuals = plan_scene_visuals(scenes, title="Plants", theme="plant", subject="plant")
    assert [(v.number, v.count) for v in visuals[1:]] == [(1, 3), (2, 3), (3, 3)]
    placed = layout_scene(visuals[2], Frame.for_size(1080, 1920))
    assert [p.role for p in placed] == ["chip", "picture", "stat"]


def test_figure_headline_is_a_big_stat() -> None:
    assert stat_parts("30 decibels") == ("", "30", "decibels")
    assert stat_parts("Under 25 s") == ("Under", "25", "s")
    assert stat_parts("8M views") == ("", "8M", "views")
    assert stat_parts("Sourdough 101") is None and stat_parts("Travel: 3 ideas") is None
    scenes = [
        _scene(0, "Sourdough at home.", kind="hook"),
        _scene(1, "It makes a train as quiet as a library.", kind="fact", headline="30 decibels"),
    ]
    visuals = plan_scene_visuals(scenes, title="Sourdough", theme="x", subject="bread")
    (stat,) = [p for p in layout_scene(visuals[1], Frame.for_size(1080, 1920)) if p.role == "stat"]
    # The number is drawn big: the block is far taller than a caption line (~124 px).
    assert stat.box[3] - stat.box[1] > 0.2 * 1080


@pytest.mark.parametrize(
    "narration",
    ["It cuts noise by 30 decibels.", "They keep their cushioning for thirty decibels."],
)
def test_a_number_the_voice_says_is_not_shown_over_the_caption_again(narration: str) -> None:
    """The caption says "30 decibels": a "30 dB" stat over it was the same number twice at once."""
    scenes = [
        _scene(0, "Sourdough at home.", kind="hook"),
        _scene(1, narration, kind="fact", headline="30 dB"),
    ]
    visual = plan_scene_visuals(scenes, title="Sourdough", theme="x", subject="bread")[1]
    assert visual.headline is None and visual.layout != "fact"
    assert not headline_adds("2 cups", "It makes two cups of tea.")
    assert not headline_adds("3 min", "It boils half a liter in three minutes.")
    assert headline_adds("250 °C", "Bake it very hot for a crisp crust.")


@pytest.mark.parametrize(
    "name",
    [
        "electric_plug",
        "headphone",
        "over_ear_headphones",
        "rice_terraces",
        "spring_shoe",
        "cloud",
        "shushing_face",
        "bread",
        "teapot",
        "running_shoe",
    ],
)
def test_every_picture_is_a_sticker_that_stands_off_its_backdrop(name: str) -> None:
    """Dark or light, a picture is cut out with a white border (no disc or tile behind it: that
    read as an app icon), and that border stands off the scene's backdrop at 3:1 or better."""
    entry = illustrations._lookup(name)
    assert entry is not None
    picture = illustrations.Illustration(entry.key, entry.name, (name,), entry.words)
    visuals = plan_scene_visuals([_scene(0, "Sourdough.", kind="hook")], title="B", theme="B")
    visual = replace(visuals[0], pictures=(picture,))
    card = scene_card(visual, Frame.for_size(1080, 1920), start=0.0, end=2.0)
    assert card is not None
    rgba = np.asarray(card.image)
    opaque = rgba[..., 3] > 240
    ys, _ = np.nonzero(opaque)
    # Walk in from the left on the picture's middle row: the first opaque pixels are border.
    row = (ys.min() + ys.max()) // 2
    first = int(np.argmax(opaque[row]))
    border = rgba[row, first + 1 : first + 4, :3]  # past the anti-aliased edge
    assert (border > 235).all(), (name, border.tolist())
    for stop in visual.backdrop:
        assert contrast_ratio(1.0, luminance(_rgb(stop))) >= 3, (name, stop)


def test_neighbours_differ_in_backdrop_pattern() -> None:
    visuals = plan_scene_visuals(_every_layout(), title="Sourdough", theme="B", subject="bread")
    for a, b in itertools.pairwise(visuals):
        assert a.variant != b.variant
    assert len(COVER_LAYOUTS) == 3


def test_a_scene_naming_several_things_shows_them_in_a_row_under_its_picture() -> None:
    """A tip's other things ("dead bugs", "glute bridges") are small stickers in a row under
    its main picture, all above the caption (the bottom of the screen is the platform's)."""
    scenes = [
        _scene(0, "Three home workout tips.", kind="hook", subjects=["workout"]),
        _scene(
            1,
            "For a stronger core at home: a 30 second plank, 10 dead bugs and 15 glute bridges.",
            kind="list_item",
            subjects=["core", "plank", "glute"],
        ),
    ]
    scene = plan_scene_visuals(scenes, title="Tips", theme="Home Workout")[1]
    # Its second shot (from "a 30 second plank" on) shows the moves, the core small.
    visual = scene.second_beat() or scene
    assert len(visual.pictures) >= 2
    for frame in (Frame.for_size(1080, 1920), Frame.for_size(1080, 1350)):
        placed = [p for p in layout_scene(visual, frame) if p.role == "picture"]
        assert len(placed) == min(3, len(visual.pictures))
        main, *small = placed
        assert all(p.box[1] >= main.box[3] for p in small)  # a row under the main picture
        assert all(p.box[2] - p.box[0] >= 0.12 * frame.width for p in small)
        assert all(p.box[3] <= frame.content_bottom + 1 for p in placed)


def test_no_scene_repeats_a_picture_the_video_has_shown() -> None:
    """Three workout tips are a stopwatch, a plank and a squat, not one biceps three times;
    a small picture is never the hook's either."""
    tips = [
        "Ten minutes at home is a real workout: squats, push ups and lunges, a minute each.",
        "For a stronger core at home: a 30 second plank, 10 dead bugs and 15 glute bridges.",
        "Before your next workout, fix your squat: hips back, knees over your toes.",
    ]
    scenes = [_scene(0, "Three home workout tips.", kind="hook", subjects=["workout"])]
    scenes += [_scene(i, tip, kind="list_item") for i, tip in enumerate(tips, start=1)]
    scenes += [_scene(4, "Which one would you try first?", kind="cta", subjects=["workout"])]
    visuals = plan_scene_visuals(
        scenes, title="Tips", theme="Home Workout", subject="Home workout",
        subject_terms=["workout"],
    )  # fmt: skip
    mains = [v.picture.key for v in visuals[1:-1]]
    assert len(set(mains)) == len(mains) and visuals[0].picture.key not in mains
    for visual in visuals[1:-1]:
        assert all(p.key != visuals[0].picture.key for p in visual.pictures[1:])


def test_a_long_sentence_cuts_to_what_its_second_clause_names() -> None:
    """ "..., so a busy train sounds like a library": from "so" on the card shows a train (and
    books), the headphones small; one still held for 8 s was the same shot too long."""
    narration = (
        "The HushBuds Wireless Headphones cut background noise by 30 decibels, "
        "so a busy train sounds like a library."
    )
    scenes = [
        _scene(0, narration, kind="hook", subjects=["headphones"]),
        _scene(1, "Would you try them?", kind="cta", subjects=["headphones"]),
    ]
    hook, cta = plan_scene_visuals(
        scenes, title="HushBuds", theme="Product Demo", subject="HushBuds Wireless Headphones",
        subject_terms=["headphones"],
    )  # fmt: skip
    assert hook.then_word == narration.split().index("so")
    assert "train" in {p.name for p in hook.then} and hook.picture.name == "over_ear_headphones"
    second = hook.second_beat()
    assert second is not None and second.picture.name in {p.name for p in hook.then}
    assert hook.picture.key in {p.key for p in second.pictures[1:]}
    assert cta.then == () and cta.second_beat() is None
    # What the first clause names beyond the product comes small beside it; the second's after.
    assert {a["role"] for a in hook.assets()} >= {"main", "then"}
    firsts = [p for p in hook.pictures[1:] if said_at(p, narration) is not None]
    assert all(said_at(p, narration) < hook.then_word for p in firsts)  # type: ignore[operator]

    @dataclass
    class Timed:
        text: str
        start: float

    words = [Timed(w, 0.3 * k) for k, w in enumerate(f"{narration} Would you try them?".split())]
    at = beat_times([hook, cta], [s.narration for s in scenes], words)
    assert at == [pytest.approx(0.3 * narration.split().index("so")), None]
    # Timings that do not line up with the script: no cut rather than a cut in the wrong place.
    assert beat_times([hook, cta], [s.narration for s in scenes], words[1:])[0] is None


def test_what_the_next_scene_is_about_waits_for_it() -> None:
    """A circuit that ends "..., a plank and jumping jacks, a minute each" does not cut to the
    plank big when the next tip is "a 30 second plank, ...": that tip leads with it instead of
    showing a dead bug while the plank is said (the circuit shows it small)."""
    visuals = _workout_tips(
        ("Squats, push ups, lunges, a plank and jumping jacks, a minute each.", ["push", "plank"]),
        ("For a stronger core at home: a 30 second plank, 10 dead bugs and 15 glute bridges.",
         ["core", "plank", "glute"]),
    )  # fmt: skip
    circuit, core = visuals[1], visuals[2]
    # The circuit's second shot leads with the jumping jack; the plank is small beside it,
    # on screen as "a plank" is said, and leads the core tip.
    assert [p.name for p in circuit.then[:1]] == ["person_jumping_jack"], circuit.then
    assert "person_planking" in {p.name for p in circuit.then[1:]}
    # The list's things in the order said, the first word too (the planner skipped it).
    names = [p.name for p in circuit.pictures]
    assert names == ["person_squatting", "person_push_up", "person_lunging"], names
    assert core.picture.name == "person_planking"
    assert [p.name for p in core.pictures[1:]] == ["person_dead_bug", "person_bridging"]
    # Listed after its colon, the moves are equals (as a row under the plank, the dead bug
    # and the bridge were too small to tell apart), all there from the scene's first frame
    # (popping in on their names, the plank sat alone off-centre for 3.6 s).
    assert core.even and core.reveals == () and len(core.pictures) == 3
    boxes = [
        p.box
        for p in layout_scene(replace(core, hidden=frozenset()), Frame.for_size(1080, 1920))
        if p.role == "picture"
    ]
    widths = [b[2] - b[0] for b in boxes]
    assert max(widths) <= min(widths) * 1.03, boxes  # one size
    # Wide and low, laid out by what is drawn: each fills its half of the row (in squares
    # they were "three small figures on a mostly empty screen").
    assert min(widths) >= 0.36 * 1080, boxes
    assert not circuit.even  # "Squats, push ups, lunges, ...": no colon, two shots


def test_the_product_drawn_as_its_claim_is_not_shown_twice() -> None:
    """ "It keeps its handle cool" shows the kettle with a cold handle, "a reflective heel" the
    shoe with its heel lit and "it boils" the kettle steaming, leading the scene: the usual
    drawing of the product beside it would be a second kettle (or shoe) saying nothing new."""
    for narration, noun, things, drawn, usual in [
        ("It keeps its handle cool with boiling water inside, so you can pour with a bare hand.",
         "kettle", ["handle"], "cool_handle_kettle", "electric_kettle"),
        ("And finally, they have a reflective heel that drivers can see from 200 meters away.",
         "shoes", ["heel"], "reflective_shoe", "running_shoe"),
        ("They return 85 percent of your energy with every stride.",
         "shoes", ["energy", "stride"], "spring_shoe", "running_shoe"),
        # A weight is the product on the scale: the scale alone opened the scene, no kettle.
        ("Third, it weighs 350 grams, less than a full bottle of water.",
         "kettle", ["bottle", "water"], "kettle_on_scale", "electric_kettle"),
        ("And finally, they weigh 210 grams per shoe, lighter than a can of soda.",
         "shoes", ["soda"], "shoe_on_scale", "running_shoe"),
        # The planner's nouns name the socket; the sentence's verb shows the kettle boiling.
        ("Second, it boils half a liter in three minutes from any wall socket.",
         "kettle", ["wall", "socket"], "boiling_kettle", "electric_kettle"),
    ]:  # fmt: skip
        scenes = [
            _scene(0, "Meet it.", kind="hook", subjects=[noun]),
            _scene(1, narration, kind="feature", subjects=[noun, *things]),
            _scene(2, "Would you try it?", kind="cta", subjects=[noun]),
        ]
        visuals = plan_scene_visuals(
            scenes, title="A product", theme="Gear", subject="PocketBrew Thing",
            subject_terms=[noun],
        )  # fmt: skip
        names = [p.name for p in (*visuals[1].pictures, *visuals[1].then)]
        assert names[0] == drawn and usual not in names, names
        # Nor what the drawing already shows: a second scale under the one the shoe is on.
        assert "kitchen_scale" not in names[1:], names
        # Big and alone, what else is said popping in under it: never one of a pair of equals.
        assert visuals[1].layout not in ("pair", "trio", "comparison"), visuals[1].layout
        assert {k for k, _ in visuals[1].reveals} >= {p.key for p in visuals[1].pictures[1:]}


def test_a_short_clause_or_one_naming_nothing_new_is_no_second_beat() -> None:
    for narration in ("Meet the HushBuds, friends.", "They cut noise by 30 decibels, so good."):
        (visual,) = plan_scene_visuals(
            [_scene(0, narration, kind="feature")], title="HushBuds", theme="x"
        )
        assert visual.then == () and visual.second_beat() is None


def test_a_clauses_first_shot_shows_what_that_clause_names() -> None:
    """ "They dry in two hours after a run in the rain, | ready for the next morning": rain
    first (not the runner: running is the video's own subject), a sunrise from "ready" on. A
    sun for "dry" filled the screen as "after a downpour" was said."""
    scenes = [
        _scene(0, "Meet the StrideLite Running Shoes.", kind="hook", subjects=["shoes"]),
        _scene(
            1,
            "They dry in two hours after a run in the rain, ready for the next morning.",
            kind="fact",
            subjects=["shoes", "run", "rain"],
        ),
    ]
    _, fact = plan_scene_visuals(
        scenes, title="StrideLite", theme="Product Demo", subject="StrideLite Running Shoes",
        subject_terms=["shoes", "running"],
    )  # fmt: skip
    assert fact.picture.name == "cloud_with_rain"
    assert "sun" not in {p.name for p in fact.pictures}
    # The second shot: the sunrise, and the shoe still in view (a viewer saw the product gone
    # for 4 s in a second shot).
    assert [p.name for p in fact.then] == ["sunrise", "running_shoe"]
    second = fact.second_beat()
    assert second is not None and second.picture.name == "sunrise"


def test_a_hook_naming_places_shows_them_and_a_product_hook_shows_the_product() -> None:
    """ "Headed to Copenhagen, Istanbul or Bali?" shows the three places, not a plane; a shoe
    ad's question shows the shoe (a lightning bolt there hid it for 6 s)."""
    hook = "Headed to Copenhagen, Istanbul or Bali? Three travel tips to know before you go."
    travel = plan_scene_visuals(
        [_scene(0, hook, kind="hook", subjects=["travel"]),
         _scene(1, "Which one would you try first?", kind="cta", subjects=["travel"])],
        title=hook, theme="Travel", subject="Travel", subject_terms=["travel"],
    )  # fmt: skip
    assert [p.name for p in travel[0].pictures] == ["denmark", "türkiye", "hindu_temple"]
    assert travel[1].picture.name == "airplane"
    # The places are equals: one size, each a good part of the frame (a big flag of Denmark
    # over two small ones said the video was about Copenhagen), all there from the first frame
    # (one flag in a corner of an empty frame was a weak first second, twice).
    assert travel[0].even
    frame = Frame.for_size(1080, 1920)
    boxes = [p.box for p in layout_scene(travel[0], frame) if p.role == "picture"]
    widths = {round(b[2] - b[0]) for b in boxes}
    assert len(boxes) == 3 and len(widths) == 1 and widths.pop() >= 0.3 * frame.width, boxes
    assert travel[0].reveals == ()
    shoe = plan_scene_visuals(
        [_scene(0, "Want your legs to stay fresh for the last mile?",
                kind="hook", subjects=["shoes", "legs"]),
         _scene(1, "Meet the StrideLite Running Shoes.", kind="feature", subjects=["shoes"])],
        title="StrideLite", theme="Product Demo", subject="StrideLite Running Shoes",
        subject_terms=["shoes", "running"],
    )  # fmt: skip
    # The shoe leads; what the question names (legs, the finish) comes small under it.
    assert [p.name for p in shoe[0].pictures] == [
        "running_shoe",
        "person_running",
        "chequered_flag",
    ]


def test_what_a_sentence_says_to_skip_is_not_shown() -> None:
    """ "Skip the crowded beaches" showed a beach umbrella, and "a city bike instead of taking
    taxis" may not show a taxi: the picture is what the sentence says to do."""
    scenes = plan_scene_visuals(
        [_scene(0, "Headed to Bali? Two travel tips.", kind="hook", subjects=["travel"]),
         _scene(1, "Skip the crowded beaches: Bali's rice terraces are quiet before nine.",
                kind="list_item", subjects=["beaches", "rice"]),
         _scene(2, "In Copenhagen, rent a city bike instead of taking taxis.",
                kind="list_item", subjects=["city", "bike", "taxis"]),
         _scene(3, "Which one would you try first?", kind="cta", subjects=["travel"])],
        title="Two travel tips", theme="Travel", subject="Travel", subject_terms=["travel"],
    )  # fmt: skip
    names = [[p.name for p in (*v.pictures, *v.then)] for v in scenes]
    assert not any("beach" in n for n in names[1]) and "rice_terraces" in names[1], names
    assert "bicycle" in names[2] and not any("taxi" in n for n in names[2]), names
    assert unnegated("Hot tea anywhere, without carrying a heavy kettle.").strip(" .,") == (
        "Hot tea anywhere"
    )


def test_the_product_is_on_screen_while_its_name_is_said() -> None:
    """A viewer saw the shoe leave the screen as "The StrideLite Running Shoes" was said (a
    lightning bolt for "energy" took its place): the product leads, what the sentence adds
    beside it; in the product's other scenes it stays in view, small."""
    scenes = [
        _scene(0, "Want your legs to stay fresh for the last mile?", kind="hook",
               subjects=["shoes"]),
        _scene(1, "The StrideLite Running Shoes return 85 percent of your energy with every "
               "stride.", kind="fact", subjects=["shoes", "energy", "stride"],
               headline="85%"),
        _scene(2, "They dry in two hours after a run in the rain.", kind="fact",
               subjects=["shoes", "rain"], headline="2 hrs"),
        _scene(3, "Which race is next on your list?", kind="cta", subjects=["shoes"]),
    ]  # fmt: skip
    _, named, after, _ = plan_scene_visuals(
        scenes, title="StrideLite", theme="Product Demo", subject="StrideLite Running Shoes",
        subject_terms=["shoes", "running"],
    )  # fmt: skip
    # The shoe leads, drawn as the sentence shows it: lifting off springs (its energy back).
    assert named.picture.name == "spring_shoe" and "shoe" in named.picture.keywords
    assert "high_voltage" not in [p.name for p in named.pictures]
    # "They dry ... in the rain": the sentence's own words lead, the shoe stays in view,
    # small (a viewer took a water bottle for the product when the kettle was gone).
    assert after.picture.name != "running_shoe"
    assert "running_shoe" in [p.name for p in after.pictures[1:]]


def _one_fact_ad(
    narration: str, figure: str, subjects: list[str], subject: str, terms: list[str]
) -> tuple[list[Scene], list[Any]]:
    """A three-scene product video around one fact scene: its scenes and their visuals."""
    scenes = [
        _scene(0, "Your day is about to get easier.", kind="hook", subjects=terms[:1]),
        _scene(1, narration, kind="fact", subjects=subjects, headline=figure),
        _scene(2, "Which one is next on your list?", kind="cta", subjects=terms[:1]),
    ]
    visuals = plan_scene_visuals(
        scenes, title=subject.split()[0], theme="Product Demo", subject=subject,
        subject_terms=terms,
    )  # fmt: skip
    return scenes, visuals


def test_a_figure_lands_once_the_voice_has_said_it() -> None:
    """ "return 85 percent ..." shows the shoe; on the word "85", "85%" lands big over it
    (viewers wanted the claim on screen as it is said, and called a word later "late"; held
    over the whole scene's caption, before and after, it was the same number twice)."""
    narration = "The StrideLite Running Shoes return 85 percent of your energy with every stride."
    scenes, (hook, fact, cta) = _one_fact_ad(
        narration, "85%", ["shoes", "energy"], "StrideLite Running Shoes", ["shoes", "running"]
    )
    assert fact.headline is None and fact.lands == "85%"
    assert fact.then_word == narration.split().index("85")
    landed = fact.second_beat()
    assert landed is not None and landed.headline == "85%" and landed.layout.startswith("fact")
    assert landed.pictures == fact.pictures  # the same shot, the figure added
    assert hook.second_beat() is None and cta.second_beat() is None

    @dataclass
    class Timed:
        text: str
        start: float

    script = " ".join(s.narration for s in scenes).split()
    words = [Timed(w, 0.3 * k) for k, w in enumerate(script)]
    hook_words = len(scenes[0].narration.split())
    # It lands as the voice says "85".
    at = beat_times([hook, fact, cta], [s.narration for s in scenes], words)
    assert at[0] is None and at[2] is None
    assert at[1] == pytest.approx(0.3 * (hook_words + narration.split().index("85")))


def test_the_end_card_shows_the_closing_questions_options() -> None:
    """ "Camping trip, hotel room or office: where would you take it?" shows a tent and a hotel
    under the kettle: an end card of the product alone said nothing the voice did not."""
    scenes = [
        _scene(0, "Your next cup of tea does not need a kitchen.", kind="hook",
               subjects=["kettle"]),
        _scene(1, "Camping trip, hotel room or office: where would you take it?", kind="cta",
               subjects=["kettle"], headline="PocketBrew Folding Kettle"),
    ]  # fmt: skip
    _, cta = plan_scene_visuals(
        scenes, title="PocketBrew", theme="Tea", subject="PocketBrew Folding Kettle",
        subject_terms=["kettle"],
    )  # fmt: skip
    assert [p.name for p in cta.pictures] == [
        "electric_kettle",
        "camping",
        "hotel",
        "office_building",
    ]
    placed = layout_scene(cta, Frame.for_size(1080, 1920))
    assert [p.role for p in placed].count("picture") == 4 and "pill" in [p.role for p in placed]
    # A question with no options ("Where would you take it first?") shows the product alone.
    _, alone = plan_scene_visuals(
        [scenes[0], _scene(1, "Where would you take it first?", kind="cta",
                           subjects=["kettle"])],
        title="PocketBrew", theme="Tea", subject="PocketBrew Folding Kettle",
        subject_terms=["kettle"],
    )  # fmt: skip
    assert [p.name for p in alone.pictures] == ["electric_kettle"]


def test_a_figure_lands_when_said_however_early_or_late_in_its_scene() -> None:
    """A figure lands on its word; said within ``MIN_LAND`` of the cut it is there from the
    cut (a landing 0.3 s in flickered), said late it still lands and stays ``MIN_LAND``; a
    cut to new pictures waits for ``MIN_BEAT`` on both sides, or does not happen."""
    narration = "They play music for 40 hours on one charge of their battery."
    _, (_, fact, _) = _one_fact_ad(
        narration, "40 hrs", ["headphones", "battery"], "HushBuds Wireless Headphones",
        ["headphones"],
    )  # fmt: skip
    landed = fact.second_beat()
    assert fact.lands == "40 hrs" and landed is not None and not fact.then
    assert [(s.headline, a, b) for s, a, b in scene_shots(fact, 10.0, 15.0, 11.5)] == [
        (None, 10.0, 11.5),
        ("40 hrs", 11.5, 15.0),
    ]
    early = scene_shots(fact, 10.0, 15.0, 10.0 + MIN_LAND / 2)
    assert [(s.headline, a, b) for s, a, b in early] == [("40 hrs", 10.0, 15.0)]
    late = scene_shots(fact, 10.0, 15.0, 15.0 - MIN_LAND - 0.1)
    assert [s.headline for s, _, _ in late] == [None, "40 hrs"]
    assert [s.headline for s, _, _ in scene_shots(fact, 10.0, 15.0, 14.9)] == [None]
    assert scene_shots(fact, 10.0, 15.0, None) == [(fact, 10.0, 15.0)]
    # Said before a cut to new pictures: it lands on its word, and stays on over them
    # ("210 grams per shoe, | lighter than a can of soda": 210 G over the can too).
    narration = "Plus, they weigh 210 grams per shoe, lighter than a can of soda."
    _, (_, weigh, _) = _one_fact_ad(
        narration, "210 g", ["shoes", "soda"], "StrideLite Running Shoes", ["shoes"]
    )
    assert weigh.then and weigh.lands == "210 g"
    assert weigh.lands_word == narration.split().index("210")
    shots = scene_shots(weigh, 10.0, 16.0, 12.5, 11.0)
    assert [(s.headline, a, b) for s, a, b in shots] == [
        (None, 10.0, 11.0),
        ("210 g", 11.0, 12.5),
        ("210 g", 12.5, 16.0),
    ]
    assert shots[1][0].pictures == weigh.pictures and shots[2][0].pictures != weigh.pictures

    from_cut = scene_shots(weigh, 10.0, 16.0, 12.5, 10.2)
    assert [s.headline for s, _, _ in from_cut] == ["210 g", "210 g"]


def _shower_fact() -> tuple[Any, str]:
    narration = "Plus, they give three hours of music from a ten minute charge while you shower."
    scenes = [
        _scene(0, "Your commute is about to get a lot quieter.", kind="hook",
               subjects=["headphones"]),
        _scene(1, narration, kind="fact", subjects=["headphones", "music", "charge"],
               headline="3 hrs"),
        _scene(2, "Would you try them?", kind="cta", subjects=["headphones"]),
    ]  # fmt: skip
    visuals = plan_scene_visuals(
        scenes, title="HushBuds", theme="Product Demo", subject="HushBuds Wireless Headphones",
        subject_terms=["headphones", "music"],
    )  # fmt: skip
    return visuals, narration


def test_what_a_sentence_names_later_pops_in_on_its_word() -> None:
    """ "... from a ten minute charge while you shower" shows a stopwatch on "minute" and a
    shower on "shower": a viewer heard a shower and saw none, and a scene that stands still
    for five seconds is the still icon viewers scrolled past."""
    visuals, narration = _shower_fact()
    hook, fact, _ = visuals
    names = [p.name for p in fact.pictures]
    assert "shower" in names and "stopwatch" in names
    words = narration.split()
    reveals = {key: words[k] for key, k in fact.reveals}
    by_name = {p.key: p.name for p in fact.pictures}
    assert {by_name[k]: w for k, w in reveals.items()} == {
        "stopwatch": "minute",
        "shower": "shower.",
    }
    # The opening names the commute: a train beside the product, there from its first frame.
    assert [p.name for p in hook.pictures] == [
        "over_ear_headphones",
        "train",
    ] and hook.reveals == ()
    assert said_at(fact.pictures[0], "nothing of it here") is None


def test_a_scene_builds_up_without_moving_what_is_on_screen() -> None:
    """Each named picture pops in (a few growing frames, then held) at its word's time; until
    then its room is kept, so nothing already shown moves when it comes."""
    from vidgen.media.scenes import SceneVisual

    visuals, narration = _shower_fact()
    fact: SceneVisual = visuals[1]

    @dataclass
    class Timed:
        text: str
        start: float

    said = ["Your commute is about to get a lot quieter.", narration, "Would you try them?"]
    words = [
        Timed(w, 10.0 * n + 0.3 * k) for n, text in enumerate(said)
        for k, w in enumerate(text.split())
    ]  # fmt: skip
    times = reveal_times(visuals, said, words)
    at = {fact.pictures[[p.key for p in fact.pictures].index(k)].name: t
          for k, t in times[1].items()}  # fmt: skip
    assert at == {
        "stopwatch": pytest.approx(10.0 + 0.3 * 10),
        "shower": pytest.approx(10.0 + 0.3 * 14),
    }
    moments = build_up(fact, 10.0, 15.0, times[1], 30)
    starts = [a for _, a, _, _ in moments]
    assert starts == sorted(starts) and moments[0][1] == 10.0 and moments[-1][2] == 15.0
    assert all(b == c for (_, _, b, _), (_, c, _, _) in itertools.pairwise(moments))
    first = moments[0][0]
    assert first.hidden == {k for k, _ in fact.reveals}
    assert moments[0][3] == () and all(m[3] == (1.0,) for m in moments[1:])  # one entrance pop
    assert moments[-1][0].hidden == frozenset() and moments[-1][0].growing is None
    grown = [m[0].growing[1] for m in moments if m[0].growing is not None]
    assert grown and all(g < 1.0 or g > 1.0 for g in grown)
    frame = Frame.for_size(1080, 1920)
    before = {p.box for p in layout_scene(first, frame)}
    after = {p.box for p in layout_scene(moments[-1][0], frame)}
    assert before < after  # the pictures shown stay put, the new ones are added
    # Named too near the cut: it comes with the scene; named after the shot: not drawn in it.
    early = build_up(fact, 10.0 + 0.3 * 10 - MIN_REVEAL / 2, 15.0, times[1], 30)
    assert len(early) == 1 + len(POP_SCALES)  # only the shower pops in: 3 growing frames, held
    cut = build_up(fact, 10.0, 10.0 + 0.3 * 9, times[1], 30)
    assert any(fact.pictures[[p.key for p in fact.pictures].index(k)].name == "shower"
               for k in cut[-1][0].hidden)  # fmt: skip


def test_a_scenes_later_shot_changes_in_place_without_popping_whole() -> None:
    """ "..., a whole month of commutes": the calendar pops in big while "40 HOURS" and the
    headphones stay still (the whole card popping again dimmed and shrank what was already on
    screen, a viewer saw the figure blink); a figure landing on the same pictures does not
    bump the card either."""
    narration = "They play music for 40 hours on one charge, a whole month of commutes."
    _, (_, fact, _) = _one_fact_ad(
        narration, "40 hrs", ["headphones", "music", "charge"], "HushBuds Wireless Headphones",
        ["headphones"],
    )  # fmt: skip
    shots = scene_shots(fact, 10.0, 15.0, 12.5, 11.0)
    assert len(shots) >= 2
    first, firsts = shots[0][0], build_up(shots[0][0], shots[0][1], shots[0][2], {}, 30)
    assert firsts[0][3] == ()  # the scene's entrance pops whole
    assert len(shots) == 3  # the pictures, the figure landing on them, then the calendar
    for (before, _, _), (shot, since, until) in itertools.pairwise(shots):
        moments = build_up(shot, since, until, {}, 30, before)
        assert all(pop == (1.0,) for *_, pop in moments), moments
        assert moments[0][1] == since and moments[-1][2] == until
        grown = {m[0].growing[0] for m in moments if m[0].growing is not None}
        morphs = [m[0].morph for m in moments if m[0].morph is not None]
        if shot.pictures == before.pictures:
            # The figure lands on the same pictures: they glide aside over a few frames.
            assert not grown and morphs and all(src is before for src, _ in morphs)
            assert [t for _, t in morphs] == sorted(t for _, t in morphs)
        else:
            assert grown == {shot.pictures[0].key} and not morphs  # only the new main pops in
    assert first.picture.key != shots[-1][0].picture.key
    # Each picture's centre moves from its place without the figure to its place with it,
    # never by a jump bigger than a third of the way in one frame.
    landing = build_up(shots[1][0], shots[1][1], shots[1][2], {}, 30, shots[0][0])
    frame = Frame.for_size(1080, 1920)

    def centres(visual: Any) -> list[tuple[float, float]]:
        return [((p.x + p.image.width / 2), (p.y + p.image.height / 2))
                for p in layout_scene(visual, frame) if p.role == "picture"]  # fmt: skip

    path = [centres(shots[0][0])] + [centres(m[0]) for m in landing]
    total = [abs(b[1] - a[1]) for a, b in zip(path[0], path[-1], strict=True)]
    assert max(total) > 20  # they do move aside for the figure
    for a, b in itertools.pairwise(path):
        for (ax, ay), (bx, by), whole in zip(a, b, total, strict=True):
            assert abs(by - ay) <= whole * 0.45 + 2 and abs(bx - ax) <= 0.45 * 1080


def test_pictures_named_later_stay_hidden_while_a_figure_lands() -> None:
    """The shoe and the bolt flashed up for a fifth of a second as "85%" landed, then popped in
    again on their words: while the pictures glide aside, what is not named yet stays hidden."""
    narration = "They play for three hours after a ten minute charge of the battery in the box."
    _, (_, fact, _) = _one_fact_ad(
        narration, "3 hrs", ["headphones", "charge"], "HushBuds Wireless Headphones",
        ["headphones"],
    )  # fmt: skip
    assert fact.lands and fact.reveals
    assert not fact.then
    shots = scene_shots(fact, 10.0, 16.0, 11.0)
    (first, _, _), (landed, c, d) = shots
    times = {key: 10.0 + 0.3 * word for key, word in fact.reveals}
    frame = Frame.for_size(1080, 1920)
    moments = build_up(landed, c, d, times, 30, first)
    gliding = [m for m, *_ in moments if m.morph is not None]
    assert gliding and all(m.hidden for m in gliding)
    for moment, *_ in moments:
        drawn = sum(p.role == "picture" for p in layout_scene(moment, frame))
        assert drawn == len(moment.pictures) - len(moment.hidden), moment


def test_a_figures_unit_reads_as_a_word_not_a_code() -> None:
    """ "210 G" read as giga and "40 HRS" as an abbreviation to decode: short units are spelt
    out under their figure; a symbol keeps its own case."""
    assert [unit_label(u) for u in ("g", "hrs", "s", "min", "m")] == [
        "GRAMS", "HOURS", "SECONDS", "MINUTES", "METERS",
    ]  # fmt: skip
    assert unit_label("dB") == "dB" and unit_label("cm") == "CM" and unit_label("%") == "%"


def test_a_tips_end_card_recaps_the_tips_to_choose_from() -> None:
    """ "Which one will you try first?" shows the tips' own pictures under the theme's: an end
    card of a bare biceps gave nothing to choose from."""
    visuals = _workout_tips(
        ("Squats, lunges and jumping jacks, a minute each.", ["squats"]),
        ("For a stronger core at home: a plank and ten dead bugs.", ["plank"]),
        ("Before your next workout, fix your squat: hips back as if you were sitting down on a "
         "chair.", ["squat", "chair"]),
    )  # fmt: skip
    items = list(dict.fromkeys((v.then or (v.picture,))[0].key for v in visuals[1:4]))
    end = visuals[-1]
    assert end.picture.key == visuals[0].picture.key
    assert [p.key for p in end.pictures[1:]] == items and end.reveals == ()
    # "Fix your squat" shows the squat done wrong, then from "hips back" the one done right (a
    # chair stood in; the circuit's squat again said nothing new) - never a second chair
    # beside the one it is drawn with. The end card shows each tip as it ended.
    assert visuals[3].picture.name == "squat_wrong", visuals[3].pictures
    assert [p.name for p in visuals[3].then] == ["squat_form"], visuals[3].then
    assert "chair" not in {p.name for p in (*visuals[3].pictures, *visuals[3].then)}
    # Jumping jacks are someone mid-jump; the small pictures beside a tip are never the
    # theme's own word ("at home": a house).
    assert "person_jumping_jack" in {p.name for p in visuals[1].pictures}
    assert not any(p.name == "house" for v in visuals[1:4] for p in v.pictures)


def test_a_product_named_with_its_claim_shows_the_claim() -> None:
    """ "The PocketBrew Folding Kettle folds flat to two centimeters" shows the kettle folded
    flat while its name is said: the open kettle there never showed the claim."""
    scenes = [
        _scene(0, "Hotel room tea, without the hotel kettle.", kind="hook", subjects=["kettle"]),
        _scene(1, "The PocketBrew Folding Kettle folds flat to two centimeters.", kind="fact",
               subjects=["kettle"], headline="2 cm"),
        _scene(2, "Where would you take it?", kind="cta", subjects=["kettle"]),
    ]  # fmt: skip
    hook, fact, _ = plan_scene_visuals(
        scenes, title="PocketBrew", theme="Tea", subject="PocketBrew Folding Kettle",
        subject_terms=["kettle"],
    )  # fmt: skip
    assert hook.picture.name == "electric_kettle"
    assert fact.picture.name == "folded_kettle" and fact.picture.own


def test_a_product_video_keeps_its_product_a_size_larger_in_the_row() -> None:
    """Beside what a fact names, the product is the row's first and larger picture (viewers saw
    it shrink to a corner icon), still smaller than the scene's main picture."""
    visuals, _ = _shower_fact()
    fact = visuals[1]
    assert fact.pictures[1].name == "over_ear_headphones" and len(fact.pictures) >= 3
    placed = [p for p in layout_scene(fact, Frame.for_size(1080, 1920)) if p.role == "picture"]
    widths = [p.box[2] - p.box[0] for p in placed]
    assert widths[0] > widths[1] > widths[2] and len(set(widths[2:])) == 1, widths


def test_the_cover_shows_the_product_as_its_title_claims() -> None:
    """ "PocketBrew Folding Kettle: folds flat to two centimeters" shows the kettle folded flat
    on its cover, not the kettle as it always looks; a title with no such claim, the opening's
    picture."""
    visuals = _kettle_ad(
        ("The PocketBrew Folding Kettle folds flat to two centimeters, thin enough for the "
         "laptop pocket of your backpack.", "fact", ["kettle", "laptop"], "2 cm"),
        ("Plus, it boils half a liter in three minutes from any wall socket.", "fact",
         ["kettle", "socket"], "3 min"),
    )  # fmt: skip
    assert visuals[0].picture.name == "electric_kettle"
    title = "PocketBrew Folding Kettle: folds flat to two centimeters"
    assert cover_picture(visuals, title).name == "folded_kettle"
    assert cover_picture(visuals, "Three reasons to love the PocketBrew").name == "electric_kettle"
    # "boils" names the kettle boiling, but the title claims something else.
    assert cover_picture(visuals, "PocketBrew Folding Kettle: weighs 350 grams").name == (
        "electric_kettle"
    )


def test_a_scene_differs_in_colour_from_the_two_before_it() -> None:
    """The kettle video's opening, its cool-handle scene and its end card were all teal (the
    kettle's colour): a viewer saw three of five scenes alike. Each scene's colour is apart
    from the two before it; the end card may come back to the opening's."""
    visuals = _kettle_ad(
        ("The PocketBrew Folding Kettle folds flat to two centimeters.", "fact", ["kettle"],
         "2 cm"),
        ("It keeps its handle cool with boiling water inside.", "feature", ["kettle", "handle"],
         None),
        ("Plus, it boils half a liter in three minutes from any wall socket.", "fact",
         ["kettle", "socket"], "3 min"),
        cta="Tea or coffee: what would you make first?",
    )  # fmt: skip

    def gap(a: float, b: float) -> float:
        d = abs(a - b) % 1.0
        return min(d, 1.0 - d)

    for k, visual in enumerate(visuals):
        for before in visuals[max(0, k - 2) : k]:
            assert gap(visual.hue, before.hue) >= 0.06, [round(v.hue, 2) for v in visuals]


def _ad(
    hook: str, subject: str, noun: str, theme: str, cta: str,
    middle: Sequence[tuple[str, str, list[str], str | None]],
) -> list[Any]:  # fmt: skip
    """A product video's visuals: ``hook``, ``middle`` (narration, kind, subjects, headline),
    ``cta``, about ``subject`` (whose noun is ``noun``)."""
    scenes = [
        _scene(0, hook, kind="hook", subjects=[noun]),
        *(_scene(k, text, kind=kind, subjects=things, headline=headline)
          for k, (text, kind, things, headline) in enumerate(middle, start=1)),
        _scene(len(middle) + 1, cta, kind="cta", subjects=[noun]),
    ]  # fmt: skip
    return plan_scene_visuals(
        scenes, title=subject, theme=theme, subject=subject, subject_terms=[noun]
    )


def _kettle_ad(
    *middle: tuple[str, str, list[str], str | None], cta: str = "Where would you take it?"
) -> list[Any]:
    """The Tea video's visuals: its hook, ``middle`` (narration, kind, subjects, headline) and
    ``cta``."""
    hook = "Hotel room tea, without the hotel kettle."
    return _ad(hook, "PocketBrew Folding Kettle", "kettle", "Tea", cta, middle)


def _shoe_ad(*middle: tuple[str, str, list[str], str | None]) -> list[Any]:
    """The Running video's visuals: its hook, ``middle`` and its closing question."""
    hook, cta = "Your last mile should feel like your first.", "Which race would you run first?"
    return _ad(hook, "StrideLite Running Shoes", "shoes", "Running", cta, middle)


def _workout_tips(*tips: tuple[str, list[str]]) -> list[Any]:
    """The Home Workout video's visuals: its claim hook, ``tips`` (narration, subjects) as list
    items, and its closing question."""
    scenes = [
        _scene(0, "Ten minutes at home is a real workout.", kind="hook", subjects=["workout"]),
        *(_scene(k, text, kind="list_item", subjects=things)
          for k, (text, things) in enumerate(tips, start=1)),
        _scene(len(tips) + 1, "Which one will you try first?", kind="cta", subjects=["workout"]),
    ]  # fmt: skip
    return plan_scene_visuals(
        scenes, title="Ten minutes at home is a real workout", theme="Home Workout",
        subject="Home workout", subject_terms=["workout", "home"],
    )  # fmt: skip


def test_the_openings_name_stays_clear_of_the_progress_bar() -> None:
    """At 8.5% of the height the bar touched the top of a two-line product name over the
    opening; the cards start at least 2% of the height below it."""
    from vidgen.media.scenes import PROGRESS_AT

    (hook,) = plan_scene_visuals(
        [_scene(0, "Your commute is about to get a lot quieter.", kind="hook",
                subjects=["headphones"], headline="HushBuds Wireless Headphones")],
        title="HushBuds", theme="Product Demo", subject="HushBuds Wireless Headphones",
        subject_terms=["headphones"],
    )  # fmt: skip
    frame = Frame.for_size(1080, 1920)
    placed = layout_scene(hook, frame)
    assert any(p.role == "heading" for p in placed), placed
    bar_bottom = 1920 * PROGRESS_AT + 1080 * 0.008
    assert min(p.box[1] for p in placed) - bar_bottom >= 0.02 * 1920, [p.box for p in placed]


def test_a_comparison_shows_the_two_things_side_by_side_at_one_size() -> None:
    """ "..., lighter than a can of soda": the can came in big over a small shoe, "the shoe
    smaller than the can it is supposed to beat". The second shot shows the two as equals."""
    weigh = "And finally, they weigh 210 grams per shoe, lighter than a can of soda."
    _, weight, _ = _shoe_ad((weigh, "list_item", ["shoes", "soda"], "210 g"))
    assert weight.compares and weight.picture.name == "shoe_on_scale"
    second = weight.second_beat()
    assert second is not None and second.even
    assert {p.name for p in second.pictures} == {"soda_can", "shoe_on_scale"}
    boxes = [p.box for p in layout_scene(second, Frame.for_size(1080, 1920)) if p.role == "picture"]
    assert len(boxes) == 2 and boxes[0][2] - boxes[0][0] == boxes[1][2] - boxes[1][0], boxes
    # "Thin enough for the laptop pocket of your backpack" weighs the folded kettle against
    # them: the three at one size (the kettle shrank to an icon beside the laptop).
    fold = ("First, the PocketBrew Folding Kettle folds flat to two centimeters, thin enough "
            "for the laptop pocket of your backpack.")  # fmt: skip
    _, folds, _ = _kettle_ad((fold, "list_item", ["kettle", "laptop", "pocket"], "2 cm"))
    beat = folds.second_beat()
    assert folds.compares and beat is not None and beat.even
    assert [p.name for p in beat.pictures] == ["laptop", "backpack", "folded_kettle"]
    # A clause that weighs nothing against anything is no comparison.
    dry = "They dry in two hours after a downpour, ready before your next run."
    assert not _shoe_ad((dry, "fact", ["shoes", "rain"], "2 hrs"))[1].compares


def test_a_list_that_goes_on_keeps_its_later_pictures_for_their_words() -> None:
    """ "Skip the crowded beaches: Bali's rice terraces and waterfalls in the north are quiet
    if you arrive before nine" showed a shushing face and a clock over "Skip the crowded
    beaches", giving the tip away: only a list with nothing said after it is there whole."""
    scenes = [
        _scene(0, "Headed to Copenhagen, Istanbul or Bali?", kind="hook", subjects=["travel"]),
        _scene(1, "Skip the crowded beaches: Bali's rice terraces and waterfalls in the north "
               "are quiet if you arrive before nine.", kind="list_item",
               subjects=["bali's", "rice", "north"]),
        _scene(2, "Which one is next on your list?", kind="cta", subjects=["travel"]),
    ]  # fmt: skip
    _, bali, _ = plan_scene_visuals(scenes, title="Travel", theme="Travel", subject="Travel")
    waits = dict(bali.reveals)
    names = {p.key: p.name for p in bali.pictures}
    assert {names[k] for k in waits} >= {"shushing_face", "clock_nine"}, bali.reveals
    assert min(waits.values()) > 4  # nothing pops in over "Skip the crowded beaches"


def test_a_feature_of_two_clauses_shows_each_clauses_pictures() -> None:
    """ "It takes any voltage, | so abroad it only needs a plug adapter": a bolt beside the
    kettle held 4.5 s as a pair and the plug and the globe never came."""
    volts = "It takes any voltage, so abroad it only needs a plug adapter."
    _, feature, _ = _kettle_ad((volts, "feature", ["kettle", "voltage"], None))
    assert feature.layout == "feature" and feature.picture.name == "high_voltage"
    assert {"electric_plug", "globe_showing_europe-africa"} <= {p.name for p in feature.then}
