"""Names spoken right: what the voice says for the script's words, and captions that still
quote the script word for word, timed by the words really spoken for them."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from vidgen.config import ThemeConfig
from vidgen.media.captions import build_cues
from vidgen.media.pronounce import respell
from vidgen.media.spans import estimate_spans
from vidgen.media.speech import Voiceover, in_script_words


def spoken(script: str, table: dict[str, str] | None = None, language: str = "en") -> str:
    return respell(script, table, language=language).text


@pytest.mark.parametrize(
    ("script", "said"),
    [
        ("Meet the PocketBrew kettle.", "Meet the Pocket Brew kettle."),
        ("GripLite and TikTok, on YouTube.", "Grip Lite and Tik Tok, on You Tube."),
        ("Only $49 today!", "Only 49 dollars today!"),
        ("Just $49.99, or $1,299 for ten.", "Just 49 dollars 99, or 1299 dollars for ten."),
        ("It costs $1.", "It costs 1 dollar."),
        ("Runs 5 km on 1 charge.", "Runs 5 kilometers on 1 charge."),
        ("Walk 1 km.", "Walk 1 kilometer."),
        ("A 5000mAh cell, 65W, 500g.", "A 5000 milliamp hours cell, 65 watts, 500 grams."),
        (
            "A 3-in-1 tool, 2x faster, open 24/7.",
            "A 3 in 1 tool, 2 times faster, open twenty four seven.",
        ),
        ("Tea & coffee vs. soda, DIY.", "Tea and coffee versus soda, D I Y."),
    ],
)
def test_the_builtin_table_says_names_prices_and_units(script: str, said: str) -> None:
    assert spoken(script) == said


@pytest.mark.parametrize(
    "script",
    [
        "An iPhone, a McDonald burger and a GoPro.",  # not CamelCase names to split
        "Top 3 tips, step 2 of 5, in 2026.",  # plain numbers: the voice reads them well
        "R&D at AT&T, 5G and 4K.",  # no stray "and" inside a word; 5G is no unit
        "Folds flat to fit any backpack.",
    ],
)
def test_ordinary_words_are_left_alone(script: str) -> None:
    assert spoken(script) == script
    assert not respell(script).changed


def test_the_config_table_wins_and_matches_whole_words_in_any_case() -> None:
    table = {"FocusFlow": "focus flow", "Desk Lamp": "desk light", "Lo": "low"}
    said = spoken("The FOCUSFLOW Desk Lamp. Lo and behold: Lowell's lamp.", table)
    # Whole words only: "Lowell's" keeps its "Lo"; longer phrases first; any letter case.
    assert said == "The focus flow desk light. low and behold: Lowell's lamp."


def test_other_languages_get_the_config_table_and_name_splitting_only() -> None:
    assert spoken("Le PocketBrew coûte $49.", language="fr") == "Le Pocket Brew coûte $49."
    assert spoken("Le PocketBrew coûte $49.", {"$49": "49 dollars"}, language="fr") == (
        "Le Pocket Brew coûte 49 dollars."
    )


def test_every_spoken_slice_maps_back_to_the_script_characters_it_stands_for() -> None:
    script = "Stop. The FocusFlow lamp costs $49, really."
    said = respell(script)
    assert said.text == "Stop. The Focus Flow lamp costs 49 dollars, really."
    for word in ("Stop", "The", "lamp", "costs", "really"):
        at = said.text.index(word)
        first, last = said.to_script(at, at + len(word))
        assert script[first:last] == word
    for word, written in (("Focus", "FocusFlow"), ("Flow", "FocusFlow"), ("dollars", "$49")):
        at = said.text.index(word)
        first, last = said.to_script(at, at + len(word))
        assert script[first:last] == written


def _voice_of(text: str, duration: float) -> Voiceover:
    """What a provider hands on for ``text``: words as slices of it, timed in order."""
    from vidgen.media.speech import sentences, words

    spans = estimate_spans(text, duration)
    return Voiceover(
        path=Path("voice.wav"), duration=duration, words=words(text, spans),
        sentences=sentences(text, spans), provider="test", model=None, cost=0.0,
    )  # fmt: skip


def test_the_voiceover_is_described_in_the_scripts_words() -> None:
    script = "Meet the PocketBrew. Only $49.99, 3-in-1!"
    said = respell(script)
    voice = _voice_of(said.text, 6.0)
    heard = {w.text: w for w in voice.words}
    described = in_script_words(voice, said)
    assert [w.text for w in described.words] == [
        "Meet", "the", "PocketBrew", "Only", "$49.99", "3-in-1",
    ]  # fmt: skip
    by_text = {w.text: w for w in described.words}
    # A replaced word lasts from its first spoken word's start to its last one's end.
    assert by_text["PocketBrew"].start == heard["Pocket"].start
    assert by_text["PocketBrew"].end == heard["Brew"].end
    assert by_text["$49.99"].start == heard["49"].start
    assert by_text["$49.99"].end == heard["99"].end
    assert [s.text for s in described.sentences] == [
        "Meet the PocketBrew.",
        "Only $49.99, 3-in-1!",
    ]


def test_an_unchanged_script_is_handed_on_as_spoken() -> None:
    voice = _voice_of("Plain words only.", 2.0)
    assert in_script_words(voice, respell("Plain words only.")) is voice


def test_pronunciations_in_the_config_are_checked() -> None:
    base: dict[str, Any] = {"content_references": [{"title": "FocusFlow Desk Lamp"}]}
    ok = ThemeConfig.model_validate(
        {**base, "config": {"theme": "t", "pronunciations": {" FocusFlow ": "focus flow"}}}
    )
    assert ok.config.pronunciations == {"FocusFlow": "focus flow"}
    with pytest.raises(ValueError, match="1-100 characters"):
        ThemeConfig.model_validate(
            {**base, "config": {"theme": "t", "pronunciations": {"FocusFlow": " "}}}
        )


@pytest.mark.slow
def test_the_real_voice_says_the_respelling_and_captions_quote_the_script(tmp_path: Path) -> None:
    from vidgen.media.piper_tts import PiperTTS

    script = "Meet the PocketBrew kettle. Only $49, and it boils half a litre in 3 min."
    said = respell(script, {"PocketBrew": "pocket brew"})
    assert said.text == (
        "Meet the pocket brew kettle. Only 49 dollars, and it boils half a litre in 3 minutes."
    )
    voice = PiperTTS().synthesize(said.text, tmp_path / "v.wav", voice="en-us", rate=165)
    described = in_script_words(voice, said)
    cues = build_cues(
        script,
        [w.model_dump() for w in described.words],
        [s.model_dump() for s in described.sentences],
        total=described.duration,
    )
    # Word for word the script, "PocketBrew" and "$49," included, in spoken order.
    assert " ".join(c.text for c in cues).split() == script.split()
    spoken_words = {w.text: w for w in voice.words}
    timed = {w.text: w for cue in cues for w in cue.words}
    # Each replaced word is highlighted exactly while its spoken words are heard.
    assert timed["PocketBrew"].start == spoken_words["pocket"].start
    assert timed["PocketBrew"].end == spoken_words["brew"].end
    assert timed["$49,"].start == spoken_words["49"].start
    assert timed["$49,"].end == spoken_words["dollars"].end
    assert timed["min."].end == spoken_words["minutes"].end
    assert all(a.end <= b.start + 1e-6 for a, b in itertools.pairwise(described.words))


def test_a_phrase_said_in_fewer_words_shares_their_time_among_its_words() -> None:
    script = "The Desk Lamp glows."
    said = respell(script, {"Desk Lamp": "lamp"})
    voice = _voice_of(said.text, 2.0)
    lamp = next(w for w in voice.words if w.text == "lamp")
    described = in_script_words(voice, said)
    assert [w.text for w in described.words] == ["The", "Desk", "Lamp", "glows"]
    desk, lamp_word = described.words[1], described.words[2]
    assert desk.start == lamp.start and lamp_word.end == lamp.end
    assert desk.end == lamp_word.start
