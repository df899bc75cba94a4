"""What each scene shows in front of its backdrop: an icon for what is said, kinetic text, cards.

Two steps, both without I/O except writing PNGs:

* ``plan_scene_visuals(scenes, style=, title=, theme=)`` is a pure function of the plan: per
  scene a layout (``hook`` card first, ``feature`` cards with the product's title, numbered
  ``list-item`` cards for listicles, a ``cta`` last), an icon chosen by the scene's own words
  (``vidgen.media.icons``), the words to emphasise and an accent colour that depends on the
  theme, so two themes look different and no two neighbouring scenes share a colour.
* ``render_scene_layers(visual, text, ...)`` draws them at output resolution: the icon badge and
  card as one PNG that rises into place and floats gently, and the on-screen text as a short
  PNG sequence (words animating in one after another, key words in the accent colour) played
  by ffmpeg's concat demuxer (as uncompressed TIFFs) and held on its last frame.

Everything is drawn at the output size, so text and icons stay sharp at 1080x1920; only the
smooth procedural backdrop is rendered smaller.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFilter, ImageFont

from vidgen.media import icons as icon_set
from vidgen.media.overlays import (
    SAFE_AREA,
    SCENE_TEXT_STYLE,
    Overlay,
    TextStyle,
    _font,
    _layout,
    base_direction,
    clean_text,
    font_chain,
    line_width,
    render_text,
    visual_runs,
)

RGB = tuple[int, int, int]

# Accents that read well as a badge behind a white glyph and as text colour on a dark backdrop.
_ACCENTS: tuple[str, ...] = (
    "ffb703", "fb5607", "ff006e", "8338ec", "3a86ff", "06d6a0", "ef476f", "ffd166",
    "00bbf9", "f15bb5", "9ef01a", "ff7b00",
)  # fmt: skip

HOOK_TEXT_STYLE = TextStyle(
    size_ratio=0.092,
    stroke_ratio=0.08,
    max_lines=3,
    center_y=0.27,
)
FEATURE_TEXT_STYLE = TextStyle(
    size_ratio=0.078,
    stroke_ratio=0.08,
    max_lines=3,
    center_y=0.265,
)
CTA_TEXT_STYLE = TextStyle(
    size_ratio=0.085,
    stroke_ratio=0.08,
    max_lines=3,
    center_y=0.28,
)
_STYLES = {"hook": HOOK_TEXT_STYLE, "feature": FEATURE_TEXT_STYLE,
           "list-item": FEATURE_TEXT_STYLE, "cta": CTA_TEXT_STYLE}  # fmt: skip

ICON_CENTER_Y = 0.49  # badge centre, fraction of the height: between scene text and captions
ICON_DIAMETER = 0.34  # fraction of the width
WORD_STEP = 0.13  # s between words appearing
HOOK_WORD_STEP = 0.09  # the hook must be readable within its first second
WORD_RISE_FRAMES = 2  # frames a word takes to rise into place


@dataclass(frozen=True)
class SceneVisual:
    """What one scene shows, decided from the plan alone (recorded in the generation log)."""

    index: int
    layout: str  # hook | feature | list-item | cta
    icon: icon_set.Icon
    emphasis: tuple[str, ...]  # lower-case words drawn in the accent colour
    accent: str  # hex rgb
    card_title: str | None  # the product/topic title on feature cards
    number: int | None  # the item number on list-item cards

    def asset(self) -> dict[str, Any]:
        return {
            "scene": self.index,
            "kind": "icon",
            "id": self.icon.asset_id,
            "name": self.icon.name,
            "matched_word": self.icon.matched,
            "licence": icon_set.LICENCE,
            "licence_note": icon_set.LICENCE_NOTE,
            "attribution": icon_set.ATTRIBUTION,
            "source": icon_set.SOURCE_URL,
            "layout": self.layout,
        }


def _hash(*parts: str) -> int:
    return int.from_bytes(hashlib.sha256("\x1f".join(parts).encode()).digest()[:4], "big")


def card_title(title: str) -> str:
    """The product or topic name from a plan title ("FocusFlow Desk Lamp: Warm light..." ->
    "FocusFlow Desk Lamp")."""
    head = re.split(r"\s*[:|\u2014\u2013]\s+|\s+-\s+", title.strip(), maxsplit=1)[0]
    return head[:40].rstrip() or title[:40]


def plan_scene_visuals(
    scenes: Sequence[Mapping[str, Any]], *, style: str, title: str, theme: str
) -> list[SceneVisual]:
    """Per scene: layout, icon, emphasis and accent. Pure: the same plan gives the same result."""
    texts = [f"{s.get('on_screen_text') or ''}. {s.get('narration') or ''}" for s in scenes]
    icons = icon_set.choose_icons(texts, style)
    product = card_title(title)
    title_words = set(icon_set.scene_words(product))
    base = _hash(theme.lower(), style, product.lower())
    out: list[SceneVisual] = []
    n = len(scenes)
    for i, (scene, icon) in enumerate(zip(scenes, icons, strict=True)):
        if i == 0:
            layout = "hook"
        elif i == n - 1 and n >= 3:
            layout = "cta"
        elif style == "listicle":
            layout = "list-item"
        else:
            layout = "feature"
        words = icon_set.scene_words(str(scene.get("on_screen_text") or ""))
        emphasis = [w for w in words if w in title_words or w == icon.matched]
        if not emphasis and words:
            emphasis = [max(words, key=len)]
        out.append(
            SceneVisual(
                index=i,
                layout=layout,
                icon=icon,
                emphasis=tuple(emphasis[:3]),
                # Step through the palette so neighbours never share a colour.
                accent=_ACCENTS[(base + i * 5) % len(_ACCENTS)],
                card_title=product if layout in ("feature", "list-item") else None,
                number=i if layout == "list-item" else None,
            )
        )
    return out


def _rgb(hex_color: str) -> RGB:
    return int(hex_color[0:2], 16), int(hex_color[2:4], 16), int(hex_color[4:6], 16)


def _even(value: float) -> int:
    return int(value) // 2 * 2


# -- the static layer: icon badge, card title, list number -------------------------------------


def _badge(visual: SceneVisual, width: int) -> Image.Image:
    diameter = _even(width * ICON_DIAMETER)
    ring = max(2, round(diameter * 0.035))
    shadow = max(2, round(diameter * 0.05))
    pad = shadow * 3
    size = diameter + 2 * pad
    layer = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    # Soft drop shadow, then a white ring, then the accent disc and the white glyph.
    mask = Image.new("L", (size, size), 0)
    ImageDraw.Draw(mask).ellipse(
        (pad, pad + shadow, pad + diameter, pad + diameter + shadow), fill=150
    )
    mask = mask.filter(ImageFilter.GaussianBlur(shadow))
    layer.paste((0, 0, 0, 255), (0, 0), mask)
    draw = ImageDraw.Draw(layer)
    draw.ellipse((pad, pad, pad + diameter, pad + diameter), fill=(255, 255, 255, 255))
    draw.ellipse(
        (pad + ring, pad + ring, pad + diameter - ring, pad + diameter - ring),
        fill=(*_rgb(visual.accent), 255),
    )
    glyph_font = ImageFont.truetype(str(icon_set.font_file()), round(diameter * 0.5))
    draw.text(
        (size / 2, size / 2),
        chr(visual.icon.codepoint),
        font=glyph_font,
        anchor="mm",
        fill=(255, 255, 255, 255),
    )
    return layer


def _pill(text: str, width: int, accent: str, *, number: int | None = None) -> Image.Image:
    size = max(10, round(width * 0.042))
    label = clean_text(text)
    label_w = line_width(label, size)
    max_w = width * 0.7
    while label_w > max_w and len(label) > 4:
        label = label[:-2].rstrip() + "\u2026"
        label_w = line_width(label, size)
    height = round(size * 1.9)
    num_w = height if number is not None else 0
    w = int(label_w + size * 1.6 + num_w)
    layer = Image.new("RGBA", (w + 8, height + 8), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    draw.rounded_rectangle((4, 4, 4 + w, 4 + height), radius=height // 2, fill=(12, 12, 20, 200))
    if number is not None:
        draw.ellipse((4, 4, 4 + height, 4 + height), fill=(*_rgb(accent), 255))
        draw.text(
            (4 + height / 2, 4 + height / 2), str(number), font=_font(font_chain()[0], size),
            anchor="mm", fill=(255, 255, 255, 255),
        )  # fmt: skip
    x = 4 + num_w + size * 0.8
    for run in visual_runs(label):
        run_font = _font(font_chain()[run.font], size)
        draw.text(
            (x, 4 + height / 2), run.text, font=run_font, anchor="lm", fill=(*_rgb(accent), 255)
        )
        x += run_font.getlength(run.text)
    return layer


def render_static_layer(
    visual: SceneVisual, dest: Path, *, width: int, height: int, start: float, end: float
) -> Overlay:
    """Icon badge (and the card title on feature cards) as one PNG that rises into place."""
    badge = _badge(visual, width)
    parts: list[tuple[Image.Image, int, int]] = []
    cx, cy = width // 2, round(height * ICON_CENTER_Y)
    parts.append((badge, cx - badge.width // 2, cy - badge.height // 2))
    if visual.card_title or visual.number is not None:
        pill = _pill(visual.card_title or "", width, visual.accent, number=visual.number)
        top = round(height * SAFE_AREA.top) + 4
        parts.append((pill, cx - pill.width // 2, top))
    x0 = _even(min(x for _, x, _ in parts))
    y0 = _even(min(y for _, _, y in parts))
    x1 = max(x + im.width for im, x, _ in parts)
    y1 = max(y + im.height for im, _, y in parts)
    canvas = Image.new("RGBA", (_even(x1 - x0 + 1), _even(y1 - y0 + 1)), (0, 0, 0, 0))
    for im, x, y in parts:
        canvas.alpha_composite(im, (x - x0, y - y0))
    dest.parent.mkdir(parents=True, exist_ok=True)
    canvas.save(dest, format="PNG", compress_level=1)
    return Overlay(
        path=dest, x=x0, y=y0, start=start, end=end, width=canvas.width, height=canvas.height,
        motion="rise",
    )  # fmt: skip


# -- kinetic text --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Word:
    image: Image.Image  # the word with its outline and shadow
    x: int  # position of image's corner on the block canvas
    y: int


def _word_image(
    word: str, size: int, fill: tuple[int, int, int, int], style: TextStyle
) -> tuple[Image.Image, int, int]:
    """One word with outline and soft shadow; returns it and the offset of its text origin."""
    stroke = max(1, round(size * style.stroke_ratio))
    shadow = max(1, round(size * 0.06))
    blur = max(1, round(size * 0.08))
    pad = stroke + shadow + 3 * blur + 2
    ascent, descent = _font(font_chain()[0], size).getmetrics()
    w = int(line_width(word, size)) + 2 * pad
    h = ascent + descent + 2 * pad
    layer = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    for outline in (True, False):
        x: float = pad
        for run in visual_runs(word):
            font = _font(font_chain()[run.font], size)
            draw.text(
                (x, pad + ascent), run.text, font=font, anchor="ls",
                fill=style.stroke_fill if outline else fill,
                stroke_width=stroke if outline else 0, stroke_fill=style.stroke_fill,
            )  # fmt: skip
            x += font.getlength(run.text)
    alpha = layer.getchannel("A").filter(ImageFilter.GaussianBlur(blur)).point(lambda v: v * 0.6)
    shade = Image.new("RGBA", layer.size, (0, 0, 0, 0))
    shade.paste((0, 0, 0, 255), (shadow, shadow), alpha)
    return Image.alpha_composite(shade, layer), pad, pad + ascent


def _faded(image: Image.Image, factor: float) -> Image.Image:
    faded = image.copy()
    faded.putalpha(image.getchannel("A").point(lambda v: round(v * factor)))
    return faded


@dataclass(frozen=True)
class TextAnimation:
    """One scene's text: its words (small images placed on the block) and when each appears.

    States are drawn one at a time by ``states()``, never all held: at 1080x1920 the ~100
    states of a video's text are ~130 MB of RGBA.
    """

    x: int
    y: int
    width: int
    height: int
    start: float
    end: float
    words: tuple[_Word, ...]
    rise: int
    schedule: tuple[tuple[int, float | None, float], ...]

    def states(self) -> Iterator[tuple[Image.Image, float, tuple[int, float | None]]]:
        """(block image, seconds, key) in order; equal keys are equal images."""
        settled = Image.new("RGBA", (self.width, self.height), (0, 0, 0, 0))
        placed = 0
        for visible, rising, seconds in self.schedule:
            while placed < visible:
                word = self.words[placed]
                settled.alpha_composite(word.image, (word.x, word.y))
                placed += 1
            if rising is None or visible >= len(self.words):
                yield settled, seconds, (visible, None)
                continue
            canvas = settled.copy()
            word = self.words[visible]
            dy = round(self.rise * (1 - rising))
            canvas.alpha_composite(_faded(word.image, 0.25 + 0.75 * rising), (word.x, word.y + dy))
            yield canvas, seconds, (visible, rising)


def kinetic_text(
    visual: SceneVisual,
    text: str,
    *,
    width: int,
    height: int,
    fps: int,
    start: float,
    end: float,
) -> TextAnimation | None:
    """The scene text with its words rising in one after another (key words in the accent)."""
    style = _STYLES.get(visual.layout, SCENE_TEXT_STYLE)
    text = clean_text(text)
    if not text:
        return None
    safe = SAFE_AREA.box(width, height)
    max_width = (safe[2] - safe[0]) * 0.96
    size, lines = _layout(text, style, width, max_width)
    # Key words in a lighter tint of the accent: dark accents (violet) vanish on a dark backdrop.
    r, g, b = (round(c + (255 - c) * 0.35) for c in _rgb(visual.accent))
    accent = (r, g, b, 255)
    emphasis = set(visual.emphasis)
    words: list[_Word] = []
    line_height = round(sum(_font(font_chain()[0], size).getmetrics()) * style.line_spacing)
    space = line_width(" ", size)
    rtl = base_direction(text) == "rtl"
    if rtl:
        # Right-to-left lines are shaped as a whole (see overlays); no word-by-word entrance.
        block = render_text(text, width, height, style)
        if block is None:
            return None
        words.append(_Word(block, -block.width // 2, 0))
    else:
        for row, line in enumerate(lines):
            tokens = line.split(" ")
            widths = [line_width(t, size) for t in tokens]
            x = -(sum(widths) + space * (len(tokens) - 1)) / 2
            baseline = row * line_height
            for token, token_w in zip(tokens, widths, strict=True):
                key = re.sub(r"[^\w'-]", "", token.lower()).strip("'-")
                if key.endswith("'s"):
                    key = key[:-2]
                fill = accent if key in emphasis else style.fill
                image, ox, oy = _word_image(token, size, fill, style)
                words.append(_Word(image, round(x) - ox, baseline - oy))
                x += token_w + space
    left = min(w.x for w in words)
    top = min(w.y for w in words)
    rise = max(2, round(size * 0.3))
    canvas_w = _even(max(w.x + w.image.width for w in words) - left + 1)
    canvas_h = _even(max(w.y + w.image.height for w in words) - top + rise + 1)
    step = HOOK_WORD_STEP if visual.layout == "hook" else WORD_STEP
    lead = 0.0 if visual.layout == "hook" else 0.1
    frame = 1.0 / fps

    # (words in place, rise progress of the next word or None, seconds shown). Each word takes
    # WORD_RISE_FRAMES frames to rise and fade in.
    schedule: list[tuple[int, float | None, float]] = []
    scene_len = max(frame, end - start)
    if lead > 0:
        schedule.append((0, None, lead))
    for k in range(len(words)):
        for f in range(WORD_RISE_FRAMES):
            schedule.append((k, (f + 1) / (WORD_RISE_FRAMES + 1), frame))
        schedule.append((k + 1, None, max(frame, step - WORD_RISE_FRAMES * frame)))
    if sum(d for _, _, d in schedule) > scene_len:
        # Too many words for the scene (a very short one): show the finished text at once.
        schedule = [(len(words), None, scene_len)]
    words = [_Word(w.image, w.x - left, w.y - top) for w in words]  # block coordinates
    # Centre the block in the safe area, around the style's height.
    x = _even(width / 2 + left)
    y = _even(height * style.center_y - (canvas_h - rise) / 2)
    y = max(safe[1], min(y, safe[3] - canvas_h))
    x = max(0, min(x, width - canvas_w))
    return TextAnimation(x, y, canvas_w, canvas_h, start, end, tuple(words), rise, tuple(schedule))


def write_text_track(animations: Sequence[TextAnimation], folder: Path) -> Overlay | None:
    """All scenes' text animations as ONE image sequence on one shared canvas, in time order.

    One stream that ffmpeg reads in step with the video, instead of one per scene: separate
    streams were decoded at once and their frames held until their scene came (~100 MB at
    1080x1920). Between animations the canvas is empty; each animation's last state is held to
    its scene's end. Frames are uncompressed TIFF (RGBA), written ~8x faster than PNG; they are
    intermediates, deleted after composing.
    """
    animations = sorted(animations, key=lambda a: a.start)
    if not animations:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    x0 = min(a.x for a in animations)
    y0 = min(a.y for a in animations)
    w = _even(max(a.x + a.width for a in animations) - x0 + 1)
    h = _even(max(a.y + a.height for a in animations) - y0 + 1)
    blank = folder / "blank.tif"
    Image.new("RGBA", (w, h), (0, 0, 0, 0)).save(blank, format="TIFF")
    # (file, start time) entries; durations are differences of start times, so no drift.
    entries: list[tuple[str, float]] = []
    files = 0
    t = 0.0
    for animation in animations:
        if animation.start > t + 1e-6 or not entries:
            entries.append((blank.name, t))
        t = max(t, animation.start)
        written: dict[tuple[int, float | None], str] = {}
        for image, seconds, key in animation.states():
            name = written.get(key)
            if name is None:
                name = f"t{files:04d}.tif"
                files += 1
                canvas = Image.new("RGBA", (w, h), (0, 0, 0, 0))
                canvas.paste(image, (animation.x - x0, animation.y - y0))
                canvas.save(folder / name, format="TIFF")
                written[key] = name
            if entries and entries[-1][1] >= t - 1e-9:
                entries[-1] = (name, entries[-1][1])  # a zero-length gap: replace it
            else:
                entries.append((name, t))
            t += seconds
        t = max(t, animation.end)
    end = max(a.end for a in animations)
    listing = ["ffconcat version 1.0"]
    for k, (name, at) in enumerate(entries):
        until = entries[k + 1][1] if k + 1 < len(entries) else end
        listing += [f"file '{name}'", f"duration {max(0.0, until - at):.6f}"]
    # The concat demuxer ignores the last entry's duration unless the file is listed again.
    listing.append(f"file '{entries[-1][0]}'")
    concat = folder / "text.ffconcat"
    concat.write_text("\n".join(listing) + "\n", encoding="utf-8")
    return Overlay(
        path=concat, x=x0, y=y0, start=0.0, end=end, width=w, height=h, motion="sequence"
    )


def render_kinetic_text(
    visual: SceneVisual,
    text: str,
    folder: Path,
    *,
    width: int,
    height: int,
    fps: int,
    start: float,
    end: float,
) -> Overlay | None:
    """One scene's text alone as an image-sequence overlay (``write_text_track`` of one)."""
    animation = kinetic_text(
        visual, text, width=width, height=height, fps=fps, start=start, end=end
    )
    return None if animation is None else write_text_track([animation], folder)
