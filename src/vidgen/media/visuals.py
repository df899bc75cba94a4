"""Scene footage: one silent H.264 clip per scene of the production plan.

Sources share one contract (``VisualSource``): ``ProceduralVisuals`` (offline default:
animated backgrounds computed by ffmpeg), ``ImageKenBurns`` (pan and zoom over the config's
``images:``) and ``StockVideos`` (stock footage: ``PexelsVideos``, ``PixabayVideos``, searched
through ``vidgen.media.stock``). ``get_visual_source`` picks one by the name used in theme
configs (``providers.visuals``). ``YourMedia`` renders the item of the media library
(``vidgen.media.library``) a scene matched: photos with ``ken_burns``, clips with
``fit_footage``.
"""

from __future__ import annotations

import math
import os
import random
import re
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import httpx
from pydantic import BaseModel, Field

from vidgen.errors import FatalStageError, StageError
from vidgen.files import regular_file_problem, temp_sibling
from vidgen.media import ffmpeg
from vidgen.media.stock import (
    MAX_DOWNLOAD_BYTES,
    PEXELS_SEARCH_URL,
    PIXABAY_SEARCH_URL,
    PexelsStock,
    PixabayStock,
    StockCache,
    StockCandidate,
    StockProvider,
    portrait_file,
    score,
)
from vidgen.outgoing import RetryPolicy, Sleep, default_timeout, download

if TYPE_CHECKING:
    from vidgen.cancel_token import CancelToken
    from vidgen.media.library import MediaItem

__all__ = ["PEXELS_SEARCH_URL", "PIXABAY_SEARCH_URL"]


class ClipSpec(BaseModel):
    index: int
    duration: float
    width: int
    height: int
    fps: int
    style: str  # cinematic | talking-head | tutorial | listicle | product-demo
    keywords: list[str]
    seed: int
    # The scene's concrete things ("kettle") and the video's subject in plain words: stock
    # queries are built from them, most specific first.
    subjects: list[str] = Field(default_factory=list)
    subject_terms: list[str] = Field(default_factory=list)


class Clip(BaseModel):
    path: Path
    duration: float
    provider: str
    cost: float
    source: str | None  # stock page URL or image path, for the generation log
    # A real picture of what the scene says (a photo, a clip, stock footage), not a backdrop.
    shows_subject: bool = False
    licence: str | None = None  # "user-supplied", the stock site's licence; None if generated


@runtime_checkable
class VisualSource(Protocol):
    """Contract every footage source keeps.

    ``render(spec, out_path, ctx=)`` writes an MP4 at ``out_path`` holding one H.264 yuv420p video
    stream of exactly ``spec.width`` x ``spec.height`` at ``spec.fps``, lasting ``spec.duration``
    seconds to within one frame, with no audio stream. The file appears atomically (written under
    a temporary name, then renamed). It returns a ``Clip`` with the real duration, the provider
    name, the cost in USD, where the footage came from (``source``, or None if generated) and
    whether it is a real picture of what the scene says (``shows_subject``: photos, clips and
    stock footage; not generated backdrops).

    Errors: ``StageError`` for what another attempt may fix (network, ffmpeg crash);
    ``FatalStageError`` for what it cannot (missing or rejected API key, missing image file).
    Long work honours ``ctx`` cancellation (``vidgen.media.ffmpeg.run`` does it for ffmpeg).

    ``source_scale`` is the fraction of the output size worth rendering this source at: the
    caller asks for clips that size and composition scales the joined clips up once. Footage with
    real detail says 1.0; smooth generated backgrounds say less, which makes every clip cheaper to
    encode and the composition cheaper to decode and hold in memory.
    """

    name: str
    source_scale: float

    def render(self, spec: ClipSpec, out_path: Path, *, ctx: CancelToken | None = None) -> Clip: ...


# --------------------------------------------------------------------------------------------
# Shared encoding


