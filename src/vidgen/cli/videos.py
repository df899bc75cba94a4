"""``vidgen videos``, ``approve``, ``reject``: the review queue."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from vidgen.cli.output import complete_video_status, example, respond
from vidgen.ids import parse_id
from vidgen.statuses import VideoStatus

if TYPE_CHECKING:
    from rich.console import RenderableType

    from vidgen.schemas import VideoListResponse, VideoResponse

VIDEO_STYLE: dict[str, str] = {
    VideoStatus.PENDING_REVIEW: "yellow",
    VideoStatus.APPROVED: "green",
    VideoStatus.REJECTED: "red",
}


def videos_table(result: VideoListResponse) -> RenderableType:
    from rich.table import Table

    from vidgen.cli.output import clip, console, plain, short_time
    from vidgen.cli.panels import publication_text

    if not result.videos:
        return "[dim]No videos match.[/]"
    table = Table(header_style="bold")
    # Video ids and job ids are different numbers: both are shown, each named.
    for column in ("video", "job", "status", "title", "length", "created", "file", "published"):
        table.add_column(column, justify="right" if column in ("video", "job") else "left")
    # A terminal gets a short title; a pipe (plain rows) gets the whole one.
    cut = clip if console().is_terminal else (lambda text, _: text)
    # One publication a line on a terminal; a pipe keeps each video on one line.
    between = "\n" if console().is_terminal else "; "
    for video in result.videos:
        style = VIDEO_STYLE.get(video.status, "white")
        table.add_row(
            str(video.id),
            str(video.job_id),
            f"[{style}]{video.status}[/]",
            plain(cut(video.title, 40)),
            f"{video.duration_seconds:.1f}s",
            short_time(video.created_at),
            plain(video.video_path),
            between.join(publication_text(pub) for pub in video.publications),
        )
    return table


def _moved(video: VideoResponse) -> str:
    from vidgen.cli.output import plain

    note = f" ({video.reason})" if video.reason else ""
    # Job and video ids are different numbers once a job failed or was cancelled: name both.
    ids = f"Job {video.job_id}'s video (video {video.id})"
    return plain(f"{ids} {video.status}{note}:\n{video.video_path}")


def _which(job_id: int | None, video_id: int | None) -> tuple[str, int]:
    """("job", id) or ("video", id): exactly one of the two must be given."""
    from vidgen.cli.output import EXIT_USAGE, die

    if (job_id is None) == (video_id is None):
        die(
            "name the job (vidgen approve JOB_ID) or the video (--video-id VIDEO_ID), "
            "not both and not neither",
            EXIT_USAGE,
        )
    return ("job", job_id) if job_id is not None else ("video", video_id)  # type: ignore[return-value]


def videos(
    status: Annotated[
        str | None,
        typer.Option(
            "--status",
            "-s",
            metavar="STATUS",
            help="pending_review, approved or rejected.",
            autocompletion=complete_video_status,
        ),
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", "-n", metavar="N", help="How many (1-1000).")
    ] = 20,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON (the body of GET /api/videos).")
    ] = False,
) -> None:
    """List generated videos and their review state."""
    from vidgen import service

    respond(lambda s: service.list_videos(s, status, limit), as_json, videos_table)


_JOB_ID_HELP = "Job id (as in 'vidgen jobs', 'vidgen status' and the dashboard)."
_VIDEO_ID_HELP = "Name the video by its own id instead (the 'video' column of 'vidgen videos')."


def approve(
    job_id: Annotated[
        int | None,
        typer.Argument(metavar="JOB_ID", parser=parse_id, help=_JOB_ID_HELP, show_default=False),
    ] = None,
    video_id: Annotated[
        int | None,
        typer.Option("--video-id", metavar="VIDEO_ID", parser=parse_id, help=_VIDEO_ID_HELP),
    ] = None,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print JSON (the body of POST /api/jobs/JOB_ID/approve, "
            "or /api/videos/VIDEO_ID/approve).",
        ),
    ] = False,
) -> None:
    """Approve a job's video: move it to the approved folder."""
    from vidgen import service

    kind, number = _which(job_id, video_id)
    if kind == "job":
        respond(lambda s: service.approve_job(s, number), as_json, _moved)
    else:
        respond(lambda s: service.approve_video(s, number), as_json, _moved)


def reject(
    reason: Annotated[
        str, typer.Option("--reason", "-r", metavar="TEXT", help="Why it was rejected.")
    ],
    job_id: Annotated[
        int | None,
        typer.Argument(metavar="JOB_ID", parser=parse_id, help=_JOB_ID_HELP, show_default=False),
    ] = None,
    video_id: Annotated[
        int | None,
        typer.Option("--video-id", metavar="VIDEO_ID", parser=parse_id, help=_VIDEO_ID_HELP),
    ] = None,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print JSON (the body of POST /api/jobs/JOB_ID/reject, "
            "or /api/videos/VIDEO_ID/reject).",
        ),
    ] = False,
) -> None:
    """Reject a job's video with a reason: move it to the rejected folder."""
    from vidgen import service

    kind, number = _which(job_id, video_id)
    if kind == "job":
        respond(lambda s: service.reject_job(s, number, reason), as_json, _moved)
    else:
        respond(lambda s: service.reject_video(s, number, reason), as_json, _moved)


def register(app: typer.Typer) -> None:
    app.command(
        "videos", epilog=example("vidgen videos", "vidgen videos --status approved --json")
    )(videos)
    app.command("approve", epilog=example("vidgen approve 12", "vidgen approve --video-id 7"))(
        approve
    )
    app.command(
        "reject",
        epilog=example(
            "vidgen reject 12 --reason 'logo too small'",
            "vidgen reject --video-id 7 --reason 'logo too small'",
        ),
    )(reject)
