"""The review stage files a real composed video; approve/reject move it and record the decision."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from conftest import typed_outputs
from vidgen import review_folders
from vidgen.errors import InvalidInput, NotFound, Refused, StageError
from vidgen.media import ffmpeg
from vidgen.planning import ProductionPlan
from vidgen.settings import Settings
from vidgen.stages import composition, content_generation
from vidgen.stages import review as review_stage
from vidgen.stages.base import StageContext
from vidgen.store import Store
from vidgen.store.models import Checkpoint, ContentPlan, Video

PLAN = {
    "title": "FocusFlow Desk Lamp: Warm light in the evening",
    "description": "A smart lamp. #productdemo",
    "hashtags": ["#productdemo"],
    "style": "product-demo",
    "duration_seconds": 2.0,
    "scenes": [
        {
            "index": i,
            "duration_seconds": seconds,
            "on_screen_text": text,
            "narration": text,
            "keywords": [],
        }
        for i, (seconds, text) in enumerate([(0.5, "Stop"), (1.0, "scrolling."), (0.5, "Lamp")])
    ],
    "voiceover_script": "Stop scrolling.",
}


SRT = "1\n00:00:00,050 --> 00:00:01,000\nStop scrolling.\n"


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A two-second H.264/AAC MP4 and a JPEG thumbnail, made once by the bundled ffmpeg."""
    folder = tmp_path_factory.mktemp("media")
    video, thumb = folder / "final.mp4", folder / "thumb.jpg"
    ffmpeg.run(
        [
            "-f", "lavfi", "-i", "testsrc=size=180x320:rate=15:duration=2",
            "-f", "lavfi", "-i", "sine=frequency=440:duration=2",
            "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest",
            "-movflags", "+faststart", str(video),
        ]
    )  # fmt: skip
    ffmpeg.run(["-ss", "0.5", "-i", str(video), "-frames:v", "1", str(thumb)])
    return video, thumb


@pytest.fixture
def review_ctx(
    stage_context: Callable[..., StageContext], store: Store, media: tuple[Path, Path]
) -> StageContext:
    """A review-stage context whose job has a composed video, a plan row and checkpoints."""
    ctx = stage_context("review")
    comp_dir = ctx.job_dir / "composition" / "attempt-1"
    comp_dir.mkdir(parents=True)
    video, thumb = comp_dir / "final.mp4", comp_dir / "thumb.jpg"
    video.write_bytes(media[0].read_bytes())
    thumb.write_bytes(media[1].read_bytes())
    (comp_dir / "captions.srt").write_text(SRT, encoding="utf-8")
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with store.write() as session:
        plan_row = ContentPlan(job_id=ctx.job_id, title=str(PLAN["title"]), plan=PLAN)
        session.add(plan_row)
        for i, (stage, cost) in enumerate(
            [("trend_collection", 0.0), ("trend_analysis", 0.001), ("content_generation", 0.02)]
        ):
            session.add(
                Checkpoint(
                    job_id=ctx.job_id,
                    stage=stage,
                    attempt=1,
                    status="completed",
                    started_at=start + timedelta(seconds=10 * i),
                    finished_at=start + timedelta(seconds=10 * i + 4),
                    duration_seconds=4.0,
                    cost=cost,
                )
            )
        session.add(Checkpoint(job_id=ctx.job_id, stage="review", attempt=1))
        session.flush()
        plan_id = plan_row.id
    assert plan_id is not None
    clips = [f"content_generation/attempt-1/clip-{i:02d}.mp4" for i in range(3)]
    ctx.outputs = typed_outputs(
        {
            "trend_analysis": {
                "report_id": 1,
                "report_path": "trend_analysis/attempt-1/report.json",
                "trend_count": 2,
                "top_hashtags": ["tech", "gadgets"],
                "dominant_style": "listicle",
                "typical_duration_seconds": 21.0,
                "top_videos": [],
                "pattern": "listicle, ~21 s, #tech #gadgets rising",
                "topics": [],
            },
            "content_generation": {
                "plan_id": plan_id,
                "plan_path": "content_generation/attempt-1/plan.json",
                "plan": PLAN,
                "clips": [{"path": path, "duration": 1.0} for path in clips],
                "voiceover": {
                    "path": "content_generation/attempt-1/voiceover.wav",
                    "duration": 1.2,
                    "words": [],
                    "sentences": [],
                },
                "providers": {
                    "planner": "local",
                    "visuals": "procedural",
                    "tts": "espeak",
                    "models": {"planner": None, "tts": "espeak-ng"},
                    "clip_sources": [None, None, None],
                },
                "prompts": {"template": "local-v1"},
                "width": 180,
                "height": 320,
                "fps": 15,
            },
            "composition": {
                "video_path": ctx.rel(video),
                "thumbnail_path": ctx.rel(thumb),
                "duration": 2.0,
                "width": 180,
                "height": 320,
                "video_codec": "h264",
                "audio_codec": "aac",
                "size_bytes": video.stat().st_size,
                "subtitles_path": ctx.rel(comp_dir / "captions.srt"),
                "assets": [],
                "attribution": None,
            },
        }
    )
    return ctx


