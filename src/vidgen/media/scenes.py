"""What each scene shows in front of its backdrop: full-colour pictures of what is said, laid out
by the scene's kind, with at most one short headline that adds to the voice.

Two steps, both without I/O except writing image files:

* ``plan_scene_visuals(scenes, ...)`` is a pure function of the plan: per scene a layout chosen
  by its ``kind`` (``hook``: the subject big under a short headline; ``list_item``/``step``: its
  number big beside its picture; ``fact``: the figure big; ``comparison``: two pictures side by
  side; ``feature``: one to three pictures; ``cta`` last), the pictures its words name
  (``vidgen.media.illustrations``; the video's subject picture when nothing matches), the
  headline (only ``scene.headline``, and never the sentence being spoken: the karaoke caption
  carries the narration) and colours taken from the main picture (warm for bread, green for
  plants), so two subjects look different and neighbouring scenes never share layout and picture.
* ``scene_card(visual, ...)`` draws one scene's card (pictures, number, headline) at output
  resolution, and ``write_card_track`` turns all cards into ONE image-sequence overlay in which
  each card pops in (a few scaled frames) and is then held; the composition floats it gently.

Everything is drawn at the output size, so pictures and text stay sharp at 1080x1920; only the
calm procedural backdrop is rendered smaller (and tinted with the scene's colours by ffmpeg).
"""

from __future__ import annotations

import colorsys
import hashlib
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFilter

from vidgen.media import illustrations as lib
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

    @property
    def picture(self) -> lib.Illustration:
        return self.pictures[0]

    def assets(self) -> list[dict[str, Any]]:
        if self.layout == "clip":
            return []  # the scene's own footage shows the subject; no picture is drawn
        return [
            picture.asset(self.index, layout=self.layout, role="main" if k == 0 else "extra")
            for k, picture in enumerate(self.pictures)
        ]


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
    words = head.split()
    if len(words) >= 4:
        spoken = set(said.split())
        if sum(w in spoken for w in words) / len(words) >= 0.8:
            return False
    return True


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
    for i, scene in enumerate(scenes):
        kind = str(getattr(scene, "kind", "feature") or "feature")
        narration = str(scene.narration)
        text = f"{scene.on_screen_text}. {narration}"
        limit = 2 if kind == "comparison" else 1 if kind in ("hook", "fact", "cta") else 3
        subjects = list(getattr(scene, "subjects", []) or [])
        if kind not in ("hook", "cta") and subject_terms:
            # The hook already shows the video's subject: the other scenes lead with what they
            # add ("noise", "battery"), so a run of facts is not the same picture over and over.
            own = subject_terms[0].lower()
            others = [s for s in subjects if s.lower() != own]
            # Naming only the product: the sentence's own words choose ("weigh" -> a scale).
            subjects = others + [s for s in subjects if s.lower() == own] if others else []
        # Candidates beyond the layout's count, so a scene can lead with another picture than
        # its neighbour's when it names something else too.
        picks = lib.choose(subjects, text, limit=3, subject=fallback)
        if out and picks[0].key == out[-1].picture.key and len(picks) > 1:
            picks = picks[1:] + picks[:1]
        picks = picks[:limit]
        if kind == "feature" and len(picks) < 2 and not picks[0].fallback:
            # The sentence may name more than its listed subjects ("in the evening").
            extra = [p for p in lib.choose([], text, limit=3) if p.key != picks[0].key]
            picks += extra[:1]
        if kind in ("hook", "cta") and fallback is not None:
            # The opening and the call to action show what the whole video is about.
            picks = [replace(fallback, fallback=False)]  # chosen, not a stand-in
        previous = out[-1] if out else None
        if previous is not None and picks[0].key == previous.picture.key and len(picks) > 1:
            picks = picks[1:] + picks[:1]  # lead with a different picture than the last scene
        wanted = getattr(scene, "headline", None)
        headline = str(wanted).strip() if headline_adds(wanted, narration) else None
        number = getattr(scene, "number", None)
        if kind in ("list_item", "step"):
            list_count += 1
            number = number or list_count
        if i < len(shows_subject) and shows_subject[i]:
            layout = "clip"
            picks = picks[:1]
        elif kind == "comparison":
            layout = "comparison" if len(picks) >= 2 else "feature"
        elif kind == "feature":
            layout = {1: "feature", 2: "pair", 3: "trio"}[len(picks)]
        elif kind in ("hook", "list_item", "step", "fact", "cta"):
            layout = kind
        else:
            layout = "feature"
        if kind == "fact" and not headline:
            layout = "feature"
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
        if previous is not None and _hue_gap(hue, previous.hue) < 0.06:
            # Neighbours differ in colour too: another of the scene's pictures, or a step
            # along the colour wheel from its own.
            others = [h for h in hues[1:] if _hue_gap(h, previous.hue) >= 0.06]
            if others:
                hue = others[0]
            else:
                hue = next(
                    h
                    for h in ((hue + step) % 1.0 for step in (0.5, 0.4, 0.6, 0.3, 0.7))
                    if _hue_gap(h, previous.hue) >= 0.06
                )
        accent, stops = palette(hue)
        out.append(
            SceneVisual(
                index=i, kind=kind, layout=layout, pictures=tuple(picks), headline=headline,
                number=number if layout in ("list_item", "step") else None, hue=hue,
                accent=accent, backdrop=stops,
            )
        )  # fmt: skip
    return out