def _frame_count(spec: ClipSpec) -> int:
    if spec.duration <= 0 or spec.fps <= 0 or spec.width <= 0 or spec.height <= 0:
        raise FatalStageError(
            f"clip {spec.index}: invalid spec ({spec.width}x{spec.height}, "
            f"{spec.fps} fps, {spec.duration} s); all must be positive"
        )
    return max(1, round(spec.duration * spec.fps))


def _output_args(spec: ClipSpec, tmp: Path) -> list[str]:
    """Encoder settings every source ends with.

    A fixed frame count (not ``-t``) makes the length exact whatever the input. ``ultrafast``
    because these are intermediates: composition re-encodes them, and at 1080x1920 the encoder
    is most of the render time.
    """
    return [
        "-frames:v", str(_frame_count(spec)),
        "-r", str(spec.fps),
        "-an", "-sn", "-dn",
        "-c:v", "libx264", "-preset", "ultrafast", "-crf", "18",
        "-pix_fmt", "yuv420p",
        "-movflags", "+faststart",
        "-map_metadata", "-1",
        "-f", "mp4", str(tmp),
    ]  # fmt: skip


def _publish(
    spec: ClipSpec,
    args: list[str],
    out_path: Path,
    *,
    ctx: CancelToken | None,
    what: str,
) -> float:
    """Run ffmpeg into a temporary sibling, check the result, rename it into place."""
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_sibling(out_path)
    try:
        ffmpeg.run([*args, *_output_args(spec, tmp)], ctx=ctx, what=what)
        info = ffmpeg.probe(tmp)
        expected = _frame_count(spec) / spec.fps
        # The container duration is printed with 2 decimals, hence the extra 0.01.
        if (
            info.width != spec.width
            or info.height != spec.height
            or abs(info.duration - expected) > 1.0 / spec.fps + 0.01
        ):
            raise StageError(
                f"{what} produced {info.width}x{info.height} {info.duration:.2f} s, "
                f"expected {spec.width}x{spec.height} {expected:.2f} s"
            )
        os.replace(tmp, out_path)
    finally:
        tmp.unlink(missing_ok=True)
    return expected


# --------------------------------------------------------------------------------------------
# Procedural backgrounds

# Three colour stops per palette, dark to light-ish; a seed picks one palette of its style.
_PALETTES: dict[str, list[tuple[str, str, str]]] = {
    "cinematic": [
        ("0b1d2a", "1f5f6b", "e0a458"),
        ("120f1f", "3b2f63", "d9825b"),
        ("0d1b1e", "2e4a3f", "c9b27c"),
    ],
    "talking-head": [
        ("3d2c2e", "a9746e", "f2d0a4"),
        ("2f3e46", "84a98c", "e9e3d5"),
        ("463f3a", "8a817c", "f4f3ee"),
    ],
    "tutorial": [
        ("0f172a", "1e40af", "93c5fd"),
        ("102a43", "2f6f8f", "cfe8ef"),
        ("1b263b", "415a77", "e0e1dd"),
    ],
    "listicle": [
        ("5f0f40", "fb8b24", "ffd23f"),
        ("3a0ca3", "f72585", "ffbe0b"),
        ("14213d", "fc5130", "f6f740"),
    ],
    "product-demo": [
        ("10002b", "5a189a", "4cc9f0"),
        ("03045e", "0077b6", "90e0ef"),
        ("1a1a2e", "7b2cbf", "00f5d4"),
    ],
}

# Per style: (motion speed, pattern frequency, glow strength, vignette strength).
_STYLE_MOTION: dict[str, tuple[float, float, float, float]] = {
    "cinematic": (0.45, 5.0, 0.2, 0.9),
    "talking-head": (0.35, 3.5, 0.18, 0.5),
    "tutorial": (0.4, 4.0, 0.12, 0.3),
    "listicle": (0.9, 7.0, 0.2, 0.3),
    "product-demo": (0.6, 5.5, 0.35, 0.7),
}

