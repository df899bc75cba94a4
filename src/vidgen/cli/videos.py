"""``vidgen videos``, ``approve``, ``reject``: the review queue."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from vidgen.cli.output import example, respond
from vidgen.store.status import VideoStatus

if TYPE_CHECKING:
    from rich.console import RenderableType

    from vidgen.review import VideoListResponse, VideoResponse

VIDEO_STYLE: dict[str, str] = {
    VideoStatus.PENDING_REVIEW: "yellow",
    VideoStatus.APPROVED: "green",
    VideoStatus.REJECTED: "red",
}


def videos_table(result: VideoListResponse) -> RenderableType:
    from rich.table import Table

    from vidgen.cli.output import plain, short_time

    if not result.videos:
        return "[dim]No videos match.[/]"
    table = Table(header_style="bold")
    # Video ids and job ids are different numbers: both are shown, each named.
    for column in ("video", "job", "status", "title", "length", "created", "file"):
        table.add_column(column, justify="right" if column in ("video", "job") else "left")
    for video in result.videos:
        style = VIDEO_STYLE.get(video.status, "white")
        table.add_row(
            str(video.id),
            str(video.job_id),
            f"[{style}]{video.status}[/]",
            plain(video.title[:40]),
            f"{video.duration_seconds:.1f}s",
            short_time(video.created_at),
            plain(video.video_path),
        )
    return table


def _moved(video: VideoResponse) -> str:
    from vidgen.cli.output import plain

    note = f" ({video.reason})" if video.reason else ""
    return plain(f"Video {video.id} {video.status}{note}: {video.video_path}")


def videos(
    status: Annotated[
        str | None,
        typer.Option(
            "--status", "-s", metavar="STATUS", help="pending_review, approved or rejected."
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


def approve(
    video_id: Annotated[int, typer.Argument(metavar="ID", help="Video id from 'vidgen videos'.")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON (the body of POST /api/videos/ID/approve).")
    ] = False,
) -> None:
    """Approve a video: move it to the approved folder."""
    from vidgen import service

    respond(lambda s: service.approve_video(s, video_id), as_json, _moved)


def reject(
    video_id: Annotated[int, typer.Argument(metavar="ID", help="Video id from 'vidgen videos'.")],
    reason: Annotated[
        str, typer.Option("--reason", "-r", metavar="TEXT", help="Why it was rejected.")
    ],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON (the body of POST /api/videos/ID/reject).")
    ] = False,
) -> None:
    """Reject a video with a reason: move it to the rejected folder."""
    from vidgen import service

    respond(lambda s: service.reject_video(s, video_id, reason), as_json, _moved)


def register(app: typer.Typer) -> None:
    app.command(
        "videos", epilog=example("vidgen videos", "vidgen videos --status approved --json")
    )(videos)
    app.command("approve", epilog=example("vidgen approve 7"))(approve)
    app.command("reject", epilog=example("vidgen reject 8 --reason 'logo too small'"))(reject)
