"""``make bench``: vidgen against its limits and its peers, side by side.

    .venv/bin/python bench/run.py                  # everything (about half an hour)
    .venv/bin/python bench/run.py cli store        # some benchmarks
    .venv/bin/python bench/run.py --quick          # fewer repeats, for a quick look

Benchmarks: cli, orchestration, store, composition, pipeline (see each module's docstring).
Each prints a table of medians, the ratio to its baseline and whether the target is met. The
latest result of every benchmark is kept in bench/results/<name>.json and the combined table is
written to bench/RESULTS.md. The exit status is non-zero only if a benchmark failed to run, never
because a target was missed.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    BENCH,
    Row,
    Section,
    fmt_met,
    fmt_ratio,
    fmt_value,
    load_sections,
    log,
    machine_info,
    now_iso,
    save_section,
)
from rich.console import Console
from rich.table import Table

BENCHMARKS = {
    "cli": "cli_start",
    "orchestration": "orchestration",
    "store": "store_scale",
    "composition": "composition",
    "pipeline": "pipeline",
}


def render_table(sections: list[Section]) -> Table:
    table = Table(title="vidgen benchmarks (medians)", header_style="bold", show_lines=False)
    for column, justify in (
        ("benchmark", "left"),
        ("measure", "left"),
        ("baseline", "left"),
        ("baseline", "right"),
        ("vidgen", "right"),
        ("ratio", "right"),
        ("target", "left"),
        ("met", "center"),
    ):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for section in sections:
        for i, row in enumerate(section.rows):
            met = fmt_met(row.met)
            style = {"yes": "green", "NO": "red"}.get(met, "")
            title = section.title.split(" (")[0] if i == 0 else ""
            table.add_row(
                *_cells(title, row)[:-1],
                f"[{style}]{met}[/]" if style else met,
                end_section=i == len(section.rows) - 1,
            )
    return table


def _cells(title: str, row: Row) -> list[str]:
    """One result row as the terminal table and RESULTS.md both show it."""
    return [
        title,
        row.measure,
        row.baseline_name,
        fmt_value(row.baseline, row.unit),
        fmt_value(row.value, row.unit),
        fmt_ratio(row),
        row.target,
        fmt_met(row.met),
    ]


def markdown(sections: list[Section], machine: dict[str, str]) -> str:
    lines = [
        "# vidgen benchmark results",
        "",
        "Written by `make bench` (`.venv/bin/python bench/run.py`); medians of repeated runs, "
        "baseline and vidgen measured in the same run. Ratios are vidgen / baseline unless the "
        "column says otherwise. A missed target is reported, not hidden. Each benchmark keeps "
        "its latest run (date in the notes); wall times move with other load on the machine, "
        "the CPU rows much less.",
        "",
        "| machine | |",
        "|---|---|",
        *[f"| {key} | {value} |" for key, value in machine.items()],
        "",
        "| benchmark | measure | baseline | baseline median | vidgen median | ratio | target "
        "| met |",
        "|---|---|---|---:|---:|---:|---|:-:|",
    ]
    for section in sections:
        for i, row in enumerate(section.rows):
            cells = _cells(f"**{section.title.split(' (')[0]}**" if i == 0 else "", row)
            lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    lines.append("")
    met = [row.met for section in sections for row in section.rows if row.met is not None]
    lines.append(f"Targets met: {sum(1 for m in met if m)} of {len(met)}.")
    lines.append("")
    lines.append("## Notes")
    lines.append("")
    for section in sections:
        lines.append(f"- **{section.title}** (run {section.when}, {section.seconds:.0f} s):")
        for note in section.notes:
            lines.append(f"  - {note}")
    lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "benchmarks", nargs="*", choices=[*BENCHMARKS, []], metavar="BENCHMARK",
        help=f"which to run (default: all): {', '.join(BENCHMARKS)}",
    )  # fmt: skip
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--no-write", action="store_true", help="do not update bench/RESULTS.md")
    args = parser.parse_args(argv)
    chosen = args.benchmarks or list(BENCHMARKS)
    machine = machine_info()
    console = Console(width=170)
    console.print(
        f"[bold]vidgen bench[/]: {', '.join(chosen)}{' (quick)' if args.quick else ''} on "
        f"{machine['cores']} x {machine['cpu']}, Python {machine['python']}"
    )
    failures: list[str] = []
    ran: list[Section] = []
    for name in chosen:
        log(f"[{name}] running...")
        start = time.perf_counter()
        try:
            module = importlib.import_module(BENCHMARKS[name])
            section: Section = module.run(args.quick)
        except Exception as exc:
            traceback.print_exc()
            failures.append(f"{name}: {exc}")
            console.print(f"[red]{name} failed to run:[/] {exc}")
            continue
        section.seconds = time.perf_counter() - start
        section.when = now_iso() + (" quick" if args.quick else "")
        save_section(section)
        ran.append(section)
        console.print(render_table([section]))
        for note in section.notes:
            console.print(f"[dim]{note}[/]")
    if ran:
        everything = load_sections(list(BENCHMARKS))  # latest result of each benchmark
        console.print(render_table(everything))
        if not args.no_write:
            (BENCH / "RESULTS.md").write_text(markdown(everything, machine))
            console.print(f"wrote {BENCH / 'RESULTS.md'}")
    if failures:
        console.print("[red]failed to run:[/] " + "; ".join(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
