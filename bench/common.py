"""Shared helpers for the benchmarks: timing, result rows, environment and machine info.

Every benchmark module has ``run(quick: bool) -> Section``. A section is a list of rows; a row is
one measure with its baseline (if any), both medians, the ratio and whether the target is met.
Timings alternate baseline and vidgen within each round, so background load hits both alike.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
VENV_BIN = ROOT / ".venv" / "bin"
PYTHON = str(VENV_BIN / "python")
VIDGEN = str(VENV_BIN / "vidgen")
SAMPLE_CONFIG = ROOT / "sample-data.yml"


class BenchError(RuntimeError):
    """Something the benchmark needs did not run; run.py exits non-zero."""


@dataclass
class Row:
    measure: str
    value: float  # vidgen's median, in ``unit``
    unit: str = "s"  # s, ms, MB, jobs/s ...
    baseline_name: str = ""
    baseline: float | None = None  # same unit as value
    target: str = ""  # human text, e.g. "<= 1.2x"
    met: bool | None = None  # None: nothing to meet
    ratio: float | None = None  # vidgen / baseline unless said otherwise
    ratio_label: str = "x"
    samples: int = 0
    note: str = ""


@dataclass
class Section:
    name: str
    title: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    when: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Section:
        rows = [Row(**row) for row in data.pop("rows")]
        return cls(rows=rows, **data)


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


def bench_env(**extra: str | None) -> dict[str, str]:
    """The environment for vidgen and baseline subprocesses.

    Bytecode caching stays on, as in any normal install (a sandbox may set
    PYTHONDONTWRITEBYTECODE, which would make every edited module recompile on each start).
    ``None`` removes a variable.
    """
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    for name in [n for n in env if n.startswith(("VIDGEN_", "STAGEKIT_"))]:
        del env[name]
    for key, value in extra.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def run_cmd(
    cmd: Sequence[str], env: dict[str, str] | None = None, timeout: float = 600, cwd: Path = ROOT
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        list(cmd), env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout
    )
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
        raise BenchError(f"{' '.join(cmd)[:200]} exited {proc.returncode}: {' | '.join(tail)}")
    return proc


def time_cmd(cmd: Sequence[str], env: dict[str, str] | None = None, cwd: Path = ROOT) -> float:
    """Wall seconds of one run of ``cmd`` (output discarded); BenchError if it fails."""
    start = time.perf_counter()
    proc = subprocess.run(
        list(cmd), env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        tail = proc.stderr.strip().splitlines()[-3:]
        raise BenchError(f"{' '.join(cmd)[:200]} exited {proc.returncode}: {' | '.join(tail)}")
    return elapsed


def interleaved(
    cases: dict[str, Callable[[], float]], repeats: int, warmup: int = 1
) -> dict[str, list[float]]:
    """Run every case ``warmup`` times (discarded), then ``repeats`` rounds of all cases.

    Each round runs the cases in a rotated order so no case always follows the same neighbour.
    A case returns its own measurement (seconds), so it can exclude its set-up.
    """
    names = list(cases)
    for _ in range(warmup):
        for name in names:
            cases[name]()
    samples: dict[str, list[float]] = {name: [] for name in names}
    for round_no in range(repeats):
        k = round_no % len(names)
        for name in names[k:] + names[:k]:
            samples[name].append(cases[name]())
    return samples


def machine_info() -> dict[str, str]:
    model = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        mem_kb = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal:")
        )
        memory = f"{mem_kb / 1024 / 1024:.1f} GiB"
    except (OSError, StopIteration):
        memory = "unknown"
    try:
        load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        load = "unknown"
    return {
        "cores": str(os.cpu_count()),
        "cpu": model,
        "memory": memory,
        "python": platform.python_version(),
        "os": f"{platform.system()} {platform.release()}",
        "load average at start": load,
        "date": now_iso(),
    }


def fmt_value(value: float | None, unit: str) -> str:
    if value is None:
        return ""
    if unit == "s":
        return f"{value * 1000:.0f} ms" if value < 10 else f"{value:.1f} s"
    if unit == "ms":
        return f"{value:.2f} ms" if value < 10 else f"{value:.1f} ms"
    if unit == "MB":
        return f"{value:.0f} MB"
    if unit == "jobs/s":
        return f"{value:,.0f} jobs/s"
    return f"{value:g} {unit}"


def fmt_ratio(row: Row) -> str:
    if row.ratio is None:
        return ""
    if row.ratio_label == "x":
        return f"{row.ratio:.2f}x"
    return f"{row.ratio:.1f} {row.ratio_label}"


def fmt_met(met: bool | None) -> str:
    return {True: "yes", False: "NO", None: ""}[met]


def save_section(section: Section) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{section.name}.json"
    path.write_text(json.dumps(section.to_json(), indent=2))
    return path


def load_sections(names: Sequence[str]) -> list[Section]:
    sections = []
    for name in names:
        path = RESULTS / f"{name}.json"
        if path.is_file():
            sections.append(Section.from_json(json.loads(path.read_text())))
    return sections


def python_has_module(python: str, module: str) -> bool:
    probe = subprocess.run([python, "-c", f"import {module}"], capture_output=True)
    return probe.returncode == 0


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