def _videos(store: Store) -> list[Video]:
    with store.read() as session:
        return list(session.exec(select(Video)).all())


def test_review_stage_files_video_thumbnail_and_log(
    review_ctx: StageContext, settings: Settings, store: Store, media: tuple[Path, Path]
) -> None:
    result = review_stage.run(review_ctx)
    out = result.outputs
    assert set(out) == {"video_id", "video_path", "thumbnail_path", "log_path", "status"}
    assert out["status"] == "pending_review"
    base = (
        settings.output_root
        / "review"
        / f"job-{review_ctx.job_id}-focusflow-desk-lamp-warm-light-in-the"
    )
    assert out["video_path"] == f"{base}.mp4"
    assert Path(out["video_path"]).read_bytes() == media[0].read_bytes()
    assert Path(out["thumbnail_path"]).read_bytes() == media[1].read_bytes()
    assert ffmpeg.probe(Path(out["video_path"])).video_codec == "h264"
    # No temporary names left behind next to the published files.
    assert sorted(p.name for p in (settings.output_root / "review").iterdir()) == sorted(
        Path(f"{base}{ext}").name for ext in (".mp4", ".jpg", ".json", ".srt")
    )
    # The captions sit beside the video under its base name.
    assert Path(f"{base}.srt").read_text(encoding="utf-8") == SRT

    log = json.loads(Path(out["log_path"]).read_text())
    assert log["job_id"] == review_ctx.job_id
    assert log["video_id"] == out["video_id"]
    assert datetime.fromisoformat(log["generated_at"]).tzinfo is not None
    assert log["theme"] == "Product Demo"
    assert log["trend"]["pattern"] == "listicle, ~21 s, #tech #gadgets rising"
    assert log["trend"]["report_path"] == str(
        review_ctx.job_dir / "trend_analysis/attempt-1/report.json"
    )
    # The log holds the plan as the stage recorded it: the model with its defaults filled in.
    assert log["plan"] == ProductionPlan.model_validate(PLAN).model_dump(mode="json")
    assert log["prompts"] == {"template": "local-v1"}
    assert log["providers"]["tts"] == "espeak"
    assert [s["stage"] for s in log["stages"]] == [
        "trend_collection", "trend_analysis", "content_generation", "review"
    ]  # fmt: skip
    assert log["stages"][1]["duration_seconds"] == 4.0
    assert log["stages"][1]["started_at"] == "2026-01-01T00:00:10+00:00"
    assert log["total_cost"] == pytest.approx(0.021)
    assert log["video"]["video_codec"] == "h264"
    assert log["paths"] == {
        "video": out["video_path"],
        "thumbnail": out["thumbnail_path"],
        "log": out["log_path"],
        "subtitles": f"{base}.srt",
        "job_dir": str(review_ctx.job_dir),
    }
    assert log["review"] == {"status": "pending_review", "reviewed_at": None, "reason": None}

    [row] = _videos(store)
    assert row.id == out["video_id"]
    assert row.status == "pending_review"
    assert row.plan_id == review_ctx.output(content_generation.Output).plan_id
    assert row.title == PLAN["title"]
    assert row.duration_seconds == 2.0


