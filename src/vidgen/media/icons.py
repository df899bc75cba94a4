"""Icons that illustrate what a scene says: Font Awesome Free, chosen by the scene's own words.

The icon set is the ``fontawesomefree`` wheel (Font Awesome Free 6: ~1400 solid icons, each with
a name, a label and search terms). We draw icons from its solid webfont with Pillow, so no SVG
rasteriser is needed and every icon is drawn at output resolution, sharp at 1080x1920.

Licences: the icon designs are CC BY 4.0 and the font file SIL OFL 1.1 (Fonticons, Inc.). A
video that shows them therefore credits Font Awesome (``ATTRIBUTION``); the generation log
records the icon and its licence per scene.

``choose_icons`` is a pure function of the scenes' text: the same words always pick the same
icons, and a video never shows the same icon twice while another good match is left.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ICON_SET = "fontawesome-free-6"
LICENCE = "CC-BY-4.0"  # the icon designs; the font file itself is OFL-1.1
LICENCE_NOTE = "Font Awesome Free icons: CC BY 4.0 (designs), SIL OFL 1.1 (font file)"
ATTRIBUTION = "Icons: Font Awesome Free by Fonticons, Inc. (fontawesome.com), CC BY 4.0"
SOURCE_URL = "https://fontawesome.com/license/free"

_WORD = re.compile(r"[a-z][a-z'-]*")
_STOP = frozenset(
    re.findall(
        r"\S+",
        "a an and are as at be but by for from has have in into is it its of on or so than "
        "that the their this to was were will with you your yours our we us can one every "
        "while any all more just get got here there what when why how who which do does did "
        "not no yes out up down off over under again very too also only own same such both "
        "each few most other some these those i me my myself he she they them his her hers "
        "let lets make makes made need needs see meet stop scrolling thing things way ways "
        "like love people day days",
    )
)

# Everyday words whose best picture is not an icon of the same name (or whose same-named icon is
# odd). Checked before the set's own names and search terms. Values are Font Awesome names.
_CURATED: dict[str, str] = {
    "lamp": "lightbulb", "light": "lightbulb", "bright": "lightbulb", "idea": "lightbulb",
    "warm": "temperature-half", "cool": "snowflake", "cold": "snowflake",
    "evening": "moon", "night": "moon", "sleep": "bed", "bedtime": "bed",
    "morning": "sun", "sunrise": "sun", "sunny": "sun", "summer": "sun",
    "work": "laptop", "deep": "brain", "focus": "bullseye", "focused": "bullseye",
    "productivity": "list-check", "productive": "list-check", "task": "list-check",
    "read": "book-open", "reading": "book-open", "book": "book", "study": "graduation-cap",
    "screen": "desktop", "computer": "laptop", "laptop": "laptop", "desk": "laptop",
    "phone": "mobile-screen", "mobile": "mobile-screen", "charge": "battery-three-quarters",
    "charges": "battery-three-quarters", "charging": "battery-three-quarters",
    "battery": "battery-three-quarters", "power": "plug", "wireless": "wifi",
    "touch": "hand-pointer", "tap": "hand-pointer", "switch": "toggle-on", "mode": "sliders",
    "modes": "sliders", "settings": "sliders", "smart": "microchip", "adapt": "wand-magic-sparkles",
    "adapts": "wand-magic-sparkles", "magic": "wand-magic-sparkles",
    "kettle": "mug-hot", "coffee": "mug-hot", "tea": "mug-hot", "brew": "mug-hot",
    "water": "droplet", "boil": "fire-burner", "boils": "fire-burner", "hot": "fire",
    "litre": "glass-water", "liter": "glass-water", "drink": "glass-water",
    "minute": "stopwatch", "minutes": "stopwatch", "seconds": "stopwatch", "fast": "bolt",
    "quick": "bolt", "time": "clock", "routine": "calendar-check", "habit": "calendar-check",
    "travel": "plane", "trip": "suitcase-rolling", "backpack": "suitcase", "bag": "bag-shopping",
    "fold": "compress", "folds": "compress", "flat": "compress", "pocket": "wallet",
    "breakfast": "bacon", "food": "utensils", "cook": "kitchen-set", "recipe": "utensils",
    "healthy": "heart-pulse", "health": "heart-pulse", "fitness": "dumbbell",
    "workout": "dumbbell", "exercise": "person-running", "run": "person-running",
    "yoga": "spa", "relax": "spa", "calm": "spa", "meditation": "spa", "stretch": "person",
    "money": "sack-dollar", "save": "piggy-bank", "price": "tag", "deal": "tags",
    "gift": "gift", "shop": "cart-shopping", "buy": "cart-shopping", "grab": "cart-shopping",
    "follow": "user-plus", "subscribe": "bell", "link": "link", "bio": "link",
    "description": "link", "share": "share-nodes", "like": "heart", "comment": "comment",
    "tip": "lightbulb", "tips": "lightbulb", "guide": "map", "step": "shoe-prints",
    "steps": "shoe-prints", "reason": "circle-check", "reasons": "circle-check",
    "trend": "arrow-trend-up", "trending": "arrow-trend-up", "ideas": "lightbulb",
    "music": "music", "sound": "volume-high", "photo": "camera", "video": "video",
    "pet": "paw", "pets": "paw", "cat": "cat", "dog": "dog", "home": "house",
    "clean": "broom", "plant": "seedling", "garden": "seedling", "green": "leaf",
    "eco": "leaf", "sustainable": "leaf", "secure": "shield-halved", "safe": "shield-halved",
    "design": "pen-ruler", "designed": "pen-ruler", "build": "hammer", "built": "hammer",
    "easy": "thumbs-up", "simple": "thumbs-up", "best": "trophy", "win": "trophy",
    "new": "star", "love": "heart", "happy": "face-smile", "fun": "face-laugh-beam",
    "weather": "cloud-sun", "rain": "umbrella", "car": "car", "bike": "bicycle",
    "school": "school", "office": "briefcase", "team": "users", "friends": "users",
    "family": "people-roof", "baby": "baby", "game": "gamepad", "gaming": "gamepad",
    "wake": "bell", "alarm": "bell", "journal": "book", "write": "pen", "plan": "clipboard-list",
}  # fmt: skip

# When no word of a scene matches: a style's generic pictures, cycled through the scenes.
_FALLBACK: dict[str, tuple[str, ...]] = {
    "product-demo": ("star", "wand-magic-sparkles", "gem", "rocket", "circle-check"),
    "tutorial": ("lightbulb", "screwdriver-wrench", "list-check", "circle-check", "flag"),
    "listicle": ("star", "fire", "bolt", "heart", "trophy"),
    "cinematic": ("film", "mountain-sun", "star", "camera", "clapperboard"),
    "talking-head": ("comment", "face-smile", "quote-left", "heart", "star"),
}


@dataclass(frozen=True)
class Icon:
    name: str  # Font Awesome name, e.g. "lightbulb"
    codepoint: int  # in the solid webfont
    matched: str | None  # the scene word that chose it; None for a style fallback

    @property
    def asset_id(self) -> str:
        return f"{ICON_SET}:{self.name}"


@cache
def _root() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("fontawesomefree")
    if spec is None or spec.origin is None:  # pragma: no cover - a declared dependency
        raise RuntimeError("the fontawesomefree package is missing; reinstall vidgen")
    return Path(spec.origin).parent / "static" / "fontawesomefree"


def font_file() -> Path:
    return _root() / "webfonts" / "fa-solid-900.ttf"


@dataclass(frozen=True)
class _Index:
    codepoints: dict[str, int]  # free solid icon name -> codepoint
    by_name_word: dict[str, tuple[str, ...]]  # word of an icon's name/label -> icon names
    by_term: dict[str, tuple[str, ...]]  # search term (one word) -> icon names


@cache
def _index() -> _Index:
    data = json.loads((_root() / "metadata" / "icons.json").read_text(encoding="utf-8"))
    codepoints: dict[str, int] = {}
    name_words: dict[str, list[str]] = {}
    terms: dict[str, list[str]] = {}
    for name, meta in data.items():
        if "solid" not in (meta.get("free") or []):
            continue
        codepoints[name] = int(meta["unicode"], 16)
        words = {w for w in name.split("-") if w} | set(
            _WORD.findall(str(meta.get("label", "")).lower())
        )
        for word in words:
            name_words.setdefault(word, []).append(name)
        for term in (meta.get("search") or {}).get("terms") or []:
            term = str(term).strip().lower()
            if term and " " not in term:
                terms.setdefault(term, []).append(name)
    # Shorter names first: "sun" before "sun-plant-wilt" for the word "sun".
    return _Index(
        codepoints,
        {w: tuple(sorted(n, key=lambda x: (len(x), x))) for w, n in name_words.items()},
        {w: tuple(sorted(n, key=lambda x: (len(x), x))) for w, n in terms.items()},
    )


def scene_words(*texts: str) -> list[str]:
    """The content words of a scene, lower-case, without stopwords, best subject first.

    Words are taken in order of appearance, except that in a run of adjacent content words (a
    noun compound like "desk lamp") the last comes first: in English it names the thing.
    """
    out: list[str] = []
    for text in texts:
        for chunk in re.split(r"[^\w\s'-]+", text.lower()):
            run: list[str] = []
            for token in chunk.split():
                word = token.strip("'-")
                if word.endswith("'s"):
                    word = word[:-2]
                if len(word) > 2 and _WORD.fullmatch(word) and word not in _STOP:
                    run.append(word)
                else:
                    out += [w for w in reversed(run) if w not in out]
                    run = []
            out += [w for w in reversed(run) if w not in out]
    return out


def _forms(word: str) -> list[str]:
    forms = [word]
    for suffix, repl in (("ies", "y"), ("es", ""), ("s", ""), ("ing", ""), ("ed", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            forms.append(word[: -len(suffix)] + repl)
    return forms


def candidates(words: Iterable[str]) -> list[tuple[str, str]]:
    """(icon name, word) pairs for the words, best first.

    Tiers: a curated picture or an icon named exactly like the word, then icons with the word in
    their name or label, then icons listing it among their search terms; within a tier the
    scene's more important word (earlier in ``scene_words``) wins.
    """
    index = _index()
    ranked: list[tuple[int, int, str, str]] = []
    for position, word in enumerate(words):
        for form in _forms(word):
            picks: list[tuple[int, str]] = []
            if form in _CURATED and _CURATED[form] in index.codepoints:
                picks.append((0, _CURATED[form]))
            if form in index.codepoints:  # the word is an icon's whole name: "rocket"
                picks.append((0, form))
            picks += [(1, name) for name in index.by_name_word.get(form, ())[:3]]
            picks += [(2, name) for name in index.by_term.get(form, ())[:3]]
            for tier, name in picks:
                ranked.append((tier, position, name, word))
    ranked.sort(key=lambda r: (r[0], r[1]))
    seen: set[str] = set()
    out: list[tuple[str, str]] = []
    for _, _, name, word in ranked:
        if name not in seen:
            seen.add(name)
            out.append((name, word))
    return out


def choose_icons(scene_texts: Sequence[str], style: str = "product-demo") -> list[Icon]:
    """One icon per scene, from that scene's own words; no repeats while alternatives remain."""
    index = _index()
    used: set[str] = set()
    fallback = _FALLBACK.get(style, _FALLBACK["product-demo"])
    icons: list[Icon] = []
    for i, text in enumerate(scene_texts):
        options = candidates(scene_words(text))
        pick = next(((n, w) for n, w in options if n not in used), None)
        if pick is None:
            name = next(
                (n for k in range(len(fallback)) if (n := fallback[(i + k) % len(fallback)])
                 not in used and n in index.codepoints),
                fallback[i % len(fallback)],
            )  # fmt: skip
            icons.append(Icon(name, index.codepoints.get(name, 0xF005), None))
        else:
            icons.append(Icon(pick[0], index.codepoints[pick[0]], pick[1]))
        used.add(icons[-1].name)
    return icons
