"""Text rendered to transparent PNGs with Pillow, for ffmpeg to overlay.

Why Pillow and not drawtext/libass: on-screen text comes from themes and LLM plans and may hold
quotes, ``%``, ``:``, backslashes, newlines, emoji and right-to-left scripts. As pixels in a PNG
none of it can ever be interpreted by ffmpeg's filtergraph parser, drawtext's expansion or a
shell, and we control font fallback ourselves instead of depending on fontconfig in a static
ffmpeg build.

Fonts: Roboto Bold first (the project's face), then the Noto families shipped by the
``manimgx-fonts`` wheel (Noto Sans, Hebrew, Arabic, other scripts, Symbols, monochrome Noto
Emoji), chosen per character from each font's cmap. Emoji are therefore drawn as monochrome
outline glyphs in the text colour: no colour-emoji font ships in a pip package we use, and a
readable glyph beats a tofu box. A character no font covers is drawn with Roboto's ".notdef".

Right-to-left: Pillow's raqm layout (libraqm + FriBiDi + HarfBuzz, checked at import time) shapes
each run (Arabic joining, mark placement, mirrored brackets). Because a line may mix fonts we
split it into runs ourselves and order the runs visually with the Unicode bidi rule L2 on run
levels (a simplified resolution: strong letters set the level, numbers count as LTR, neutrals take
the level of equal neighbours or else the paragraph's). That is enough for headlines and
captions that mix Hebrew/Arabic with Latin words, digits and emoji.
"""

from __future__ import annotations

import importlib
import importlib.util
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFilter, ImageFont, features

from vidgen.media.fonts import font_path

RGBA = tuple[int, int, int, int]

_RAQM = bool(features.check("raqm"))
_LAYOUT = ImageFont.Layout.RAQM if _RAQM else ImageFont.Layout.BASIC
MAX_TEXT_CHARS = 400
# Fonts are variable ([wght]); headline text reads best bold on busy video.
_BOLD_WEIGHT = 700.0


@dataclass(frozen=True)
class SafeArea:
    """Fractions of the frame kept clear of the platforms' UI (9:16 feeds).

    TikTok/Reels/Shorts put the caption, handle and music ticker in roughly the bottom fifth and
    the like/comment/share column on the right edge, and status/tabs at the top.
    """

    top: float = 0.10
    bottom: float = 0.22
    left: float = 0.06
    right: float = 0.13

    def box(self, width: int, height: int) -> tuple[int, int, int, int]:
        return (
            round(width * self.left),
            round(height * self.top),
            round(width * (1 - self.right)),
            round(height * (1 - self.bottom)),
        )


SAFE_AREA = SafeArea()


WHITE: RGBA = (255, 255, 255, 255)
BLACK: RGBA = (0, 0, 0, 255)


@dataclass(frozen=True, kw_only=True)
class TextStyle:
    """How a block of on-screen text looks: white with a black outline unless said otherwise."""

    size_ratio: float  # font size as a fraction of the frame width, so every profile looks alike
    stroke_ratio: float  # outline width as a fraction of the font size
    max_lines: int
    center_y: float  # where the block's centre sits, as a fraction of the frame height
    fill: RGBA = WHITE
    stroke_fill: RGBA = BLACK
    line_spacing: float = 1.18
    shadow: bool = True
    min_size_ratio: float = 0.035


SCENE_TEXT_STYLE = TextStyle(
    size_ratio=0.075,
    stroke_ratio=0.09,
    max_lines=4,
    center_y=0.24,
)
CAPTION_STYLE = TextStyle(
    size_ratio=0.07,
    fill=(255, 230, 60, 255),
    stroke_ratio=0.11,
    max_lines=2,
    center_y=0.68,
)


@dataclass(frozen=True)
class Overlay:
    """A rendered PNG, where it goes on the frame and when it is shown (seconds, [start, end))."""

    path: Path
    x: int
    y: int
    start: float
    end: float
    # The PNG's size; 0 means unknown (read from the file when composing).
    width: int = 0
    height: int = 0
    # "none": a still PNG; "rise": a still PNG that rises into place at ``start`` and then
    # floats gently; "sequence": ``path`` is an ffconcat list of PNGs (an animation whose
    # last frame is held), played from ``start``.
    motion: str = "none"


def has_raqm() -> bool:
    return _RAQM