def test_review_stage_rerun_reuses_the_row(
    review_ctx: StageContext, settings: Settings, store: Store
) -> None:
    first = review_stage.run(review_ctx).outputs
    second = review_stage.run(review_ctx).outputs
    assert first == second
    assert len(_videos(store)) == 1
    assert len(list((settings.output_root / "review").iterdir())) == 4


def test_review_stage_rerun_with_new_title_replaces_old_files(
    review_ctx: StageContext, settings: Settings, store: Store
) -> None:
    first = review_stage.run(review_ctx).outputs
    generated = review_ctx.output(content_generation.Output)
    retitled = generated.plan.model_copy(update={"title": "Another title"})
    review_ctx.outputs = {
        **review_ctx.outputs,
        "content_generation": generated.model_copy(update={"plan": retitled}),
    }
    second = review_stage.run(review_ctx).outputs
    assert second["video_id"] == first["video_id"]
    assert second["video_path"].endswith("-another-title.mp4")
    assert not Path(first["video_path"]).exists()
    assert len(list((settings.output_root / "review").iterdir())) == 4


def test_review_stage_leaves_a_decided_video_alone(
    review_ctx: StageContext, settings: Settings, store: Store
) -> None:
    first = review_stage.run(review_ctx).outputs
    approved = review_folders.approve_video(store, settings, first["video_id"])
    again = review_stage.run(review_ctx).outputs
    assert again["status"] == "approved"
    assert again["video_path"] == approved.video_path
    assert not (settings.output_root / "review" / Path(first["video_path"]).name).exists()


