"""Stage 5: file the composed video for human review with its generation log.

Copies the video and thumbnail out of the job folder into ``<output_root>/review/`` as
``job-<id>-<slug>.mp4/.jpg`` (temporary name + rename, so a reviewer never opens half a file),
writes ``job-<id>-<slug>.json`` -- everything needed to judge or reproduce the video: theme,
trend pattern, plan, prompts, providers and models, per-stage timings and cost, paths -- and
records a ``Video`` row with status ``pending_review``.

A retry reuses the job's existing ``Video`` row and overwrites its files rather than adding a
second video. If a reviewer already decided on it, the decision stands and nothing is touched.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlmodel import col, select

from vidgen.errors import FatalStageError, StageError
from vidgen.files import publish_copy
from vidgen.models import Checkpoint, Job, Video, VideoStatus, utcnow
from vidgen.review import base_name, folder, write_log
from vidgen.stages.base import StageContext, StageResult


def _outputs(ctx: StageContext, stage: str) -> Mapping[str, Any]:
    outputs = ctx.outputs.get(stage)
    return outputs if isinstance(outputs, Mapping) else {}


def _result(video: Video) -> StageResult:
    return StageResult(
        outputs={
            "video_id": video.id,
            "video_path": video.video_path,
            "thumbnail_path": video.thumbnail_path,
            "log_path": video.log_path,
            "status": video.status,
        }
    )


def _with_credit(description: str, composition: Mapping[str, Any]) -> str:
    """The post description, ending with the assets' attribution when they need one."""
    credit = composition.get("attribution")
    if not credit or str(credit) in description:
        return description
    return f"{description}\n\n{credit}".strip()


def _stage_timings(ctx: StageContext) -> list[dict[str, Any]]:
    with ctx.store.read() as session:
        rows = session.exec(
            select(Checkpoint).where(Checkpoint.job_id == ctx.job_id).order_by(col(Checkpoint.id))
        ).all()
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
        for row in rows
    ]


def run(ctx: StageContext) -> StageResult:
    composition = _outputs(ctx, "composition")
    if not composition.get("video_path") or not composition.get("thumbnail_path"):
        raise FatalStageError(
            "review needs the composition stage's video_path and thumbnail_path; "
            "the job's checkpoints are inconsistent, generate a new job"
        )
    video_src = ctx.path(str(composition["video_path"]))
    thumb_src = ctx.path(str(composition["thumbnail_path"]))
    for kind, path in (("video", video_src), ("thumbnail", thumb_src)):
        if not path.is_file():
            raise StageError(f"the composed {kind} {path} is missing; retry to compose it again")

    generation = _outputs(ctx, "content_generation")
    trends = _outputs(ctx, "trend_analysis")
    raw_plan = generation.get("plan")
    plan: Mapping[str, Any] = raw_plan if isinstance(raw_plan, Mapping) else {}
    title = str(plan.get("title") or ctx.theme)
    plan_id = generation.get("plan_id")

    with ctx.store.read() as session:
        existing = session.exec(select(Video).where(Video.job_id == ctx.job_id)).first()
        job = session.get(Job, ctx.job_id)
    if existing is not None and existing.status != VideoStatus.PENDING_REVIEW.value:
        ctx.log(f"video {existing.id} was already {existing.status}; leaving it as it is")
        return _result(existing)

    review_dir = folder(ctx.settings, VideoStatus.PENDING_REVIEW.value)
    name = base_name(ctx.job_id, title)
    video_dest = review_dir / f"{name}.mp4"
    thumb_dest = review_dir / f"{name}.jpg"
    log_dest = review_dir / f"{name}.json"

    ctx.check_cancelled()
    # Files of an attempt that fails part-way (say the disk fills up after the video was copied)
    # are removed again: a reviewer never finds a video without its thumbnail, log and row.
    recorded = (
        {Path(p) for p in (existing.video_path, existing.thumbnail_path, existing.log_path)}
        if existing
        else set()
    )
    try:
        publish_copy(video_src, video_dest)
        publish_copy(thumb_src, thumb_dest)

        stages = _stage_timings(ctx)
        log: dict[str, Any] = {
            "job_id": ctx.job_id,
            "video_id": None,
            "generated_at": utcnow().isoformat(),
            "theme": ctx.theme,
            "config_path": job.config_path if job is not None else None,
            "config": ctx.config.model_dump(mode="json"),
            "trend": {
                "pattern": trends.get("pattern"),
                "report_id": trends.get("report_id"),
                "report_path": (
                    str(ctx.path(str(trends["report_path"]))) if trends.get("report_path") else None
                ),
                "top_hashtags": trends.get("top_hashtags"),
                "dominant_style": trends.get("dominant_style"),
                "typical_duration_seconds": trends.get("typical_duration_seconds"),
            },
            "plan_id": plan_id,
            "plan": dict(plan),
            # What each scene showed and the music played, with licences (composition records
            # them), and the credit a CC BY asset needs: the description below carries it too.
            "assets": composition.get("assets") or [],
            "attribution": composition.get("attribution"),
            "description": _with_credit(str(plan.get("description") or ""), composition),
            "prompts": generation.get("prompts"),
            "providers": generation.get("providers"),
            "stages": stages,
            "total_cost": round(
                sum(s["cost"] or 0.0 for s in stages if s["status"] == "completed"), 6
            ),
            "video": {
                key: composition.get(key)
                for key in (
                    "duration",
                    "width",
                    "height",
                    "video_codec",
                    "audio_codec",
                    "size_bytes",
                )
            },
            "paths": {
                "video": str(video_dest),
                "thumbnail": str(thumb_dest),
                "log": str(log_dest),
                "job_dir": str(ctx.job_dir),
            },
            "review": {
                "status": VideoStatus.PENDING_REVIEW.value,
                "reviewed_at": None,
                "reason": None,
            },
        }

        with ctx.store.write() as session:
            video = session.exec(select(Video).where(Video.job_id == ctx.job_id)).first()
            if video is not None and video.status != VideoStatus.PENDING_REVIEW.value:
                # A reviewer decided while we were copying: the decision stands, our copies go.
                decided = video
            else:
                decided = None
                stale: list[Path] = []
                if video is None:
                    video = Video(job_id=ctx.job_id, video_path="", thumbnail_path="", log_path="")
                else:
                    # Same job, possibly a different title this time: drop the previous files.
                    stale = [
                        Path(p)
                        for p in (video.video_path, video.thumbnail_path, video.log_path)
                        if p and Path(p) not in (video_dest, thumb_dest, log_dest)
                    ]
                video.plan_id = plan_id if isinstance(plan_id, int) else None
                video.status = VideoStatus.PENDING_REVIEW.value
                video.title = title
                video.video_path = str(video_dest)
                video.thumbnail_path = str(thumb_dest)
                video.log_path = str(log_dest)
                video.duration_seconds = float(composition.get("duration") or 0.0)
                session.add(video)
                session.flush()
                log["video_id"] = video.id
                # Written inside the transaction: if the log cannot be written, no row points at it.
                write_log(log_dest, log)
    except BaseException:
        for path in (video_dest, thumb_dest, log_dest):
            if path not in recorded:
                path.unlink(missing_ok=True)
        raise
    if decided is not None:
        video_dest.unlink(missing_ok=True)
        thumb_dest.unlink(missing_ok=True)
        return _result(decided)
    for path in stale:
        path.unlink(missing_ok=True)
    return _result(video)
