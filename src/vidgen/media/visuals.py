"""Scene footage: one silent H.264 clip per scene of the production plan.

Three sources share one contract (``VisualSource``): ``ProceduralVisuals`` (offline default:
animated backgrounds computed by ffmpeg), ``ImageKenBurns`` (pan and zoom over the user's own
images) and ``PexelsVideos`` (stock footage from the Pexels API). ``get_visual_source`` picks one
by the name used in theme configs (``providers.visuals``).
"""

from __future__ import annotations

import math
import os
import random
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import httpx
from pydantic import BaseModel

from vidgen.errors import FatalStageError, StageError
from vidgen.files import regular_file_problem, temp_sibling
from vidgen.http import (
    Credential,
    RetryPolicy,
    Sleep,
    default_timeout,
    download,
    request_json,
    require_key,
)
from vidgen.media import ffmpeg

if TYPE_CHECKING:
    from vidgen.cancel import CancelToken


class ClipSpec(BaseModel):
    index: int
    duration: float
    width: int
    height: int
    fps: int
    style: str  # cinematic | talking-head | tutorial | listicle | product-demo
    keywords: list[str]
    seed: int


class Clip(BaseModel):
    path: Path
    duration: float
    provider: str
    cost: float
    source: str | None  # stock page URL or image path, for the generation log


