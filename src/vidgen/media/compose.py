"""The composition ffmpeg command: clips, transitions, text, captions and audio in one run.

Everything is one ``filter_complex`` so frames are decoded, composed and encoded once (no
intermediate files to re-encode). The builders here are pure (no I/O) so a benchmark can time
exactly the command the stage runs: ``vidgen.media.ffmpeg.run(build_command(spec))``.

Timing model (all in seconds of the output):

* scene ``i`` starts at ``S_i = sum(d_0..d_{i-1})`` of the *planned* scene durations;
* between two footage clips, the first is stretched/trimmed to ``d_i + T`` (``T`` =
  transition) and the ``xfade`` into clip ``i`` starts at ``S_i`` and overlaps by ``T``; a
  still (a designed backdrop) lasts ``d_i`` and cuts; either way the total is exactly
  ``sum(d)`` and each scene's card appears at ``S_i`` (the stage passes the durations *on
  screen*, whose cuts wait for the previous caption to clear);
* clips shorter than needed are padded by repeating their last frame (``tpad``), longer ones
  are trimmed, so small drift in the visuals provider never changes the video length.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from vidgen.media.overlays import Overlay

DEFAULT_TRANSITION = 0.35


@dataclass(frozen=True)
class CompositionSpec:
    # Video clips, or stills (``is_still``: a .png/.jpg designed backdrop, held for its scene).
    clips: Sequence[Path]
    scene_durations: Sequence[float]
    output: Path
    width: int
    height: int
    fps: int = 30
    voiceover: Path | None = None
    music: Path | None = None
    music_volume: float = 0.25
    # When the voice speaks, (start, end) in seconds per word: the music ducks under these
    # (merged across short pauses). Empty with a voiceover: ducked for the whole voice.
    speech: Sequence[tuple[float, float]] = field(default_factory=tuple)
    overlays: Sequence[Overlay] = field(default_factory=tuple)
    # Set when every clip has this (width, height): clips are joined at that size and scaled to
    # the output once, instead of each being upscaled before the cross-fades. The cross-fades
    # hold later clips' frames until their turn, so this is what keeps memory low.
    clip_size: tuple[int, int] | None = None
    # The finished soundtrack from build_audio_command. With it, the video run only encodes
    # audio: loudnorm's 3 s lookahead inside the video graph held ~90 MB of raw frames waiting
    # for the audio to catch up, for a mix that takes well under a second on its own.
    mixed_audio: Path | None = None
    transition: float = DEFAULT_TRANSITION
    # Word-synced captions (``vidgen.media.captions``): an ASS file libass draws last, over the
    # scene text, with fonts only from ``fonts_dir`` (the packaged ones, never the system's).
    subtitles: Path | None = None
    fonts_dir: Path | None = None
    # Per clip, None or three hex colours (dark, middle, light): the clip's brightness is mapped
    # onto them, so a procedural backdrop takes the colours of the scene's picture. At the
    # clips' small source size this is a 256-entry table per channel: nearly free.
    tints: Sequence[tuple[str, str, str] | None] = ()
    # The encoder is most of a job's CPU time. ultrafast plus CABAC, the deblocking filter and
    # the 8x8 transform (all off in ultrafast; 8x8dct also makes it H.264 High) against
    # veryfast on the default job, same frames: SSIM 0.995 at 1.08x the bytes (CRF 22) for a
    # third of the CPU time (bench/composition.py reports all three). ultrafast alone was 1.68x
    # the bytes. Without deblocking (~7% less encoder time) the dark gradients of the backdrops
    # showed their macroblocks.
    preset: str = "ultrafast"
    # Frame threads (x264's default): ultrafast has no lookahead, so they hold only a few
    # frames (~5 MB more than slice threads at 1080x1920) and finish ~0.6 s sooner on 2 cores,
    # where slice threads left a core idle behind the single-threaded filter graph.
    x264_params: str = "cabac=1:deblock=0,0:8x8dct=1"
    crf: int = 22
    loudness: float = -14.0

    @property
    def total(self) -> float:
        return float(sum(self.scene_durations))


STILL_SUFFIXES = (".png", ".jpg", ".jpeg")


def is_still(path: Path) -> bool:
    """A clip that is one picture (a designed backdrop), held for its scene."""
    return path.suffix.lower() in STILL_SUFFIXES


def transition_for(scene_durations: Sequence[float], wanted: float = DEFAULT_TRANSITION) -> float:
    """A cross-fade short enough that no scene is mostly transition."""
    if len(scene_durations) < 2:
        return 0.0
    return round(max(0.0, min(wanted, min(scene_durations) / 4)), 3)


def scene_starts(scene_durations: Sequence[float]) -> list[float]:
    starts, t = [], 0.0
    for duration in scene_durations:
        starts.append(t)
        t += duration
    return starts


def _t(value: float) -> str:
    return f"{value:.3f}"


@dataclass(frozen=True)
class OverlayLayer:
    """Overlays close together on screen (the scene text band, the caption band), drawn on one
    transparent canvas of ``width`` x ``height`` at (``x``, ``y``) and shown from ``start``
    to ``end``; ``members`` pairs each overlay with its index in ``spec.overlays``."""

    x: int
    y: int
    width: int
    height: int
    start: float
    end: float
    members: tuple[tuple[int, Overlay], ...]


_LAYER_GAP = 48  # px: overlays closer than this vertically share a canvas


def _overlay_size(overlay: Overlay) -> tuple[int, int]:
    if overlay.width > 0 and overlay.height > 0:
        return overlay.width, overlay.height
    from PIL import Image

    with Image.open(overlay.path) as image:  # reads the header only
        return image.size


class _Box(NamedTuple):
    left: int
    top: int
    right: int
    bottom: int
    position: int  # in spec.overlays, which is also its ffmpeg input order
    overlay: Overlay


def overlay_layers(
    overlays: Sequence[Overlay], positions: Sequence[int] | None = None
) -> list[OverlayLayer]:
    """Group overlays into horizontal bands by their vertical position, one canvas each.

    ``positions`` are the overlays' indexes in ``spec.overlays`` (default: 0, 1, ...).
    Canvas corners and sizes are even so that yuv420 chroma lines up with the frame.
    """
    boxes = []
    for index, overlay in enumerate(overlays):
        w, h = _overlay_size(overlay)
        position = positions[index] if positions is not None else index
        boxes.append(_Box(overlay.x, overlay.y, overlay.x + w, overlay.y + h, position, overlay))
    bands: list[list[_Box]] = []
    for box in sorted(boxes, key=lambda box: box.top):
        if bands and box.top <= max(b.bottom for b in bands[-1]) + _LAYER_GAP:
            bands[-1].append(box)
        else:
            bands.append([box])
    layers = []
    for band in bands:
        x0 = min(b.left for b in band) // 2 * 2
        y0 = min(b.top for b in band) // 2 * 2
        x1 = max(b.right for b in band)
        y1 = max(b.bottom for b in band)
        members = tuple((b.position, b.overlay) for b in sorted(band, key=lambda b: b.position))
        layers.append(
            OverlayLayer(
                x=x0,
                y=y0,
                width=x1 - x0 + (x1 - x0) % 2,
                height=y1 - y0 + (y1 - y0) % 2,
                start=min(b.overlay.start for b in band),
                end=max(b.overlay.end for b in band),
                members=members,
            )
        )
    return layers


def _video_chain(spec: CompositionSpec) -> list[str]:
    n = len(spec.clips)
    w, h, fps, fade = spec.width, spec.height, spec.fps, spec.transition
    # Crop to 9:16 at the source size first, then scale once: scaling a landscape clip up to
    # cover 1080x1920 before cropping would process a 3413x1920 frame.
    fit = (
        f"crop=w='min(iw,trunc(ih*{w}/{h}/2)*2)':h='min(ih,trunc(iw*{h}/{w}/2)*2)',"
        f"scale={w}:{h},setsar=1,"
    )
    per_clip_fit = "" if spec.clip_size is not None else fit
    parts: list[str] = []
    # Footage cross-fades into footage; a designed backdrop (a still) cuts, and its scene's card
    # pops in on the cut. A full-size xfade chain of stills cost ~110 MB and ~3.5 s of CPU more
    # than the cuts on the default job: each cross-fade held and blended frames the whole time.
    fades = [
        fade > 0 and not is_still(spec.clips[i - 1]) and not is_still(spec.clips[i])
        for i in range(1, n)
    ]
    for i, duration in enumerate(spec.scene_durations):
        length = duration + (fade if i < n - 1 and fades[i] else 0.0)
        tint = spec.tints[i] if i < len(spec.tints) else None
        # A still (a designed backdrop) is one decoded frame that tpad repeats by reference:
        # its fit and format conversion run once, not per frame.
        # A JPEG still decodes as full-range 4:2:0: brought to video range once, here.
        video_range = "scale=out_range=tv," if is_still(spec.clips[i]) else ""
        parts.append(
            f"[{i}:v]fps={fps},{tint_filter(tint)}{per_clip_fit}{video_range}format=yuv420p,"
            f"tpad=stop_mode=clone:stop_duration={_t(length)},"
            f"trim=duration={_t(length)},setpts=PTS-STARTPTS[c{i}]"
        )
    current = "c0"
    starts = scene_starts(spec.scene_durations)
    for i in range(1, n):
        label = f"x{i}"
        if fades[i - 1]:
            parts.append(
                f"[{current}][c{i}]xfade=transition=fade:duration={_t(fade)}:"
                f"offset={_t(starts[i])}[{label}]"
            )
        else:
            # concat's output counts in microseconds; an xfade after it needs the clips' 1/fps.
            parts.append(f"[{current}][c{i}]concat=n=2:v=1:a=0,settb=1/{fps}[{label}]")
        current = label
    if spec.clip_size is not None:
        if spec.clip_size[0] * 2 <= w and spec.clip_size[1] * 2 <= h:
            # Soft backdrops rendered small (the procedural ones, at a quarter of the size) look
            # the same scaled up bilinearly, for a tenth less of the video's filter time.
            fit = fit.replace(f"scale={w}:{h},", f"scale={w}:{h}:flags=bilinear,")
        parts.append(f"[{current}]{fit}format=yuv420p[fitted]")
        current = "fitted"
    still = [(j, o) for j, o in enumerate(spec.overlays) if o.motion == "none"]
    moving = [(j, o) for j, o in enumerate(spec.overlays) if o.motion != "none"]
    for j, overlay in moving:
        # Animated scene layers go straight onto the frame: one overlay each, enabled only
        # during their scene, so each blends its own rectangle for a few seconds.
        source = f"{n + j}:v"
        if overlay.motion in ("sequence", "float"):
            parts.append(f"[{source}]setpts=PTS-STARTPTS+{_t(overlay.start)}/TB[m{j}]")
            source, y, x = f"m{j}", str(overlay.y), str(overlay.x)
            if overlay.motion == "float":
                # The scene cards drift up and down and sway a little, on two slow periods:
                # alive, never jumpy (a viewer read a 0.6% drift as "slides, not video").
                drift = max(1, round(h * 0.01))
                sway = max(1, round(w * 0.006))
                y = f"'{overlay.y}+{drift}*sin(2*PI*t/3.4)'"
                x = f"'{overlay.x}+{sway}*sin(2*PI*t/4.6)'"
        else:
            x = str(overlay.x)
            rise = max(2, round(h * 0.03))
            drift = max(1, round(h * 0.004))
            since = f"(t-{_t(overlay.start)})"
            # Ease out of a short rise, then a slow float: motion without re-layout.
            y = f"'{overlay.y}+{rise}*pow(max(0,1-{since}/0.45),2)+{drift}*sin(2*PI*{since}/3.2)'"
        label = f"mv{j}"
        parts.append(
            f"[{current}][{source}]overlay=x={x}:y={y}:eof_action=repeat:"
            f"enable='gte(t,{_t(overlay.start)})*lt(t,{_t(overlay.end)})'[{label}]"
        )
        current = label
    for k, layer in enumerate(overlay_layers([o for _, o in still], [j for j, _ in still])):
        # Each text goes onto a small transparent canvas, and only the canvas onto the frame:
        # every overlay filter holds a frame of what it draws on, so sixteen of them on the
        # full 1080x1920 frame held ~55 MB; on band-sized canvases they hold a sixth of that.
        canvas = f"k{k}"
        parts.append(
            f"color=c=black@0:s={layer.width}x{layer.height}:r={fps}:d={_t(spec.total)},"
            f"format=yuva420p[{canvas}]"
        )
        for j, overlay in layer.members:
            label = f"k{k}o{j}"
            # gte/lt rather than between(): adjacent items must never share a frame.
            parts.append(
                f"[{canvas}][{n + j}:v]overlay=x={overlay.x - layer.x}:y={overlay.y - layer.y}:"
                f"eof_action=repeat:"
                f"enable='gte(t,{_t(overlay.start)})*lt(t,{_t(overlay.end)})'[{label}]"
            )
            canvas = label
        label = f"o{k}"
        parts.append(
            f"[{current}][{canvas}]overlay=x={layer.x}:y={layer.y}:eof_action=pass:"
            f"enable='gte(t,{_t(layer.start)})*lt(t,{_t(layer.end)})'[{label}]"
        )
        current = label
    if spec.subtitles is not None:
        fonts = f":fontsdir={filter_value(str(spec.fonts_dir))}" if spec.fonts_dir else ""
        parts.append(f"[{current}]ass=filename={filter_value(str(spec.subtitles))}{fonts}[subs]")
        current = "subs"
    parts.append(f"[{current}]format=yuv420p[vout]")
    return parts


# The backdrop's brightness (the procedural field is dim) spread over the tint's three stops.
_TINT_RANGE = 150


def tint_filter(tint: tuple[str, str, str] | None) -> str:
    if tint is None:
        return ""
    stops = [tuple(int(c[k : k + 2], 16) for k in (0, 2, 4)) for c in tint]
    half = _TINT_RANGE // 2
    tables = []
    for channel, name in enumerate("rgb"):
        c1, c2, c3 = (stop[channel] for stop in stops)
        tables.append(
            f"{name}='if(lt(val,{half}),{c1}+{c2 - c1}*val/{half},"
            f"{c2}+{c3 - c2}*min(1,(val-{half})/{_TINT_RANGE - half}))'"
        )
    return "format=gray,format=rgb24,lutrgb=" + ":".join(tables) + ","


def filter_value(text: str) -> str:
    """``text`` as one filter option value inside a filtergraph: escaped for the option parser
    (``\\ ' :``) and then for the graph parser (``\\ ' [ ] , ;``), so any path works."""
    for ch in "\\':":
        text = text.replace(ch, "\\" + ch)
    for ch in "\\'[],;":
        text = text.replace(ch, "\\" + ch)
    return text


def _audio_chain(
    spec: CompositionSpec, voice_input: int | None, music_input: int | None
) -> list[str]:
    total = _t(spec.total)
    stereo = "aresample=48000,aformat=sample_fmts=fltp:sample_rates=48000:channel_layouts=stereo"
    parts: list[str] = []
    if voice_input is not None:
        # apad+atrim: silence after a short voiceover, a cut if it runs past the last scene.
        # A gentle speech compressor first: loudnorm may not raise a voice past its true-peak
        # ceiling, so peaky voices (Piper normalises each sentence to full scale) ended near
        # -16 LUFS instead of -14. Evening out the peaks lets every voice reach the target.
        parts.append(
            f"[{voice_input}:a]{stereo},{VOICE_COMPRESSOR},apad=whole_dur={total},"
            f"atrim=duration={total},asetpts=PTS-STARTPTS[voice]"
        )
    else:
        parts.append(f"anullsrc=r=48000:cl=stereo,atrim=duration={total}[voice]")
    mixed = "voice"
    if music_input is not None:
        # The bed follows a gain envelope built from the speech timings (vidgen.media.music):
        # down under the voice, across pauses shorter than a second, up in longer ones. A
        # sidechain compressor cannot know a pause is short and swelled in every one. Small
        # frames so the envelope moves in 5 ms steps, not audible 20 ms ones.
        from vidgen.media.music import duck_gain, speech_regions

        spans = list(spec.speech)
        if not spans and voice_input is not None:
            spans = [(0.0, spec.total)]
        gain = duck_gain(speech_regions(spans), volume=spec.music_volume)
        parts.append(
            f"[{music_input}:a]{stereo},atrim=duration={total},asetpts=PTS-STARTPTS,"
            f"asetnsamples=n=240,volume='{gain}':eval=frame[music]"
        )
        parts.append(
            "[voice][music]amix=inputs=2:duration=first:dropout_transition=0:normalize=0[mix]"
        )
        mixed = "mix"
    if voice_input is None and music_input is None:
        # Nothing to normalise, and loudnorm turns under 3 s of digital silence into NaNs that
        # make the AAC encoder fail.
        parts.append(f"[{mixed}]anull[aout]")
        return parts
    # Single-pass loudnorm (dynamic mode) is within ~1 LU of target for speech: good enough for
    # feeds that renormalise anyway, and half the cost of a measured two-pass run.
    parts.append(
        f"[{mixed}]loudnorm=I={spec.loudness:.1f}:TP=-1.5:LRA=11,{stereo},"
        f"apad=whole_dur={total},atrim=duration={total}[aout]"
    )
    return parts


VOICE_COMPRESSOR = "acompressor=threshold=0.1:ratio=4:attack=5:release=120:makeup=2"


def build_filtergraph(spec: CompositionSpec) -> str:
    n = len(spec.clips)
    if spec.mixed_audio is not None:
        return ";".join(_video_chain(spec))
    voice_input = n + len(spec.overlays) if spec.voiceover is not None else None
    music_input = None
    if spec.music is not None:
        music_input = n + len(spec.overlays) + (1 if spec.voiceover is not None else 0)
    return ";".join(_video_chain(spec) + _audio_chain(spec, voice_input, music_input))


def build_command(spec: CompositionSpec) -> list[str]:
    """Arguments for ``vidgen.media.ffmpeg.run`` (which adds the binary and -y/-nostdin)."""
    if not spec.clips:
        raise ValueError("a composition needs at least one clip")
    if len(spec.clips) != len(spec.scene_durations):
        raise ValueError(
            f"{len(spec.clips)} clips for {len(spec.scene_durations)} scenes; they must match"
        )
    # One filter thread: x264 keeps both cores busy anyway, and each extra filter thread held
    # its own frames (~17 MB at 1080x1920) for no measurable gain in wall time.
    args: list[str] = ["-filter_complex_threads", "1"]
    # Pictures (stills, card frames, text layers) decode on one thread each: a decoder's
    # threads each held a frame of their own, for a few pictures that decode in milliseconds.
    # Full-size job: ffmpeg 217-230 -> 206-228 MB (median 219 -> 208), same output bytes.
    # Footage keeps its threaded decoder.
    one_thread = ["-threads", "1"]
    for clip in spec.clips:
        if is_still(clip):
            args += [*one_thread, "-framerate", str(spec.fps)]
        args += ["-i", str(clip)]
    for overlay in spec.overlays:
        if overlay.motion in ("sequence", "float"):
            args += [*one_thread, "-f", "concat", "-safe", "0", "-i", str(overlay.path)]
        else:
            args += [*one_thread, "-i", str(overlay.path)]
    if spec.mixed_audio is not None:
        args += ["-i", str(spec.mixed_audio)]
        audio_map = f"{len(spec.clips) + len(spec.overlays)}:a"
    else:
        if spec.voiceover is not None:
            args += ["-i", str(spec.voiceover)]
        if spec.music is not None:
            args += ["-stream_loop", "-1", "-i", str(spec.music)]
        audio_map = "[aout]"
    args += [
        "-filter_complex", build_filtergraph(spec),
        "-map", "[vout]", "-map", audio_map,
        "-c:v", "libx264", "-preset", spec.preset, "-profile:v", "high", "-crf", str(spec.crf),
        "-x264-params", spec.x264_params,
        "-pix_fmt", "yuv420p", "-r", str(spec.fps), "-g", str(spec.fps * 2),
        "-c:a", "aac", "-b:a", "160k", "-ar", "48000", "-ac", "2",
        "-t", _t(spec.total),
        "-movflags", "+faststart",
        "-f", "mp4", str(spec.output),
    ]  # fmt: skip
    return args


def build_audio_command(spec: CompositionSpec, dest: Path) -> list[str]:
    """The soundtrack alone: voiceover over ducked music, loudness-normalised, as a 48 kHz WAV.

    Same audio graph as the all-in-one command; pass ``dest`` as ``mixed_audio`` afterwards.
    """
    args: list[str] = []
    voice_input = music_input = None
    if spec.voiceover is not None:
        args += ["-i", str(spec.voiceover)]
        voice_input = 0
    if spec.music is not None:
        args += ["-stream_loop", "-1", "-i", str(spec.music)]
        music_input = 1 if voice_input is not None else 0
    graph = ";".join(_audio_chain(spec, voice_input, music_input))
    args += [
        "-filter_complex", graph, "-map", "[aout]",
        "-c:a", "pcm_s16le", "-ar", "48000", "-ac", "2", "-t", _t(spec.total),
        "-f", "wav", str(dest),
    ]  # fmt: skip
    return args
