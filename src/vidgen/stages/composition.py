"""Stage 4, composition: one 9:16 H.264/AAC MP4 (+faststart) and a JPEG thumbnail per job.

Inputs come from ``content_generation`` (plan, clips, voiceover with word timings) and the theme
config (music bed, thumbnail time). Scene text is rendered to PNGs first
(``vidgen.media.overlays``); the narration's captions are written as karaoke ASS (burned in by
libass with the packaged fonts) and as ``captions.srt`` for review (``vidgen.media.captions``);
the soundtrack is mixed and loudness-normalised by a short audio-only ffmpeg run; then a
single ffmpeg run composes the video (``vidgen.media.compose``). Nothing is published
until ffmpeg succeeded and the probe agrees with the plan: size, codecs and duration.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import replace
from pathlib import Path
from typing import Any

from vidgen.errors import FatalStageError, StageError
from vidgen.files import atomic_write_text, regular_file_problem, temp_sibling
from vidgen.media import captions, ffmpeg
from vidgen.media.compose import (
    CompositionSpec,
    build_audio_command,
    build_command,
    build_thumbnail_command,
    scene_starts,
    transition_for,
)
from vidgen.media.overlays import (
    Overlay,
)
from vidgen.media.scenes import (
    SceneVisual,
    TextAnimation,
    kinetic_text,
    plan_scene_visuals,
    render_static_layer,
    write_text_track,
)
from vidgen.stages.base import StageContext, StageResult

DURATION_TOLERANCE = 0.5
# A clip this much shorter than its recorded duration is damaged (truncated copy, full disk),
# not merely imprecise: padding it with a frozen frame would hide the fault.
CLIP_SHORTFALL = 0.5


def _as_float(value: Any, what: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise FatalStageError(
            f"content_generation output {what} is not a number: {value!r}"
        ) from None
    if number != number or number < 0:
        raise FatalStageError(f"content_generation output {what} must be >= 0, got {value!r}")
    return number


def _inputs(ctx: StageContext) -> Mapping[str, Any]:
    content = ctx.outputs.get("content_generation")
    if not content:
        raise FatalStageError("composition needs the content_generation outputs; none recorded")
    for key in ("plan", "clips"):
        if key not in content:
            raise FatalStageError(f"content_generation outputs lack {key!r}")
    return content


def _check_clips(
    ctx: StageContext, clips: Sequence[Mapping[str, Any]]
) -> tuple[list[Path], tuple[int, int] | None]:
    """Every clip must be readable video about as long as recorded, before ffmpeg starts.

    Also returns the clips' common (width, height), or None when they differ.
    """
    paths: list[Path] = []
    sizes: set[tuple[int | None, int | None]] = set()
    for i, clip in enumerate(clips):
        path = ctx.path(str(clip["path"]))
        info = ffmpeg.probe(path)  # StageError if missing or unreadable
        if info.video_codec is None:
            raise StageError(f"clip {i + 1} ({path.name}) has no video stream")
        recorded = _as_float(clip.get("duration", 0.0), f"clips[{i}].duration")
        if info.duration + CLIP_SHORTFALL < recorded:
            raise StageError(
                f"clip {i + 1} ({path.name}) lasts {info.duration:.2f}s but was recorded as "
                f"{recorded:.2f}s; the file looks truncated"
            )
        paths.append(path)
        sizes.add((info.width, info.height))
    common = sizes.pop() if len(sizes) == 1 else None
    if common is None or common[0] is None or common[1] is None:
        return paths, None
    return paths, (common[0], common[1])


def _music(ctx: StageContext, seed: str) -> tuple[Path | None, float, dict[str, Any] | None]:
    """The music bed: the config's file, none (``music: none``) or a packaged track by mood."""
    music = ctx.config.config.music
    if music == "none":
        return None, 0.0, None
    if music is None:
        from vidgen.media import music as library

        settings = ctx.config.config
        track = library.choose_track(settings.style, settings.tone, seed)
        if track is None:
            ctx.log("no packaged music library found (immich-memories-music); no music bed")
            return None, 0.0, None
        return track.path, library.DEFAULT_VOLUME, track.asset()
    path = ctx.config.resolve_path(music.path)
    problem = regular_file_problem(path)  # stat only: opening a FIFO would block the mix
    if problem is not None:
        raise FatalStageError(f"config music.path: {path}: {problem}")
    if music.volume <= 0:
        return None, 0.0, None
    asset = {"kind": "music", "id": str(path), "licence": "user-supplied", "attribution": None}
    return path, music.volume, asset


