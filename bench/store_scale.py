"""3. Store at scale: 1,000,000 jobs, queried and written through the service layer.

The store is built once (schema by vidgen's ``Store``, rows by ``executemany``) and cached under
bench/results/store-1m/. Jobs span two years; 3% failed, 0.5% pending, 0.1% running, the rest
completed. Completed jobs have 5 checkpoints, failed ones 3, so ``completed_stages`` has real
rows to read (about 4.9 million checkpoints).

Measured in one warm process (what a long-running HTTP shim or a test sees), each against the
same SQL through raw ``sqlite3`` as the baseline:

- ``list_jobs(status="failed", limit=20)`` (= ``vidgen jobs --status failed --limit 20``) and
  the unfiltered first page;
- ``job_status(id)`` for random ids (= ``vidgen status ID``);
- ``generate`` in a loop from one process (config check, job row, queue message, task id)
  vs. a raw one-row INSERT + COMMIT per job (jobs added here are deleted afterwards).
"""

from __future__ import annotations

import os
import random
import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from common import RESULTS, SAMPLE_CONFIG, Row, Section, interleaved, log, median

JOBS = 1_000_000
TARGET_MS = 20.0
CACHE = RESULTS / "store-1m"
MARKER = CACHE / "built.txt"
STAGES = ("trend_collection", "trend_analysis", "content_generation", "composition", "review")


def _status(i: int) -> str:
    k = i % 1000
    if k < 30:
        return "failed"
    if k < 35:
        return "pending"
    if k < 36:
        return "running"
    return "completed"