# -- fonts -------------------------------------------------------------------------------------


@cache
def font_chain() -> tuple[Path, ...]:
    """Font files in fallback order: Roboto, then Noto for scripts and emoji Roboto lacks."""
    chain = [font_path("Bold")]
    # find_spec, not import: the wheel is only a folder of font files (and ships no type hints).
    spec = importlib.util.find_spec("manimgx_fonts")
    if spec is None or spec.origin is None:  # pragma: no cover - a declared dependency
        return tuple(chain)
    noto = Path(spec.origin).parent
    preferred = [
        "NotoSans[wght].ttf",
        "NotoSansHebrew[wght].ttf",
        "NotoSansArabic[wght].ttf",
    ]
    chain += [noto / name for name in preferred if (noto / name).is_file()]
    others = sorted(
        p
        for p in noto.glob("NotoSans*.ttf")
        if p.name not in preferred and "Italic" not in p.name and "Symbols" not in p.name
    )
    chain += others
    # Symbols and emoji last so that letters/digits never pick their (odd-looking) forms.
    chain += [
        p for p in (noto / "NotoSansSymbols[wght].ttf", noto / "NotoEmoji[wght].ttf") if p.is_file()
    ]
    return tuple(chain)


@cache
def _coverage(path: Path) -> frozenset[int]:
    # fontTools ships no type hints; importing it dynamically keeps mypy strict without stubs.
    tt_font: Any = importlib.import_module("fontTools.ttLib").TTFont
    with tt_font(str(path), lazy=True) as font:
        cmap = font.getBestCmap() or {}
    return frozenset(cmap)


@cache
def _font(path: Path, size: int) -> ImageFont.FreeTypeFont:
    font = ImageFont.truetype(str(path), size, layout_engine=_LAYOUT)
    try:
        axes = font.get_variation_axes()
    except OSError:  # not a variable font
        return font
    values: list[float] = []
    for axis in axes:
        raw: Any = axis["name"]
        name = raw.decode() if isinstance(raw, bytes) else str(raw)
        low, high = float(axis["minimum"] or 0), float(axis["maximum"] or 0)
        wanted = _BOLD_WEIGHT if name.lower() == "weight" else float(axis["default"] or low)
        values.append(min(max(wanted, low), high))
    font.set_variation_by_axes(values)
    return font


def _font_index_for(ch: str) -> int | None:
    code = ord(ch)
    for index, path in enumerate(font_chain()):
        if code in _coverage(path):
            return index
    return None


# -- text cleaning, bidi and runs --------------------------------------------------------------


