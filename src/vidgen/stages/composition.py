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
from vidgen.planning import Scene
from vidgen.stages.base import StageContext, StageOutput, StageResult
from vidgen.stages.content_generation import Output as ContentOutput
from vidgen.stages.content_generation import RecordedClip, RecordedVoiceover

DURATION_TOLERANCE = 0.5
# A clip this much shorter than its recorded duration is damaged (truncated copy, full disk),
# not merely imprecise: padding it with a frozen frame would hide the fault.
CLIP_SHORTFALL = 0.5


class Output(StageOutput):
    """``subtitles_path``, the ``.srt`` of the captions, only when there was a voiceover;
    ``assets``: what the video shows and plays, with licences, and ``attribution`` the credit
    line they need (review writes both into the log)."""

    STAGE = "composition"
    OMIT_WHEN_NONE = frozenset({"subtitles_path"})

    video_path: str
    thumbnail_path: str
    duration: float  # probed, seconds
    width: int
    height: int
    video_codec: str | None
    audio_codec: str | None
    size_bytes: int
    subtitles_path: str | None = None
    assets: list[dict[str, Any]]
    attribution: str | None


def _check_clips(
    ctx: StageContext, clips: Sequence[RecordedClip]
) -> tuple[list[Path], tuple[int, int] | None]:
    """Every clip must be readable video about as long as recorded, before ffmpeg starts.

    Also returns the clips' common (width, height), or None when they differ.
    """
    paths: list[Path] = []
    sizes: set[tuple[int | None, int | None]] = set()
    for i, clip in enumerate(clips):
        path = ctx.path(clip.path)
        info = ffmpeg.probe(path)  # StageError if missing or unreadable
        if info.video_codec is None:
            raise StageError(f"clip {i + 1} ({path.name}) has no video stream")
        recorded = clip.duration
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


# How far back a config's earlier videos count for the music rotation.
RECENT_JOBS_SCANNED = 60
RECENT_TRACKS = 10


def _recent_tracks(ctx: StageContext) -> list[str]:
    """The packaged tracks of the latest earlier videos made from this job's config and theme,
    newest first (read through the store's own functions)."""
    from vidgen.store import checkpoints, jobs
    from vidgen.store.status import CheckpointStatus

    me = jobs.get(ctx.store, ctx.job_id)
    if me is None:
        return []
    recent: list[str] = []
    for job in jobs.newest(ctx.store, None, RECENT_JOBS_SCANNED, 0):
        if job.id is None or job.id >= ctx.job_id or len(recent) >= RECENT_TRACKS:
            continue
        if (job.config_path, job.theme) != (me.config_path, me.theme):
            continue
        composed = checkpoints.latest(ctx.store, job.id).get("composition")
        if composed is None or composed.status != CheckpointStatus.COMPLETED:
            continue
        recent += [
            str(asset.get("id"))
            for asset in composed.outputs.get("assets") or []
            if isinstance(asset, dict) and asset.get("kind") == "music"
        ][:1]
    return recent


def _music(ctx: StageContext, seed: str) -> tuple[Path | None, float, dict[str, Any] | None]:
    """The music bed: the config's file, none (``music: none``) or a packaged track by mood,
    rotating through the mood's tracks across the config's consecutive videos."""
    music = ctx.config.config.music
    if music == "none":
        return None, 0.0, None
    if music is None:
        from vidgen.media import music as library

        settings = ctx.config.config
        track = library.choose_track(settings.style, settings.tone, seed, _recent_tracks(ctx))
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
    scenes: Sequence[Scene],
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
            visual, scene.on_screen_text,
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
    voiceover: RecordedVoiceover | None,
    total: float,
    width: int,
    height: int,
) -> tuple[Path, Path, Path] | None:
    """The narration's cues as ``captions.ass`` (burned in, karaoke) and ``captions.srt``
    (published beside the video), plus the folder of packaged fonts libass may use."""
    if not voiceover or not script.strip():
        return None
    cues = captions.build_cues(
        script,
        [word.model_dump() for word in voiceover.words],
        [sentence.model_dump() for sentence in voiceover.sentences],
        total=total,
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
    content = ctx.output(ContentOutput)
    plan = content.plan
    scenes = plan.scenes  # the plan's model guarantees at least one, each lasting > 0 s
    clips = content.clips
    if len(clips) != len(scenes):
        raise FatalStageError(f"{len(clips)} clips were rendered for {len(scenes)} planned scenes")
    durations = [scene.duration_seconds for scene in scenes]
    width, height, fps = content.width, content.height, content.fps
    total = float(sum(durations))

    clip_paths, clip_size = _check_clips(ctx, clips)
    voiceover = content.voiceover
    voice_path = ctx.path(voiceover.path) if voiceover is not None and voiceover.path else None
    if voice_path is not None:
        ffmpeg.probe(voice_path)  # a clear StageError now rather than a cryptic ffmpeg one
        spoken = voiceover.duration if voiceover is not None else 0.0
        if spoken > total + DURATION_TOLERANCE:
            ctx.log(f"voiceover ({spoken:.1f}s) is longer than the video ({total:.1f}s); cut")
    music_path, music_volume, music_asset = _music(ctx, f"{ctx.job_id}:{plan.title}")
    ctx.work_dir.mkdir(parents=True, exist_ok=True)
    audio_tmp = temp_sibling(ctx.work_dir / "soundtrack.wav")
    audio_spec = CompositionSpec(
        clips=clip_paths, scene_durations=durations, output=audio_tmp, width=width,
        height=height, voiceover=voice_path, music=music_path, music_volume=music_volume,
        speech=[(w.start, w.end) for w in voiceover.words] if voiceover is not None else (),
    )  # fmt: skip
    # The soundtrack (one short ffmpeg run) is mixed while Python draws the layers.
    pool = ThreadPoolExecutor(max_workers=1)
    soundtrack = pool.submit(
        ffmpeg.run, build_audio_command(audio_spec, audio_tmp), ctx=ctx, what="ffmpeg soundtrack"
    )
    pool.shutdown(wait=False)
    visuals = plan_scene_visuals(
        [scene.model_dump() for scene in scenes], style=plan.style or ctx.config.config.style,
        title=plan.title, theme=ctx.theme,
    )  # fmt: skip
    try:
        overlays = _render_overlays(ctx, scenes, durations, visuals, width, height, fps)
        script = plan.voiceover_script
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
        output=Output(
            video_path=ctx.rel(video),
            thumbnail_path=ctx.rel(thumbnail),
            duration=round(info.duration, 3),
            width=width,
            height=height,
            video_codec=info.video_codec,
            audio_codec=info.audio_codec,
            size_bytes=video.stat().st_size,
            subtitles_path=ctx.rel(srt) if srt is not None else None,
            assets=assets,
            attribution=attribution(assets),
        ),
        files=[video, thumbnail, *([srt] if srt is not None else [])],
    )
