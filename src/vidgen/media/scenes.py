"""What each scene shows: a designed backdrop, and in front of it full-colour pictures of what
is said as stickers, laid out by the scene's kind, with at most one headline that adds to the voice.

Three steps, all without I/O except writing image files:

* ``plan_scene_visuals(scenes, ...)`` is a pure function of the plan: per scene a layout chosen
  by its ``kind`` (``hook``: the subject big under a short headline or figure; ``list_item``: a
  "2 / 4" chip, its picture, its figure; ``step``: "STEP 2" above its picture; ``fact``: the
  figure as a big stat above, beside or below its picture; ``comparison``: two pictures with
  "VS"; ``feature``: one to three pictures; ``cta`` last), the pictures its words name
  (``vidgen.media.illustrations``; the video's subject picture when nothing matches), the
  headline (only ``scene.headline``, and never the sentence being spoken: the karaoke caption
  carries the narration), and colours
  taken from the main picture (warm for bread, green for plants), so two subjects look
  different and neighbouring scenes never share layout and picture, colour or pattern.
* ``layout_scene`` places the blocks (boxes that never overlap, inside the content area for
  any frame shape); ``scene_card`` draws them at output resolution and ``write_card_track``
  turns all cards into ONE image-sequence overlay in which each card pops in (a few scaled
  frames; the hook pushes in slowly instead) and is then held; the composition floats it.
* ``scene_backdrop`` draws the scene's still backdrop (gradient, light behind the picture,
  pattern, progress bar) once at output size; ``design_cover`` the thumbnail.

Everything is drawn at the output size, so pictures and text stay sharp at 1080x1920.
"""

from __future__ import annotations

import colorsys
import hashlib
import re
from collections.abc import Iterator, Mapping, Sequence, Set
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from PIL import Image, ImageChops, ImageDraw, ImageFilter

from vidgen.media import illustrations as lib
from vidgen.media.fonts import font_path
from vidgen.media.overlays import (
    Overlay,
    _font,
    clean_text,
    font_chain,
    line_width,
    visual_runs,
    wrap,
)

RGB = tuple[int, int, int]

# Pop-in: the card's scale on its first frames, then it is held at 1.0.
POP_SCALES = (0.72, 0.9, 1.04, 1.0)


@dataclass(frozen=True)
class Frame:
    """The shape a video is drawn for: where text and pictures may go (fractions of the frame).

    ``content_top``/``content_bottom`` bound the cards: below the platform's top bar, above the
    karaoke caption band (whose bottom sits ``caption_bottom`` of the height above the bottom).
    """

    width: int
    height: int
    caption_bottom: float = 0.27
    caption_size: float = 0.068  # of the width (as in vidgen.media.captions)
    top: float = 0.10
    side: float = 0.07

    @classmethod
    def for_size(cls, width: int, height: int) -> Frame:
        """The frame of a video of this size, with the caption band ``captions`` draws there."""
        from vidgen.media.captions import caption_look

        look = caption_look(width, height)
        return cls(
            width, height, caption_bottom=look.bottom_margin, caption_size=look.size_ratio,
            top=0.10 if height >= width * 1.6 else 0.07,
            side=0.07 if height >= width else 0.05,
        )  # fmt: skip

    @property
    def content_top(self) -> int:
        return round(self.height * self.top)

    @property
    def content_bottom(self) -> int:
        # Two caption lines plus a margin sit above the caption's bottom.
        caption_top = self.height * (1 - self.caption_bottom) - 2.4 * self.caption_size * self.width
        return round(caption_top - 0.015 * self.height)

    @property
    def wide(self) -> bool:
        return self.width >= self.height * 0.95  # square and landscape: text beside pictures

    @property
    def left(self) -> int:
        return round(self.width * self.side)

    @property
    def right(self) -> int:
        return self.width - round(self.width * self.side)


@dataclass(frozen=True)
class SceneVisual:
    """What one scene shows, decided from the plan alone (recorded in the generation log)."""

    index: int
    kind: str  # the plan's scene kind
    layout: str  # hook | feature | feature-offset | pair | trio | list_item | step | fact |
    #             comparison | cta | clip (the scene's own footage shows the subject)
    pictures: tuple[lib.Illustration, ...]
    headline: str | None
    number: int | None
    hue: float  # 0..1, from the main picture
    accent: str  # hex rgb: numbers, figures, highlights
    backdrop: tuple[str, str, str]  # hex rgb: dark, middle and light stops of the backdrop
    # How many list items (or steps) the video has: "2 / 4" reads as a sequence.
    count: int | None = None
    variant: int = 0  # which of the backdrop patterns; neighbours differ
    # A second beat: from the narration's word ``then_word`` on (the clause after a comma,
    # "..., so a busy train sounds like a library"), the card shows ``then`` big, with the
    # scene's main picture small: a long scene is two shots, each of what is being said.
    then: tuple[lib.Illustration, ...] = ()
    then_word: int | None = None
    # The figure the voice says ("85%"), drawn from ``then_word`` on: it lands big on the
    # number's own word (viewers wanted the claim on screen as it is said; held over the whole
    # scene's caption, before and after, it was the same number twice).
    lands: str | None = None
    lands_word: int | None = None  # the narration's word that says it
    # A further picture the sentence names after its first words pops in on the word that
    # names it, (picture key, narration word): "... while you shower" shows the shower then,
    # and a scene builds up as it is said instead of standing still for five seconds.
    reveals: tuple[tuple[str, int], ...] = ()
    # How one moment of the scene is drawn (set per shot, never by the plan): pictures laid
    # out but not drawn yet, and one popping in at a scale.
    hidden: frozenset[str] = frozenset()
    growing: tuple[str, float] | None = None
    # The pictures are equals, one row of one size (the places an opening names: a big flag of
    # Denmark over two small ones said the video was about Copenhagen).
    even: bool = False
    # The second shot weighs one thing against another ("..., lighter than a can of soda"):
    # the two side by side at one size (the shoe was smaller than the can it beats).
    compares: bool = False
    # Drawn on its way from another layout of the same pictures (set per frame, never by the
    # plan): (that layout, how far from it, 0..1). A figure landing moves the pictures aside
    # over a few frames instead of in one jump.
    morph: tuple[SceneVisual, float] | None = None

    def landed(self) -> SceneVisual:
        """The scene's first shot with its figure landed (same pictures, the figure big)."""
        layout = self.layout
        if layout in ("feature", "feature-offset", "pair", "trio"):
            layout = "fact"  # the figure big over its picture
        return replace(self, layout=layout, headline=self.lands or self.headline, lands=None)

    @property
    def picture(self) -> lib.Illustration:
        return self.pictures[0]

    def second_beat(self) -> SceneVisual | None:
        """The scene as it looks from ``then_word`` on, or None for a one-shot scene."""
        if self.then_word is None or not (self.then or self.lands):
            return None
        pictures = (*self.then[:3], self.pictures[0]) if self.then else self.pictures
        shot = self.landed() if self.lands else self
        if self.compares:
            pictures = (*self.then[:2], self.pictures[0])
        return replace(shot, pictures=pictures, then=(), then_word=None, lands_word=None,
                       even=shot.even or self.compares)  # fmt: skip

    def assets(self) -> list[dict[str, Any]]:
        if self.layout == "clip":
            return []  # the scene's own footage shows the subject; no picture is drawn
        out = [
            picture.asset(self.index, layout=self.layout, role="main" if k == 0 else "extra")
            for k, picture in enumerate(self.pictures)
        ]
        return out + [p.asset(self.index, layout=self.layout, role="then") for p in self.then]


def _hash(*parts: str) -> int:
    return int.from_bytes(hashlib.sha256("\x1f".join(parts).encode()).digest()[:4], "big")


def _hex(rgb: Sequence[float]) -> str:
    return "".join(f"{max(0, min(255, round(c * 255))):02x}" for c in rgb)


def _rgb(hex_color: str) -> RGB:
    return int(hex_color[0:2], 16), int(hex_color[2:4], 16), int(hex_color[4:6], 16)