# The pattern is computed on a grid this many times smaller than the frame and scaled up
# (it is smooth, so nothing is lost); ``geq`` at full 1080x1920 would take minutes.
_FIELD_DOWNSCALE = 20
# Backdrop colours are dimmed this much: white text and bright icon badges sit on top.
_BACKDROP_DIM = 0.7


def _rgb(hex_color: str) -> tuple[int, int, int]:
    return int(hex_color[0:2], 16), int(hex_color[2:4], 16), int(hex_color[4:6], 16)


def _f(value: float) -> str:
    return f"{value:.4f}"


class ProceduralVisuals:
    """Animated abstract backgrounds rendered by ffmpeg alone: offline, free, deterministic.

    A plasma field (sums of moving sines) is mapped onto a three-colour palette of the clip's
    style, lit by a drifting glow and darkened at the edges, computed at 1/20 resolution and
    scaled up, then given sharp style accents (scrolling grid lines for tutorials, sliding bands
    for listicles, scan lines for product demos). Every phase, speed and direction
    comes from ``spec.seed``, so the same spec always renders the same frames.
    """

    name = "procedural"
    # The pattern is computed at 1/20 resolution and upscaled: quarter size loses nothing
    # visible, and makes the clips, their decoding and the cross-fades 4x cheaper than half.
    source_scale = 0.25

    def render(self, spec: ClipSpec, out_path: Path, *, ctx: CancelToken | None = None) -> Clip:
        _frame_count(spec)
        style = spec.style if spec.style in _PALETTES else "product-demo"
        rng = random.Random(f"{style}:{spec.seed}:{spec.index}")
        field_w = max(16, round(spec.width / _FIELD_DOWNSCALE))
        field_h = max(16, round(spec.height / _FIELD_DOWNSCALE))
        chain = [
            *self._field(style, rng),
            "format=yuv420p",
            f"scale={spec.width}:{spec.height}:flags=bicubic",
            "setsar=1",
            "format=yuv420p",
        ]
        args = [
            "-f", "lavfi",
            "-i", f"color=c=black:s={field_w}x{field_h}:r={spec.fps}",
            "-vf", ",".join(chain),
        ]  # fmt: skip
        duration = _publish(spec, args, out_path, ctx=ctx, what=f"procedural clip {spec.index}")
        return Clip(path=out_path, duration=duration, provider=self.name, cost=0.0, source=None)

    @staticmethod
    def _field(style: str, rng: random.Random) -> list[str]:
        speed, freq, glow, vignette = _STYLE_MOTION[style]
        stops = [_rgb(c) for c in rng.choice(_PALETTES[style])]

        def sine(coord: str, scale: float, rate: float, phase: float) -> str:  # one travelling wave
            sign = rng.choice((-1, 1))
            return f"sin({coord}*{_f(scale)}{sign:+d}*T*{_f(rate)}+{_f(phase)})"

        two_pi = 2 * math.pi
        angle = rng.uniform(0, math.pi)
        # u runs 0..1 across the width, v the same scale down the height, so waves stay round.
        u, v = "(X/W)", "(Y/W)"
        plasma = "+".join(
            [
                sine(u, freq * rng.uniform(0.7, 1.3), speed * rng.uniform(0.8, 1.4),
                     rng.uniform(0, two_pi)),
                sine(v, freq * rng.uniform(0.5, 1.0), speed * rng.uniform(0.6, 1.2),
                     rng.uniform(0, two_pi)),
                sine(f"({u}*{_f(math.cos(angle))}+{v}*{_f(math.sin(angle))})",
                     freq * rng.uniform(0.8, 1.5), speed * rng.uniform(0.9, 1.6),
                     rng.uniform(0, two_pi)),
                sine(f"hypot({u}-{_f(rng.uniform(0.2, 0.8))},{v}-{_f(rng.uniform(0.3, 1.5))})",
                     freq * rng.uniform(1.0, 1.8), speed * rng.uniform(1.0, 1.8),
                     rng.uniform(0, two_pi)),
            ]
        )  # fmt: skip
        colour_cycle = f"T*{_f(speed * rng.uniform(0.15, 0.35))}"
        blob_x = f"(0.5+0.32*sin(T*{_f(speed * rng.uniform(0.5, 0.9))}+{_f(rng.uniform(0, 6))}))"
        blob_y = (
            f"(H/W)*(0.5+0.3*sin(T*{_f(speed * rng.uniform(0.4, 0.8))}+{_f(rng.uniform(0, 6))}))"
        )
        # The field is one brightness-like value per pixel (palette position, pushed toward the
        # light stop by the glow and toward the dark stop by the vignette). A single ``geq``
        # expression in gray is a third of the work of evaluating r, g and b separately; the
        # colours then come from ``lutrgb``, a 256-entry table per channel.
        field = (
            f"255*clip((0.5+0.5*sin(({plasma})*0.9+{colour_cycle}))"
            f"*(1-{_f(vignette)}*(pow(X/W-0.5,2)+pow(Y/H-0.5,2)))"
            f"+{_f(glow)}*exp(-(pow({u}-{blob_x},2)+pow({v}-{blob_y},2))/0.06),0,1)"
        )
        tables = []
        for channel, name in enumerate("rgb"):
            c1, c2, c3 = (round(stop[channel] * _BACKDROP_DIM) for stop in stops)
            tables.append(
                f"{name}='if(lt(val,128),{c1}+{c2 - c1}*val/128,{c2}+{c3 - c2}*(val-128)/127)'"
            )
        return ["format=gray", f"geq=lum='{field}'", "format=rgb24", "lutrgb=" + ":".join(tables)]


