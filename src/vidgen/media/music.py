"""The default music bed: a royalty-free track from a packaged library, chosen by mood.

The library is the ``immich-memories-music`` wheel (MIT; 28 Opus tracks of ~35 s generated with
ACE-Step, no attribution required), one folder per mood: calm, energetic, happy, nostalgic,
tender. The video's style and tone pick a mood; the job's seed picks a track in it, so
successive videos vary while a retried job keeps its track. Composition loops the track to
the video's length and ducks it under the voice.

``music:`` in the theme config overrides it: ``none`` for no music, or ``{path, volume}`` for
the user's own file.
"""

from __future__ import annotations

import hashlib
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


def choose_track(style: str, tone: str, seed: str) -> Track | None:
    """The bed for a video of this style and tone; None if the library is not installed."""
    mood = mood_for(style, tone)
    options = tracks(mood)
    if not options:
        options = [p for m in MOODS for p in tracks(m)]
        if not options:
            return None
    digest = int.from_bytes(hashlib.sha256(seed.encode()).digest()[:4], "big")
    path = options[digest % len(options)]
    return Track(path=path, mood=path.parent.name)
