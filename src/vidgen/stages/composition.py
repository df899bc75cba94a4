"""Stage 4, composition: one H.264/AAC MP4 (+faststart, 9:16 by default, ``aspect`` for other
shapes) and a designed JPEG cover per job.

Inputs come from ``content_generation`` (plan, clips, voiceover with word timings) and the theme
config (music bed, thumbnail time). Each scene's card (its pictures, number and headline, laid
out by its kind: ``vidgen.media.scenes``) is drawn first, all cards in one popping image track;
scene cuts wait until the previous sentence's caption has cleared; the narration's captions are
written as karaoke ASS (burned in by libass with the packaged fonts) and as ``captions.srt`` for
review (``vidgen.media.captions``);
the soundtrack is mixed and loudness-normalised by a short audio-only ffmpeg run; then a
single ffmpeg run composes the video (``vidgen.media.compose``). Nothing is published
until ffmpeg succeeded and the probe agrees with the plan: size, codecs and duration. The cover
is the subject's picture and a short title over the backdrop frame at ``thumbnail_time``.
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
from vidgen.media import captions, ffmpeg, illustrations
from vidgen.media.compose import (
    CompositionSpec,
    build_audio_command,
    build_command,
    is_still,
    scene_starts,
    transition_for,
)
from vidgen.media.overlays import Overlay
from vidgen.media.process import fix_mmap_threshold
from vidgen.media.scenes import (
    Frame,
    SceneVisual,
    beat_times,
    cover_picture,
    design_cover,
    layout_scene,
    plan_scene_visuals,
    related_pictures,
    reveal_times,
    scene_backdrop,
    scene_card,
    stat_parts,
    write_card_track,
)
from vidgen.media.shots import build_up, scene_shots
from vidgen.planning import written_figures
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
    from vidgen.statuses import CheckpointStatus
    from vidgen.store import checkpoints, jobs

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
    durations: Sequence[float],
    visuals: Sequence[SceneVisual],
    frame: Frame,
    fps: int,
    raster: illustrations.Rasterizer,
    narrations: Sequence[str],
    cues: Sequence[captions.Cue],
) -> list[Overlay]:
    """Every scene's card (pictures, number, headline) as one popping, floating image track; a
    scene with a second beat is two cards, cut on the first word of its second clause."""
    cards = []
    words = [w for cue in cues for w in cue.words]
    beats = beat_times(visuals, narrations, words)
    lands = beat_times(visuals, narrations, words, landing=True)
    reveals = reveal_times(visuals, narrations, words)
    for visual, start, duration, at, land, times in zip(
        visuals, scene_starts(durations), durations, beats, lands, reveals, strict=True
    ):
        ctx.check_cancelled()
        end = start + duration
        shots = scene_shots(visual, start, end, at, land)
        for k, (shot, since, until) in enumerate(shots):
            # A scene's first shot pops in whole; a later one changes in place (``build_up``).
            before = shots[k - 1][0] if k else None
            for moment, a, b, pop in build_up(shot, since, until, times, fps, before):
                card = scene_card(moment, frame, start=a, end=b, rasterizer=raster)
                if card is not None:
                    cards.append(replace(card, pop=pop) if pop else card)
    track = write_card_track(
        cards, ctx.work_dir / "overlays" / "cards", fps=fps, total=float(sum(durations))
    )
    return [track] if track is not None else []


def _render_backdrops(
    ctx: StageContext,
    visuals: Sequence[SceneVisual],
    replace_clip: Sequence[bool],
    frame: Frame,
    raster: illustrations.Rasterizer,
) -> dict[int, Path]:
    """The designed backdrop of every scene whose clip is the generated one, as a still JPEG at
    output size (drawn once; the composition holds it for the scene). Keyed by scene index."""
    folder = ctx.work_dir / "overlays" / "backdrops"
    folder.mkdir(parents=True, exist_ok=True)
    related = related_pictures(visuals)
    out: dict[int, Path] = {}
    for visual in visuals:
        if not replace_clip[visual.index]:
            continue
        ctx.check_cancelled()
        pictures = [p for p in layout_scene(visual, frame, raster) if p.role == "picture"]
        focus = None
        if pictures:
            box = pictures[0].box
            focus = ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)
        image = scene_backdrop(
            visual, frame, position=visual.index, count=len(visuals), related=related,
            focus=focus, rasterizer=raster,
        )  # fmt: skip
        # JPEG: ffmpeg decodes it straight to 4:2:0 (a PNG went through a full RGB frame per
        # scene, ~20 MB more at full size), and it is written ~3x faster.
        path = folder / f"backdrop-{visual.index}.jpg"
        image.save(path, format="JPEG", quality=92)
        out[visual.index] = path
    return out


def _release_memory(raster: illustrations.Rasterizer) -> None:
    """Hand the drawing's memory back before ffmpeg starts: the peak of a job is vidgen and the
    composition's ffmpeg side by side. The pictures drawn for the cards go (the cover draws its
    few again), and glibc returns the freed heap (~30 MB at full size) to the system."""
    import contextlib
    import ctypes
    import gc

    raster.cache.clear()
    gc.collect()
    # Not glibc (OSError, AttributeError): the freed memory is reused, only later.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def visual_cuts(
    durations: Sequence[float], cues: Sequence[captions.Cue], *, fade: float = 0.0
) -> list[float]:
    """Scene lengths on screen, so that each cut falls between sentences: scene *i*'s picture
    replaces the last one only once the caption showing at its planned start has cleared (the
    plan starts a scene a little before its first word, while the previous line may linger).
    The total is unchanged; a cut moves at most to its own scene's first caption."""
    starts = scene_starts(durations)
    total = float(sum(durations))
    cuts = [0.0]
    for i in range(1, len(durations)):
        at = starts[i]
        showing = [c for c in cues if c.start < at - 1e-6 < c.end - 1e-6]
        if showing:
            at = max(at, max(c.end for c in showing))
        nxt = starts[i + 1] if i + 1 < len(starts) else total
        # Room for the cross-fade and a readable scene after it.
        at = min(at, nxt - max(0.3, fade * 2))
        cuts.append(round(max(at, cuts[-1] + max(0.3, fade * 2)), 3))
    ends = [*cuts[1:], total]
    return [round(b - a, 3) for a, b in zip(cuts, ends, strict=True)]