# Ken Burns over photos

_MAX_IMAGE_PIXELS = 80_000_000  # refuse decompression bombs long before memory runs out
# Where a photo's subject is assumed to be without a focus point: centred across, a little
# above the middle (people and products sit there more often than below it).
_DEFAULT_PHOTO_FOCUS = (0.5, 0.45)
_DEFAULT_CLIP_FOCUS = (0.5, 0.5)


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


def ken_burns(
    image: Path,
    spec: ClipSpec,
    out_path: Path,
    *,
    focus: tuple[float, float] | None = None,
    provider: str = "images",
    ctx: CancelToken | None = None,
) -> Clip:
    """A slow pan and zoom over one photo, cropped to the clip's shape around ``focus``.

    The photo is oriented by its EXIF tag, cropped to the output's aspect ratio with the focus
    point (``[x, y]`` in 0..1; a centre-weighted point without one) as near the middle as the
    photo allows, and enlarged a little so the zoom has sub-pixel precision (ffmpeg's zoompan
    rounds its window to whole pixels, which otherwise shows as jitter). The zoom (in or out,
    by 12-22 %) and a small drift come from the seed; the window stays around the focus, so
    the subject stays in frame. A missing or unreadable photo is a FatalStageError naming it.
    """
    frames = _frame_count(spec)
    rng = random.Random(f"kenburns:{spec.seed}:{spec.index}")
    out_path.parent.mkdir(parents=True, exist_ok=True)
    still = temp_sibling(out_path).with_suffix(".png")
    try:
        fx, fy = _prepare_still(image, still, spec, focus or _DEFAULT_PHOTO_FOCUS)
        zoom_a, zoom_b = 1.0, rng.uniform(1.12, 1.22)
        if rng.random() < 0.5:
            zoom_a, zoom_b = zoom_b, zoom_a
        # The window's position runs 0..1 over the room the zoom leaves; starting and ending
        # near the focus keeps the subject in view while the picture drifts a little.
        drift = 0.12
        pan = [
            _clamp(fx + rng.uniform(-drift, drift), 0.0, 1.0),
            _clamp(fx + rng.uniform(-drift, drift), 0.0, 1.0),
            _clamp(fy + rng.uniform(-drift, drift), 0.0, 1.0),
            _clamp(fy + rng.uniform(-drift, drift), 0.0, 1.0),
        ]
        progress = f"(on/{max(1, frames - 1)})"
        # Ease in and out so the move starts and ends gently, like a camera operator.
        eased = f"(0.5-0.5*cos(PI*{progress}))"
        zoom = f"{_f(zoom_a)}+{_f(zoom_b - zoom_a)}*{eased}"
        x = f"(iw-iw/zoom)*({_f(pan[0])}+{_f(pan[1] - pan[0])}*{eased})"
        y = f"(ih-ih/zoom)*({_f(pan[2])}+{_f(pan[3] - pan[2])}*{eased})"
        args = [
            "-i", str(still),
            "-vf",
            f"zoompan=z='{zoom}':x='{x}':y='{y}':d={frames}"
            f":s={spec.width}x{spec.height}:fps={spec.fps},setsar=1,format=yuv420p",
        ]  # fmt: skip
        duration = _publish(spec, args, out_path, ctx=ctx, what=f"Ken Burns clip {spec.index}")
    finally:
        still.unlink(missing_ok=True)
    return Clip(
        path=out_path,
        duration=duration,
        provider=provider,
        cost=0.0,
        source=str(image),
        shows_subject=True,
        licence="user-supplied",
    )