def clean_text(text: str) -> str:
    """NFC-normalise, collapse spaces, drop control characters (newlines stay line breaks)."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    kept = []
    for ch in text.replace("\t", " "):
        if 0x1F3FB <= ord(ch) <= 0x1F3FF:
            # Skin-tone modifiers: the monochrome emoji font cannot show them and would leave a gap.
            continue
        if ch == "\n" or unicodedata.category(ch) != "Cc":
            kept.append(ch)
    lines = [" ".join(line.split()) for line in "".join(kept).split("\n")]
    return "\n".join(line for line in lines if line)


def _strong(ch: str) -> str | None:
    kind = unicodedata.bidirectional(ch)
    if kind in ("R", "AL"):
        return "R"
    if kind in ("L", "EN", "AN"):
        return "L"
    return None


def base_direction(text: str) -> str:
    """'rtl' or 'ltr' from the first strong character (Unicode rules P2/P3)."""
    for ch in text:
        kind = unicodedata.bidirectional(ch)
        if kind in ("R", "AL"):
            return "rtl"
        if kind == "L":
            return "ltr"
    return "ltr"


@dataclass(frozen=True)
class _Run:
    text: str
    font: int  # index into font_chain()
    level: int  # even = LTR, odd = RTL


def _attaches(ch: str) -> bool:
    """Marks, joiners and variation selectors must stay in the run of the character before."""
    return unicodedata.category(ch) in ("Mn", "Mc", "Me", "Cf") or 0xFE00 <= ord(ch) <= 0xFE0F


def _levels(line: str, base_rtl: bool) -> list[int]:
    strong = [_strong(ch) for ch in line]
    resolved: list[str] = []
    for i, kind in enumerate(strong):
        if kind is None and i > 0 and _attaches(line[i]):
            kind = resolved[i - 1]
        if kind is None:
            before = next((s for s in reversed(strong[:i]) if s), None)
            after = next((s for s in strong[i + 1 :] if s), None)
            kind = before if before is not None and before == after else ("R" if base_rtl else "L")
        resolved.append(kind)
    if base_rtl:
        return [1 if kind == "R" else 2 for kind in resolved]
    return [1 if kind == "R" else 0 for kind in resolved]


def _logical_runs(line: str) -> list[_Run]:
    base_rtl = base_direction(line) == "rtl"
    levels = _levels(line, base_rtl)
    runs: list[_Run] = []
    current_text = ""
    current_font = -1
    current_level = -1
    for ch, level in zip(line, levels, strict=True):
        if current_text and (
            _attaches(ch)
            or (
                level == current_level
                and not ch.isalpha()
                and not ch.isspace()
                and ord(ch) in _coverage(font_chain()[current_font])
            )
        ):
            # Keep punctuation, digits and marks in the current font so words do not break into
            # many tiny runs (and joiners stay with their emoji). Spaces always come from the
            # main font: an emoji font's space is as wide as an emoji.
            current_text += ch
            continue
        index = _font_index_for(ch)
        font = 0 if index is None else index
        if current_text and font == current_font and level == current_level:
            current_text += ch
            continue
        if current_text:
            runs.append(_Run(current_text, current_font, current_level))
        current_text, current_font, current_level = ch, font, level
    if current_text:
        runs.append(_Run(current_text, current_font, current_level))
    return runs


def visual_runs(line: str) -> list[_Run]:
    """Runs of one line in left-to-right display order (Unicode bidi rule L2 on run levels)."""
    runs = _logical_runs(line)
    if not runs:
        return runs
    highest = max(run.level for run in runs)
    lowest_odd = min((run.level for run in runs if run.level % 2), default=highest + 1)
    for level in range(highest, lowest_odd - 1, -1):
        i = 0
        while i < len(runs):
            if runs[i].level >= level:
                j = i
                while j < len(runs) and runs[j].level >= level:
                    j += 1
                runs[i:j] = runs[i:j][::-1]
                i = j
            else:
                i += 1
    return runs


def _direction(run: _Run) -> str | None:
    if not _RAQM:
        return None
    return "rtl" if run.level % 2 else "ltr"


def _glyph_text(run: _Run) -> str:
    """What to hand Pillow: without raqm it cannot reorder, so RTL runs are reversed here
    (right for Hebrew; Arabic then shows unjoined letters, still in the right order)."""
    if not _RAQM and run.level % 2:
        return run.text[::-1]
    return run.text


def _run_width(run: _Run, size: int) -> float:
    font = _font(font_chain()[run.font], size)
    return float(font.getlength(_glyph_text(run), direction=_direction(run)))


def line_width(line: str, size: int) -> float:
    return sum(_run_width(run, size) for run in visual_runs(line))


# -- wrapping and rendering --------------------------------------------------------------------


def _break_word(word: str, size: int, max_width: float) -> list[str]:
    """Split one over-long word (a URL, a hashtag chain) into pieces that fit."""
    pieces: list[str] = []
    piece = ""
    for ch in word:
        if piece and line_width(piece + ch, size) > max_width:
            pieces.append(piece)
            piece = ch
        else:
            piece += ch
    if piece:
        pieces.append(piece)
    return pieces


def wrap(text: str, size: int, max_width: float) -> list[str]:
    """Greedy word wrap in logical order; explicit newlines are kept as line breaks."""
    lines: list[str] = []
    for paragraph in clean_text(text).split("\n"):
        current = ""
        for word in paragraph.split(" "):
            candidate = f"{current} {word}" if current else word
            if line_width(candidate, size) <= max_width:
                current = candidate
                continue
            if current:
                lines.append(current)
            if line_width(word, size) <= max_width:
                current = word
            else:
                *full, current = _break_word(word, size, max_width)
                lines.extend(full)
        if current:
            lines.append(current)
    return lines


def _layout(text: str, style: TextStyle, width: int, max_width: float) -> tuple[int, list[str]]:
    """Largest font size (down to the style's minimum) whose wrapped text fits max_lines."""
    size = max(8, round(width * style.size_ratio))
    smallest = max(8, round(width * style.min_size_ratio))
    while True:
        lines = wrap(text, size, max_width)
        if len(lines) <= style.max_lines:
            return size, lines
        if size <= 8:
            # Past the smallest legible size the text is still all there: shown small, never
            # cut or ellipsised (MAX_TEXT_CHARS bounds how much that can be).
            return size, lines
        size = max(8, int(size * 0.9)) if size <= smallest else max(smallest, int(size * 0.9))


def render_text(text: str, width: int, height: int, style: TextStyle) -> Image.Image | None:
    """The text block as a tight RGBA image (None if the text is blank)."""
    if len(text) > MAX_TEXT_CHARS:
        # Bounds the wrap/measure work; more would not fit on a phone screen anyway.
        text = text[:MAX_TEXT_CHARS]
    safe = SAFE_AREA.box(width, height)
    max_width = (safe[2] - safe[0]) * 0.96
    size, lines = _layout(text, style, width, max_width)
    if not lines:
        return None
    stroke = max(1, round(size * style.stroke_ratio))
    shadow_offset = max(1, round(size * 0.06))
    blur = max(1, round(size * 0.08))
    pad = stroke + shadow_offset + 3 * blur + 2
    ascent, descent = _font(font_chain()[0], size).getmetrics()
    line_height = round((ascent + descent) * style.line_spacing)
    laid_out = [(visual_runs(line), line_width(line, size)) for line in lines]
    block_width = max(w for _, w in laid_out)
    canvas_w = int(block_width) + 2 * pad
    canvas_h = line_height * len(lines) + 2 * pad
    text_layer = Image.new("RGBA", (canvas_w, canvas_h), (0, 0, 0, 0))
    draw = ImageDraw.Draw(text_layer)
    # Outline first for every run, then fills: a neighbour run's outline must not cut into glyphs.
    for pass_stroke in (True, False):
        for row, (runs, row_width) in enumerate(laid_out):
            x = pad + (block_width - row_width) / 2
            baseline = pad + row * line_height + ascent
            for run in runs:
                font = _font(font_chain()[run.font], size)
                draw.text(
                    (x, baseline),
                    _glyph_text(run),
                    font=font,
                    anchor="ls",
                    direction=_direction(run),
                    fill=style.stroke_fill if pass_stroke else style.fill,
                    stroke_width=stroke if pass_stroke else 0,
                    stroke_fill=style.stroke_fill,
                )
                x += _run_width(run, size)
    if style.shadow:
        alpha = text_layer.getchannel("A")
        shadow_alpha = alpha.filter(ImageFilter.GaussianBlur(blur)).point(lambda v: v * 0.6)
        shadow = Image.new("RGBA", text_layer.size, (0, 0, 0, 0))
        shadow.paste((0, 0, 0, 255), (shadow_offset, shadow_offset), shadow_alpha)
        text_layer = Image.alpha_composite(shadow, text_layer)
    bbox = text_layer.getchannel("A").getbbox()
    if bbox is None:
        return None
    return text_layer.crop(bbox)


def place(
    image_size: tuple[int, int], width: int, height: int, style: TextStyle
) -> tuple[int, int]:
    """Top-left corner: centred in the safe area horizontally, around style.center_y vertically."""
    left, top, right, bottom = SAFE_AREA.box(width, height)
    w, h = image_size
    x = left + ((right - left) - w) // 2
    y = round(height * style.center_y - h / 2)
    y = min(max(y, top), max(top, bottom - h))
    return max(0, min(x, width - w)), max(0, min(y, height - h))


def render_overlay(
    text: str,
    dest: Path,
    *,
    width: int,
    height: int,
    style: TextStyle,
    start: float,
    end: float,
) -> Overlay | None:
    """Render ``text`` to the PNG ``dest`` and say where and when to show it."""
    image = render_text(text, width, height, style)
    if image is None:
        return None
    # Never larger than the frame: ffmpeg's overlay would clip it silently anyway.
    if image.width > width or image.height > height:
        image.thumbnail((width, height))
    dest.parent.mkdir(parents=True, exist_ok=True)
    image.save(dest, format="PNG", optimize=False, compress_level=1)
    x, y = place(image.size, width, height, style)
    return Overlay(
        path=dest, x=x, y=y, start=start, end=end, width=image.width, height=image.height
    )