def _render_overlays(
    ctx: StageContext,
    scenes: Sequence[Mapping[str, Any]],
    durations: Sequence[float],
    visuals: Sequence[SceneVisual],
    width: int,
    height: int,
    fps: int,
) -> list[Overlay]:
    folder = ctx.work_dir / "overlays"
    overlays: list[Overlay] = []
    animations: list[TextAnimation] = []
    for visual, scene, start, duration in zip(
        visuals, scenes, scene_starts(durations), durations, strict=True
    ):
        ctx.check_cancelled()
        end = start + duration
        overlays.append(
            render_static_layer(
                visual, folder / f"scene-{visual.index:02d}-card.png",
                width=width, height=height, start=start, end=end,
            )
        )  # fmt: skip
        animation = kinetic_text(
            visual, str(scene.get("on_screen_text") or ""),
            width=width, height=height, fps=fps, start=start, end=end,
        )  # fmt: skip
        if animation is not None:
            animations.append(animation)
    text_track = write_text_track(animations, folder / "text")
    if text_track is not None:
        overlays.append(text_track)
    return overlays


def _write_captions(
    ctx: StageContext,
    script: str,
    voiceover: Mapping[str, Any] | None,
    total: float,
    width: int,
    height: int,
) -> tuple[Path, Path, Path] | None:
    """The narration's cues as ``captions.ass`` (burned in, karaoke) and ``captions.srt``
    (published beside the video), plus the folder of packaged fonts libass may use."""
    if not voiceover or not script.strip():
        return None
    cues = captions.build_cues(
        script, voiceover.get("words") or [], voiceover.get("sentences") or [], total=total
    )
    if not cues:
        return None
    ass = ctx.work_dir / "captions.ass"
    srt = ctx.work_dir / "captions.srt"
    atomic_write_text(
        ass, captions.to_ass(cues, width=width, height=height, font_for=captions.font_runs)
    )
    atomic_write_text(srt, captions.to_srt(cues))
    # libass loads every font of one folder: links to the packaged fallback chain only.
    fonts = ctx.work_dir / "fonts"
    fonts.mkdir(parents=True, exist_ok=True)
    for font in captions.font_files():
        link = fonts / font.name
        if not link.exists():
            try:
                link.symlink_to(font)
            except OSError:  # a filesystem without symlinks
                shutil.copyfile(font, link)
    return ass, srt, fonts


def attribution(assets: Sequence[Mapping[str, Any]]) -> str | None:
    """The credit line a video owes its assets (CC BY icons), or None if it owes none."""
    lines: list[str] = []
    for asset in assets:
        text = asset.get("attribution")
        if text and str(text) not in lines:
            lines.append(str(text))
    return "; ".join(lines) or None


def verify_output(path: Path, *, width: int, height: int, duration: float) -> ffmpeg.MediaInfo:
    """Probe ``path``; delete it and raise StageError unless it is what the plan asked for."""
    try:
        info = ffmpeg.probe(path)
        problems = []
        if (info.width, info.height) != (width, height):
            problems.append(f"size {info.width}x{info.height}, expected {width}x{height}")
        if info.video_codec != "h264" or info.video_profile != "High":
            problems.append(
                f"video {info.video_codec} ({info.video_profile}), expected h264 (High)"
            )
        if info.pixel_format != "yuv420p":
            problems.append(f"pixel format {info.pixel_format}, expected yuv420p")
        if info.audio_codec != "aac":
            problems.append(f"audio codec {info.audio_codec}, expected aac")
        if abs(info.duration - duration) > DURATION_TOLERANCE:
            problems.append(f"duration {info.duration:.2f}s, expected {duration:.2f}s")
        if problems:
            raise StageError(f"composed video is wrong: {'; '.join(problems)}")
    except StageError:
        path.unlink(missing_ok=True)
        raise
    return info