def _prepare_still(
    image: Path, dest: Path, spec: ClipSpec, focus: tuple[float, float]
) -> tuple[float, float]:
    """Write the output-shaped crop of ``image`` around ``focus`` to ``dest``; return where
    the focus point landed in it (0..1 each way)."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    Image.MAX_IMAGE_PIXELS = _MAX_IMAGE_PIXELS
    # Checked without opening: a FIFO listed as an image would block Image.open (and the
    # stage) until its time limit, on every attempt.
    problem = regular_file_problem(image)
    if problem == "file not found":
        raise FatalStageError(f"image {image} does not exist; fix 'images:' in the config")
    if problem is not None:
        raise FatalStageError(f"image {image} {problem}; fix 'images:' in the config")
    try:
        with Image.open(image) as opened:
            picture = ImageOps.exif_transpose(opened).convert("RGB")
    except FileNotFoundError:
        raise FatalStageError(
            f"image {image} does not exist; fix 'images:' in the config"
        ) from None
    except (UnidentifiedImageError, Image.DecompressionBombError) as exc:
        raise FatalStageError(f"image {image} is not a usable picture ({exc})") from None
    except OSError as exc:
        raise FatalStageError(f"image {image} cannot be read ({exc})") from None
    if picture.width < 2 or picture.height < 2:
        raise FatalStageError(f"image {image} is too small ({picture.width}x{picture.height})")
    # Oversample small outputs more: the cost is per output pixel, the jitter per input pixel.
    oversample = min(3.0, max(1.25, 2400 / max(spec.width, spec.height)))
    target_w = round(spec.width * oversample)
    target_h = round(spec.height * oversample)
    aspect = spec.width / spec.height
    if picture.width / picture.height > aspect:
        crop_w, crop_h = picture.height * aspect, float(picture.height)
    else:
        crop_w, crop_h = float(picture.width), picture.width / aspect
    focus_x, focus_y = focus[0] * picture.width, focus[1] * picture.height
    left = _clamp(focus_x - crop_w / 2, 0.0, picture.width - crop_w)
    top = _clamp(focus_y - crop_h / 2, 0.0, picture.height - crop_h)
    box = (left, top, left + crop_w, top + crop_h)
    picture.resize((target_w, target_h), Image.Resampling.LANCZOS, box=box).save(
        dest, format="PNG", compress_level=1
    )
    return (
        _clamp((focus_x - left) / crop_w, 0.0, 1.0),
        _clamp((focus_y - top) / crop_h, 0.0, 1.0),
    )


class ImageKenBurns:
    """Ken Burns moves over the config's ``images:``, one image per clip, cycling by clip index
    (``ken_burns`` does the work; the media library matches pictures to scenes instead)."""

    name = "images"
    source_scale = 1.0

    def __init__(self, images: list[Path]) -> None:
        if not images:
            raise FatalStageError("the images visual source needs at least one image in 'images:'")
        self.images = list(images)

    def image_for(self, spec: ClipSpec) -> Path:
        return self.images[spec.index % len(self.images)]

    def render(self, spec: ClipSpec, out_path: Path, *, ctx: CancelToken | None = None) -> Clip:
        return ken_burns(self.image_for(spec), spec, out_path, provider=self.name, ctx=ctx)


# --------------------------------------------------------------------------------------------
# Video footage (your clips, stock)


def fit_footage(
    source: Path,
    spec: ClipSpec,
    out_path: Path,
    *,
    source_duration: float | None,
    focus: tuple[float, float] | None = None,
    what: str,
    ctx: CancelToken | None = None,
) -> float:
    """Scale a video to cover the clip's shape, crop it around ``focus`` (the centre without
    one), and fit its length to the scene; its own audio is dropped. Returns the duration.

    Longer than the scene: the scene's length is taken from near the start (skipping up to a
    second of lead-in). A little shorter (at least 60 % of the scene): slowed to fit, which
    looks deliberate. Much shorter, or of unknown length: looped.
    """
    need = _frame_count(spec) / spec.fps
    fx, fy = focus or _DEFAULT_CLIP_FOCUS
    before_input: list[str] = []
    timing = ""
    if source_duration is None or source_duration < need * 0.6:
        # The fixed output frame count stops the loop.
        before_input = ["-stream_loop", "-1"]
    elif source_duration < need:
        timing = f"setpts={_f(need / source_duration)}*PTS,"
    else:
        start = min(1.0, (source_duration - need) / 2)
        if start > 0:
            before_input = ["-ss", _f(start)]
    crop = (
        f"crop={spec.width}:{spec.height}"
        f":'min(max(iw*{_f(fx)}-ow/2,0),iw-ow)':'min(max(ih*{_f(fy)}-oh/2,0),ih-oh)'"
    )
    args = [
        *before_input,
        "-i", str(source),
        "-map", "0:v:0",
        "-vf",
        f"{timing}scale={spec.width}:{spec.height}:force_original_aspect_ratio=increase"
        f":flags=bicubic,{crop},fps={spec.fps},setsar=1,format=yuv420p",
    ]  # fmt: skip
    return _publish(spec, args, out_path, ctx=ctx, what=what)


class YourMedia:
    """Renders one item of the media library (``vidgen.media.library``): a photo with a slow
    Ken Burns move, a clip trimmed (or slowed, or looped) to the scene; both full-bleed,
    cropped to the output's shape around the item's focus point, with no audio."""

    name = "media"
    source_scale = 1.0

    def render_item(
        self, item: MediaItem, spec: ClipSpec, out_path: Path, *, ctx: CancelToken | None = None
    ) -> Clip:
        provider = "images" if item.always else self.name
        if item.kind == "photo":
            return ken_burns(
                item.path, spec, out_path, focus=item.focus, provider=provider, ctx=ctx
            )
        problem = regular_file_problem(item.path)
        if problem is not None:  # stat only: a FIFO would block ffmpeg until the time limit
            raise FatalStageError(f"clip {item.path} {problem}; fix the media folder")
        duration = fit_footage(
            item.path,
            spec,
            out_path,
            source_duration=item.duration,
            focus=item.focus,
            what=f"media clip {spec.index} ({item.path.name})",
            ctx=ctx,
        )
        return Clip(
            path=out_path,
            duration=duration,
            provider=provider,
            cost=0.0,
            source=str(item.path),
            shows_subject=True,
            licence="user-supplied",
        )


# --------------------------------------------------------------------------------------------
# Stock footage

# Kept for callers that patch it: the cap of one stock download.
_MAX_DOWNLOAD_BYTES = MAX_DOWNLOAD_BYTES
_portrait_file = portrait_file


class StockVideos:
    """Stock footage from a ``StockProvider`` (Pexels, Pixabay), fitted to the clip spec.

    Queries come from the scene's key nouns (``spec.subjects``), its keywords and the video's
    subject terms, most specific first; the first query with results gives the candidates,
    which ``vidgen.media.stock.score`` ranks (orientation, resolution, duration, query words in
    tags), the seed breaking ties; a video this source already used comes after every unused
    one, so adjacent scenes differ. The file comes through the ``StockCache`` when one is given
    (shared by jobs), else it is downloaded beside the clip and removed after. It is then
    cropped to the output shape and fitted to the scene (``fit_footage``); its audio is
    dropped. ``choose`` returns None when no query finds anything; ``render`` turns that into
    a FatalStageError.
    """

    source_scale = 1.0

    def __init__(
        self,
        provider: StockProvider,
        *,
        cache: StockCache | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Sleep | None = None,
        policy: RetryPolicy = RetryPolicy(),
    ) -> None:
        self.provider = provider
        self.name = provider.name
        self._cache = cache
        self._transport = transport
        self._sleep = sleep
        self._policy = policy
        self._used: dict[str, int] = {}
        self._lock = threading.Lock()

    def client(self) -> httpx.Client:
        return httpx.Client(
            timeout=default_timeout(read=60.0), transport=self._transport, follow_redirects=True
        )

    @staticmethod
    def queries(spec: ClipSpec) -> list[str]:
        subjects = [s.strip() for s in spec.subjects if s.strip()]
        keywords = [k.strip() for k in spec.keywords if k.strip()]
        terms = [t.strip() for t in spec.subject_terms if t.strip()]
        candidates = [
            " ".join(subjects[:2]),
            " ".join(keywords[:3]),
            subjects[0] if subjects else "",
            keywords[0] if keywords else "",
            " ".join(terms[:2]),
        ]
        unique: list[str] = []
        for query in candidates:
            if query and query.casefold() not in (u.casefold() for u in unique):
                unique.append(query)
        return unique

    def choose(
        self, spec: ClipSpec, client: httpx.Client, ctx: CancelToken | None = None
    ) -> tuple[StockCandidate | None, list[str]]:
        """The best candidate for the scene (None if nothing was found) and the queries tried."""
        tried: list[str] = []
        for query in self.queries(spec):
            tried.append(query)
            found = self._search(client, query, spec, ctx)
            if not found:
                continue
            words = {w for w in re.split(r"\W+", query.casefold()) if w}
            rng = random.Random(spec.seed * 7919 + spec.index)
            with self._lock:
                # Footage this source already used comes last: adjacent scenes (and the video's
                # other scenes) show different videos while the search offers others.
                ranked = sorted(
                    found,
                    key=lambda c: (
                        -self._used.get(c.file_url, 0),
                        score(
                            c, width=spec.width, height=spec.height,
                            duration=spec.duration, words=words,
                        ),
                        rng.random(),
                    ),
                    reverse=True,
                )  # fmt: skip
                best = ranked[0]
                self._used[best.file_url] = self._used.get(best.file_url, 0) + 1
            return best, tried
        return None, tried

    def _search(
        self, client: httpx.Client, query: str, spec: ClipSpec, ctx: CancelToken | None
    ) -> list[StockCandidate]:
        name, width, height = self.provider.name, spec.width, spec.height
        if self._cache is not None:
            cached = self._cache.cached_search(name, query, width, height)
            if cached is not None:
                return cached
        found = self.provider.search(client, query, width=width, height=height, ctx=ctx)
        if self._cache is not None:
            self._cache.store_search(name, query, width, height, found)
        return found

    def render(self, spec: ClipSpec, out_path: Path, *, ctx: CancelToken | None = None) -> Clip:
        _frame_count(spec)
        with self.client() as client:
            candidate, tried = self.choose(spec, client, ctx)
            if candidate is None:
                wanted = "portrait " if spec.height > spec.width else ""
                raise FatalStageError(
                    f"{self.provider.label} has no {wanted}videos for "
                    f"{' / '.join(repr(q) for q in tried) or 'this scene'}; "
                    "change the scene keywords or use providers.visuals: procedural"
                )
            return self.render_candidate(candidate, spec, out_path, client=client, ctx=ctx)

    def render_candidate(
        self,
        candidate: StockCandidate,
        spec: ClipSpec,
        out_path: Path,
        *,
        client: httpx.Client,
        ctx: CancelToken | None = None,
    ) -> Clip:
        out_path.parent.mkdir(parents=True, exist_ok=True)
        cached = self._cache is not None
        if self._cache is not None:
            footage = self._cache.fetch(
                client,
                candidate.file_url,
                credential=self.provider.credential,
                max_bytes=_MAX_DOWNLOAD_BYTES,
                sleep=self._sleep,
                policy=self._policy,
                ctx=ctx,
            )
        else:
            footage = temp_sibling(out_path).with_suffix(".download")
            download(
                client,
                candidate.file_url,
                footage,
                credential=self.provider.credential,
                max_bytes=_MAX_DOWNLOAD_BYTES,
                what="video",
                sleep=self._sleep,
                policy=self._policy,
                ctx=ctx,
            )
        try:
            # The search's duration is metadata; the file decides (a file ffmpeg cannot read
            # leaves the cache, so the next attempt downloads it again).
            length = ffmpeg.probe(footage).duration
            duration = fit_footage(
                footage,
                spec,
                out_path,
                source_duration=length if length > 0 else None,
                what=f"{self.provider.label} clip {spec.index}",
                ctx=ctx,
            )
        except StageError:
            if cached:
                footage.unlink(missing_ok=True)
            raise
        finally:
            if not cached:
                footage.unlink(missing_ok=True)
        return Clip(
            path=out_path,
            duration=duration,
            provider=self.name,
            cost=0.0,
            source=candidate.page_url,
            shows_subject=True,
            licence=self.provider.licence,
        )


class PexelsVideos(StockVideos):
    """Stock clips from the Pexels video search API (free to use; cost 0).

    Needs ``VIDGEN_PEXELS_API_KEY``; searches videos of the output's orientation. Search and
    download follow ``vidgen.outgoing``'s rules: 429/5xx, timeouts and resets retried (honouring
    Retry-After), 401/403 fatal naming the key variable, the file capped at 300 MB and renamed
    into place only when complete. ``source`` is the Pexels page of the video, for attribution.
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        cache: StockCache | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Sleep | None = None,
        policy: RetryPolicy = RetryPolicy(),
    ) -> None:
        provider = PexelsStock(api_key=api_key, sleep=sleep, policy=policy)
        super().__init__(provider, cache=cache, transport=transport, sleep=sleep, policy=policy)


