"""Stage 5: file the composed video for human review with its generation log.

Copies the video and thumbnail out of the job folder into ``<output_root>/review/`` as
``job-<id>-<slug>.mp4/.jpg`` (temporary name + rename, so a reviewer never opens half a file),
writes ``job-<id>-<slug>.json`` -- everything needed to judge or reproduce the video: theme,
trend pattern, plan, prompts, providers and models, per-stage timings and cost, paths -- and
records a ``Video`` row with status ``pending_review``.

A retry reuses the job's existing ``Video`` row and overwrites its files rather than adding a
second video. If a reviewer already decided on it, the decision stands and nothing is touched.

The filing holds the runner's lease (``ctx.lease``): a runner that lost its job files
nothing, and the result's ``undo`` takes the filing and its row back if the lease is lost
after the filing, before the runner recorded the checkpoint.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vidgen.clock import utcnow
from vidgen.errors import FatalStageError, StageError
from vidgen.files import Filing, sweep_name
from vidgen.review_folders import (
    base_name,
    filed_by_another_store,
    folder,
    log_text,
    subtitles_of,
)
from vidgen.stages import composition as composition_stage
from vidgen.stages import content_generation, trend_analysis
from vidgen.stages.base import StageContext, StageOutput, StageResult
from vidgen.statuses import CheckpointStatus, VideoStatus
from vidgen.store import checkpoints, jobs, videos
from vidgen.store.models import Video


class Output(StageOutput):
    """Where the reviewer finds the video's files (absolute paths), and the video's status
    (``pending_review``, or the decision a reviewer already made)."""

    STAGE = "review"

    video_id: int
    video_path: str
    thumbnail_path: str
    log_path: str
    status: str  # a VideoStatus value


def _result(video: Video) -> StageResult:
    assert video.id is not None  # a stored row
    return StageResult(
        output=Output(
            video_id=video.id,
            video_path=video.video_path,
            thumbnail_path=video.thumbnail_path,
            log_path=video.log_path,
            status=video.status,
        )
    )


def _with_credit(description: str, composition: composition_stage.Output) -> str:
    """The post description, ending with the assets' attribution when they need one."""
    credit = composition.attribution
    if not credit or credit in description:
        return description
    return f"{description}\n\n{credit}".strip()


def _stage_timings(ctx: StageContext) -> list[dict[str, Any]]:
    return [
        {
            "stage": row.stage,
            "attempt": row.attempt,
            "status": row.status,
            "started_at": row.started_at.isoformat(),
            "finished_at": row.finished_at.isoformat() if row.finished_at else None,
            "duration_seconds": row.duration_seconds,
            "cost": row.cost,
            "error": row.error,
        }
        for row in checkpoints.for_job(ctx.store, ctx.job_id)
    ]


def _trend_summary(ctx: StageContext, trends: trend_analysis.Output | None) -> dict[str, Any]:
    return {
        "pattern": trends.pattern if trends else None,
        "report_id": trends.report_id if trends else None,
        "report_path": str(ctx.path(trends.report_path)) if trends and trends.report_path else None,
        "top_hashtags": trends.top_hashtags if trends else None,
        "dominant_style": trends.dominant_style if trends else None,
        "typical_duration_seconds": trends.typical_duration_seconds if trends else None,
    }


def _own_name(ctx: StageContext, review_dir: Path, name: str, existing: Video | None) -> str:
    """``name``, or ``name-<store id>`` when files of that name in the review folder are not
    this store's (a second home sharing the output folder, or the work of a lost store whose
    job ids started again at 1): a filing never replaces another store's video. The
    name is recorded as this store's before any file of it appears. The files the job's
    recorded row points at are this store's too (a filing from before names were
    recorded)."""
    assert ctx.lease is not None
    filed = existing is not None and Path(existing.video_path) == review_dir / f"{name}.mp4"
    taken = not filed and any(
        (review_dir / f"{name}{suffix}").exists() for suffix in (".mp4", ".jpg", ".json", ".srt")
    )
    if taken and (
        not videos.owns_name(ctx.store, ctx.job_id, review_dir, name)
        or filed_by_another_store(review_dir / f"{name}.json", ctx.store.identity)
    ):
        name = f"{name}-{ctx.store.identity[:8]}"
    videos.own_name(ctx.store, ctx.lease, review_dir, name)
    return name


