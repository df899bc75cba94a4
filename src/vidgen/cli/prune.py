"""``vidgen prune``: delete the work files of jobs that ended long enough ago."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from vidgen.cli.output import example, respond

if TYPE_CHECKING:
    from vidgen.schemas import PruneResponse


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{size} bytes"  # pragma: no cover


def _human(result: PruneResponse) -> str:
    verb = "Would free" if result.dry_run else "Freed"
    rejected = f" and {result.rejected_videos} rejected video(s)" if result.rejected_videos else ""
    return (
        f"{verb} {human_size(result.bytes)} in {result.files} file(s): "
        f"{result.jobs} job folder(s){rejected} older than {result.older_than}."
    )


def prune(
    older_than: Annotated[
        str,
        typer.Option(
            "--older-than",
            metavar="DURATION",
            help="Jobs that ended (completed, failed, cancelled) more than this long ago: "
            "7d, 12h, 30m, 2w.",
        ),
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only show what would be deleted.")
    ] = False,
    rejected: Annotated[
        bool, typer.Option("--rejected", help="Also delete the files of rejected videos.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON (the body of POST /api/prune).")
    ] = False,
) -> None:
    """Delete the work files of ended jobs; videos waiting for review or approved are kept."""
    from vidgen import service

    respond(
        lambda s: service.prune(s, older_than, dry_run=dry_run, rejected=rejected),
        as_json,
        _human,
    )


def register(app: typer.Typer) -> None:
    app.command(
        "prune",
        epilog=example(
            "vidgen prune --older-than 7d --dry-run",
            "vidgen prune --older-than 14d --rejected",
        ),
    )(prune)
