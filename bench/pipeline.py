"""5. Whole pipeline: ``vidgen generate --wait``, default theme, full size (VIDGEN_PROFILE unset).

Each run uses a fresh home folder and no worker, so ``--wait`` runs the job in the same process,
exactly as ``make run`` does. Reported: wall time of the command, each stage's time from its
checkpoint (``service.job_detail``, what ``vidgen status ID`` shows), and memory:

- peak tree RSS: the largest sum of RSS over vidgen and all its descendants (ffmpeg...) seen by
  polling /proc every 20 ms: what the machine must have free. The target applies to this.
- largest process: ``getrusage(RUSAGE_CHILDREN).ru_maxrss`` of a wrapper whose only child is
  vidgen, i.e. the max RSS of the single largest process in the tree (exact, not polled).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from common import VIDGEN, BenchError, Row, Section, bench_env, log, median

TARGET_MB = 400.0
# The whole default job in at most the video's own length (20 s) of wall time, on 2 cores.
TARGET_REALTIME = 1.0
PAGE = os.sysconf("SC_PAGE_SIZE")
STAGES = ("trend_collection", "trend_analysis", "content_generation", "composition", "review")

# Runs vidgen as its only child and reports that child's tree's largest max RSS (KiB).
WRAPPER = (
    "import json, resource, subprocess, sys\n"
    "code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode\n"
    "usage = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    "print(json.dumps({'code': code, 'maxrss_kb': usage.ru_maxrss, "
    "'cpu': usage.ru_utime + usage.ru_stime}))\n"
)


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                stat = handle.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry))
    return tree


def _rss(pid: int) -> tuple[int, str]:
    try:
        with open(f"/proc/{pid}/statm") as handle:
            resident = int(handle.read().split()[1]) * PAGE
        with open(f"/proc/{pid}/comm") as handle:
            return resident, handle.read().strip()
    except (OSError, IndexError, ValueError):
        return 0, ""


class _TreeMonitor(threading.Thread):
    def __init__(self, root: int) -> None:
        super().__init__(daemon=True)
        self.root = root
        self.stop = threading.Event()
        self.peak = 0
        self.by_name: dict[str, int] = {}

    def run(self) -> None:
        while not self.stop.wait(0.02):
            tree = _children()
            todo, total = list(tree.get(self.root, [])), 0  # the wrapper itself is not vidgen
            while todo:
                pid = todo.pop()
                rss, name = _rss(pid)
                total += rss
                if name:
                    self.by_name[name] = max(self.by_name.get(name, 0), rss)
                todo.extend(tree.get(pid, []))
            self.peak = max(self.peak, total)


def one_run() -> dict[str, object]:
    from vidgen import service
    from vidgen.settings import load_settings
    from vidgen.store import reset_stores

    with tempfile.TemporaryDirectory(prefix="vidgen-bench-pipe-") as tmp:
        home = Path(tmp) / "home"
        env = bench_env(VIDGEN_HOME=str(home), VIDGEN_OUTPUT_DIR=str(Path(tmp) / "output"))
        start = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-c", WRAPPER, VIDGEN, "generate", "--wait"],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        monitor = _TreeMonitor(proc.pid)
        monitor.start()
        out, _ = proc.communicate(timeout=1800)
        wall = time.perf_counter() - start
        monitor.stop.set()
        monitor.join()
        result = json.loads(out.strip().splitlines()[-1])
        if result["code"] != 0:
            raise BenchError(f"vidgen generate --wait exited {result['code']} (job failed?)")
        detail = service.job_detail(load_settings({"VIDGEN_HOME": str(home)}), 1)
        reset_stores()
        if detail.status != "completed":
            raise BenchError(f"pipeline job ended {detail.status}: {detail.error_message}")
        stages = {s.stage: s.duration_seconds or 0.0 for s in detail.stages}
        from vidgen.media.ffmpeg import probe

        duration = probe(Path(detail.video_path)).duration if detail.video_path else 0.0
        return {
            "wall": wall,
            "cpu": float(result["cpu"]),
            "duration": duration or 20.0,
            "stages": stages,
            "peak_tree_mb": monitor.peak / 1e6,
            "maxrss_mb": result["maxrss_kb"] * 1024 / 1e6,
            "by_name": {k: v / 1e6 for k, v in monitor.by_name.items()},
        }


def run(quick: bool) -> Section:
    repeats = 1 if quick else 5
    warmup = 0 if quick else 1
    section = Section("pipeline", "5. Whole pipeline (generate --wait, default theme, full size)")
    log(f"  pipeline: {repeats} run(s) of about a minute (+{warmup} warm-up)")
    for _ in range(warmup):
        one_run()
    runs = [one_run() for _ in range(repeats)]
    wall = median([float(r["wall"]) for r in runs])  # type: ignore[arg-type]
    cpu = median([float(r["cpu"]) for r in runs])  # type: ignore[arg-type]
    video = median([float(r["duration"]) for r in runs])  # type: ignore[arg-type]
    section.rows.append(Row("vidgen generate --wait (wall)", wall, samples=repeats))
    section.rows.append(
        Row("  wall time / the video's duration", wall, baseline_name="video duration",
            baseline=video, ratio=wall / video, target=f"<= {TARGET_REALTIME:.1f}x",
            met=wall / video <= TARGET_REALTIME, samples=repeats,
            note="moves with other load on the machine; see the CPU row")
    )  # fmt: skip
    section.rows.append(
        Row("  CPU time (user+sys, vidgen + children) / duration", cpu,
            baseline_name="video duration", baseline=video, ratio=cpu / video,
            samples=repeats, note="2 cores: below 2.0x can fit in real time on a quiet machine")
    )  # fmt: skip
    for stage in STAGES:
        value = median([float(r["stages"][stage]) for r in runs])  # type: ignore[index]
        section.rows.append(Row(f"  stage {stage}", value, samples=repeats))
    peak = max(float(r["peak_tree_mb"]) for r in runs)  # type: ignore[arg-type]
    largest = max(float(r["maxrss_mb"]) for r in runs)  # type: ignore[arg-type]
    section.rows.append(
        Row("peak RSS, vidgen + children (sum, /proc poll)", peak, unit="MB",
            target=f"< {TARGET_MB:.0f} MB", met=peak < TARGET_MB, samples=repeats)
    )  # fmt: skip
    section.rows.append(
        Row("largest single process max RSS (getrusage)", largest, unit="MB", samples=repeats)
    )
    names: dict[str, float] = {}
    for r in runs:
        for name, mb in r["by_name"].items():  # type: ignore[attr-defined]
            names[name] = max(names.get(name, 0.0), mb)
    top = sorted(names.items(), key=lambda kv: -kv[1])[:3]
    section.notes.append(
        f"Median of {repeats} run(s){' after a warm-up run' if warmup else ''}, each in a fresh "
        "home folder, job run in-process by --wait (no worker). Memory is the worst run. "
        "Largest processes by peak RSS: " + ", ".join(f"{n} {mb:.0f} MB" for n, mb in top) + "."
    )
    return section