def run(ctx: StageContext) -> StageResult:
    if ctx.lease is None:
        raise FatalStageError("the review stage files a video only for a runner holding the job")
    lease = ctx.lease
    composition = ctx.optional_output(composition_stage.Output)
    if composition is None or not composition.video_path or not composition.thumbnail_path:
        raise FatalStageError(
            "review needs the composition stage's video_path and thumbnail_path; "
            "the job's checkpoints are inconsistent, generate a new job"
        )
    video_src = ctx.path(composition.video_path)
    thumb_src = ctx.path(composition.thumbnail_path)
    # The captions (composition records them when there was a voiceover).
    srt_src = ctx.path(composition.subtitles_path) if composition.subtitles_path else None
    checked = [("video", video_src), ("thumbnail", thumb_src)]
    if srt_src is not None:
        checked.append(("subtitle file", srt_src))
    for kind, path in checked:
        if not path.is_file():
            raise StageError(f"the composed {kind} {path} is missing; retry to compose it again")

    # The log says what it can: a stage package of a team's own may record other outputs for
    # the earlier stages (then their parts of the log are empty), but not for composition.
    generation = ctx.optional_output(content_generation.Output)
    trends = ctx.optional_output(trend_analysis.Output)
    plan = generation.plan if generation is not None else None
    title = plan.title if plan is not None else ctx.theme
    plan_id = generation.plan_id if generation is not None else None

    existing = videos.for_job(ctx.store, ctx.job_id)
    job = jobs.get(ctx.store, ctx.job_id)
    if existing is not None and existing.status != VideoStatus.PENDING_REVIEW.value:
        ctx.log(f"video {existing.id} was already {existing.status}; leaving it as it is")
        return _result(existing)

    review_dir = folder(ctx.settings, VideoStatus.PENDING_REVIEW.value)
    name = _own_name(ctx, review_dir, base_name(ctx.job_id, title), existing)
    # The filing: every file a reviewer gets, staged together and renamed into place in
    # the transaction that records the row. One more file (subtitles) is one more entry.
    filing = Filing(review_dir, name)
    files: list[tuple[Path, str]] = [(video_src, ".mp4"), (thumb_src, ".jpg")]
    video_dest = filing.dest(".mp4")
    thumb_dest = filing.dest(".jpg")
    log_dest = filing.dest(".json")
    # The captions beside the video under the same base name (creators upload them with it).
    srt_dest = filing.dest(".srt") if srt_src is not None else None
    if srt_src is not None:
        files.append((srt_src, ".srt"))

    ctx.check_cancelled()
    # Files a recorded Video row points at are kept if this attempt fails part-way; anything
    # else it filed is removed: a reviewer never finds a video without its thumbnail, log
    # and row. A process killed here leaves only names review.sweep_leftovers removes.
    recorded = set(videos.paths(existing)) if existing else set()
    if existing is not None:
        recorded.add(subtitles_of(Path(existing.video_path)))
    try:
        for src, suffix in files:
            filing.add_copy(src, suffix)
            ctx.check_cancelled()

        stages = _stage_timings(ctx)
        log: dict[str, Any] = {
            "job_id": ctx.job_id,
            "video_id": None,
            # Which store filed these files: sweeps of another store leave them alone.
            "store_id": ctx.store.identity,
            "generated_at": utcnow().isoformat(),
            "theme": ctx.theme,
            "config_path": job.config_path if job is not None else None,
            "config": ctx.config.model_dump(mode="json"),
            "trend": _trend_summary(ctx, trends),
            "plan_id": plan_id,
            "plan": plan.model_dump(mode="json") if plan is not None else {},
            # What each scene showed and the music played, with licences (composition records
            # them), and the credit a CC BY asset needs: the description below carries it too.
            "assets": composition.assets,
            "attribution": composition.attribution,
            "description": _with_credit(plan.description if plan is not None else "", composition),
            "prompts": generation.prompts if generation is not None else None,
            "providers": (
                generation.providers.model_dump(mode="json") if generation is not None else None
            ),
            "stages": stages,
            "total_cost": round(
                sum(s["cost"] or 0.0 for s in stages if s["status"] == CheckpointStatus.COMPLETED),
                6,
            ),
            "video": composition.model_dump(
                mode="json",
                include={"duration", "width", "height", "video_codec", "audio_codec", "size_bytes"},
            ),
            "paths": {
                "video": str(video_dest),
                "thumbnail": str(thumb_dest),
                "log": str(log_dest),
                "subtitles": str(srt_dest) if srt_dest is not None else None,
                "job_dir": str(ctx.job_dir),
            },
            "review": {
                "status": VideoStatus.PENDING_REVIEW.value,
                "reviewed_at": None,
                "reason": None,
            },
        }

        def file_in(video: Video) -> None:
            log["video_id"] = video.id
            filing.add_text(".json", log_text(log))
            # Renamed into place inside the transaction: if a rename fails, no row points at
            # the files; if the commit fails, discard() takes them away again.
            filing.commit()

        video, decided, stale = videos.file_for_review(
            ctx.store,
            lease,
            plan_id=plan_id,
            title=title,
            files=(video_dest, thumb_dest, log_dest),
            duration_seconds=composition.duration,
            before_commit=file_in,
        )
    except BaseException:
        filing.discard(keep=recorded)
        raise
    if decided is not None:  # a reviewer decided while we were copying: the decision stands
        filing.discard()
        return _result(decided)
    # Same job, possibly a different title this time: the previous files (and anything a killed
    # attempt left) go; the row now points at this filing only.
    for where, base in videos.owned_names(ctx.store, ctx.job_id):
        sweep_name(where, base, set(filing.entries))
    for path in stale:  # what the row pointed at before (its own files), subtitles included
        for old in (path, subtitles_of(path)):
            if old not in filing.entries:
                old.unlink(missing_ok=True)
    every_file = list(filing.entries)
    filed = (video_dest, thumb_dest, log_dest)
    assert video.id is not None
    video_id = video.id

    def undo() -> None:
        # The runner lost the job after this filing: the failed job keeps no video row and no
        # files (unless a reviewer decided meanwhile, or a new run took the job over).
        def remove() -> None:
            for path in every_file:
                path.unlink(missing_ok=True)

        videos.withdraw(ctx.store, ctx.job_id, video_id, filed, remove)

    result = _result(video)
    result.undo = undo
    return result