# -- drawing -------------------------------------------------------------------------------------


def fit_text(text: str, max_width: float, max_lines: int, size: int) -> tuple[int, list[str]]:
    """The largest size <= ``size`` at which ``text`` wraps into ``max_lines`` lines of
    ``max_width``; it keeps shrinking rather than cut anything (nothing is ever ellipsised)."""
    text = clean_text(text)
    while True:
        lines = wrap(text, size, max_width)
        if (len(lines) <= max_lines and all(line_width(x, size) <= max_width for x in lines)) or (
            size <= 8
        ):
            return size, lines
        size = max(8, int(size * 0.92))


def _text_block(lines: Sequence[str], size: int, fill: RGB, *, stroke: float = 0.08) -> Image.Image:
    """Centred lines with a dark outline and soft shadow, as a tight RGBA image."""
    font0 = _font(font_chain()[0], size)
    ascent, descent = font0.getmetrics()
    line_h = round((ascent + descent) * 1.1)
    sw = max(1, round(size * stroke))
    blur = max(1, round(size * 0.07))
    pad = sw + 3 * blur + 4
    widths = [line_width(line, size) for line in lines]
    w = int(max(widths, default=1)) + 2 * pad
    h = line_h * len(lines) + 2 * pad
    layer = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    for outline in (True, False):
        for row, (line, lw) in enumerate(zip(lines, widths, strict=True)):
            x = (w - lw) / 2
            for run in visual_runs(line):
                font = _font(font_chain()[run.font], size)
                draw.text(
                    (x, pad + row * line_h + ascent), run.text, font=font, anchor="ls",
                    fill=(10, 10, 14, 255) if outline else (*fill, 255),
                    stroke_width=sw if outline else 0, stroke_fill=(10, 10, 14, 255),
                )  # fmt: skip
                x += font.getlength(run.text)
    shade = Image.new("RGBA", layer.size, (0, 0, 0, 0))
    alpha = layer.getchannel("A").filter(ImageFilter.GaussianBlur(blur)).point(lambda v: v * 0.55)
    shade.paste((0, 0, 0, 255), (0, max(1, size // 20)), alpha)
    return Image.alpha_composite(shade, layer)


def _glow(size: int, colour: RGB, strength: int = 140) -> Image.Image:
    """A soft disc of light behind a picture, so it stands off the backdrop."""
    layer = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    mask = Image.new("L", (size, size), 0)
    inset = size // 6
    ImageDraw.Draw(mask).ellipse((inset, inset, size - inset, size - inset), fill=strength)
    mask = mask.filter(ImageFilter.GaussianBlur(size / 10))
    layer.paste((*colour, 255), (0, 0), mask)
    return layer


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
class Card:
    """One scene's card: an RGBA image and where its corner goes on the frame."""

    image: Image.Image
    x: int
    y: int
    start: float
    end: float


class _Canvas:
    """Items placed in frame coordinates; ``card()`` crops to what was drawn."""

    def __init__(self, frame: Frame) -> None:
        self.frame = frame
        self.items: list[tuple[Image.Image, int, int]] = []

    def put(self, image: Image.Image, cx: float, cy: float) -> tuple[int, int, int, int]:
        x, y = round(cx - image.width / 2), round(cy - image.height / 2)
        self.items.append((image, x, y))
        return x, y, x + image.width, y + image.height

    def card(self, start: float, end: float) -> Card | None:
        if not self.items:
            return None
        x0 = min(x for _, x, _ in self.items)
        y0 = min(y for _, _, y in self.items)
        x1 = max(x + im.width for im, x, _ in self.items)
        y1 = max(y + im.height for im, _, y in self.items)
        canvas = Image.new("RGBA", (x1 - x0, y1 - y0), (0, 0, 0, 0))
        for image, x, y in self.items:
            canvas.alpha_composite(image, (x - x0, y - y0))
        # Keep what is inside the frame; even corners and sizes for yuv420 chroma.
        left, top = max(0, x0) // 2 * 2, max(0, y0) // 2 * 2
        w = (min(self.frame.width, x1) - left) // 2 * 2
        h = (min(self.frame.height, y1) - top) // 2 * 2
        if w <= 0 or h <= 0:
            return None
        canvas = canvas.crop((left - x0, top - y0, left - x0 + w, top - y0 + h))
        return Card(canvas, left, top, start, end)


def _picture(
    canvas: _Canvas,
    raster: lib.Rasterizer,
    picture: lib.Illustration,
    size: float,
    cx: float,
    cy: float,
    accent: RGB,
) -> None:
    size = max(8, int(size))
    glow = _glow(int(size * 1.5), accent)
    canvas.put(glow, cx, cy)
    canvas.put(_shadowed(raster.image(picture, size)), cx, cy)


def scene_card(
    visual: SceneVisual,
    frame: Frame,
    *,
    start: float,
    end: float,
    rasterizer: lib.Rasterizer | None = None,
) -> Card | None:
    """The scene's pictures, number and headline at output size, laid out for ``frame``.

    Tall and square frames stack the text above the pictures; wide ones (16:9) put the text
    in a left column and the pictures on the right.
    """
    raster = rasterizer or lib.Rasterizer()
    W = frame.width
    top, bottom = frame.content_top, frame.content_bottom
    left, right = frame.left, frame.right
    wide = frame.wide
    avail_w = right - left
    # Text column and picture area.
    text_w = avail_w * (0.46 if wide else 1.0)
    text_cx = left + (avail_w * 0.25 if wide else avail_w / 2)
    # What the text and picture sizes below are fractions of: the width of a tall frame.
    unit = min(avail_w * 0.52 if wide else float(W), frame.height * 0.56)
    pic_unit = avail_w * 0.52 if wide else float(W)
    accent = _rgb(visual.accent)
    light: RGB = (
        round(accent[0] * 0.75 + 64),
        round(accent[1] * 0.75 + 64),
        round(accent[2] * 0.75 + 64),
    )
    canvas = _Canvas(frame)
    gap = 0.02 * frame.height
    texts: list[Image.Image] = []

    def text(words: str, size_ratio: float, fill: RGB = (255, 255, 255), *, lines: int = 2,
             stroke: float = 0.08) -> None:  # fmt: skip
        size, wrapped = fit_text(words, text_w, lines, max(8, round(unit * size_ratio)))
        texts.append(_text_block(wrapped, size, fill, stroke=stroke))

    layout = visual.layout
    pics = visual.pictures
    if layout in ("list_item", "step") and (wide or layout == "step"):
        label = f"#{visual.number}" if layout == "list_item" else f"STEP {visual.number}"
        text(label, 0.34 if layout == "list_item" else 0.15, light, lines=1, stroke=0.05)
    if visual.headline:
        if layout == "fact":
            text(visual.headline, 0.16, light, stroke=0.06)
        elif layout != "cta":
            text(visual.headline, {"hook": 0.095, "trio": 0.075}.get(layout, 0.085))
    # Place the text: stacked from the top (tall frames) or centred in the left column (wide).
    height_of_text = sum(t.height for t in texts) + gap * max(0, len(texts) - 1)
    y = (top + bottom - height_of_text) / 2 if wide else float(top)
    for block in texts:
        canvas.put(block, text_cx, y + block.height / 2)
        y += block.height + gap
    area_top = float(top) if wide or not texts else y
    ax0 = left + avail_w * 0.5 if wide else float(left)
    ax1 = float(right)
    if wide and not texts:
        ax0 = float(left)
    aw, ah = ax1 - ax0, max(8.0, bottom - area_top)
    cx, cy = (ax0 + ax1) / 2, area_top + ah / 2

    def pic(k: int, size: float, x: float, y: float) -> None:
        _picture(canvas, raster, pics[k], size, x, y, accent)

    if layout == "clip":
        pass
    elif layout == "hook":
        pic(0, min(0.72 * pic_unit, aw, ah * 0.84), cx, cy)
    elif layout in ("feature", "feature-offset", "fact", "step"):
        scale = {"fact": 0.46, "step": 0.6}.get(layout, 0.64)
        size = min(scale * pic_unit, aw, ah * 0.82)
        shift = 0.12 * aw if layout == "feature-offset" else 0.0
        pic(0, size, cx + (-1 if visual.index % 2 else 1) * shift, cy)
    elif layout in ("pair", "comparison"):
        size = min(0.44 * pic_unit, aw * 0.47, ah * 0.8)
        lift = 0.0 if layout == "comparison" else size * 0.12
        pic(0, size, cx - aw * 0.25, cy - lift)
        pic(1, size, cx + aw * 0.25, cy + lift)
        if layout == "comparison":
            canvas.put(_badge_text("VS", round(unit * 0.06), accent), cx, cy)
    elif layout == "trio":
        size = min(0.34 * pic_unit, aw * 0.36, ah * 0.5)
        pic(0, size * 1.15, cx, area_top + ah * 0.3)
        pic(1, size, cx - aw * 0.27, area_top + ah * 0.7)
        pic(2, size, cx + aw * 0.27, area_top + ah * 0.7)
    elif layout == "list_item":
        size = min(0.5 * pic_unit, ah * 0.75, aw * 0.55)
        if wide:
            pic(0, size, cx, cy)
        else:
            # "#2", not a bare "2" that reads into a figure beside it ("2 | 2 centimeters").
            number = _text_block([f"#{visual.number}"], round(unit * 0.3), light, stroke=0.05)
            canvas.put(number, ax0 + number.width / 2, cy)
            pic(0, size, ax1 - size / 2 - 0.02 * W, cy)
    elif layout == "cta":
        size = min(0.48 * pic_unit, aw, ah * 0.6)
        pill = _pill(visual.headline, aw, round(unit * 0.07), accent) if visual.headline else None
        block_h = size * 1.2 + (pill.height if pill else 0)
        y0 = area_top + (ah - block_h) / 2
        pic(0, size, cx, y0 + size * 0.6)
        if pill is not None:
            canvas.put(pill, cx, y0 + size * 1.2 + pill.height / 2)
    return canvas.card(start, end)


def _badge_text(text: str, size: int, accent: RGB) -> Image.Image:
    d = int(size * 2.2)
    layer = Image.new("RGBA", (d, d), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    draw.ellipse((0, 0, d - 1, d - 1), fill=(255, 255, 255, 255))
    draw.ellipse((4, 4, d - 5, d - 5), fill=(*accent, 255))
    draw.text((d / 2, d / 2), text, font=_font(font_chain()[0], size), anchor="mm",
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
        (0, 0, w - 1, h - 1),
        radius=h // 2,
        fill=dark,
        outline=(*accent, 255),
        width=max(2, size // 12),
    )
    layer.alpha_composite(block, (pad_x, pad_y))
    return layer


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
    """A card popping in (``POP_SCALES``, one frame each) and then held to its scene's end."""

    card: Card
    fps: int

    def states(self, width: int, height: int) -> Iterator[tuple[Image.Image, float, int]]:
        frame = 1.0 / self.fps
        scene = self.card.end - self.card.start
        # The first card is whole from the first frame: a feed's preview and a viewer's first
        # glance get the finished picture, not a ghost of it popping in.
        pops = scene > frame * (len(POP_SCALES) + 2) and self.card.start > 0
        scales = POP_SCALES if pops else (1.0,)
        for k, scale in enumerate(scales):
            image = _scaled(self.card.image, scale)
            last = k == len(scales) - 1
            seconds = max(frame, scene - frame * (len(scales) - 1)) if last else frame
            yield image, seconds, k


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
    grow = max(POP_SCALES)
    boxes = []
    for card in cards:
        cxc, cyc = card.x + card.image.width / 2, card.y + card.image.height / 2
        hw, hh = card.image.width * grow / 2, card.image.height * grow / 2
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


def design_cover(
    background: Image.Image | None,
    picture: lib.Illustration,
    title: str,
    hue: float,
    frame: Frame,
    rasterizer: lib.Rasterizer | None = None,
) -> Image.Image:
    """The thumbnail: the subject's picture big, a short title in large type, over the frame
    behind it (darkened, so the design reads at 200 px wide), no caption text."""
    raster = rasterizer or lib.Rasterizer()
    W, H = frame.width, frame.height
    accent_hex, stops = palette(hue)
    accent = _rgb(accent_hex)
    if background is None:
        base = Image.new("RGB", (W, H), _rgb(stops[1]))
    else:
        base = background.convert("RGB").resize((W, H))
        base = base.filter(ImageFilter.GaussianBlur(max(2, W // 60)))
    shade = Image.new("RGB", (W, H), _rgb(stops[0]))
    image = Image.blend(base, shade, 0.45).convert("RGBA")
    size, lines = fit_text(title.upper(), W * 0.86, 3, round(W * 0.13))
    block = _text_block(lines, size, (255, 255, 255), stroke=0.07)
    top = round(H * 0.10)
    image.alpha_composite(block, ((W - block.width) // 2, top))
    below = top + block.height
    bar_w = round(W * 0.3)
    bar = Image.new("RGBA", (bar_w, max(4, round(H * 0.008))), (*accent, 255))
    image.alpha_composite(bar, ((W - bar_w) // 2, below + round(H * 0.01)))
    room = H - below - round(H * 0.06)
    pic = max(8, int(min(W * 0.78, room * 0.8)))
    glow = _glow(int(pic * 1.5), accent, 140)
    cy = below + room / 2 + H * 0.02
    image.alpha_composite(glow, (round(W / 2 - glow.width / 2), round(cy - glow.height / 2)))
    art = _shadowed(raster.image(picture, pic))
    image.alpha_composite(art, (round(W / 2 - art.width / 2), round(cy - art.height / 2)))
    return image.convert("RGB")