def test_review_stage_keeps_a_decision_made_while_it_copied(
    review_ctx: StageContext, settings: Settings, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = review_stage.run(review_ctx).outputs
    import vidgen.files

    real_copy = vidgen.files.atomic_copy

    def copy_while_a_reviewer_approves(src: Path, dest: Path) -> None:
        if review_folders.get_video(store, first["video_id"]).status == "pending_review":
            review_folders.approve_video(store, settings, first["video_id"])
        real_copy(src, dest)

    monkeypatch.setattr(vidgen.files, "atomic_copy", copy_while_a_reviewer_approves)
    again = review_stage.run(review_ctx).outputs
    assert again["status"] == "approved"
    assert not any((settings.output_root / "review").iterdir())
    assert len(list((settings.output_root / "approved").iterdir())) == 4
    assert len(_videos(store)) == 1


def test_review_stage_missing_composed_video_is_retryable(review_ctx: StageContext) -> None:
    review_ctx.path(review_ctx.output(composition.Output).video_path).unlink()
    with pytest.raises(StageError, match=r"composed video .* is missing"):
        review_stage.run(review_ctx)


def test_review_stage_without_composition_outputs_is_fatal(
    stage_context: Callable[..., StageContext],
) -> None:
    from vidgen.errors import FatalStageError

    with pytest.raises(FatalStageError, match="composition"):
        review_stage.run(stage_context("review"))


# ------------------------------------------------------------------------------------------
# The library: list, get, approve, reject


@pytest.fixture
def pending(review_ctx: StageContext) -> dict[str, Any]:
    return review_stage.run(review_ctx).outputs


def test_list_and_get(pending: dict[str, Any], store: Store, settings: Settings) -> None:
    listed = review_folders.list_videos(store, settings, None, 20)
    assert listed.count == 1
    video = listed.videos[0]
    assert video.id == pending["video_id"]
    assert video.status == "pending_review"
    assert datetime.fromisoformat(video.created_at).tzinfo is not None
    assert video.reviewed_at is None and video.reason is None
    assert review_folders.list_videos(store, settings, "approved", 20).count == 0
    assert review_folders.get_video(store, video.id) == video
    assert set(video.model_dump()) == {
        "id", "job_id", "status", "title", "video_path", "thumbnail_path", "log_path",
        "duration_seconds", "created_at", "reviewed_at", "reason", "publications",
    }  # fmt: skip
    assert video.publications == []  # the service fills them (tests/test_publish.py)


def test_list_newest_first_and_limit(
    stage_context: Callable[..., StageContext], store: Store, settings: Settings
) -> None:
    ids = []
    for _ in range(3):
        ctx = stage_context("review")
        with store.write() as session:
            row = Video(job_id=ctx.job_id, video_path="v", thumbnail_path="t", log_path="l")
            session.add(row)
            session.flush()
            ids.append(row.id)
    listed = review_folders.list_videos(store, settings, "pending_review", 2)
    assert [v.id for v in listed.videos] == ids[::-1][:2]
    assert listed.count == 2


@pytest.mark.parametrize("limit", [0, -1, 1001])
def test_list_rejects_bad_limit(store: Store, settings: Settings, limit: int) -> None:
    with pytest.raises(InvalidInput, match="limit must be between 1 and 1000"):
        review_folders.list_videos(store, settings, None, limit)


def test_list_rejects_unknown_status(store: Store, settings: Settings) -> None:
    with pytest.raises(InvalidInput, match="pending_review, approved, rejected"):
        review_folders.list_videos(store, settings, "done", 20)


def test_unknown_ids_are_not_found(store: Store, settings: Settings) -> None:
    with pytest.raises(NotFound, match="video 99 not found"):
        review_folders.get_video(store, 99)
    with pytest.raises(NotFound, match="video 99 not found"):
        review_folders.approve_video(store, settings, 99)
    with pytest.raises(NotFound, match="video 99 not found"):
        review_folders.reject_video(store, settings, 99, "nope")


def test_approve_moves_files_and_updates_log_and_row(
    pending: dict[str, Any], store: Store, settings: Settings
) -> None:
    before = [Path(pending[k]) for k in ("video_path", "thumbnail_path", "log_path")]
    video_bytes = before[0].read_bytes()
    approved = review_folders.approve_video(store, settings, pending["video_id"])
    assert approved.status == "approved"
    assert approved.reviewed_at is not None and approved.reason is None
    after = [Path(approved.video_path), Path(approved.thumbnail_path), Path(approved.log_path)]
    for old, new in zip(before, after, strict=True):
        assert not old.exists()
        assert new == settings.output_root / "approved" / old.name
    assert after[0].read_bytes() == video_bytes
    # The captions move with the video.
    assert not before[0].with_suffix(".srt").exists()
    assert after[0].with_suffix(".srt").read_text(encoding="utf-8") == SRT
    log = json.loads(after[2].read_text())
    assert log["review"] == {
        "status": "approved",
        "reviewed_at": approved.reviewed_at,
        "reason": None,
    }
    assert log["paths"]["video"] == approved.video_path
    assert log["paths"]["subtitles"] == str(after[0].with_suffix(".srt"))
    assert log["paths"]["job_dir"]  # untouched keys are kept
    assert review_folders.get_video(store, approved.id) == approved


def test_reject_records_reason(pending: dict[str, Any], store: Store, settings: Settings) -> None:
    rejected = review_folders.reject_video(
        store, settings, pending["video_id"], "  off-brand colours "
    )
    assert rejected.status == "rejected"
    assert rejected.reason == "off-brand colours"
    assert Path(rejected.video_path).parent == settings.output_root / "rejected"
    log = json.loads(Path(rejected.log_path).read_text())
    assert log["review"]["reason"] == "off-brand colours"
    assert review_folders.list_videos(store, settings, "rejected", 20).count == 1
    assert review_folders.list_videos(store, settings, "pending_review", 20).count == 0


def test_reject_with_empty_reason_stores_none(
    pending: dict[str, Any], store: Store, settings: Settings
) -> None:
    assert review_folders.reject_video(store, settings, pending["video_id"], "  ").reason is None


def test_reject_refuses_a_huge_reason(
    pending: dict[str, Any], store: Store, settings: Settings
) -> None:
    with pytest.raises(InvalidInput, match="keep it under 2000"):
        review_folders.reject_video(store, settings, pending["video_id"], "x" * 2001)


@pytest.mark.parametrize("first", ["approve", "reject"])
def test_decided_videos_are_refused(
    pending: dict[str, Any], store: Store, settings: Settings, first: str
) -> None:
    video_id = pending["video_id"]
    if first == "approve":
        review_folders.approve_video(store, settings, video_id)
        status = "approved"
    else:
        review_folders.reject_video(store, settings, video_id, "no")
        status = "rejected"
    message = f"video {video_id} is already {status}; only videos pending review"
    with pytest.raises(Refused, match=re.escape(message)):
        review_folders.approve_video(store, settings, video_id)
    with pytest.raises(Refused, match=re.escape(message)):
        review_folders.reject_video(store, settings, video_id, "again")


@pytest.mark.parametrize(
    ("key", "kind"),
    [("video_path", "video"), ("thumbnail_path", "thumbnail"), ("log_path", "generation log")],
)
def test_missing_file_is_refused_and_nothing_moves(
    pending: dict[str, Any], store: Store, settings: Settings, key: str, kind: str
) -> None:
    missing = Path(pending[key])
    missing.unlink()
    with pytest.raises(Refused, match=re.escape(f"the {kind} file {missing} is missing")):
        review_folders.approve_video(store, settings, pending["video_id"])
    assert review_folders.get_video(store, pending["video_id"]).status == "pending_review"
    assert not (settings.output_root / "approved").exists()


def test_corrupt_log_is_refused(pending: dict[str, Any], store: Store, settings: Settings) -> None:
    Path(pending["log_path"]).write_text("{not json")
    with pytest.raises(Refused, match="cannot read the generation log"):
        review_folders.reject_video(store, settings, pending["video_id"], "bad")
    assert Path(pending["video_path"]).exists()


def test_interrupted_move_is_finished(
    pending: dict[str, Any], store: Store, settings: Settings
) -> None:
    # A crash after moving the video but before the row was updated.
    approved_dir = settings.output_root / "approved"
    approved_dir.mkdir(parents=True)
    moved = Path(pending["video_path"])
    moved.replace(approved_dir / moved.name)
    approved = review_folders.approve_video(store, settings, pending["video_id"])
    assert Path(approved.video_path) == approved_dir / moved.name
    assert len(list(approved_dir.iterdir())) == 4
    assert not any((settings.output_root / "review").iterdir())


def test_slugify() -> None:
    assert review_folders.slugify("Café Crème: 3 Ways!") == "cafe-creme-3-ways"
    assert review_folders.slugify("日本語") == "video"
    assert len(review_folders.slugify("word " * 40)) <= 40
    assert not review_folders.slugify("word " * 40).endswith("-")


def test_log_records_asset_licences_and_credits_cc_by(review_ctx: StageContext) -> None:
    from vidgen.media import illustrations as icons

    icon = {"scene": 0, "kind": "illustration", "id": "twemoji:1f4a1",
            "licence": icons.LICENCE, "attribution": icons.ATTRIBUTION}  # fmt: skip
    track = {"kind": "music", "id": "immich-memories-music:energetic/a.opus", "licence": "MIT",
             "attribution": None}  # fmt: skip
    composed = review_ctx.output(composition.Output)
    composed.assets = [icon, track]
    composed.attribution = icons.ATTRIBUTION
    log = json.loads(Path(review_stage.run(review_ctx).outputs["log_path"]).read_text())
    assert log["assets"] == [icon, track]
    assert log["attribution"] == icons.ATTRIBUTION
    assert log["description"].startswith(str(PLAN["description"]))
    assert log["description"].endswith(icons.ATTRIBUTION)


def test_log_without_assets_needs_no_credit(review_ctx: StageContext) -> None:
    log = json.loads(Path(review_stage.run(review_ctx).outputs["log_path"]).read_text())
    assert log["assets"] == [] and log["attribution"] is None
    assert log["description"] == PLAN["description"]