@runtime_checkable
class VisualSource(Protocol):
    """Contract every footage source keeps.

    ``render(spec, out_path, ctx=)`` writes an MP4 at ``out_path`` holding one H.264 yuv420p video
    stream of exactly ``spec.width`` x ``spec.height`` at ``spec.fps``, lasting ``spec.duration``
    seconds to within one frame, with no audio stream. The file appears atomically (written under
    a temporary name, then renamed). It returns a ``Clip`` with the real duration, the provider
    name, the cost in USD and where the footage came from (``source``, or None if generated).

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


# --------------------------------------------------------------------------------------------
# Ken Burns over local images

_MAX_IMAGE_PIXELS = 80_000_000  # refuse decompression bombs long before memory runs out


class ImageKenBurns:
    """Slow pan and zoom over the user's images, one image per clip, cycling by clip index.

    Each image is oriented by its EXIF tag, cropped to 9:16 around a seed-chosen point and
    enlarged a little so the zoom has sub-pixel precision (ffmpeg's zoompan rounds its window to
    whole pixels, which otherwise shows as jitter). Zoom direction and pan path come from the
    seed. A missing or unreadable image is a FatalStageError naming the file: retrying won't
    make it appear.
    """

    name = "images"
    source_scale = 1.0

    def __init__(self, images: list[Path]) -> None:
        if not images:
            raise FatalStageError("the images visual source needs at least one image in 'images:'")
        self.images = list(images)

    def image_for(self, spec: ClipSpec) -> Path:
        return self.images[spec.index % len(self.images)]

    def render(self, spec: ClipSpec, out_path: Path, *, ctx: CancelToken | None = None) -> Clip:
        frames = _frame_count(spec)
        image = self.image_for(spec)
        rng = random.Random(f"kenburns:{spec.seed}:{spec.index}")
        out_path.parent.mkdir(parents=True, exist_ok=True)
        still = temp_sibling(out_path).with_suffix(".png")
        try:
            self._prepare(image, still, spec, rng)
            zoom_a, zoom_b = 1.0, rng.uniform(1.12, 1.22)
            if rng.random() < 0.5:
                zoom_a, zoom_b = zoom_b, zoom_a
            pan = [rng.uniform(0.1, 0.9) for _ in range(4)]
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
            path=out_path, duration=duration, provider=self.name, cost=0.0, source=str(image)
        )

    @staticmethod
    def _prepare(image: Path, dest: Path, spec: ClipSpec, rng: random.Random) -> None:
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
        left = (picture.width - crop_w) * rng.uniform(0.2, 0.8)
        top = (picture.height - crop_h) * rng.uniform(0.2, 0.5)
        box = (left, top, left + crop_w, top + crop_h)
        picture.resize((target_w, target_h), Image.Resampling.LANCZOS, box=box).save(
            dest, format="PNG", compress_level=1
        )


# --------------------------------------------------------------------------------------------
# Pexels stock footage

PEXELS_SEARCH_URL = "https://api.pexels.com/videos/search"
PEXELS_KEY_ENV = "VIDGEN_PEXELS_API_KEY"
_PEXELS_CREDENTIAL = Credential(
    "Pexels",
    "API key",
    PEXELS_KEY_ENV,
    # A refused search or a vanished file: the seed would pick the same again.
    request_fix="change the scene keywords or use providers.visuals: procedural",
)
_MAX_DOWNLOAD_BYTES = 300 * 1024 * 1024
_STYLE_FALLBACK_QUERY = {
    "cinematic": "cinematic landscape",
    "talking-head": "person talking",
    "tutorial": "hands working desk",
    "listicle": "colorful abstract",
    "product-demo": "technology product",
}


class PexelsVideos:
    """Stock clips from the Pexels video search API (free to use; cost 0).

    Needs ``VIDGEN_PEXELS_API_KEY``. Searches portrait videos for the clip's keywords (then fewer
    keywords, then a query for the style), prefers results at least as long as the clip, picks
    one by seed among them, downloads the smallest portrait rendition that is at least as wide
    as the clip (streamed, size-capped), then scales, centre-crops, retimes and trims it with
    ffmpeg to the spec. A clip shorter than the scene is looped. ``source`` is the Pexels page
    of the video, for attribution. Search and download follow ``vidgen.http``'s rules: 429/5xx,
    timeouts and resets retried (honouring Retry-After), 401/403 fatal naming the key variable,
    the file capped at 300 MB and renamed into place only when complete.
    """

    name = "pexels"
    source_scale = 1.0

    def __init__(
        self,
        *,
        api_key: str | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Sleep | None = None,
        policy: RetryPolicy = RetryPolicy(),
    ) -> None:
        self._api_key = api_key
        self._transport = transport
        self._sleep = sleep
        self._policy = policy

    def render(self, spec: ClipSpec, out_path: Path, *, ctx: CancelToken | None = None) -> Clip:
        _frame_count(spec)
        api_key = require_key(
            self._api_key,
            PEXELS_KEY_ENV,
            "The Pexels visual source",
            "use providers.visuals: procedural (a Pexels key is free at pexels.com/api)",
        )
        with httpx.Client(
            timeout=default_timeout(read=60.0), transport=self._transport, follow_redirects=True
        ) as client:
            video, link = self._choose(client, api_key, spec, ctx)
            out_path.parent.mkdir(parents=True, exist_ok=True)
            downloaded = temp_sibling(out_path).with_suffix(".download")
            try:
                download(
                    client,
                    link,
                    downloaded,
                    credential=_PEXELS_CREDENTIAL,
                    max_bytes=_MAX_DOWNLOAD_BYTES,
                    what="video",
                    sleep=self._sleep,
                    policy=self._policy,
                    ctx=ctx,
                )
                # Loop unconditionally: the search's "duration" is metadata, the file may be
                # shorter, and the fixed output frame count stops a long one anyway.
                args = [
                    "-stream_loop", "-1",
                    "-i", str(downloaded),
                    "-vf",
                    f"scale={spec.width}:{spec.height}:force_original_aspect_ratio=increase"
                    f":flags=bicubic,crop={spec.width}:{spec.height},fps={spec.fps},"
                    "setsar=1,format=yuv420p",
                ]  # fmt: skip
                duration = _publish(spec, args, out_path, ctx=ctx, what=f"Pexels clip {spec.index}")
            finally:
                downloaded.unlink(missing_ok=True)
        page = video.get("url")
        return Clip(
            path=out_path,
            duration=duration,
            provider=self.name,
            cost=0.0,
            source=str(page) if page else link,
        )

    def _queries(self, spec: ClipSpec) -> list[str]:
        words = [k.strip() for k in spec.keywords if k.strip()]
        queries = [
            " ".join(words[:3]),
            words[0] if words else "",
            _STYLE_FALLBACK_QUERY.get(spec.style, "abstract background"),
        ]
        unique: list[str] = []
        for query in queries:
            if query and query not in unique:
                unique.append(query)
        return unique

    def _choose(
        self, client: httpx.Client, api_key: str, spec: ClipSpec, ctx: CancelToken | None
    ) -> tuple[dict[str, Any], str]:
        tried: list[str] = []
        for query in self._queries(spec):
            tried.append(query)
            candidates: list[tuple[dict[str, Any], str]] = []
            for video in self._search(client, api_key, query, ctx):
                link = _portrait_file(video, spec.width)
                if link is not None:
                    candidates.append((video, link))
            if not candidates:
                continue
            long_enough = [
                c for c in candidates if float(c[0].get("duration") or 0) >= spec.duration
            ]
            pool = long_enough or candidates
            return pool[random.Random(spec.seed * 7919 + spec.index).randrange(len(pool))]
        raise FatalStageError(
            f"Pexels has no portrait videos for {' / '.join(repr(q) for q in tried)}; "
            "change the scene keywords or use providers.visuals: procedural"
        )

    def _search(
        self, client: httpx.Client, api_key: str, query: str, ctx: CancelToken | None
    ) -> list[dict[str, Any]]:
        payload = request_json(
            client,
            "GET",
            PEXELS_SEARCH_URL,
            params={"query": query, "orientation": "portrait", "per_page": 15},
            headers={"Authorization": api_key},
            credential=_PEXELS_CREDENTIAL,
            sleep=self._sleep,
            policy=self._policy,
            ctx=ctx,
        )
        videos = payload.get("videos") if isinstance(payload, dict) else None
        if not isinstance(videos, list):
            raise StageError("Pexels search response has no 'videos' list")
        return [v for v in videos if isinstance(v, dict)]


def _portrait_file(video: dict[str, Any], min_width: int) -> str | None:
    """Link of the smallest portrait rendition at least ``min_width`` wide (else the largest)."""
    files = []
    for item in video.get("video_files") or []:
        if not isinstance(item, dict):
            continue
        width, height, link = item.get("width"), item.get("height"), item.get("link")
        if not (isinstance(width, int) and isinstance(height, int) and isinstance(link, str)):
            continue
        if height > width and str(item.get("file_type", "video/mp4")).startswith("video/"):
            files.append((width, link))
    if not files:
        return None
    wide_enough = sorted(f for f in files if f[0] >= min_width)
    return wide_enough[0][1] if wide_enough else max(files)[1]


def get_visual_source(name: str, images: list[Path]) -> VisualSource:
    """The source named in ``providers.visuals``: ``procedural``, ``images`` or ``pexels``."""
    if name == "procedural":
        return ProceduralVisuals()
    if name == "images":
        return ImageKenBurns(images)
    if name == "pexels":
        return PexelsVideos()
    raise FatalStageError(f"unknown visual source {name!r}; use 'procedural', 'images' or 'pexels'")