class PixabayVideos(StockVideos):
    """Stock clips from the Pixabay video search API (free to use; cost 0).

    Needs ``VIDGEN_PIXABAY_API_KEY`` (or ``PIXABAY_API_KEY``). Pixabay's films are mostly
    landscape: ``score`` prefers the output's orientation, and the crop keeps the centre.
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        cache: StockCache | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Sleep | None = None,
        policy: RetryPolicy = RetryPolicy(),
    ) -> None:
        provider = PixabayStock(api_key=api_key, sleep=sleep, policy=policy)
        super().__init__(provider, cache=cache, transport=transport, sleep=sleep, policy=policy)


def get_visual_source(
    name: str, images: list[Path], *, cache: StockCache | None = None
) -> VisualSource:
    """The source named in ``providers.visuals``: ``procedural``, ``images``, ``pexels`` or
    ``pixabay`` (the stock sources download through ``cache`` when one is given)."""
    if name == "procedural":
        return ProceduralVisuals()
    if name == "images":
        return ImageKenBurns(images)
    if name == "pexels":
        return PexelsVideos(cache=cache)
    if name == "pixabay":
        return PixabayVideos(cache=cache)
    raise FatalStageError(
        f"unknown visual source {name!r}; use 'procedural', 'images', 'pexels' or 'pixabay'"
    )