def run(ctx: StageContext) -> StageResult:
    content = _inputs(ctx)
    plan = content["plan"]
    scenes: list[Mapping[str, Any]] = list(plan.get("scenes") or [])
    clips: list[Mapping[str, Any]] = list(content["clips"])
    if not scenes:
        raise FatalStageError("the production plan has no scenes")
    if len(clips) != len(scenes):
        raise FatalStageError(f"{len(clips)} clips were rendered for {len(scenes)} planned scenes")
    durations = [
        _as_float(scene.get("duration_seconds"), f"plan.scenes[{i}].duration_seconds")
        for i, scene in enumerate(scenes)
    ]
    if any(d <= 0 for d in durations):
        raise FatalStageError("every planned scene needs a positive duration_seconds")
    default_w, default_h, default_fps = ctx.config.resolution
    width = int(content.get("width") or default_w)
    height = int(content.get("height") or default_h)
    fps = int(content.get("fps") or default_fps)
    total = float(sum(durations))

    clip_paths, clip_size = _check_clips(ctx, clips)
    voiceover: Mapping[str, Any] | None = content.get("voiceover") or None
    voice_path = ctx.path(str(voiceover["path"])) if voiceover and voiceover.get("path") else None
    if voice_path is not None:
        ffmpeg.probe(voice_path)  # a clear StageError now rather than a cryptic ffmpeg one
        spoken = float(voiceover.get("duration") or 0.0) if voiceover else 0.0
        if spoken > total + DURATION_TOLERANCE:
            ctx.log(f"voiceover ({spoken:.1f}s) is longer than the video ({total:.1f}s); cut")
    music_path, music_volume, music_asset = _music(ctx, f"{ctx.job_id}:{plan.get('title')}")
    ctx.work_dir.mkdir(parents=True, exist_ok=True)
    audio_tmp = temp_sibling(ctx.work_dir / "soundtrack.wav")
    audio_spec = CompositionSpec(
        clips=clip_paths, scene_durations=durations, output=audio_tmp, width=width,
        height=height, voiceover=voice_path, music=music_path, music_volume=music_volume,
    )  # fmt: skip
    # The soundtrack (one short ffmpeg run) is mixed while Python draws the layers.
    pool = ThreadPoolExecutor(max_workers=1)
    soundtrack = pool.submit(
        ffmpeg.run, build_audio_command(audio_spec, audio_tmp), ctx=ctx, what="ffmpeg soundtrack"
    )
    pool.shutdown(wait=False)
    visuals = plan_scene_visuals(
        scenes, style=str(plan.get("style") or ctx.config.config.style),
        title=str(plan.get("title") or ""), theme=ctx.theme,
    )  # fmt: skip
    try:
        overlays = _render_overlays(ctx, scenes, durations, visuals, width, height, fps)
        script = str(plan.get("voiceover_script") or "")
        written = _write_captions(ctx, script, voiceover, total, width, height)
        soundtrack.result()  # wait for the mix (and raise its error) before composing
    except BaseException:
        wait([soundtrack])  # never leave ffmpeg writing a file we are about to delete
        audio_tmp.unlink(missing_ok=True)
        shutil.rmtree(ctx.work_dir / "overlays", ignore_errors=True)
        raise
    assets = [visual.asset() for visual in visuals] + ([music_asset] if music_asset else [])
    subtitles, srt, fonts_dir = written if written else (None, None, None)

    video = ctx.work_dir / "video.mp4"
    thumbnail = ctx.work_dir / "thumbnail.jpg"
    video_tmp = temp_sibling(video)
    thumb_tmp = temp_sibling(thumbnail)
    spec = CompositionSpec(
        clips=clip_paths,
        scene_durations=durations,
        output=video_tmp,
        width=width,
        height=height,
        fps=fps,
        voiceover=voice_path,
        music=music_path,
        music_volume=music_volume,
        overlays=overlays,
        clip_size=clip_size,
        transition=transition_for(durations),
        subtitles=subtitles,
        fonts_dir=fonts_dir,
    )
    try:
        spec = replace(spec, mixed_audio=audio_tmp)
        ctx.log(f"composing {len(clip_paths)} clips, {len(overlays)} overlays, {total:.1f}s")
        ffmpeg.run(build_command(spec), ctx=ctx, what="ffmpeg composition")
        info = verify_output(video_tmp, width=width, height=height, duration=total)
        os.replace(video_tmp, video)
        at = min(ctx.config.config.thumbnail_time, max(0.0, total - 0.5))
        ffmpeg.run(build_thumbnail_command(video, at, thumb_tmp), ctx=ctx, what="ffmpeg thumbnail")
        if not thumb_tmp.is_file() or thumb_tmp.stat().st_size == 0:
            raise StageError("ffmpeg wrote no thumbnail frame")
        os.replace(thumb_tmp, thumbnail)
    finally:
        # The rendered layers are intermediates (~100 MB of TIFF frames at full size).
        shutil.rmtree(ctx.work_dir / "overlays", ignore_errors=True)
        audio_tmp.unlink(missing_ok=True)
        video_tmp.unlink(missing_ok=True)
        thumb_tmp.unlink(missing_ok=True)

    return StageResult(
        outputs={
            "video_path": ctx.rel(video),
            "thumbnail_path": ctx.rel(thumbnail),
            "duration": round(info.duration, 3),
            "width": width,
            "height": height,
            "video_codec": info.video_codec,
            "audio_codec": info.audio_codec,
            "size_bytes": video.stat().st_size,
            **({"subtitles_path": ctx.rel(srt)} if srt is not None else {}),
            # What the video shows and plays, with licences; review writes it into the log.
            "assets": assets,
            "attribution": attribution(assets),
        },
        files=[video, thumbnail, *([srt] if srt is not None else [])],
    )
