"""1. CLI start: wall time of vidgen commands vs. the floor of the stack they stand on.

The floor is the bare import of the libraries each command cannot avoid, in the same interpreter
and environment: ``import typer, rich`` for ``--help`` and for the read commands (``status``,
``jobs``: on a SQLite store they read through ``vidgen.store.fastread``, the standard library's
sqlite3, so their only extra is pydantic for the response models; target 4x), ``import typer,
rich, sqlmodel`` for a command that writes the store. Note the floor pays interpreter teardown;
vidgen skips it (``os._exit``), which is part of what is being measured.
"""

from __future__ import annotations

import resource
import tempfile
from pathlib import Path

from common import (
    PYTHON,
    SAMPLE_CONFIG,
    VIDGEN,
    Row,
    Section,
    bench_env,
    interleaved,
    log,
    median,
    run_cmd,
    time_cmd,
)

FLOOR_CLI = [PYTHON, "-c", "import typer, rich"]
FLOOR_STORE = [PYTHON, "-c", "import typer, rich, sqlmodel"]

# (measure, command after "vidgen", floor, target ratio)
CASES = [
    ("vidgen --help", ["--help"], "cli", 1.3),
    ("vidgen status ID --json", ["status", "2", "--json"], "cli", 4.0),
    ("vidgen status ID", ["status", "2"], "cli", 4.0),
    ("vidgen jobs --json", ["jobs", "--json"], "cli", 4.0),
    ("vidgen jobs", ["jobs"], "cli", 4.0),
    ("vidgen generate --json", ["generate", "--json"], "store", 1.4),
]


def run(quick: bool) -> Section:
    repeats = 5 if quick else 15
    section = Section("cli", "1. CLI start (wall time per command, vs. the import floor)")
    with tempfile.TemporaryDirectory(prefix="vidgen-bench-cli-") as tmp:
        env = bench_env(VIDGEN_HOME=str(Path(tmp) / "home"), VIDGEN_CONFIG=str(SAMPLE_CONFIG))
        for _ in range(5):  # a few jobs to list and show
            run_cmd([VIDGEN, "generate", "--json"], env=env)
        cpu: dict[str, list[float]] = {}

        def timed(name: str, cmd: list[str]) -> float:
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            wall = time_cmd(cmd, env)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            used = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
            cpu.setdefault(name, []).append(used)
            return wall

        cases = {
            "floor:cli": lambda: timed("floor:cli", FLOOR_CLI),
            "floor:store": lambda: timed("floor:store", FLOOR_STORE),
        }
        for measure, args, _floor, _target in CASES:
            cases[measure] = lambda m=measure, args=args: timed(m, [VIDGEN, *args])
        log(f"  cli: {len(cases)} commands x {repeats} rounds (+1 warm-up)")
        samples = interleaved(cases, repeats)
    floors = {"cli": median(samples["floor:cli"]), "store": median(samples["floor:store"])}
    names = {
        "cli": "python -c 'import typer, rich'",
        "store": "python -c 'import typer, rich, sqlmodel'",
    }
    for measure, _args, floor, target in CASES:
        value = median(samples[measure])
        ratio = value / floors[floor]
        section.rows.append(
            Row(
                measure=measure,
                value=value,
                baseline_name=names[floor],
                baseline=floors[floor],
                ratio=ratio,
                target=f"<= {target:.2f}x floor",
                met=ratio <= target,
                samples=repeats,
            )
        )
    cpu_med = {name: median(values[1:]) for name, values in cpu.items()}  # [0] is the warm-up
    section.notes.append(
        "CPU (user+sys, less disturbed by other load than wall time), medians: "
        + "; ".join(
            f"{measure} {cpu_med[measure] * 1000:.0f} ms = "
            f"{cpu_med[measure] / cpu_med[f'floor:{floor}']:.2f}x floor"
            for measure, _args, floor, _target in CASES
        )
        + f"; floors {cpu_med['floor:cli'] * 1000:.0f} / {cpu_med['floor:store'] * 1000:.0f} ms."
    )
    section.notes.append(
        f"Median of {repeats} interleaved runs each after one warm-up; temp VIDGEN_HOME with 5+ "
        "jobs (generate adds one per run). The floors pay interpreter teardown, vidgen exits "
        "with os._exit after flushing."
    )
    return section
