"""The job panel and stage table, shared by ``vidgen status`` and the live follow display."""

from __future__ import annotations

from typing import TYPE_CHECKING

from vidgen.statuses import JobStatus

if TYPE_CHECKING:
    from rich.console import RenderableType

    from vidgen.schemas import JobDetailResponse, PublicationSummary


def publication_text(pub: PublicationSummary) -> str:
    """One publication as Rich markup: destination, status, then its link, error or time."""
    from vidgen.cli.output import plain, short_time
    from vidgen.cli.publish import PUBLICATION_STYLE

    style = PUBLICATION_STYLE.get(pub.status, "white")
    if pub.url:
        where = pub.url
    elif pub.error_message:
        where = pub.error_message
    else:
        where = f"{short_time(pub.scheduled_at)[:16]} UTC"
    return f"{plain(pub.destination)} [{style}]{plain(pub.status)}[/] {plain(where)} (#{pub.id})"


def stage_table(
    detail: JobDetailResponse, elapsed: dict[str, float] | None = None
) -> RenderableType:
    from rich.table import Table

    from vidgen.cli.output import STATE_ICON, plain

    table = Table(box=None, pad_edge=False, show_header=True, header_style="bold")
    table.add_column("", width=1)
    table.add_column("stage")
    table.add_column("attempt", justify="right")
    table.add_column("time", justify="right")
    table.add_column("cost", justify="right")
    table.add_column("note", overflow="fold", max_width=70)
    for stage in detail.stages:
        seconds = stage.duration_seconds
        if stage.state == "running" and elapsed is not None:
            seconds = elapsed.get(stage.stage)
        table.add_row(
            STATE_ICON[stage.state],
            plain(stage.stage),
            "" if stage.attempt is None else str(stage.attempt),
            "" if seconds is None else f"{seconds:.1f}s",
            f"${stage.cost:.4f}" if stage.cost else "",
            plain(stage.error or ""),
        )
    return table


def job_panel(detail: JobDetailResponse, elapsed: dict[str, float] | None = None) -> RenderableType:
    from rich.console import Group
    from rich.panel import Panel

    from vidgen.cli.output import me, plain, progress_bar, short_time, styled_status

    lines = [
        f"status  {styled_status(detail.status)}   stage {plain(detail.stage or '-')}   "
        f"{progress_bar(detail.progress_pct)}",
        f"theme   {plain(detail.theme)}   profile {plain(detail.profile or '-')}",
        f"created {short_time(detail.created_at)}   updated {short_time(detail.updated_at)}   "
        f"cost ${detail.total_cost:.4f}",
    ]
    if detail.error_message:
        lines.append(f"[red]error   {plain(detail.error_message)}[/]")
    if detail.config_path:
        lines.append(f"config  {plain(detail.config_path)}")
    if detail.video_path:
        # Approve with the job id; the video's own id is shown where the two differ.
        own = "" if detail.video_id in (None, detail.id) else f"(video id {detail.video_id}) "
        lines.append(f"video   {own}{plain(detail.video_path)}")
    for pub in detail.publications:
        lines.append(f"publish {publication_text(pub)}")
    if detail.status == JobStatus.FAILED:
        lines.append(f"[dim]resume it with: {me()} retry {detail.id}[/]")
    if detail.status == JobStatus.COMPLETED and detail.video_path:
        from pathlib import Path

        # Only while it waits in review/: once approved or rejected it has moved on.
        if Path(detail.video_path).parent.name == "review":
            lines.append(f"[dim]review it: {me()} approve {detail.id}[/]")
    return Panel(
        Group(*lines, "", stage_table(detail, elapsed)),
        title=f"job {detail.id}",
        title_align="left",
        expand=False,
    )
