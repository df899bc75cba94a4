"""``vidgen publish`` and ``vidgen publications``: approved videos to YouTube and TikTok.

``publish VIDEO --to DEST`` schedules one publication (and queues it when due now);
``publish --due`` is the cron line that queues what is due for the workers; uploads never run
in this process.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from vidgen.cli.output import EXIT_USAGE, die, example, plain, respond
from vidgen.ids import parse_id
from vidgen.statuses import PublicationStatus

if TYPE_CHECKING:
    from rich.console import RenderableType

    from vidgen.schemas import PublicationListResponse, PublicationResponse, PublishDueResponse

PUBLICATION_STYLE: dict[str, str] = {
    PublicationStatus.SCHEDULED: "yellow",
    PublicationStatus.UPLOADING: "cyan",
    PublicationStatus.PUBLISHED: "green",
    PublicationStatus.FAILED: "red",
    PublicationStatus.CANCELLED: "magenta",
}


def _one(pub: PublicationResponse) -> str:
    style = PUBLICATION_STYLE.get(pub.status, "white")
    # A platform's error text or an account name is user text: escaped, never Rich markup.
    where = pub.url or pub.remote_id or f"at {pub.scheduled_at[:16].replace('T', ' ')} UTC"
    error = f" -- {plain(pub.error_message)}" if pub.error_message else ""
    return (
        f"Publication {pub.id}: video {pub.video_id} on {plain(pub.destination)} "
        f"[{style}]{pub.status}[/] {plain(where)}{error}"
    )


def publications_table(result: PublicationListResponse) -> RenderableType:
    from rich.table import Table

    from vidgen.cli.output import short_time

    if not result.publications:
        return "[dim]No publications match.[/]"
    table = Table(header_style="bold")
    for column in ("id", "video", "to", "status", "when", "privacy", "link / error"):
        table.add_column(column, justify="right" if column in ("id", "video") else "left")
    for pub in result.publications:
        style = PUBLICATION_STYLE.get(pub.status, "white")
        progress = ""
        if pub.status == PublicationStatus.UPLOADING and pub.total_bytes:
            progress = f" {100 * (pub.uploaded_bytes or 0) // pub.total_bytes}%"
        table.add_row(
            str(pub.id),
            str(pub.video_id),
            plain(
                f"{pub.destination} ({pub.account})"
                if pub.account != "default"
                else pub.destination
            ),
            f"[{style}]{pub.status}[/]{progress}",
            short_time(pub.scheduled_at),
            pub.applied_privacy or pub.privacy or "",
            plain(pub.error_message or pub.url or pub.remote_id or ""),
        )
    return table


def _due(result: PublishDueResponse) -> str:
    return result.message


def publish(
    video_id: Annotated[
        int | None,
        typer.Argument(
            metavar="VIDEO", parser=parse_id, help="Video id from 'vidgen videos' (approved)."
        ),
    ] = None,
    to: Annotated[
        str | None, typer.Option("--to", metavar="DEST", help="youtube or tiktok.")
    ] = None,
    at: Annotated[
        str | None,
        typer.Option(
            "--at",
            metavar="TIME",
            help="When: ISO-8601 with an offset, or local time in publish.timezone (default now).",
        ),
    ] = None,
    account: Annotated[
        str | None,
        typer.Option("--account", metavar="NAME", help="Account from 'vidgen auth --account'."),
    ] = None,
    due: Annotated[
        bool,
        typer.Option("--due", help="Queue every upload due now for the workers (the cron line)."),
    ] = False,
    as_json: Annotated[
        bool,
        typer.Option("--json", help="Print JSON (the body of the HTTP twin)."),
    ] = False,
) -> None:
    """Publish an approved video to YouTube or TikTok (uploads run in 'vidgen worker')."""
    from vidgen import service

    if due:
        if video_id is not None or to is not None or at is not None or account is not None:
            die("--due takes no VIDEO, --to, --at or --account", EXIT_USAGE)
        respond(service.publish_due, as_json, _due)
        return
    if video_id is None or to is None:
        die(
            "give VIDEO and --to youtube|tiktok, or --due (see 'vidgen publish --help')", EXIT_USAGE
        )
    respond(lambda s: service.publish_video(s, video_id, to, at, account), as_json, _one)


publications_app = typer.Typer(
    help="List publications, or cancel a scheduled one.",
    invoke_without_command=True,
    no_args_is_help=False,
    rich_markup_mode=None,
)


@publications_app.callback()
def publications(
    ctx: typer.Context,
    status: Annotated[
        str | None,
        typer.Option(
            "--status",
            "-s",
            metavar="STATUS",
            help="scheduled, uploading, published, failed or cancelled.",
        ),
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", "-n", metavar="N", help="How many (1-1000).")
    ] = 20,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON (the body of GET /api/publications).")
    ] = False,
) -> None:
    """List publications, newest first; 'vidgen publications cancel ID' cancels one."""
    if ctx.invoked_subcommand is not None:
        return
    from vidgen import service

    respond(lambda s: service.list_publications(s, status, limit), as_json, publications_table)


@publications_app.command("cancel", epilog=example("vidgen publications cancel 3"))
def cancel(
    pub_id: Annotated[
        int, typer.Argument(metavar="PUB_ID", parser=parse_id, help="A scheduled publication.")
    ],
    as_json: Annotated[
        bool,
        typer.Option("--json", help="Print JSON (the body of POST /api/publications/ID/cancel)."),
    ] = False,
) -> None:
    """Cancel a scheduled publication (nothing already on a platform is deleted)."""
    from vidgen import service

    respond(lambda s: service.cancel_publication(s, pub_id), as_json, _one)
    service.flush_webhooks(10.0)


def register(app: typer.Typer) -> None:
    app.command(
        "publish",
        epilog=example(
            "vidgen publish 7 --to youtube",
            "vidgen publish 7 --to tiktok --at 2026-12-24T18:00+01:00",
            "vidgen publish --due",
        ),
    )(publish)
    app.add_typer(
        publications_app,
        name="publications",
        epilog=example("vidgen publications --status failed", "vidgen publications cancel 3"),
    )