def _cues(
    script: str, voiceover: RecordedVoiceover | None, total: float, width: int, height: int
) -> list[captions.Cue]:
    if not voiceover or not script.strip():
        return []
    return captions.build_cues(
        script,
        [word.model_dump() for word in voiceover.words],
        [sentence.model_dump() for sentence in voiceover.sentences],
        total=total,
        # Each cue fits two lines at the caption size: big type, never a third line.
        fits=captions.caption_fits(width, captions.caption_look(width, height)),
    )


def _write_captions(
    ctx: StageContext,
    cues: Sequence[captions.Cue],
    width: int,
    height: int,
) -> tuple[Path, Path, Path] | None:
    """The narration's cues as ``captions.ass`` (burned in, karaoke) and ``captions.srt``
    (published beside the video), plus the folder of packaged fonts libass may use."""
    if not cues:
        return None
    ass = ctx.work_dir / "captions.ass"
    srt = ctx.work_dir / "captions.srt"
    atomic_write_text(
        ass,
        captions.to_ass(
            cues,
            width=width,
            height=height,
            look=captions.caption_look(width, height),
            font_for=captions.font_runs,
        ),
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


def _cover(
    ctx: StageContext,
    clip_paths: Sequence[Path],
    durations: Sequence[float],
    visuals: Sequence[SceneVisual],
    title: str,
    frame: Frame,
    at: float,
    dest: Path,
    raster: illustrations.Rasterizer,
    seed: str,
) -> None:
    """The designed thumbnail: the scene's backdrop at ``thumbnail_time`` (its still, or its
    clip's frame there, so no caption is burnt in), the video's subject picture, the title's
    claim, and the video's first figure; its colours from that figure's scene."""
    starts = scene_starts(durations)
    index = max(k for k, s in enumerate(starts) if s <= at)
    grab = temp_sibling(dest).with_suffix(".png")
    source = clip_paths[index]
    designed = is_still(source)
    try:
        from PIL import Image

        if not designed:
            grab.parent.mkdir(parents=True, exist_ok=True)
            vf = f"scale={frame.width}:{frame.height}"
            # A seek past the clip's last frame writes nothing (the scene on screen may run
            # longer than its clip once cuts wait for the captions): then its first frame.
            for offset in (max(0.0, at - starts[index]), 0.0):
                ffmpeg.run(
                    ["-ss", f"{offset:.3f}", "-i", str(source),
                     "-frames:v", "1", "-vf", vf, "-update", "1", "-f", "image2", str(grab)],
                    ctx=ctx, what="ffmpeg thumbnail frame",
                )  # fmt: skip
                if grab.is_file() and grab.stat().st_size > 0:
                    break
            source = grab
        if designed:
            # The scene's designed backdrop, drawn again without its progress bar.
            background = scene_backdrop(
                visuals[index], frame, position=0, count=0, related=related_pictures(visuals),
                rasterizer=raster,
            )  # fmt: skip
        else:
            with Image.open(source) as opened:
                background = opened.convert("RGB")
        hook = visuals[0]  # the opening shows the video's subject
        figure = next((v for v in visuals[1:] if stat_parts(v.headline) is not None), None) or next(
            (v for v in visuals if stat_parts(v.headline) is not None), None
        )
        picture = cover_picture(visuals, title)
        cover = design_cover(
            # Figures as a spec sheet writes them ("Folds flat to 2 cm"): read at a glance.
            background, picture, written_figures(title), (figure or hook).hue, frame, raster,
            # No stat on the cover: a figure the claim does not state ("40 HRS" over "cut
            # background noise by 30 decibels") reads as a second, unrelated promise.
            stat=None, seed=seed,
        )  # fmt: skip
        cover.save(dest, format="JPEG", quality=88)
    except OSError as exc:
        raise StageError(f"could not draw the thumbnail: {exc}") from exc
    finally:
        grab.unlink(missing_ok=True)
    if not dest.is_file() or dest.stat().st_size == 0:
        raise StageError("no thumbnail was written")


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
    # Before drawing: the layers' full-size images must not stay resident beside ffmpeg.
    fix_mmap_threshold()
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
    shows_subject = [clip.shows_subject for clip in clips]
    raster = illustrations.Rasterizer()  # each picture drawn once per size for the whole job
    visuals = plan_scene_visuals(
        scenes, title=plan.title, theme=ctx.theme, subject=plan.subject,
        subject_terms=plan.subject_terms, shows_subject=shows_subject, rasterizer=raster,
    )  # fmt: skip
    for visual in visuals:
        if visual.picture.fallback:
            ctx.log(
                f"scene {visual.index + 1}: no picture matches its words; "
                f"showing the video's subject picture ({visual.picture.name})"
            )
    script = plan.voiceover_script
    cues = _cues(script, voiceover, total, width, height)
    fade = transition_for(durations)
    shown = visual_cuts(durations, cues, fade=fade)
    frame = Frame.for_size(width, height)
    # Scenes whose clip is the generated backdrop (not a picture of the subject: the default,
    # and the scenes stock or your media had nothing for) get a designed still instead, their
    # pictures floating in front of it: drawn once, held by ffmpeg, no per-frame scaling.
    designed = [not clip.shows_subject for clip in clips]
    try:
        stills = _render_backdrops(ctx, visuals, designed, frame, raster)
        narrations = [scene.narration for scene in scenes]
        overlays = _render_overlays(ctx, shown, visuals, frame, fps, raster, narrations, cues)
        written = _write_captions(ctx, cues, width, height)
        _release_memory(raster)
        soundtrack.result()  # wait for the mix (and raise its error) before composing
    except BaseException:
        wait([soundtrack])  # never leave ffmpeg writing a file we are about to delete
        audio_tmp.unlink(missing_ok=True)
        shutil.rmtree(ctx.work_dir / "overlays", ignore_errors=True)
        raise
    assets = [a for visual in visuals for a in visual.assets()]
    assets += [music_asset] if music_asset else []
    subtitles, srt, fonts_dir = written if written else (None, None, None)
    inputs = [stills.get(k, path) for k, path in enumerate(clip_paths)]
    if stills:
        # The stills are drawn at the output size; the remaining clips are joined at that
        # size when they share it.
        sizes = {(width, height) if k in stills else clip_size for k in range(len(inputs))}
        clip_size = sizes.pop() if len(sizes) == 1 else None

    video = ctx.work_dir / "video.mp4"
    thumbnail = ctx.work_dir / "thumbnail.jpg"
    video_tmp = temp_sibling(video)
    thumb_tmp = temp_sibling(thumbnail)
    spec = CompositionSpec(
        clips=inputs,
        scene_durations=shown,
        output=video_tmp,
        width=width,
        height=height,
        fps=fps,
        voiceover=voice_path,
        music=music_path,
        music_volume=music_volume,
        overlays=overlays,
        clip_size=clip_size,
        transition=transition_for(shown),
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
        _cover(ctx, inputs, shown, visuals, plan.title, frame, at, thumb_tmp, raster,
               plan.voiceover_script)  # fmt: skip
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