def _stamp(t: datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S.%f")


# Named columns: a positional INSERT broke each time the job table changed.
JOB_COLUMNS = (
    "id", "status", "stage", "theme", "config_path", "created_at", "updated_at",
    "error_message", "task_id", "lease_owner", "lease_expires_at", "lease_epoch", "profile",
    "cancel_requested",
)  # fmt: skip
JOB_INSERT = (
    f"INSERT INTO job ({', '.join(JOB_COLUMNS)}) VALUES ({', '.join('?' * len(JOB_COLUMNS))})"
)


def _job_rows(start: datetime) -> Iterator[tuple[Any, ...]]:
    step = timedelta(seconds=2 * 365 * 86400 / JOBS)
    for i in range(1, JOBS + 1):
        created = start + step * i
        status = _status(i)
        stage = {"completed": "review", "failed": STAGES[2]}.get(status, STAGES[1])
        yield (
            i, status, stage, "default", str(SAMPLE_CONFIG), _stamp(created),
            _stamp(created + timedelta(seconds=45)),
            "content_generation failed: scripted" if status == "failed" else None,
            f"task-{i}", None, None, 1, None, 0,
        )  # fmt: skip


def _checkpoint_rows(start: datetime) -> Iterator[tuple[Any, ...]]:
    step = timedelta(seconds=2 * 365 * 86400 / JOBS)
    cid = 0
    for i in range(1, JOBS + 1):
        status = _status(i)
        if status == "completed":
            plan = [(s, "completed") for s in STAGES]
        elif status == "failed":
            plan = [(STAGES[0], "completed"), (STAGES[1], "completed"), (STAGES[2], "failed")]
        else:
            continue
        t = start + step * i
        for stage, state in plan:
            cid += 1
            yield (
                cid, i, stage, 1, state, _stamp(t), _stamp(t + timedelta(seconds=9)), 9.0,
                f'{{"stage": "{stage}", "job": {i}}}', "{}", 0.0,
                "scripted" if state == "failed" else None, None,
            )  # fmt: skip


def build_store(home: Path) -> None:
    from vidgen.settings import load_settings
    from vidgen.store import Store

    home.mkdir(parents=True, exist_ok=True)
    for name in ("vidgen.db", "vidgen.db-wal", "vidgen.db-shm", "queue.db"):
        (home / name).unlink(missing_ok=True)
    store = Store(load_settings({"VIDGEN_HOME": str(home)}))  # vidgen's own schema and indexes
    store.dispose()
    log(f"  store: building {JOBS:,} jobs in {home} (once; cached)...")
    start = datetime(2024, 11, 1, tzinfo=UTC).replace(tzinfo=None)
    t0 = time.perf_counter()
    conn = sqlite3.connect(home / "vidgen.db")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = OFF")
    with conn:
        conn.executemany(JOB_INSERT, _job_rows(start))
        conn.executemany(
            f"INSERT INTO checkpoint VALUES ({','.join('?' * 13)})", _checkpoint_rows(start)
        )
    conn.execute("ANALYZE")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    MARKER.write_text(f"{JOBS} jobs, built in {time.perf_counter() - t0:.0f} s\n")
    log(f"  store: built in {time.perf_counter() - t0:.0f} s")


def _db_mb(home: Path) -> float:
    return (
        sum(
            (home / name).stat().st_size
            for name in ("vidgen.db", "vidgen.db-wal")
            if (home / name).exists()
        )
        / 1e6
    )


def run(quick: bool) -> Section:
    repeats = 15 if quick else 41
    inserts = 50 if quick else 200
    section = Section("store", f"3. Store at scale ({JOBS:,} jobs)")
    home = CACHE / "home"
    if not MARKER.is_file() or not (home / "vidgen.db").is_file():
        build_store(home)
    for key in [k for k in os.environ if k.startswith("VIDGEN_")]:
        del os.environ[key]
    os.environ.update({"VIDGEN_HOME": str(home), "VIDGEN_CONFIG": str(SAMPLE_CONFIG)})
    from vidgen import service
    from vidgen.settings import load_settings
    from vidgen.store import reset_stores

    settings = load_settings()
    raw = sqlite3.connect(home / "vidgen.db", isolation_level=None)
    raw.execute("PRAGMA journal_mode = WAL")
    raw.execute("PRAGMA synchronous = NORMAL")
    base_max = raw.execute("SELECT max(id) FROM job").fetchone()[0]
    rng = random.Random(7)

    def timed(fn: Any) -> float:
        start = time.perf_counter()
        fn()
        return (time.perf_counter() - start) * 1000

    def raw_page(status: str | None) -> None:
        where, params = ("WHERE status = ?", (status,)) if status else ("", ())
        jobs = raw.execute(
            f"SELECT * FROM job {where} ORDER BY created_at DESC, id DESC LIMIT 20", params
        ).fetchall()
        ids = [row[0] for row in jobs]
        raw.execute(
            f"SELECT job_id, stage, status FROM checkpoint WHERE job_id IN "
            f"({','.join('?' * len(ids))}) ORDER BY id",
            ids,
        ).fetchall()

    def raw_status(job_id: int) -> None:
        raw.execute("SELECT * FROM job WHERE id = ?", (job_id,)).fetchone()
        raw.execute(
            "SELECT job_id, stage, status FROM checkpoint WHERE job_id IN (?) ORDER BY id",
            (job_id,),
        ).fetchall()

    cases = {
        "raw:failed": lambda: timed(lambda: raw_page("failed")),
        "vg:failed": lambda: timed(lambda: service.list_jobs(settings, "failed", 20)),
        "raw:page": lambda: timed(lambda: raw_page(None)),
        "vg:page": lambda: timed(lambda: service.list_jobs(settings, None, 20)),
        "raw:status": lambda: timed(lambda: raw_status(rng.randint(1, JOBS))),
        "vg:status": lambda: timed(lambda: service.job_status(settings, rng.randint(1, JOBS))),
    }
    log(f"  store: queries x {repeats} rounds (+1 warm-up)")
    samples = interleaved(cases, repeats)
    base = "same SQL, raw sqlite3"
    for measure, key in (
        ("jobs --status failed --limit 20 (list_jobs)", "failed"),
        ("jobs --limit 20, newest first (list_jobs)", "page"),
        ("status ID, random ids (job_status)", "status"),
    ):
        value, floor = median(samples[f"vg:{key}"]), median(samples[f"raw:{key}"])
        section.rows.append(
            Row(measure, value, unit="ms", baseline_name=base, baseline=floor,
                ratio=value / floor, target=f"< {TARGET_MS:.0f} ms", met=value < TARGET_MS,
                samples=repeats)
        )  # fmt: skip

    # Insert rate: service.generate in a loop vs. a raw INSERT + COMMIT per job.
    log(f"  store: {inserts} x generate, {inserts} x raw insert")
    service.generate(settings)  # warm-up (engine, queue file)
    start = time.perf_counter()
    for _ in range(inserts):
        service.generate(settings)
    vg_rate = inserts / (time.perf_counter() - start)
    now = _stamp(datetime.now(UTC).replace(tzinfo=None))
    row = (None, "pending", "initialization", "default", str(SAMPLE_CONFIG), now, now, None,
           None, None, None, 0, None, 0)  # fmt: skip
    start = time.perf_counter()
    for _ in range(inserts):
        raw.execute("BEGIN IMMEDIATE")
        raw.execute(JOB_INSERT, row)
        raw.execute("COMMIT")
    raw_rate = inserts / (time.perf_counter() - start)
    section.rows.append(
        Row("generate from one process (insert rate)", vg_rate, unit="jobs/s",
            baseline_name="raw INSERT + COMMIT per job", baseline=raw_rate,
            ratio=raw_rate / vg_rate, ratio_label="x slower", samples=inserts,
            note="generate also validates the config and enqueues a Huey message")
    )  # fmt: skip
    raw.execute("DELETE FROM job WHERE id > ?", (base_max,))
    raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    raw.close()
    reset_stores()
    (home / "queue.db").unlink(missing_ok=True)
    section.rows.append(Row("store size on disk (vidgen.db)", _db_mb(home), unit="MB"))
    section.notes.append(
        f"{JOBS:,} jobs and their checkpoints ({MARKER.read_text().strip()}). Query times are "
        f"medians of {repeats} interleaved calls in one warm process after a warm-up; the insert "
        f"rate is {inserts} generate calls in a row (each: config check, 2 write transactions, "
        "a Huey enqueue) against the 1M-job store."
    )
    return section
