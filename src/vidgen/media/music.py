"""The default music bed: a royalty-free track from a packaged library, chosen by mood.

The library is the ``immich-memories-music`` wheel (MIT; 28 Opus tracks of ~35 s generated with
ACE-Step, no attribution required), one folder per mood: calm, energetic, happy, nostalgic,
tender. The video's style and tone pick a mood; within it the track the config's recent videos
used longest ago (or never) is taken, so consecutive videos of one config never share a track,
and a retried job keeps its own. Composition loops the track to the video's length and ducks it
under the voice along a gain envelope made from the word timings (``duck_gain``).

``music:`` in the theme config overrides it: ``none`` for no music, or ``{path, volume}`` for
the user's own file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

LIBRARY = "immich-memories-music"
LICENCE = "MIT"
SOURCE_URL = "https://pypi.org/project/immich-memories-music/"
DEFAULT_VOLUME = 0.15

MOODS = ("calm", "energetic", "happy", "nostalgic", "tender")
_STYLE_MOOD = {
    "product-demo": "energetic",
    "listicle": "happy",
    "tutorial": "calm",
    "cinematic": "nostalgic",
    "talking-head": "tender",
}
_TONE_WORDS = {
    "calm": ("calm", "relax", "soft", "gentle", "chill", "quiet", "serene", "peaceful"),
    "energetic": ("energetic", "hype", "bold", "exciting", "intense", "punchy", "dynamic"),
    "happy": ("upbeat", "happy", "fun", "playful", "cheerful", "bright", "positive", "joyful"),
    "nostalgic": ("nostalgic", "retro", "vintage", "wistful", "cinematic", "dramatic"),
    "tender": ("warm", "tender", "heartfelt", "emotional", "cozy", "personal", "honest"),
}


@dataclass(frozen=True)
class Track:
    path: Path
    mood: str

    @property
    def asset_id(self) -> str:
        return f"{LIBRARY}:{self.mood}/{self.path.name}"

    def asset(self) -> dict[str, object]:
        return {
            "kind": "music",
            "id": self.asset_id,
            "mood": self.mood,
            "licence": LICENCE,
            "attribution": None,
            "source": SOURCE_URL,
        }


@cache
def library_dir() -> Path | None:
    import importlib.util

    spec = importlib.util.find_spec("immich_memories_music")
    if spec is None or spec.origin is None:
        return None
    folder = Path(spec.origin).parent / "tracks"
    return folder if folder.is_dir() else None


def mood_for(style: str, tone: str) -> str:
    """A tone word that names a mood wins ("calm", "upbeat"...); else the style's mood."""
    words = tone.lower().replace(",", " ").split()
    for mood, hints in _TONE_WORDS.items():
        if any(word in hints for word in words):
            # An upbeat product demo stays energetic: "upbeat" only says it is not sad.
            if mood == "happy" and _STYLE_MOOD.get(style) == "energetic":
                return "energetic"
            return mood
    return _STYLE_MOOD.get(style, "happy")


def tracks(mood: str) -> list[Path]:
    folder = library_dir()
    if folder is None:
        return []
    return sorted((folder / mood).glob("*.opus"))


def choose_track(style: str, tone: str, seed: str, recent: Sequence[str] = ()) -> Track | None:
    """The bed for a video of this style and tone; None if the library is not installed.

    ``recent``: the asset ids of the tracks earlier videos of the same config used, newest
    first. A track none of them used comes first, else the one used longest ago, so
    consecutive videos of one config never share a track while the mood has two, and cycle
    through all of them. Among equals ``seed`` decides (the same seed, the same history: the
    same track, so a retried job keeps its music).
    """
    mood = mood_for(style, tone)
    options = tracks(mood)
    if not options:
        options = [p for m in MOODS for p in tracks(m)]
        if not options:
            return None

    def order(path: Path) -> tuple[int, bytes]:
        asset = Track(path=path, mood=path.parent.name).asset_id
        # Never used: rank past every used one; used: the older the use, the better.
        last_used = recent.index(asset) if asset in recent else len(recent)
        return -last_used, hashlib.sha256(f"{seed}:{path.name}".encode()).digest()

    path = min(options, key=order)
    return Track(path=path, mood=path.parent.name)


# -- ducking under the voice ---------------------------------------------------------------------

# The bed sits this far below its own level while someone speaks. An offline recogniser
# (pocketsphinx) is easily put off by music under a voice: on the default script it lost up to
# 0.07 of word error rate to some of the mood's tracks at 22 dB (0.11 at 18 dB, or with the
# bass left up), and stayed within 0.03 of the dry voice with every track at 30 dB. Under the
# words the music is then a hint; it is up, at ``volume``, in pauses of a second or more and
# before the first and after the last word.
DUCK_DB = 30.0
# Pauses shorter than this between words stay ducked: a swell in every breath between
# sentences is the "pumping" a viewer hears; in a longer pause the music rises.
BRIDGE_SECONDS = 1.0
ATTACK_SECONDS = 0.15  # the bed is down before the first word of a phrase
RELEASE_SECONDS = 0.6  # and rises slowly after its last one


def speech_regions(
    spans: Sequence[tuple[float, float]], *, bridge: float = BRIDGE_SECONDS
) -> list[tuple[float, float]]:
    """The stretches the voice speaks in: word spans (start, end), in seconds, merged across
    pauses shorter than ``bridge``."""
    regions: list[tuple[float, float]] = []
    for start, end in sorted((s, max(s, e)) for s, e in spans):
        if regions and start - regions[-1][1] < bridge:
            regions[-1] = (regions[-1][0], max(regions[-1][1], end))
        else:
            regions.append((start, end))
    return regions


def duck_gain(
    regions: Sequence[tuple[float, float]],
    *,
    volume: float,
    duck_db: float = DUCK_DB,
    attack: float = ATTACK_SECONDS,
    release: float = RELEASE_SECONDS,
) -> str:
    """An ffmpeg ``volume`` expression in ``t``: ``volume`` away from speech, lowered by
    ``duck_db`` through each speech region, with smooth (raised-cosine) ramps ``attack``
    seconds before a region and ``release`` seconds after it."""
    low = volume * 10 ** (-duck_db / 20)
    if not regions:
        return f"{volume:.5f}"
    # Each region's "openness": 0 inside it, rising to 1 over the ramps outside; the product
    # over all regions is 1 only far from speech.
    factors = []
    for start, end in regions:
        before = f"clip(({start:.3f}-t)/{attack:.3f},0,1)"
        after = f"clip((t-{end:.3f})/{release:.3f},0,1)"
        factors.append(f"max({before},{after})")
    openness = "*".join(factors)
    return f"{low:.5f}+{volume - low:.5f}*(1-cos(PI*{openness}))/2"