def _norm(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def headline_adds(headline: str | None, narration: str) -> bool:
    """A headline is shown only if it is not the sentence being spoken (the caption shows that):
    a number, a name or a short heading passes; the narration itself or most of it does not."""
    if not headline or not headline.strip():
        return False
    said = _norm(narration)
    head = _norm(headline)
    if not head or head == said:
        return False
    figures = re.findall(r"\d+(?:[.,]\d+)?", headline)
    if len(head.split()) <= 3 and any(_says_number(f, narration) for f in figures):
        # "800 KM" over the caption "800 kilometers" is the same number twice at once (every
        # blind viewer noticed); the caption says it, and its number is highlighted there.
        return False
    words = head.split()
    if len(words) >= 4:
        spoken = set(said.split())
        if sum(w in spoken for w in words) / len(words) >= 0.8:
            return False
    # A heading naming what the voice names at the same moment ("Copenhagen on a budget" over
    # "In Copenhagen, rent a city bike") is the name twice at once; a name is a capitalised
    # word the sentence does not merely start with.
    names = {w.lower() for w in re.findall(r"\b[A-Z][a-z]+", headline)}
    named = {
        m.group(1).lower()
        for m in re.finditer(r"(?<![.!?]\s)(?<!^)\b([A-Z][a-z]+)(?:'s)?\b", narration.strip())
    }
    return not names & named


_NUMBER_WORDS: dict[str, float] = {
    w: n
    for n, w in enumerate(
        re.findall(
            r"\w+",
            "zero one two three four five six seven eight nine ten eleven twelve thirteen "
            "fourteen fifteen sixteen seventeen eighteen nineteen twenty",
        )
    )
} | {"thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "ninety": 90, "hundred": 100,
     "half": 0.5}  # fmt: skip


def _says_number(number: str, narration: str) -> bool:
    """Whether ``narration`` says ``number`` ("30", "2.5"), in digits or in words."""
    try:
        value = float(number.replace(",", ""))
    except ValueError:
        return False
    said = {float(n.replace(",", "")) for n in re.findall(r"\d[\d,]*(?:\.\d+)?", narration)}
    said |= {float(_NUMBER_WORDS[w]) for w in re.findall(r"[a-z]+", narration.lower())
             if w in _NUMBER_WORDS}  # fmt: skip
    return value in said


def number_at(figure: str, narration: str) -> tuple[int, int] | None:
    """Where ``narration`` says ``figure``'s number: the index of the number's word and of the
    first word after it and its unit ("return | 85 percent | of your energy"), or None."""
    match = re.search(r"\d+(?:[.,]\d+)?", figure)
    if match is None:
        return None
    try:
        value = float(match.group().replace(",", ""))
    except ValueError:
        return None
    unit = _norm(figure[match.end() :])
    words = narration.split()
    for k, word in enumerate(words):
        bare = re.sub(r"[^\w.]", "", word.lower()).rstrip(".")
        said = _NUMBER_WORDS.get(bare)
        if said is None:
            try:
                said = float(bare.replace(",", ""))
            except ValueError:
                continue
        if said != value:
            continue
        end = k + 1
        if end < len(words) and not _CLAUSE_BREAK.search(word):
            after = _norm(words[end])
            if after and (after in _SPOKEN_UNITS or (unit and after[:1] == unit[:1])):
                end += 1
        return k, end
    return None


_SPOKEN_UNITS = frozenset(
    re.findall(
        r"\w+",
        "percent grams kilograms kilos hours hour minutes minute seconds meters metres "
        "kilometers kilometres miles decibels centimeters centimetres liters litres degrees "
        "cups days weeks dollars euros watts volts steps reps rounds times",
    )
)


def card_title(title: str) -> str:
    """The product or topic name from a plan title ("FocusFlow Desk Lamp: Warm light..." ->
    "FocusFlow Desk Lamp")."""
    head = re.split(r"\s*[:|\u2014\u2013]\s+|\s+-\s+", title.strip(), maxsplit=1)[0]
    return head.strip() or title.strip()


def palette(hue: float) -> tuple[str, tuple[str, str, str]]:
    """(accent, backdrop stops) for a hue: a bright accent, and calm dark stops of the same
    family so the backdrop reads as a backdrop behind a colourful picture. Yellows turn amber
    and then brown when darkened (olive otherwise), so the backdrop's hue leans warmer."""
    accent = _hex(colorsys.hsv_to_rgb(hue, 0.72, 1.0))
    base = _backdrop_hue(hue)
    stops = (
        _hex(colorsys.hsv_to_rgb(base, 0.78, 0.13)),
        _hex(colorsys.hsv_to_rgb((base + 0.02) % 1, 0.68, 0.26)),
        _hex(colorsys.hsv_to_rgb((base + 0.04) % 1, 0.55, 0.38)),
    )
    return accent, stops


def _backdrop_hue(hue: float) -> float:
    """Darkened, yellows and yellow-greens turn olive: yellow art goes on deep rust, and
    yellow-green on true green."""
    if 0.06 < hue < 0.2:
        return 0.02
    if 0.2 <= hue < 0.3:
        return 0.33
    return hue


def _hue_gap(a: float, b: float) -> float:
    """How far apart two hues' backdrops are on the colour wheel (0..0.5)."""
    gap = abs(_backdrop_hue(a) - _backdrop_hue(b)) % 1.0
    return min(gap, 1.0 - gap)


def _apart(hue: float, others: Sequence[float]) -> bool:
    return all(_hue_gap(hue, h) >= 0.06 for h in others)


def _in_order(pictures: Sequence[lib.Illustration], text: str) -> list[lib.Illustration]:
    """``pictures`` in the order ``text`` first names them (by the words that chose them)."""
    said = lib.words_of(text)

    def where(picture: lib.Illustration) -> int:
        firsts = [said.index(w) for m in picture.matched for w in m.split()[:1] if w in said]
        return min(firsts, default=len(said))

    return sorted(pictures, key=where)


_NEGATED = re.compile(
    r"\b(?:skip|skipping|avoid|avoiding|instead\s+of|without|never|no|not|doesn't|don't|"
    r"won't|isn't|aren't)\s+"
    r"(?:(?!and\b|but\b|or\b|so\b)[\w'-]+\s*){1,4}",
    re.IGNORECASE,
)


def unnegated(text: str) -> str:
    """``text`` without what it says to do without: "Skip the crowded beaches: Bali's rice
    terraces" -> ": Bali's rice terraces". A viewer saw a beach umbrella over "skip the
    crowded beaches" and taxis are not what "a city bike instead of taking taxis" shows."""
    return _NEGATED.sub(" ", text)


def said_at(picture: lib.Illustration, narration: str) -> int | None:
    """The narration's word (an index into ``narration.split()``) that first names
    ``picture`` by a word that chose it, or None when the narration does not name it."""
    matched = {m.split()[0] for m in picture.matched if m.split()}
    for k, token in enumerate(narration.split()):
        for word in lib.words_of(token):
            word = word[:-2] if word.endswith("'s") else word
            if any(word == m or word.rstrip("s") == m.rstrip("s") for m in matched):
                return k
    return None


# A scene shows at most its main picture and three small ones in a row under it.
MAX_PICTURES = 4
# A picture named in a sentence's first words is there from the cut: popping in a moment
# after the scene's own pop read as a stutter.
_REVEAL_FROM_WORD = 3


def _reveals(
    pictures: Sequence[lib.Illustration], narration: str, layout: str
) -> tuple[tuple[str, int], ...]:
    """When each further picture of a scene comes: on the word naming it, unless that is in
    the sentence's first words (or the layout shows its pictures as one group: a pair, a
    comparison)."""
    if layout not in _EXTRAS_BELOW:
        return ()
    out = []
    for picture in pictures[1:]:
        at = said_at(picture, narration)
        if at is not None and at >= _REVEAL_FROM_WORD:
            out.append((picture.key, at))
    return tuple(out)


def _named_later(
    narration: str,
    taken: Set[str],
    theme_words: Set[str],
    known: Sequence[str],
    first: int = _REVEAL_FROM_WORD,
    until: int | None = None,
) -> list[lib.Illustration]:
    """Pictures of things a sentence names after its first words that the scene does not show
    yet: not the theme's own words ("home" in a home workout), nor the subject's ("run" in a
    running-shoe video), nor what it says to do without."""
    text = unnegated(narration)
    terms = [t.lower() for t in known]
    out = []
    for picture in _in_order(lib.choose([], text, limit=6), text):
        words = {w for m in picture.matched for w in m.split()}
        at = said_at(picture, narration)
        if (
            picture.fallback
            or picture.key in taken
            or at is None
            or at < first
            or (until is not None and at >= until)
            or words <= set(theme_words)
            or all(any(t.startswith(w) or w.startswith(t) for t in terms) for w in words)
        ):
            continue
        out.append(picture)
    return out


def _names(narration: str, subject: str | None) -> bool:
    """``narration`` says the subject's name: the whole of it, or its brand ("HushBuds",
    "StrideLite": a word with a capital inside), not a common word of a theme ("Home")."""
    if not subject or not subject[:1].isupper():
        return False  # a theme's plain word ("workout") is said in passing, not as a name
    if subject in narration:
        return True
    brand = subject.split()[0]
    return (
        any(c.isupper() for c in brand[1:])
        and re.search(rf"\b{re.escape(brand)}\b", narration) is not None
    )


def _scene_picks(
    kind: str,
    subjects: Sequence[str],
    text: str,
    fallback: lib.Illustration | None,
    shown: Set[str],
    known: Sequence[str] = (),
    no_lead: Set[str] = frozenset(),
) -> list[lib.Illustration]:
    """A scene's candidate pictures, best first: a picture the video has shown already leads
    only when the words name nothing else, and a small one beside it is always new."""
    # Candidates beyond the layout's count, so a scene can lead with another picture than
    # its neighbour's when it names something else too; in the order the sentence names
    # them ("a plank, dead bugs and glute bridges": the plank first), except that a word of
    # the video's own subject ("run" in a running-shoe video) says less than the rest ("rain").
    terms = [t.lower() for t in known]

    def own(picture: lib.Illustration) -> bool:
        words = [w for m in picture.matched for w in m.split()]
        return bool(words) and all(
            any(t.startswith(w) or w.startswith(t) for t in terms) for w in words
        )

    picks = sorted(_in_order(lib.choose(subjects, text, limit=4, subject=fallback), text), key=own)
    # What the scene is about leads even when shown before ("fix your squat" shows the squat,
    # not a chair), unless it is the video's own picture (the biceps over every workout tip)
    # or the opening's (a tip leads with what it adds to the flag of its city), or the last
    # scene's main picture (neighbours differ).
    about = set(lib.words_of(subjects[0])) if subjects else set()
    keep = (
        bool(about & {w for m in picks[0].matched for w in m.split()})
        and not own(picks[0])
        and picks[0].key not in no_lead | {fallback and fallback.key}
    )
    if not keep and kind not in ("hook", "cta") and picks[0].key in shown:
        # A picture the video has shown already says nothing new (a viewer saw the same
        # biceps over three workout tips): another thing the sentence names leads.
        pool = picks + [
            p for p in lib.choose([], text, limit=6)
            if not p.fallback and all(p.key != q.key for q in picks)
        ]  # fmt: skip
        fresh = [p for p in pool if p.key not in shown]
        if fresh:
            picks = fresh + [p for p in pool if p.key in shown]
    if kind not in ("hook", "cta"):
        # A small picture beside the main one is something new too, never the hook's.
        picks = picks[:1] + [
            p for p in picks[1:]
            if p.key not in shown and (fallback is None or p.key != fallback.key)
        ]  # fmt: skip
    return picks


def plan_scene_visuals(
    scenes: Sequence[Any],
    *,
    title: str,
    theme: str,
    subject: str | None = None,
    subject_terms: Sequence[str] = (),
    shows_subject: Sequence[bool] = (),
    rasterizer: lib.Rasterizer | None = None,
) -> list[SceneVisual]:
    """Per scene: layout, pictures, headline, number and colours. Pure: same plan, same result.

    ``scenes`` are the plan's ``Scene`` models; ``shows_subject[i]`` says the scene's own clip
    (a photo, footage) already shows the subject, so no picture is laid over it.
    """
    raster = rasterizer or lib.Rasterizer()
    # The subject's plain words first (the planner puts its head noun first: "HushBuds Wireless
    # Headphones" -> headphones, never "wireless" -> a wifi sign), then its name and title.
    fallback = lib.subject_picture([*subject_terms, subject or "", card_title(title), title, theme])
    fallback_hue = lib.dominant_hue(fallback, raster) if fallback else None
    theme_hue = (_hash(theme.lower(), title.lower()) % 360) / 360
    out: list[SceneVisual] = []
    list_count = 0
    totals = {
        kind: sum(1 for s in scenes if getattr(s, "kind", None) == kind)
        for kind in ("list_item", "step")
    }
    offset = _hash(title.lower(), theme.lower()) % len(PATTERNS)
    theme_words = set(lib.words_of(theme))
    # A video about a product (its subject is not the theme itself, as a tips video's is).
    product_video = bool(subject) and str(subject).lower() != theme.lower()
    opening_own = MAX_PICTURES  # how many of the opening's pictures are its own subject's
    for i, scene in enumerate(scenes):
        kind = str(getattr(scene, "kind", "feature") or "feature")
        narration = str(scene.narration)
        text = unnegated(f"{scene.on_screen_text}. {narration}")
        limit = 2 if kind in ("comparison", "fact") else 1 if kind in ("hook", "cta") else 3
        subjects = list(getattr(scene, "subjects", []) or [])
        kept = set(lib.words_of(unnegated(narration)))
        subjects = [s for s in subjects if set(lib.words_of(s)) & kept or not lib.words_of(s)]
        if kind not in ("hook", "cta") and subject_terms:
            # The hook already shows the video's subject: the other scenes lead with what they
            # add ("noise", "battery"), so a run of facts is not the same picture over and over.
            own = subject_terms[0].lower()
            others = [s for s in subjects if s.lower() != own]
            # Naming only the product: the sentence's own words choose ("weigh" -> a scale).
            subjects = others + [s for s in subjects if s.lower() == own] if others else []
        shown = {v.picture.key for v in out} | {v.then[0].key for v in out if v.then}
        # And every picture of the opening (the places a hook names lead no tip of theirs).
        # (Not what else the opening names in passing: "Your commute ..." keeps its train for
        # the scene that says "a busy train".)
        opening = {p.key for p in out[0].pictures[:opening_own]} if out else set()
        shown |= opening
        # Never led by again: the opening's pictures, and the last scene's main picture.
        no_lead = opening | ({out[-1].picture.key} if out else set())
        cut: int | None = None
        picks: list[lib.Illustration] = []
        breaks = _clause_breaks(narration) if kind in _BEAT_KINDS else []
        # A later break only where a colon opens what follows ("Before your next workout, fix
        # your squat: | hips back"): a list after one stays one shot of equals.
        breaks = breaks[:1] + [k for k in breaks[1:] if narration.split()[k - 1][-1] == ":"]
        for at in breaks:
            # Two shots: the first shows what the first clause names (a train shown over
            # "cut background noise by 30 decibels" was a beat early), the second the rest -
            # unless the first clause names nothing new ("For a stronger core at home:").
            head = unnegated(" ".join(narration.split()[:at]))
            said = set(lib.words_of(head))
            # A list ("Squats, push ups, lunges,") shows its things in the order said: the
            # planner's nouns skipped its first word (a verb more often than not).
            named = [] if head.count(",") >= 2 else [
                s for s in subjects if set(lib.words_of(s)) <= said
            ]  # fmt: skip
            picks = _scene_picks(
                kind, named, head, fallback, shown, subject_terms, no_lead,
            )  # fmt: skip
            weak = {w for m in picks[0].matched for w in m.split()} <= theme_words
            if picks[0].fallback or (kind not in ("hook", "cta") and (picks[0].key in shown
                                                                      or weak)):  # fmt: skip
                picks = []  # "at home" in a home workout tip shows nothing new
                continue
            cut = at
            break
        if not picks:
            picks = _scene_picks(kind, subjects, text, fallback, shown, subject_terms, no_lead)
        if out and picks[0].key == out[-1].picture.key and len(picks) > 1:
            picks = picks[1:] + picks[:1]
        places = False
        named_now = kind not in ("hook", "cta") and _names(narration, subject)
        noun = subject_terms[0].lower().rstrip("s") if subject_terms else ""
        # The product as the sentence shows it ("folds flat": the kettle folded flat; "it
        # boils": the kettle steaming, not the wall socket it is plugged into; "it weighs": the
        # kettle on the scale).
        drawn = (
            [p for p in (lib.weighed(p, noun) for p in lib.choose([], text, limit=6))
             if noun in p.keywords and (fallback is None or p.key != fallback.key)]
            if product_video and noun and kind not in ("hook", "cta")
            else []
        )  # fmt: skip
        if drawn:
            # It leads alone and big, the product's usual drawing dropped: what else the
            # sentence names pops in under it on its word (a cup beside the kettle at one size
            # read as "kettle and coffee").
            picks = [drawn[0]]
        elif named_now and fallback is not None:
            # The product on screen while its name is said, what the sentence adds beside it:
            # a viewer saw the shoe leave the screen as "The StrideLite Running Shoes" was said.
            picks = [replace(fallback, fallback=False)] + [
                p for p in picks if p.key != fallback.key and not p.fallback
            ]
            limit = max(limit, 2)
        elif (
            product_video
            and fallback is not None
            and kind in ("fact", "feature", "list_item", "step")
            and picks[0].key != fallback.key
        ):
            # A product video keeps its product in view, small beside what the sentence names
            # (a viewer took the water bottle for the product when the kettle was gone).
            picks = [
                picks[0],
                replace(fallback, fallback=False),
                *(p for p in picks[1:] if p.key != fallback.key),
            ]
            limit = max(limit, 2)
        picks = picks[:limit]
        # Not what one of its drawings shows already (a chair beside the squat over one).
        inside = {k for p in picks for k in lib.shown_in(p)}
        picks = [picks[0], *(p for p in picks[1:] if p.key not in inside)]
        if kind == "feature" and len(picks) < 2 and not picks[0].fallback and not drawn:
            # The sentence may name more than its listed subjects ("in the evening").
            extra = [p for p in lib.choose([], text, limit=3) if p.key != picks[0].key]
            picks += extra[:1]
        if kind in ("hook", "cta") and fallback is not None:
            # The opening and the call to action show what the whole video is about (a
            # lightning bolt over the question of a shoe ad left the shoe unseen for 6 s) -
            # or, for a hook naming several places, the places: "Three travel tips for
            # Copenhagen, Istanbul and Bali" shows them, not a plane.
            titled = set(lib.words_of(subject or ""))
            names = {w.lower() for w in re.findall(r"(?<=\s)[A-Z][a-z]+", narration)} - titled
            named = [
                p for p in _in_order(lib.choose([], narration, limit=4), narration)
                if not p.fallback and p.key != fallback.key
                and {w for m in p.matched for w in m.split()} & names
            ]  # fmt: skip
            places = kind == "hook" and len(named) >= 2
            picks = named[:3] if places else [replace(fallback, fallback=False)]
            offered, colon, _ = narration.partition(":")
            # Each tip by the picture it ends on: "fix your squat" opens on the squat done
            # wrong and ends on the one done right.
            ends_on = [(v.then or (v.picture,))[0] for v in out if v.kind in ("list_item", "step")]
            items = list({p.key: p for p in ends_on}.values())
            if kind == "cta" and not product_video and len(items) >= 2:
                # "Which one will you try first?" over the tips' own pictures, a recap to
                # choose from: an end card of the theme's picture alone was a bare biceps.
                picks += [p for p in items if p.key != fallback.key][: MAX_PICTURES - 1]
            elif kind == "cta" and colon:
                # The closing question's options, small under the product ("Train, plane or
                # open office: ..." shows them): an end card of the product alone said nothing
                # the voice did not.
                picks += [
                    p for p in _in_order(lib.choose([], offered, limit=4), offered)
                    if not p.fallback and p.key != fallback.key
                ][:2]  # fmt: skip
        previous = out[-1] if out else None
        if (
            previous is not None
            and picks[0].key == previous.picture.key
            and len(picks) > 1
            and not named_now
            and kind != "cta"  # the end card leads with the product, its options beside it
        ):
            picks = picks[1:] + picks[:1]  # lead with a different picture than the last scene
        wanted = getattr(scene, "headline", None)
        headline = str(wanted).strip() if headline_adds(wanted, narration) else None
        # A figure the voice says lands once it is said (``SceneVisual.lands``).
        spoken = (
            number_at(str(wanted), narration)
            if wanted and headline is None and stat_parts(str(wanted)) is not None
            else None
        )
        number = getattr(scene, "number", None)
        if kind in ("list_item", "step"):
            list_count += 1
            number = number or list_count
        if i < len(shows_subject) and shows_subject[i]:
            layout = "clip"
            picks = picks[:1]
        elif kind == "comparison":
            layout = "comparison" if len(picks) >= 2 else "feature"
        elif kind == "feature" and cut is not None:
            # Two shots ("It takes any voltage, | so abroad it only needs a plug adapter"):
            # the first picture big, the product small, then the second clause's pictures (as
            # a pair, a bolt beside the kettle held 4.5 s and the plug never came).
            layout = "feature"
        elif kind == "feature":
            layout = {1: "feature", 2: "pair", 3: "trio"}[len(picks)]
        elif kind in ("hook", "list_item", "step", "fact", "cta"):
            layout = kind
        else:
            layout = "feature"
        if kind == "fact" and not headline:
            layout = "feature"
        if layout == "fact" and previous is not None and previous.layout.startswith("fact"):
            # A run of figures: the stat moves beside, then below, its picture.
            cycle = ("fact", "fact-side", "fact-below")
            layout = cycle[(cycle.index(previous.layout) + 1) % len(cycle)]
        if (
            previous is not None
            and layout == previous.layout
            and picks[0].key == previous.picture.key
        ):
            layout = "feature-offset" if layout == "feature" else layout
            if layout == previous.layout:
                layout = "feature"  # a numbered or paired scene: shown single and big instead
        hues = [h for h in (lib.dominant_hue(p, raster) for p in picks) if h is not None]
        hue = hues[0] if hues else fallback_hue if fallback_hue is not None else theme_hue
        # Scenes differ in colour from the two before them (three teal scenes in five, two a
        # scene apart, read as one): another of the scene's pictures, or a step along the
        # colour wheel from its own.
        recent = [v.hue for v in out[-2:]]
        if not _apart(hue, recent):
            steps = (0.5, 0.4, 0.6, 0.3, 0.7, 0.2, 0.8, 0.25, 0.75, 0.15, 0.85)
            wheel = [(hue + t) % 1.0 for t in steps]
            hue = next((h for h in [*hues[1:], *wheel] if _apart(h, recent)), hue)
        accent, stops = palette(hue)
        # What the next sentence is about waits for it: the workout's circuit showed the plank
        # big as it ended, so the core tip ("a 30 second plank, ...") could not lead with it.
        following = (
            list(getattr(scenes[i + 1], "subjects", []) or []) if i + 1 < len(scenes) else []
        )
        ahead = {p.key for p in lib.choose(following, "", limit=4)} - {fallback and fallback.key}
        then, then_word = _second_beat(narration, cut, picks, fallback, layout, shown, ahead)
        product = next((p for p in picks[1:] if fallback and p.key == fallback.key), None)
        if then and product is not None:
            # The product stays in view in the second shot too (a viewer saw the kettle gone
            # for 4 s while a water bottle filled the frame).
            then = (then[0], product, *then[1:2])  # first in the row: the larger one
        if layout in _EXTRAS_BELOW and (kind != "hook" or len(picks) == 1):
            # What else the sentence names (up to its second beat), on its word ("... while
            # you shower"): a viewer heard a shower, a picnic, a waterfall and saw none.
            taken = {p.key for p in picks} | shown | ({fallback.key} if fallback else set())
            taken |= {p.key for p in then} | {k for p in picks for k in lib.shown_in(p)}
            ends = kind in ("hook", "cta")  # the opening and the end card show it all at once
            # The opening may show the theme's other word: "Ten minutes at home" under the
            # workout's biceps "said nothing about home" without the house.
            named = _named_later(
                narration, taken, frozenset() if kind == "hook" else theme_words,
                () if ends else subject_terms,
                0 if ends else _REVEAL_FROM_WORD, then_word if then else None,
            )  # fmt: skip
            if i == 0:
                opening_own = len(picks)
            picks += named[: MAX_PICTURES - len(picks)]
        if kind not in ("hook", "cta"):
            # A small picture of the theme's own word is no news ("at home" in a home workout
            # tip showed a house beside the dead bug).
            picks = picks[:1] + [
                p for p in picks[1:]
                if not {w for m in p.matched for w in m.split()} <= theme_words or not p.matched
            ]  # fmt: skip
        # In the row, the pictures there from the start come first and those named later after
        # them, in the order said: the row fills from the left as the sentence goes on.
        waits = dict(_reveals(picks, narration, layout))
        picks = picks[:1] + sorted(picks[1:], key=lambda p: waits.get(p.key, -1))
        # A tip that lists its things after a colon ("For a stronger core: a plank, dead bugs
        # and glute bridges") shows them as equals: as a row under the first, the dead bug and
        # the bridge were too small to tell apart.
        after = next((k for k, w in enumerate(narration.split()) if w.endswith(":")), None)
        listed = (
            kind in ("list_item", "step") and not then and after is not None and len(picks) >= 3
            and all((said_at(p, narration) or -1) > after for p in picks)
        )  # fmt: skip
        # A list with nothing said after it ("a plank, 10 dead bugs and 15 glute bridges")
        # is there whole from the start; one that goes on ("... waterfalls are quiet if you
        # arrive before nine") keeps its later pictures for their words (a shushing face and
        # a clock over "Skip the crowded beaches" gave the tip away).
        whole = listed and all(
            (said_at(p, narration) or 0) < _list_end(narration, after or 0) for p in picks
        )
        lands, lands_word = None, None
        if spoken is not None and layout in _BEATS:
            if then_word is None:
                # On the number's own word: viewers called a figure a word later "late".
                lands, then_word = str(wanted).strip(), spoken[0]
            elif spoken[1] <= then_word:
                lands = str(wanted).strip()  # said before the cut: it lands, and stays on
            lands_word = spoken[0] if lands else None
        out.append(
            SceneVisual(
                index=i, kind=kind, layout=layout, pictures=tuple(picks), headline=headline,
                number=number if layout in ("list_item", "step") else None, hue=hue,
                accent=accent, backdrop=stops,
                count=totals.get(kind) if layout in ("list_item", "step") else None,
                variant=(i + offset) % len(PATTERNS), then=then, then_word=then_word,
                lands=lands, lands_word=lands_word, even=places or listed,
                compares=bool(then and then_word is not None and _COMPARES.match(
                    " ".join(narration.split()[then_word:]).lower())),
                # The places an opening names are all there from its first frame, pushing in
                # (one flag in a corner of an empty frame was a weak first second, twice), and
                # so are a tip's listed moves: popping in on their names, the plank sat alone
                # off-centre for 3.6 s (two viewers), and the routine is one card to save.
                reveals=()
                if places or whole
                else _reveals(picks, narration, layout) + _reveals(then, narration, layout),
            )
        )  # fmt: skip
    return out


def beat_times(
    visuals: Sequence[SceneVisual],
    narrations: Sequence[str],
    words: Sequence[Any],
    *,
    landing: bool = False,
) -> list[float | None]:
    """When each scene's second beat starts: the start of its ``then_word`` (``landing``: its
    ``lands_word``) in ``words`` (the captions' timed words, the script's words in order), or
    None (no beat, or the timings do not line up with the script: then the scene stays one
    shot)."""
    out: list[float | None] = []
    offset = 0
    for visual, narration in zip(visuals, narrations, strict=True):
        index = visual.lands_word if landing else visual.then_word
        out.append(_word_start(narration, index, words, offset))
        offset += _spoken_count(narration)
    return out


def reveal_times(
    visuals: Sequence[SceneVisual], narrations: Sequence[str], words: Sequence[Any]
) -> list[dict[str, float]]:
    """Per scene, when each picture in its ``reveals`` comes (the start of the word naming it
    in ``words``); a picture whose word does not line up with the script is left out (it is
    there from the scene's start)."""
    out: list[dict[str, float]] = []
    offset = 0
    for visual, narration in zip(visuals, narrations, strict=True):
        times: dict[str, float] = {}
        for key, index in visual.reveals:
            at = _word_start(narration, index, words, offset)
            if at is not None:
                times.setdefault(key, at)
        out.append(times)
        offset += _spoken_count(narration)
    return out


def _spoken_count(narration: str) -> int:
    return sum(1 for w in narration.split() if any(ch.isalnum() for ch in w))


def _word_start(
    narration: str, index: int | None, words: Sequence[Any], offset: int
) -> float | None:
    """When ``narration.split()[index]`` starts in ``words`` (the video's timed words, from the
    scene's first at ``offset``), or None when there is no index or the timings do not line up."""
    if index is None:
        return None
    tokens = [w for w in narration.split() if any(ch.isalnum() for ch in w)]
    before = _spoken_count(" ".join(narration.split()[:index]))
    k = offset + before
    if before < len(tokens) and k < len(words) and str(words[k].text) == tokens[before]:
        return float(words[k].start)
    return None


# A beat is worth a cut only when each side is long enough to see (words, ~0.35 s each).
_BEAT_MIN_WORDS = 4
_CLAUSE_BREAK = re.compile(r"[,:;]$")
_BEAT_KINDS = frozenset(("hook", "feature", "fact", "list_item", "step"))
# Words that end a list of things and go on to say something of them.
_LIST_ENDS = frozenset(("are", "is", "if", "when", "so", "stay", "stays", "get", "gets"))


def _list_end(narration: str, after: int) -> int:
    """The word a list that starts after word ``after`` ends at: where the sentence goes on to
    say something of its things ("... and waterfalls | are quiet"), else its end."""
    words = narration.lower().split()
    return next((k for k in range(after + 1, len(words)) if words[k] in _LIST_ENDS), len(words))


# A clause weighing the thing against another: "lighter than a can of soda", "less than a full
# bottle of water", "as thin as a phone", "thin enough for the laptop pocket of your backpack"
# (the folded kettle shrank to an icon beside the laptop).
_COMPARES = re.compile(
    r"(?:(?:lighter|heavier|smaller|bigger|thinner|less|more|quieter|louder)\s+than"
    r"|as\s+\w+\s+as|\w+\s+enough\s+(?:for|to))\b"
)


def _clause_breaks(narration: str) -> list[int]:
    """The words a sentence's later clauses may start at ("..., | so a busy train ..."), first
    to last, where both sides are long enough to be a shot of their own."""
    words = narration.split()
    return [
        k
        for k in range(_BEAT_MIN_WORDS, len(words) - _BEAT_MIN_WORDS + 1)
        if _CLAUSE_BREAK.search(words[k - 1])
    ]


def _second_beat(
    narration: str,
    cut: int | None,
    picks: Sequence[lib.Illustration],
    fallback: lib.Illustration | None,
    layout: str,
    earlier: Set[str] = frozenset(),
    ahead: Set[str] = frozenset(),
) -> tuple[tuple[lib.Illustration, ...], int | None]:
    """The pictures of what a sentence says after its clause break (``cut``), and the word
    they start at: "The HushBuds cut noise by 30 decibels, | so a busy train sounds like a
    library" shows a train and books from "so" on. Nothing when the second clause names
    nothing new, or the layout shows several pictures at once already."""
    if cut is None or layout not in _BEATS:
        return (), None
    shown = {p.key for p in picks} | ({fallback.key} if fallback else set()) | set(earlier)
    rest = unnegated(" ".join(narration.split()[cut:]))
    tail = [
        p for p in _in_order(lib.choose([], rest, limit=4), rest)
        if not p.fallback and p.key not in shown
    ]  # fmt: skip
    # What the next scene is about (``ahead``) is never this shot's big picture, only a small
    # one beside it: the next scene leads with it ("a plank, ..." after "... a plank and
    # jumping jacks") and the plank is still on screen as it is said here.
    lead = next((p for p in tail if p.key not in ahead), None)
    if lead is None:
        return (), None
    # Not what the lead drawing shows already (a chair beside the squat over one).
    others = [p for p in tail if p is not lead and p.key not in lib.shown_in(lead)]
    room = 2 if any(p.key in ahead for p in others) else 1
    chosen = {p.key for p in sorted(others, key=lambda p: p.key not in ahead)[:room]}
    return (lead, *(p for p in others if p.key in chosen)), cut


# -- contrast -----------------------------------------------------------------------------------


def _channel(value: int) -> float:
    v = value / 255
    return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4


def luminance(rgb: Sequence[int]) -> float:
    """WCAG relative luminance of an sRGB colour: 0 for black, 1 for white."""
    r, g, b = (_channel(int(c)) for c in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a: float, b: float) -> float:
    """WCAG contrast ratio of two luminances (1..21); 3 is the floor for large graphics."""
    return (max(a, b) + 0.05) / (min(a, b) + 0.05)


# -- drawing -------------------------------------------------------------------------------------


def fit_text(text: str, max_width: float, max_lines: int, size: int) -> tuple[int, list[str]]:
    """The largest size <= ``size`` at which ``text`` wraps into ``max_lines`` lines of
    ``max_width``; it keeps shrinking rather than cut anything (nothing is ever ellipsised)."""
    text = clean_text(text)
    words = text.split()
    while True:
        lines = wrap(text, size, max_width)
        # Every word whole on its line ("CENTIMET / ERS" is cut too).
        if (
            len(lines) <= max_lines
            and all(line_width(x, size) <= max_width for x in lines)
            and all(line_width(w, size) <= max_width for w in words)
        ) or size <= 8:
            return size, _balanced(lines, size)
        size = max(8, int(size * 0.92))


def _balanced(lines: list[str], size: int) -> list[str]:
    """Two greedy lines re-broken where they balance ("Home workout: 4 / ideas" becomes
    "Home workout: / 4 ideas"); other counts as they are."""
    if len(lines) != 2 or "\n" in " ".join(lines):
        return lines
    words = " ".join(lines).split()
    best = min(
        range(1, len(words)),
        key=lambda k: max(
            line_width(" ".join(words[:k]), size), line_width(" ".join(words[k:]), size)
        ),
    )
    return [" ".join(words[:best]), " ".join(words[best:])]


def _text_block(
    lines: Sequence[str],
    size: int,
    fill: RGB,
    *,
    stroke: float = 0.08,
    heavy: bool = False,
    outline: RGB = (10, 10, 14),
) -> Image.Image:
    """Centred lines with an outline and soft shadow, as a tight RGBA image (``heavy``: Roboto
    Black for the big figures)."""
    chain = list(font_chain())
    if heavy:
        chain[0] = font_path("Black")
    font0 = _font(chain[0], size)
    ascent, descent = font0.getmetrics()
    line_h = round((ascent + descent) * (0.98 if heavy else 1.1))
    sw = max(1, round(size * stroke)) if stroke > 0 else 0
    blur = max(1, round(size * 0.07))
    pad = sw + 3 * blur + 4
    widths = [
        sum(_font(chain[run.font], size).getlength(run.text) for run in visual_runs(line))
        for line in lines
    ]
    w = int(max(widths, default=1)) + 2 * pad
    h = line_h * len(lines) + 2 * pad
    layer = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    for outlined in (True, False) if sw else (False,):
        for row, (line, lw) in enumerate(zip(lines, widths, strict=True)):
            x = (w - lw) / 2
            for run in visual_runs(line):
                font = _font(chain[run.font], size)
                draw.text(
                    (x, pad + row * line_h + ascent), run.text, font=font, anchor="ls",
                    fill=(*outline, 255) if outlined else (*fill, 255),
                    stroke_width=sw if outlined else 0, stroke_fill=(*outline, 255),
                )  # fmt: skip
                x += font.getlength(run.text)
    shade = Image.new("RGBA", layer.size, (0, 0, 0, 0))
    alpha = layer.getchannel("A").filter(ImageFilter.GaussianBlur(blur)).point(lambda v: v * 0.55)
    shade.paste((0, 0, 0, 255), (0, max(1, size // 20)), alpha)
    out = Image.alpha_composite(shade, layer)
    box = out.getchannel("A").getbbox()
    return out.crop(box) if box else out


def _shadowed(image: Image.Image) -> Image.Image:
    """The picture over a soft drop shadow (the canvas grows by a margin on each side)."""
    margin = max(4, image.width // 12)
    canvas = Image.new("RGBA", (image.width + 2 * margin, image.height + 2 * margin))
    alpha = image.getchannel("A").point(lambda v: v * 0.45)
    shadow = Image.new("RGBA", image.size, (0, 0, 0, 0))
    shadow.putalpha(alpha)
    blurred = Image.new("RGBA", canvas.size, (0, 0, 0, 0))
    blurred.paste(shadow, (margin, margin + margin // 2))
    canvas = Image.alpha_composite(canvas, blurred.filter(ImageFilter.GaussianBlur(margin / 2)))
    canvas.alpha_composite(image, (margin, margin))
    return canvas


@dataclass(frozen=True)
class Block:
    """One thing a card draws: its image and its solid part (relative to the image), the part
    no other block may touch (a glow or shadow around it may)."""

    role: str  # picture | stat | heading | chip | pill | badge
    image: Image.Image
    solid: tuple[int, int, int, int]

    @property
    def w(self) -> int:
        return self.solid[2] - self.solid[0]

    @property
    def h(self) -> int:
        return self.solid[3] - self.solid[1]


def _tight(role: str, image: Image.Image) -> Block:
    box = image.getchannel("A").point(lambda a: 255 if a > 24 else 0).getbbox()
    return Block(role, image, box or (0, 0, image.width, image.height))


@dataclass(frozen=True)
class Placed:
    """A block on the frame: its image's corner and its solid box, in frame pixels."""

    role: str
    image: Image.Image
    x: int
    y: int
    box: tuple[int, int, int, int]


def _place(block: Block, cx: float, top: float) -> Placed:
    """``block`` with its solid part centred on ``cx`` and starting at ``top``."""
    x = round(cx - (block.solid[0] + block.solid[2]) / 2)
    y = round(top - block.solid[1])
    s = block.solid
    return Placed(block.role, block.image, x, y, (x + s[0], y + s[1], x + s[2], y + s[3]))


def _stack(
    blocks: Sequence[Block], cx: float, top: float, bottom: float, gap: float
) -> list[Placed]:
    """Blocks one under the other, centred as a group between ``top`` and ``bottom``."""
    height = sum(b.h for b in blocks) + gap * max(0, len(blocks) - 1)
    y = top + max(0.0, (bottom - top - height) / 2)
    out = []
    for block in blocks:
        out.append(_place(block, cx, y))
        y += block.h + gap
    return out


def _row(blocks: Sequence[Block], left: float, right: float, cy: float, gap: float,
         lifts: Sequence[float] = ()) -> list[Placed]:  # fmt: skip
    """Blocks side by side, centred as a group across ``left``..``right`` around ``cy``."""
    width = sum(b.w for b in blocks) + gap * max(0, len(blocks) - 1)
    x = left + max(0.0, (right - left - width) / 2)
    out = []
    for k, block in enumerate(blocks):
        lift = lifts[k] if k < len(lifts) else 0.0
        out.append(_place(block, x + block.w / 2, cy - block.h / 2 + lift))
        x += block.w + gap
    return out


def _sticker(visual: SceneVisual, raster: lib.Rasterizer, picture: lib.Illustration, size: float,
           *, main: bool = True) -> Block:  # fmt: skip
    """The picture as a sticker: in full colour, nearly the whole ``size``, cut out with a white
    border and a soft shadow, on a faint glow of the scene's accent. A disc or tile behind it
    made every scene an app icon (a blind viewer's words); the border stands any picture, dark
    or light, off any backdrop."""
    size = max(16, int(size))
    margin = round(size * 0.14)
    full = size + 2 * margin
    layer = Image.new("RGBA", (full, full), (0, 0, 0, 0))
    accent = _rgb(visual.accent)
    if main:
        glow = Image.new("L", (full, full), 0)
        inset = round(size * 0.02)
        ImageDraw.Draw(glow).ellipse((margin + inset, margin + inset, full - margin - inset,
                                      full - margin - inset), fill=255)  # fmt: skip
        glow = glow.filter(ImageFilter.GaussianBlur(size * 0.12))
        layer.paste((*_light(accent), 255), (0, 0), glow.point(lambda v: v * 0.30))
    art = raster.image(picture, round(size * 0.9))
    border = max(2, round(size * 0.035))
    pad = border * 3
    alpha = Image.new("L", (art.width + 2 * pad, art.height + 2 * pad), 0)
    alpha.paste(art.getchannel("A"), (pad, pad))
    # A dilation by ``border``: blur, then a hard threshold (a rank filter that wide is far
    # slower), then a half-pixel blur: the border's edge is anti-aliased and still crisp (a
    # ramp on the blur's tail spread the edge over several pixels).
    grown = (
        alpha.filter(ImageFilter.GaussianBlur(border * 0.6))
        .point(lambda v: 255 if v > 6 else 0)
        .filter(ImageFilter.GaussianBlur(0.5))
    )
    sticker = Image.new("RGBA", alpha.size, (0, 0, 0, 0))
    shadow = grown.filter(ImageFilter.GaussianBlur(border * 1.2)).point(lambda v: v * 0.5)
    sticker.paste((0, 0, 0, 255), (0, 0), shadow)
    sticker = ImageChops.offset(sticker, 0, max(2, border // 2))
    sticker.paste((255, 255, 255, 255), (0, 0), grown)
    sticker.alpha_composite(art, (pad, pad))
    layer.alpha_composite(sticker, ((full - sticker.width) // 2, (full - sticker.height) // 2))
    return Block("picture", layer, (margin, margin, margin + size, margin + size))


_STAT = re.compile(
    r"^\s*(?P<pre>(?:under|over|up to|less than|more than|only|just|about|nearly|almost)\s+)?"
    # "%" and "°" stay with the number ("100°"): under it, a lone "°" read as a stray dot.
    r"(?P<num>[$\u20ac\u00a3]?\d[\d.,]*(?:[KkMmBb%x\u00d7\u00b0])?)\s*(?P<unit>[^\d]{0,24})$",
    re.IGNORECASE,
)


def stat_parts(headline: str | None) -> tuple[str, str, str] | None:
    """A figure headline as (prefix, number, unit): "30 decibels" -> ("", "30", "decibels"),
    "Under 25 s" -> ("under", "25", "s"); None for a headline that is not a figure."""
    if not headline:
        return None
    match = _STAT.match(headline.strip())
    if match is None or len(match.group("unit").split()) > 3:
        return None
    return (match.group("pre") or "").strip(), match.group("num"), match.group("unit").strip()


_UNIT_WORDS = {
    "s": "seconds", "sec": "seconds", "h": "hours", "hr": "hours", "hrs": "hours",
    "min": "minutes", "g": "grams", "m": "meters",
}  # fmt: skip
_SYMBOL_UNITS = frozenset(("dB", "mAh", "kWh", "ml", "mm"))


def unit_label(unit: str) -> str:
    """How a figure's unit is written under it: capitals, short units spelt out, a symbol in
    its own case ("DB" is not decibels, "dB" is)."""
    unit = _UNIT_WORDS.get(unit.lower(), unit)
    return unit if unit in _SYMBOL_UNITS else unit.upper()


def _stat(parts: tuple[str, str, str], max_w: float, size: int, colour: RGB) -> Block:
    """The figure as a graphic: the number huge (Roboto Black, the accent), the unit smaller
    beneath it in capitals, any "under"/"over" small above it."""
    pre, number, unit = parts
    # A lone "S" under a figure reads as a letter, not a unit ("G" as giga, "HRS" as an
    # abbreviation to decode): short units are spelt out.
    unit = unit_label(unit) if unit else unit
    size = min(size, round(size * max_w / max(1.0, line_width(number, size) * 1.12)))
    pieces: list[Image.Image] = []
    small = max(8, round(size * 0.34))
    if pre:
        s, lines = fit_text(pre.upper(), max_w, 1, small)
        pieces.append(_text_block(lines, s, (255, 255, 255), stroke=0.1))
    pieces.append(_text_block([number], size, colour, stroke=0.035, heavy=True))
    if unit:
        s, lines = fit_text(unit, max_w, 2, small)
        pieces.append(_text_block(lines, s, (255, 255, 255), stroke=0.1))
    gap = round(size * 0.02)
    w = max(p.width for p in pieces)
    h = sum(p.height for p in pieces) + gap * (len(pieces) - 1)
    image = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    y = 0
    for piece in pieces:
        image.alpha_composite(piece, ((w - piece.width) // 2, y))
        y += piece.height + gap
    return _tight("stat", image)


def _chip(text: str, size: int, fill: RGB, max_width: float | None = None) -> Block:
    """A label on a solid rounded pill ("2 / 4", "STEP 2"): dark type on the accent, smaller
    when it would be wider than ``max_width``."""
    font = _font(font_path("Black"), size)
    tw = font.getlength(text)
    if max_width is not None and tw + 1.4 * size > max_width:
        size = max(8, int(size * max_width / (tw + 1.4 * size)))
        font = _font(font_path("Black"), size)
        tw = font.getlength(text)
    pad_x, pad_y = round(size * 0.7), round(size * 0.32)
    w, h = round(tw + 2 * pad_x), round(size * 0.72 + 2 * pad_y)
    margin = round(size * 0.25)
    image = Image.new("RGBA", (w + 2 * margin, h + 2 * margin), (0, 0, 0, 0))
    shadow = Image.new("L", image.size, 0)
    ImageDraw.Draw(shadow).rounded_rectangle(
        (margin, margin + margin // 2, margin + w, margin + h + margin // 2),
        radius=h // 2,
        fill=150,
    )
    image.paste((0, 0, 0, 255), (0, 0), shadow.filter(ImageFilter.GaussianBlur(margin / 2)))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle(
        (margin, margin, margin + w, margin + h), radius=h // 2, fill=(*fill, 255)
    )
    draw.text(
        (margin + w / 2, margin + h / 2), text, font=font, anchor="mm", fill=(16, 16, 22, 255)
    )
    return Block("chip", image, (margin, margin, margin + w, margin + h))


def _badge_text(text: str, size: int, accent: RGB) -> Image.Image:
    d = int(size * 2.2)
    layer = Image.new("RGBA", (d, d), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    draw.ellipse((0, 0, d - 1, d - 1), fill=(255, 255, 255, 255))
    draw.ellipse((4, 4, d - 5, d - 5), fill=(*accent, 255))
    draw.text((d / 2, d / 2), text, font=_font(font_path("Black"), size), anchor="mm",
              fill=(255, 255, 255, 255))  # fmt: skip
    return layer


def _pill(text: str, max_width: float, size: int, accent: RGB) -> Image.Image:
    """A call-to-action button: the headline on an accent pill (shrunk to fit, never cut)."""
    size, lines = fit_text(text, max_width * 0.86, 2, size)
    block = _text_block(lines, size, (255, 255, 255), stroke=0.04)
    pad_x, pad_y = round(size * 0.8), round(size * 0.35)
    w, h = block.width + 2 * pad_x, block.height + 2 * pad_y
    layer = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    r, g, b = accent
    dark = (round(r * 0.55), round(g * 0.55), round(b * 0.55), 235)
    ImageDraw.Draw(layer).rounded_rectangle(
        (0, 0, w - 1, h - 1), radius=min(h // 2, size), fill=dark, outline=(*accent, 255),
        width=max(2, size // 12),
    )  # fmt: skip
    layer.alpha_composite(block, (pad_x, pad_y))
    return layer


@dataclass(frozen=True)
class Card:
    """One scene's card: an RGBA image and where its corner goes on the frame."""

    image: Image.Image
    x: int
    y: int
    start: float
    end: float
    # How it comes in: ``POP_SCALES`` (the default), or (1.0,) for a card that changes in
    # place (a picture popping in on its own, a scene's later shot): no whole-card pop.
    pop: tuple[float, ...] = ()


def _light(accent: RGB) -> RGB:
    r, g, b = accent
    return round(r * 0.75 + 64), round(g * 0.75 + 64), round(b * 0.75 + 64)


def layout_scene(
    visual: SceneVisual, frame: Frame, rasterizer: lib.Rasterizer | None = None
) -> list[Placed]:
    """Where each of the scene's blocks goes (pictures as stickers, the figure, the number chip,
    a heading), laid out for ``frame``: stacked in tall frames, text beside the pictures in
    square and wide ones. Solid boxes never overlap and stay inside the content area."""
    return _layout(visual, frame, rasterizer)[0]


def _layout(
    visual: SceneVisual, frame: Frame, rasterizer: lib.Rasterizer | None = None
) -> tuple[list[Placed], dict[int, str]]:
    """``layout_scene``, and each picture's key by the id of its sticker's image."""
    raster = rasterizer or lib.Rasterizer()
    W = frame.width
    top, bottom = frame.content_top, frame.content_bottom
    left, right = frame.left, frame.right
    avail_w, avail_h = right - left, bottom - top
    wide = frame.wide
    base = min(float(W), frame.height * 0.5625) if not wide else min(avail_w * 0.5, avail_h * 0.9)
    accent = _rgb(visual.accent)
    light = _light(accent)
    gap = round(0.025 * frame.height)
    layout, pics = visual.layout, visual.pictures
    text_w = avail_w * (0.44 if wide else 1.0)
    # Text sizes are fractions of ``tb``: in square and wide frames the text has a column of
    # its own beside the pictures, and fills it (every block still shrinks to its width).
    tb = base * (1.7 if wide else 1.0)

    texts: list[Block] = []  # above the pictures (tall) or in the left column (wide)
    after: list[Block] = []  # below the pictures (tall)
    stat = stat_parts(visual.headline)
    if layout in ("list_item", "step") and visual.number is not None:
        if layout == "step":
            label = f"STEP {visual.number}"
        elif visual.count:
            label = f"{visual.number} / {visual.count}"
        else:
            label = f"#{visual.number}"
        texts.append(_chip(label, max(8, round(tb * 0.075)), light, text_w))
    if visual.headline and layout not in ("cta",):
        if stat is not None and layout in ("fact", "fact-side", "fact-below", "list_item", "hook"):
            scale = {"hook": 0.15, "list_item": 0.16}.get(layout, 0.22)
            block = _stat(stat, text_w * (0.46 if layout == "fact-side" else 0.9),
                          max(8, round(tb * scale)), light)  # fmt: skip
        else:
            ratio = 0.1 if layout == "hook" else 0.085
            size, lines = fit_text(visual.headline, text_w * 0.92, 2, max(8, round(tb * ratio)))
            block = _tight("heading", _text_block(lines, size, (255, 255, 255)))
        # A figure goes under a list item's picture; a heading over it, with the number chip
        # (under it, it ran into the caption right below).
        below = layout == "fact-below" or (layout == "list_item" and stat is not None)
        (after if below and not wide else texts).append(block)
    if layout == "cta" and visual.headline:
        # The product's name on a button under its picture.
        size = max(8, round(tb * 0.07))
        after.append(_tight("pill", _pill(visual.headline, text_w, size, accent)))
    side = layout == "fact-side" and not wide
    if side:
        texts, after = [], [*texts, *after]
    text_h = sum(b.h for b in texts + after) + gap * len(texts + after)
    room_h = avail_h - (0 if wide or side else text_h)
    room_w = avail_w * (0.52 if wide and (texts or after) else 1.0)
    if side:
        room_w = avail_w - max(b.w for b in after) - gap

    # Pictures are fractions of ``pb``: in square and wide frames they have the right-hand
    # column and the frame's height to themselves (the limits below keep them in it).
    pb = base * (1.4 if wide else 1.0)

    sticker_keys: dict[int, str] = {}  # id of a sticker's image -> its picture's key

    def sticker(k: int, pref: float, *, main: bool = True) -> Block:
        block = _sticker(visual, raster, pics[k], pref, main=main)
        sticker_keys[id(block.image)] = pics[k].key
        return block

    groups: list[list[Block]] = []  # rows of pictures, top to bottom
    extras = not wide and not side and layout in _EXTRAS_BELOW and len(pics) > 1
    if layout == "clip":
        pass
    elif extras and visual.even:
        # Places an opening names, at one size, two to a row (three across a tall frame
        # were a fifth of its width each), filling as they are said.
        n = min(len(pics), MAX_PICTURES)
        rows = (n + 1) // 2
        each = min(0.4 * pb, (room_w - 2 * gap) / 2 * 0.9, (room_h - gap * (rows - 1)) / rows)
        # No glow behind equals: side by side, their glows met in soft squares.
        groups = [
            [sticker(k, each, main=False) for k in range(r, min(n, r + 2))] for r in range(0, n, 2)
        ]
        flat = [_tight("picture", b.image) for g in groups for b in g]
        if all(b.h <= b.w * 0.7 for b in flat):
            # Moves done lying down (a plank, a dead bug, a bridge) are wide and low: laid out
            # by what is drawn, not by their square, they fill the row's width ("three small
            # figures on a mostly empty screen").
            ratio = max(b.h / b.w for b in flat)
            width = min((room_w - 2 * gap) / 2, (room_h - gap * (rows - 1)) / rows / ratio)
            scale = width / max(b.w for b in flat)
            if scale > 1.05:
                groups = [
                    [_tight("picture", sticker(k, each * scale, main=False).image)
                     for k in range(r, min(n, r + 2))]
                    for r in range(0, n, 2)
                ]  # fmt: skip
    elif extras:
        # The other things the sentence names, small, in a row under its main picture ("a
        # plank, dead bugs, glute bridges"): above the caption, clear of the platform's own
        # text at the bottom of the screen.
        big = min(0.56 * pb, room_w * 0.8, room_h * 0.6)
        small = min(0.25 * pb, room_h * 0.3, (room_w - gap) * 0.4)
        if layout == "hook":
            # The opening's subject stays big (at least 40% of the width) over what it names.
            big = min(0.66 * pb, room_w * 0.9, room_h * 0.72 - gap / 2)
            small = min(0.2 * pb, room_h * 0.28 - gap / 2, (room_w - gap) * 0.4)
        row = min(len(pics), MAX_PICTURES) - 1
        # The row's first picture (a product video's product, beside what a fact names) is a
        # size larger than the rest: viewers saw the product shrink to a corner icon.
        lead = 1.0 if layout in ("hook", "cta") else 1.4
        small = min(small, (room_w - 2 * gap * (row - 1)) / (row + lead - 1) * 0.9)
        first = min(small * lead, room_h * 0.38, max(small, big * 0.7))
        big = min(big, room_h - first - gap)
        groups = [
            [sticker(0, big)],
            [sticker(1, first, main=False)]
            + [sticker(k, small, main=False) for k in range(2, row + 1)],
        ]
    elif layout in ("hook", "cta"):
        groups = [[sticker(0, min(0.66 * pb, room_w, room_h * 0.96))]]
    elif layout in ("feature", "feature-offset", "fact", "fact-below", "fact-side", "step",
                    "list_item"):  # fmt: skip
        pref = {"fact": 0.5, "fact-below": 0.5, "fact-side": 0.46}.get(layout, 0.62)
        groups = [[sticker(0, min(pref * pb, room_w * 0.94, room_h * 0.96))]]
    elif layout in ("pair", "comparison"):
        each = min(0.44 * pb, (room_w - gap) * (0.4 if layout == "comparison" else 0.45),
                   room_h * 0.86)  # fmt: skip
        groups = [[sticker(0, each), sticker(1, each)]]
    elif layout == "trio":
        big = min(0.46 * pb, room_h * 0.5, room_w * 0.6)
        small = min(0.34 * pb, room_h * 0.36, (room_w - gap) * 0.45)
        groups = [[sticker(0, big)], [sticker(1, small, main=False), sticker(2, small, main=False)]]
    placed: list[Placed] = []
    pic_h = sum(max(b.h for b in g) for g in groups) + gap * max(0, len(groups) - 1)
    if wide:
        col_l, col_r = (left, left + avail_w * 0.46) if texts or after else (left, left)
        placed += _stack([*texts, *after], (col_l + col_r) / 2, top, bottom, gap)
        px0 = col_r + (avail_w * 0.04 if texts or after else 0)
        y = top + max(0.0, (avail_h - pic_h) / 2)
        for g in groups:
            row_h = max(b.h for b in g)
            placed += _row(g, px0, right, y + row_h / 2, gap)
            y += row_h + gap
    elif side:
        # The figure beside its picture, the pair centred in the content area.
        placed += _row([groups[0][0], *after], left, right, (top + bottom) / 2, gap)
    else:
        total = text_h + pic_h
        y = top + max(0.0, (avail_h - total) / 2)
        cx = (left + right) / 2
        for block in texts:
            placed.append(_place(block, cx, y))
            y += block.h + gap
        for g in groups:
            row_h = max(b.h for b in g)
            shift = 0.0
            if layout == "feature-offset":
                shift = (1 if visual.index % 2 else -1) * min(0.08 * W, (avail_w - row_h) / 2)
            lifts = [-0.06 * row_h, 0.06 * row_h] if layout == "pair" else []
            placed += _row(g, left + shift, right + shift, y + row_h / 2, gap * 2, lifts)
            y += row_h + gap
        for block in after:
            placed.append(_place(block, cx, y))
            y += block.h + gap
    if visual.hidden or visual.growing:
        placed = _drawn_now(visual, placed, sticker_keys)
    if visual.morph is not None:
        # After leaving out what is not drawn yet: a morphed picture is a new image, which
        # ``_drawn_now`` would no longer know (pictures named later flashed up as it glided).
        placed = _morphed(visual.morph, placed, sticker_keys, frame, raster)
    if layout == "comparison" and len(placed) >= 2:
        a, b = [p for p in placed if p.role == "picture"][:2]
        vs = _tight("badge", _badge_text("VS", max(8, round(base * 0.05)), accent))
        gap_w = b.box[0] - a.box[2]
        if vs.w < gap_w:
            cy = (a.box[1] + a.box[3] + b.box[1] + b.box[3]) / 4
            placed.append(_place(vs, (a.box[2] + b.box[0]) / 2, cy - vs.h / 2))
    return placed, sticker_keys


def _about_centre(item: Placed, image: Image.Image) -> Placed:
    """``item`` drawn as ``image`` (resized) about the same centre."""
    cx, cy = item.x + item.image.width / 2, item.y + item.image.height / 2
    return Placed(item.role, image, round(cx - image.width / 2), round(cy - image.height / 2),
                  item.box)  # fmt: skip


def _morphed(
    morph: tuple[SceneVisual, float],
    placed: list[Placed],
    keys: Mapping[int, str],
    frame: Frame,
    raster: lib.Rasterizer,
) -> list[Placed]:
    """``placed`` part of the way (``morph[1]``) from where ``morph[0]`` lays the same pictures
    out: each picture slides and scales between its two places; what only this layout has (the
    figure) grows in as it goes."""
    source, t = morph
    ease = t * t * (3 - 2 * t)
    earlier, their_keys = _layout(
        replace(source, morph=None, hidden=frozenset(), growing=None), frame, raster
    )
    before = {their_keys[id(p.image)]: p for p in earlier if id(p.image) in their_keys}
    out = []
    for item in placed:
        key = keys.get(id(item.image))
        start = before.get(key) if key is not None else None
        if start is not None:
            w0, w1 = start.image.width, item.image.width
            scale = (w0 + (w1 - w0) * ease) / max(1, w1)
            size = (
                max(2, round(item.image.width * scale)),
                max(2, round(item.image.height * scale)),
            )
            image = item.image.resize(size, Image.Resampling.BILINEAR)  # opaque as it slides
            # Its centre on the way from where it was: ``item`` moved back by what is left.
            dx = (start.x + w0 / 2 - item.x - w1 / 2) * (1 - ease)
            dy = (start.y + start.image.height / 2 - item.y - item.image.height / 2) * (1 - ease)
            moved = Placed(item.role, item.image, round(item.x + dx), round(item.y + dy), item.box)
            item = _about_centre(moved, image)
        elif item.role == "stat":
            item = _about_centre(item, _scaled(item.image, 0.6 + 0.4 * ease))
        out.append(item)
    return out


def _drawn_now(visual: SceneVisual, placed: list[Placed], keys: Mapping[int, str]) -> list[Placed]:
    """``placed`` as drawn at one moment of a building-up scene: its hidden pictures left out
    (their room kept, so nothing moves when they come) and its growing one scaled about its
    centre."""
    out = []
    for item in placed:
        key = keys.get(id(item.image))
        if key is not None and key in visual.hidden:
            continue
        if key is not None and visual.growing is not None and key == visual.growing[0]:
            item = _about_centre(item, _scaled(item.image, visual.growing[1]))
        out.append(item)
    return out


def scene_card(
    visual: SceneVisual,
    frame: Frame,
    *,
    start: float,
    end: float,
    rasterizer: lib.Rasterizer | None = None,
) -> Card | None:
    """The scene's blocks (``layout_scene``) drawn on one transparent card at output size."""
    items = layout_scene(visual, frame, rasterizer)
    if not items:
        return None
    x0 = min(p.x for p in items)
    y0 = min(p.y for p in items)
    x1 = max(p.x + p.image.width for p in items)
    y1 = max(p.y + p.image.height for p in items)
    canvas = Image.new("RGBA", (x1 - x0, y1 - y0), (0, 0, 0, 0))
    for p in items:
        canvas.alpha_composite(p.image, (p.x - x0, p.y - y0))
    # Keep what is inside the frame; even corners and sizes for yuv420 chroma.
    left, top = max(0, x0) // 2 * 2, max(0, y0) // 2 * 2
    w = (min(frame.width, x1) - left) // 2 * 2
    h = (min(frame.height, y1) - top) // 2 * 2
    if w <= 0 or h <= 0:
        return None
    canvas = canvas.crop((left - x0, top - y0, left - x0 + w, top - y0 + h))
    return Card(canvas, left, top, start, end)


# Layouts that draw one big picture: a scene's further pictures go in a row under it.
# Layouts whose scene may cut to a second beat (not the call to action: it holds the subject).
_BEATS = frozenset(("hook", "feature", "feature-offset", "fact", "fact-below", "fact-side",
                    "step", "list_item"))  # fmt: skip
_EXTRAS_BELOW = _BEATS | {"cta"}


# -- the backdrop ---------------------------------------------------------------------------------

# Backdrop patterns, one per scene in turn (neighbours never share one).
PATTERNS = ("dots", "scatter", "lines", "rings")


def _hsv(h: float, s: float, v: float) -> RGB:
    r, g, b = colorsys.hsv_to_rgb(h % 1.0, max(0.0, min(1.0, s)), max(0.0, min(1.0, v)))
    return round(r * 255), round(g * 255), round(b * 255)


def scene_backdrop(
    visual: SceneVisual,
    frame: Frame,
    *,
    position: int,
    count: int,
    related: Sequence[lib.Illustration] = (),
    focus: tuple[float, float] | None = None,
    rasterizer: lib.Rasterizer | None = None,
) -> Image.Image:
    """A calm, clearly designed backdrop at output size, drawn once per scene: a two-colour
    gradient of the scene's hue, a soft light behind the main picture (``focus``), a faint
    pattern (dots, diagonal lines, rings around the picture, or a scatter of the scene's and
    the video's pictures) that fades out behind the captions, and a segmented progress bar
    at the top (this scene's ``position`` of ``count``)."""
    raster = rasterizer or lib.Rasterizer()
    W, H = frame.width, frame.height
    hue = _backdrop_hue(visual.hue)
    pattern = PATTERNS[visual.variant % len(PATTERNS)]
    top_c = _hsv(hue, 0.62, 0.36)
    bottom_c = _hsv(hue + 0.05, 0.8, 0.11)
    # The gradient runs top to bottom, tilted left or right by the scene's variant.
    small = (max(8, W // 8), max(8, H // 8))
    ramp = Image.linear_gradient("L").resize(small, Image.Resampling.BILINEAR)
    image = Image.composite(Image.new("RGB", small, bottom_c), Image.new("RGB", small, top_c), ramp)
    fx, fy = focus or (W / 2, (frame.content_top + frame.content_bottom) / 2)
    # The light behind the picture, in the accent colour.
    glow = Image.new("L", small, 0)
    r = min(W, H) * 0.42 / 8
    cx, cy = fx / 8, fy / 8
    ImageDraw.Draw(glow).ellipse((cx - r, cy - r, cx + r, cy + r), fill=120)
    glow = glow.filter(ImageFilter.GaussianBlur(r * 0.6))
    image.paste(_light(_rgb(visual.accent)), (0, 0), glow)
    # Vignette: the corners a little darker.
    vignette = Image.radial_gradient("L").resize(small, Image.Resampling.BILINEAR)
    image.paste((0, 0, 0), (0, 0), vignette.point(lambda v: max(0, v - 150) * 0.9))
    image = image.resize((W, H), Image.Resampling.BICUBIC)
    # The pattern, white and faint, kept off the caption band.
    mask = Image.new("L", (W, H), 0)
    draw = ImageDraw.Draw(mask)
    unit = min(W, H)
    if pattern == "dots":
        step = unit * 0.065
        dot = max(1.5, unit * 0.0055)
        row = 0
        y = step / 2
        while y < H:
            x = step / 2 + (step / 2 if row % 2 else 0)
            while x < W:
                draw.ellipse((x - dot, y - dot, x + dot, y + dot), fill=46)
                x += step
            y += step * 0.87
            row += 1
    elif pattern == "lines":
        step = unit * 0.06
        width = max(1, round(unit * 0.004))
        k = float(-H)
        while k < W + H:
            draw.line((k, 0, k + H * 0.6, H), fill=26, width=width)
            k += step
    elif pattern == "rings":
        width = max(1, round(unit * 0.004))
        radius = unit * 0.36
        while radius < max(W, H) * 1.2:
            draw.ellipse((fx - radius, fy - radius, fx + radius, fy + radius), outline=34,
                         width=width)  # fmt: skip
            radius += unit * 0.075
    # The pattern fades out above the caption band, the words read on a plain ground, and
    # comes back below it (under the platform's own caption and handle).
    fade_from = round(frame.content_bottom - 0.06 * H)
    fade_to = round(frame.content_bottom + 0.01 * H)
    band_end = round(H * (1 - frame.caption_bottom) + 0.01 * H)
    keep = Image.new("L", (W, H), 0)
    keep.paste(255, (0, 0, W, max(0, fade_from)))
    if fade_to > fade_from:
        ramp_down = Image.linear_gradient("L").rotate(180).resize((W, fade_to - fade_from))
        keep.paste(ramp_down, (0, fade_from))
    if band_end < H:
        ramp_up = Image.linear_gradient("L").resize((W, max(2, round(0.06 * H))))
        keep.paste(ramp_up.point(lambda v: v * 0.8), (0, band_end))
        keep.paste(204, (0, band_end + ramp_up.height, W, H))
    image.paste((255, 255, 255), (0, 0), ImageChops.multiply(mask, keep))
    if pattern == "scatter":
        pictures = list(dict.fromkeys([*visual.pictures, *related])) or list(visual.pictures)
        rng_seed = _hash(visual.picture.key, str(visual.index))
        size = max(8, round(unit * 0.12))
        step = unit * 0.2
        rows = int(H / step) + 1
        cols = int(W / step) + 1
        layer = Image.new("RGBA", (W, H), (0, 0, 0, 0))
        n = 0
        for row in range(rows):
            for col in range(cols):
                seed = _hash(str(rng_seed), str(row), str(col))
                x = (col + 0.5 + ((seed % 100) / 100 - 0.5) * 0.5) * step + (
                    step / 2 if row % 2 else 0
                )
                y = (row + 0.5 + (((seed // 100) % 100) / 100 - 0.5) * 0.5) * step
                art = raster.image(pictures[n % len(pictures)], size)
                n += 1
                angle = ((seed // 10000) % 50) - 25
                art = art.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True)
                faint = art.copy()
                faint.putalpha(art.getchannel("A").point(lambda a: a * 0.1))
                layer.alpha_composite(faint, (round(x - art.width / 2), round(y - art.height / 2)))
        layer.putalpha(ImageChops.multiply(layer.getchannel("A"), keep))
        image = Image.alpha_composite(image.convert("RGBA"), layer).convert("RGB")
    # Behind the captions the backdrop is plain and a little darker: the words read first.
    look_top = frame.content_bottom
    band_h = max(2, band_end - look_top)
    shade = Image.new("L", (W, H), 0)
    ramp = Image.linear_gradient("L").resize((W, band_h))
    shade.paste(ramp.point(lambda v: min(255, v * 3) * 0.3), (0, look_top))
    if band_end < H:
        shade.paste(77, (0, band_end, W, H))
    image.paste((0, 0, 0), (0, 0), shade)
    # Progress: one segment per scene, this one and those before it lit.
    if count > 1:
        draw_rgb = ImageDraw.Draw(image, "RGBA")
        y = round(H * (PROGRESS_AT if H > W else 0.05))
        thick = max(2, round(unit * 0.008))
        x0, x1 = frame.left, frame.right
        seg_gap = max(2, round(unit * 0.012))
        seg = (x1 - x0 - seg_gap * (count - 1)) / count
        for k in range(count):
            a = x0 + k * (seg + seg_gap)
            colour = (255, 255, 255, 230) if k <= position else (255, 255, 255, 70)
            draw_rgb.rounded_rectangle((a, y, a + seg, y + thick), radius=thick // 2, fill=colour)
    return image


# -- the one overlay track ------------------------------------------------------------------------


def _scaled(image: Image.Image, scale: float) -> Image.Image:
    if scale == 1.0:
        return image
    w, h = max(2, round(image.width * scale)), max(2, round(image.height * scale))
    small = image.resize((w, h), Image.Resampling.BILINEAR)
    if scale < 1:
        small.putalpha(small.getchannel("A").point(lambda v: round(v * min(1.0, scale))))
    return small


@dataclass(frozen=True)
class CardAnimation:
    """A card popping in (``POP_SCALES``, one frame each) and then held to its scene's end; the
    video's first card, whole from the first frame, pushes in slowly instead (``PUSH_IN``)."""

    card: Card
    fps: int

    def states(self, width: int, height: int) -> Iterator[tuple[Image.Image, float, int]]:
        frame = 1.0 / self.fps
        scene = self.card.end - self.card.start
        # The first card is whole from the first frame: a feed's preview and a viewer's first
        # glance get the finished picture, not a ghost of it popping in.
        pop = self.card.pop or POP_SCALES
        pops = scene > frame * (len(pop) + 2) and self.card.start > 0
        scales: tuple[float, ...] = pop if pops else (1.0,)
        step = frame
        if self.card.start <= 0 and scene > 1.0:
            # The hook pushes in, a few steps a second: the opening moves from its first frame.
            end_scale, seconds, rate = PUSH_IN
            count = max(2, round(min(scene - 0.2, seconds) * rate))
            scales = tuple(1.0 + (end_scale - 1.0) * k / (count - 1) for k in range(count))
            step = 1.0 / rate
        for k, scale in enumerate(scales):
            image = _scaled(self.card.image, scale)
            last = k == len(scales) - 1
            seconds = max(frame, scene - step * (len(scales) - 1)) if last else step
            yield image, seconds, k


# Where the progress bar runs in a tall frame (of the height): well above the cards, at 8.5%
# the opening's two-line product name touched it.
PROGRESS_AT = 0.068

# The hook's push-in: to this scale, over at most this many seconds, in this many steps a
# second (each step is one more image of the card track: ten a second move smoothly enough
# at this speed, ~1.5 px a step, for ~0.3 s of drawing per video).
PUSH_IN = (1.03, 2.5, 10)  # more pushed the headline into the progress bar


def write_card_track(
    cards: Sequence[Card], folder: Path, *, fps: int, total: float
) -> Overlay | None:
    """All scenes' cards as ONE image sequence on one shared canvas, in time order.

    One stream that ffmpeg reads in step with the video, rather than one input per scene. Each
    card pops in over its first frames (scaled about its centre) and is then held to its end.
    Frames are uncompressed TIFF (RGBA), written ~8x faster than PNG; they are intermediates.
    """
    cards = sorted(cards, key=lambda c: c.start)
    if not cards:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    grow = max(*POP_SCALES, PUSH_IN[0])
    boxes = []
    for card in cards:
        cxc, cyc = card.x + card.image.width / 2, card.y + card.image.height / 2
        hw, hh = card.image.width * grow / 2, card.image.height * grow / 2
        if card.start <= 0:  # the push-in grows down from its top edge (see below)
            boxes.append((cxc - hw, float(card.y), cxc + hw, card.y + 2 * hh))
        else:
            boxes.append((cxc - hw, cyc - hh, cxc + hw, cyc + hh))
    x0 = max(0, int(min(b[0] for b in boxes))) // 2 * 2
    y0 = max(0, int(min(b[1] for b in boxes))) // 2 * 2
    w = (int(max(b[2] for b in boxes)) - x0 + 2) // 2 * 2
    h = (int(max(b[3] for b in boxes)) - y0 + 2) // 2 * 2
    blank = folder / "blank.tif"
    Image.new("RGBA", (w, h), (0, 0, 0, 0)).save(blank, format="TIFF")
    entries: list[tuple[str, float]] = []
    files = 0
    t = 0.0
    for card in cards:
        if card.start > t + 1e-6 or not entries:
            entries.append((blank.name, t))
        t = max(t, card.start)
        cxc = card.x + card.image.width / 2 - x0
        cyc = card.y + card.image.height / 2 - y0
        for image, seconds, _ in CardAnimation(card, fps).states(w, h):
            name = f"c{files:04d}.tif"
            files += 1
            canvas = Image.new("RGBA", (w, h), (0, 0, 0, 0))
            corner = (round(cxc - image.width / 2), round(cyc - image.height / 2))
            if card.start <= 0:
                # The opening pushes in about its top edge: about its centre, its headline
                # rose into the progress bar and the app's own top bar.
                corner = (corner[0], card.y - y0)
            canvas.paste(image, corner, image)
            canvas.save(folder / name, format="TIFF")
            if entries and entries[-1][1] >= t - 1e-9:
                entries[-1] = (name, entries[-1][1])  # a zero-length gap: replace it
            else:
                entries.append((name, t))
            t += seconds
        t = max(t, card.end)
    listing = ["ffconcat version 1.0"]
    for k, (name, since) in enumerate(entries):
        until = entries[k + 1][1] if k + 1 < len(entries) else total
        listing += [f"file '{name}'", f"duration {max(0.0, until - since):.6f}"]
    listing.append(f"file '{entries[-1][0]}'")
    concat = folder / "cards.ffconcat"
    concat.write_text("\n".join(listing) + "\n", encoding="utf-8")
    return Overlay(path=concat, x=x0, y=y0, start=0.0, end=total, width=w, height=h, motion="float")


# -- the cover --------------------------------------------------------------------------------


def cover_title(title: str, subject: str | None) -> str:
    """A short title for the cover: the subject's name, or the title's head, at most ~5 words."""
    text = (subject or card_title(title)).strip()
    words = text.split()
    return " ".join(words[:5]) if len(words) > 5 else text


def cover_claim(title: str) -> tuple[str | None, str]:
    """(name, claim) of a title: "HushBuds Wireless Headphones: cut background noise by 30
    decibels" -> ("HushBuds Wireless Headphones", "Cut background noise by 30 decibels"); a
    title with no name before a colon is its own claim (name None)."""
    title = title.strip()
    head = card_title(title)
    if head == title:
        return None, title
    rest = title[len(head) :].lstrip(" :|-\u2014\u2013")
    return head, (rest[:1].upper() + rest[1:]) if rest else head


def cover_picture(visuals: Sequence[SceneVisual], title: str) -> lib.Illustration:
    """The cover's picture: the video's subject, as the opening shows it - or the product as
    the title's claim shows it ("... folds flat to two centimeters": the kettle folded flat,
    from the scene that says so), or, for an opening of several places, the ending's picture."""
    hook = visuals[0]
    picture = hook.picture
    if len(hook.pictures) > 1 and visuals[-1].kind == "cta":
        # An opening of several places (three flags): the cover shows what the video is
        # about, as its ending does; one flag alone said "Denmark", not "travel".
        picture = visuals[-1].picture
    said = set(lib.words_of(cover_claim(title)[1]))
    for visual in visuals[1:]:
        drawn = visual.picture
        if (
            drawn.key != hook.picture.key
            and set(drawn.keywords) & set(hook.picture.keywords)
            and any(m.split() and set(m.split()) <= said for m in drawn.matched)
        ):
            return drawn
    return picture


COVER_LAYOUTS = ("claim-top", "picture-top", "stat")


def design_cover(
    background: Image.Image | None,
    picture: lib.Illustration,
    title: str,
    hue: float,
    frame: Frame,
    rasterizer: lib.Rasterizer | None = None,
    *,
    stat: str | None = None,
    layout: str | None = None,
    seed: str = "",
) -> Image.Image:
    """The thumbnail: the subject's picture as a sticker, the title's claim in big type (the
    product's name on a chip above it), and, in the "stat" layout, the video's first figure
    as a big graphic; over the designed backdrop behind it, no caption text. Readable at 200 px
    wide. The layout follows the title, figure and ``seed``, the colours ``hue``, so two videos
    of one product get different covers."""
    raster = rasterizer or lib.Rasterizer()
    W, H = frame.width, frame.height
    accent_hex, stops = palette(hue)
    accent = _rgb(accent_hex)
    light = _light(accent)
    name, claim = cover_claim(title)
    parts = stat_parts(stat)
    # ``seed`` (the video's script) picks the layout: two videos of one product, even under
    # one title, get different covers.
    pick = _hash(title.lower(), stat or "", seed)
    if layout is None:
        layout = COVER_LAYOUTS[pick % len(COVER_LAYOUTS)]
    said = claim.lower()
    if layout == "stat" and (parts is None or parts[1].lower() in said or (
        parts[2] and parts[2].lower() in said)):  # fmt: skip
        # No figure, or the claim says it already (never twice): one of the other two.
        layout = COVER_LAYOUTS[(pick // 7) % 2]
    if background is None:
        ramp = Image.linear_gradient("L").resize((W, H))
        base = Image.composite(
            Image.new("RGB", (W, H), _rgb(stops[0])), Image.new("RGB", (W, H), _rgb(stops[2])), ramp
        )
    else:
        base = background.convert("RGB").resize((W, H))
    image = Image.blend(base, Image.new("RGB", (W, H), _rgb(stops[0])), 0.35).convert("RGBA")
    unit = min(W, H * 0.5625)
    side = 0.07 * W
    text_w = W - 2 * side
    size, lines = fit_text(claim, text_w, 4, round(unit * (0.1 if layout == "stat" else 0.125)))
    claim_block = _tight("heading", _text_block(lines, size, (255, 255, 255), stroke=0.07))
    blocks: list[Block] = []
    if name and layout != "picture-top":
        blocks.append(_chip(name.upper(), max(8, round(unit * 0.06)), light, text_w))
    visual = SceneVisual(
        index=0, kind="hook", layout="hook", pictures=(picture,), headline=None, number=None,
        hue=hue, accent=accent_hex, backdrop=stops,
        variant=COVER_LAYOUTS.index(layout),
    )  # fmt: skip
    gap = round(H * 0.03)
    if W >= H * 0.95:
        # Square and wide covers: the words in one half, the picture in the other (the side
        # follows the layout), each as large as its half allows.
        col = W * 0.46
        size, lines = fit_text(claim, col, 4, round(H * 0.11))
        texts = [_chip(name.upper(), max(8, round(H * 0.045)), light, col)] if name else []
        if layout == "stat" and parts is not None:
            texts.append(_stat(parts, col * 0.8, round(H * 0.2), light))
        texts.append(_tight("heading", _text_block(lines, size, (255, 255, 255), stroke=0.07)))
        sticker = _sticker(visual, raster, picture, min(W * 0.4, H * 0.72))
        text_x, pic_x = (W * 0.73, W * 0.27) if layout == "picture-top" else (W * 0.27, W * 0.73)
        placed = [*_stack(texts, text_x, H * 0.06, H * 0.94, gap),
                  _place(sticker, pic_x, (H - sticker.h) / 2)]  # fmt: skip
        for item in placed:
            image.alpha_composite(item.image, (item.x, item.y))
        return image.convert("RGB")
    fixed = claim_block.h + sum(b.h for b in blocks) + 3 * gap
    if layout == "stat" and parts is not None:
        stat_block = _stat(parts, text_w * 0.9, round(unit * 0.24), light)
        room = H * 0.70 - fixed - stat_block.h - gap
        sticker = _sticker(visual, raster, picture, min(W * 0.5, room))
        order = [*blocks, stat_block, sticker, claim_block]
    elif layout == "picture-top":
        room = H * 0.70 - fixed
        sticker = _sticker(visual, raster, picture, min(W * 0.66, room))
        if name:
            blocks = [_chip(name.upper(), max(8, round(unit * 0.06)), light, text_w)]
        order = [sticker, claim_block, *blocks]
    else:
        room = H * 0.70 - fixed
        sticker = _sticker(visual, raster, picture, min(W * 0.66, room))
        order = [*blocks, claim_block, sticker]
    # Inside the middle 3:4 of the frame: profile grids crop a 9:16 cover to that, and cut a
    # name chip near the top in half.
    for item in _stack(order, W / 2, H * 0.14, H * 0.86, gap):
        image.alpha_composite(item.image, (item.x, item.y))
    return image.convert("RGB")


def related_pictures(visuals: Sequence[SceneVisual]) -> list[lib.Illustration]:
    """The video's pictures (its subject first), for the faint scatter behind a scene."""
    seen: dict[str, lib.Illustration] = {}
    for visual in visuals:
        if visual.layout != "clip":
            for picture in visual.pictures:
                seen.setdefault(picture.key, picture)
    return list(seen.values())
