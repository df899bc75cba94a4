"""Issue 5's fault matrix: real ``vidgen`` processes are killed, signalled, starved and raced,
and no job is ever lost. Every scenario is described in docs/RELIABILITY.md.

Each test gets its own VIDGEN_HOME and drives ``python -m vidgen.cli.main`` subprocesses with the
scripted stages of ``tests/stagekit`` (a short lease, fast backoff). Spawned processes run in
their own process group and are SIGKILLed at teardown, whatever happened.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from conftest import SAMPLE_CONFIG
from processkit import LEASE, Factory, Proc
from stagekit import runs_log
from vidgen.files import file_digest
from vidgen.stages import PIPELINE_STAGES

RETRY_REFUSED = "Cannot retry job with status '{}'. Only 'failed' jobs can be retried."


def _stage_env(stage: str, script: str) -> dict[str, str]:
    return {f"STAGEKIT_{stage.upper()}": script}


def _expected_runs(rerun: set[str]) -> Counter[str]:
    return Counter({s: 2 if s in rerun else 1 for s in PIPELINE_STAGES})


def _digests(folder: Path) -> dict[str, tuple[dict[str, int | str], int]]:
    return {
        str(p.relative_to(folder)): (file_digest(p), p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


# -- 1. SIGKILL inside each stage ---------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    ("stage", "reaper"),
    [
        ("trend_collection", "worker"),
        ("trend_analysis", "recover"),
        ("content_generation", "worker"),
        ("composition", "status --watch"),
        ("review", "worker"),
    ],
)
def test_sigkill_inside_a_stage_fails_the_job_and_retry_resumes_there(
    factory: Factory, stage: str, reaper: str
) -> None:
    job_id = factory.generate()
    doomed = factory.worker(**_stage_env(stage, "pause"))
    factory.wait_inside(stage)
    doomed.kill_group()
    killed_at = time.monotonic()
    assert factory.status(job_id) == "running"

    rescuer: Proc | None = None
    if reaper == "worker":
        rescuer = factory.worker()
    elif reaper == "recover":
        time.sleep(max(0.0, killed_at + LEASE - time.monotonic()))  # nothing to reap before

        def recovered() -> bool:
            body = json.loads(factory.vidgen("recover", "--json").out)
            return job_id in body["failed_lost_job_ids"]

        factory.wait_for(recovered, LEASE + 10, "vidgen recover to reap the job")
    else:
        watch = factory.spawn("status", str(job_id), "--watch")
        assert watch.wait(LEASE + 15) == 1
        assert f"worker lost during {stage}" in watch.out
    factory.wait_for(lambda: factory.status(job_id) != "running", LEASE + 10, "the job to leave")
    # Within the lease plus one reaping interval and a process start-up.
    assert time.monotonic() - killed_at < LEASE + 6

    job = factory.job(job_id)
    assert job["status"] == "failed"
    assert job["stage"] == stage
    assert job["error_message"] == f"worker lost during {stage}"
    assert job["lease_owner"] is None
    last = factory.checkpoints(job_id)[-1]
    assert (last["stage"], last["status"]) == (stage, "failed")
    assert last["error"] == f"worker lost during {stage}"

    before = PIPELINE_STAGES[: PIPELINE_STAGES.index(stage)]
    kept = _digests(factory.home / "jobs" / str(job_id))
    if rescuer is None:
        factory.worker()  # starts while the retry is being queued
    body = factory.retry(job_id)
    assert body["resume_from"] == stage
    assert body["skipping_stages"] == list(before)
    factory.wait_status(job_id, "completed")

    assert factory.runs(job_id) == _expected_runs({stage})
    checkpoints = factory.checkpoints(job_id)
    for earlier in before:
        rows = [c for c in checkpoints if c["stage"] == earlier]
        assert [(c["attempt"], c["status"]) for c in rows] == [(1, "completed")]
    # The earlier stages' files were reused as they were, not rewritten.
    now = _digests(factory.home / "jobs" / str(job_id))
    for rel, digest in kept.items():
        if rel.split("/")[0] in before:
            assert now[rel] == digest, rel
    review = [c for c in checkpoints if c["stage"] == "review" and c["status"] == "completed"]
    assert json.loads(review[-1]["outputs"])["saw"] == sorted(PIPELINE_STAGES[:-1])


@pytest.mark.slow
def test_missing_or_corrupt_checkpoint_file_reruns_that_stage_through_processes(
    factory: Factory,
) -> None:
    worker = factory.worker(VIDGEN_STAGE_ATTEMPTS="1", **_stage_env("review", "fail:1"))
    missing, corrupt = factory.generate(), factory.generate()
    for job_id in (missing, corrupt):
        factory.wait_status(job_id, "failed")
    jobs = factory.home / "jobs"
    (jobs / str(missing) / "trend_analysis" / "attempt-1" / "trend_analysis.txt").unlink()
    (
        jobs / str(corrupt) / "content_generation" / "attempt-1" / "content_generation.txt"
    ).write_text("half a fil")
    for job_id in (missing, corrupt):
        factory.retry(job_id)
    for job_id in (missing, corrupt):
        factory.wait_status(job_id, "completed")
    assert worker.alive()
    assert factory.runs(missing) == _expected_runs(set(PIPELINE_STAGES[1:]))
    assert factory.runs(corrupt) == _expected_runs(set(PIPELINE_STAGES[2:]))


@pytest.mark.slow
def test_sigkill_during_real_composition_reuses_the_real_rendered_files(
    factory: Factory,
) -> None:
    real = {f"STAGEKIT_{s.upper()}": "real" for s in PIPELINE_STAGES}
    factory.env.update(real)
    raw = yaml.safe_load(SAMPLE_CONFIG.read_text())
    raw["config"].update(video_duration_seconds=6, thumbnail_time=1)  # the shortest video
    short = factory.root / "short.yml"
    short.write_text(yaml.safe_dump(raw, allow_unicode=True))
    proc = factory.vidgen("generate", "--config", str(short), "--json")
    assert proc.popen.returncode == 0, proc.err
    job_id = int(json.loads(proc.out)["job_id"])
    doomed = factory.worker(**_stage_env("composition", "pause+real"))
    factory.wait_inside("composition", timeout=90)
    doomed.kill_group()
    job_dir = factory.home / "jobs" / str(job_id)
    rendered = _digests(job_dir / "content_generation")
    assert any(name.endswith(".wav") for name in rendered) or len(rendered) > 2

    factory.worker()  # reaps the lost job on its heartbeat
    factory.wait_status(job_id, "failed", timeout=LEASE + 10)
    assert factory.job(job_id)["error_message"] == "worker lost during composition"
    factory.retry(job_id)
    factory.wait_status(job_id, "completed", timeout=120)

    assert factory.runs(job_id) == _expected_runs({"composition"})
    assert _digests(job_dir / "content_generation") == rendered
    review = factory.home / "output" / "review"
    names = sorted(p.suffix for p in review.iterdir())
    assert names == [".jpg", ".json", ".mp4", ".srt"]
    log = json.loads(next(review.glob("*.json")).read_text())
    stages = [(s["stage"], s["status"]) for s in log["stages"]]
    assert stages.count(("content_generation", "completed")) == 1
    assert ("composition", "failed") in stages


@pytest.mark.slow
def test_sigkill_of_the_worker_alone_takes_its_ffmpeg_with_it(factory: Factory) -> None:
    """The OOM killer picks one process, not the group: ffmpeg must not render on, orphaned."""
    factory.env.update({f"STAGEKIT_{s.upper()}": "real" for s in PIPELINE_STAGES})
    factory.env["VIDGEN_PROFILE"] = "full"  # a composition long enough to catch mid-run
    worker = factory.worker()
    job_id = factory.generate()
    ffmpeg_pids: list[int] = []

    def composing() -> bool:
        ffmpeg_pids[:] = [
            pid for pid in _children_of(worker.pid)
            if "composition" in _cmdline(pid) and "libx264" in _cmdline(pid)
        ]  # fmt: skip
        return bool(ffmpeg_pids)

    factory.wait_for(composing, 120, "the composition's ffmpeg to start")
    os.kill(worker.pid, signal.SIGKILL)  # the worker alone, not its process group
    worker.wait(10)
    factory.wait_for(lambda: not any(_alive(pid) for pid in ffmpeg_pids), 5, "ffmpeg to die")
    assert factory.status(job_id) == "running"  # until a lease reaper fails it, as tested above


def _children_of(parent: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == parent:
                found.append(int(entry.name))
    return found


def _cmdline(pid: int) -> str:
    try:
        return (
            Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        )
    except OSError:
        return ""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has exited; only its parent (init, now) has to reap it


# -- 2. SIGTERM / SIGINT mid-stage --------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.huey_versions
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_mid_stage_requeues_the_job_and_the_next_worker_finishes_it(
    factory: Factory, signum: signal.Signals
) -> None:
    first, second = factory.generate(), factory.generate()
    task_before = factory.job(first)["task_id"]
    stopping = factory.worker(**_stage_env("content_generation", "pause"))
    factory.wait_inside("content_generation")
    os.kill(stopping.pid, signum)
    assert stopping.wait(30) == 0, stopping.err
    assert "put back in the queue" in stopping.err

    job = factory.job(first)
    assert job["status"] == "pending"
    assert job["lease_owner"] is None
    assert job["task_id"] != task_before  # enqueued again, under a new task id
    checkpoints = factory.checkpoints(first)
    assert all(c["status"] != "running" for c in checkpoints)
    last = checkpoints[-1]
    assert (last["stage"], last["status"]) == ("content_generation", "failed")
    assert last["error"] == "interrupted: worker shut down"
    # It stopped taking work: the second job was not started.
    assert factory.status(second) == "pending"
    assert factory.runs(second) == Counter()
    assert factory.queued_messages() == 2

    factory.worker()
    for job_id in (first, second):
        factory.wait_status(job_id, "completed")
    assert factory.runs(first) == _expected_runs({"content_generation"})
    assert factory.runs(second) == _expected_runs(set())


# -- 3. Cron burst ------------------------------------------------------------------------------


@pytest.mark.slow
def test_cron_burst_of_50_generates_makes_50_jobs_each_run_once(factory: Factory) -> None:
    workers = [factory.worker(), factory.worker()]
    burst = [factory.spawn("generate", "--json") for _ in range(50)]
    for proc in burst:
        assert proc.wait(120) == 0, proc.err
    ids = sorted(int(json.loads(proc.out)["job_id"]) for proc in burst)
    assert ids == list(range(1, 51))
    factory.wait_for(
        lambda: factory._query("SELECT count(*) FROM job WHERE status = 'completed'")[0][0] == 50,
        120,
        "all 50 jobs to complete",
    )
    assert factory._query("SELECT count(*) FROM job")[0][0] == 50
    runs = Counter((stage, job_id) for stage, job_id, _ in runs_log(factory.home))
    assert len(runs) == 50 * len(PIPELINE_STAGES)
    assert set(runs.values()) == {1}
    assert all(w.alive() for w in workers)
    output = factory.all_output()
    assert "database is locked" not in output
    assert "Traceback" not in output


# -- 4. Retry race ------------------------------------------------------------------------------


@pytest.mark.slow
def test_ten_simultaneous_retries_queue_the_job_exactly_once(factory: Factory) -> None:
    failing = factory.vidgen("generate", "--wait", **_stage_env("trend_collection", "fatal"))
    assert failing.popen.returncode == 1, failing.err
    job_id = 1
    assert factory.status(job_id) == "failed"
    before = factory.queued_messages()  # generate's own message is still there (a no-op now)

    racers = [factory.spawn("retry", str(job_id)) for _ in range(10)]
    codes = [proc.wait(60) for proc in racers]
    winners = [proc for proc, code in zip(racers, codes, strict=True) if code == 0]
    losers = [proc for proc, code in zip(racers, codes, strict=True) if code != 0]
    assert len(winners) == 1, [p.err for p in racers]
    assert "Queued" in winners[0].out
    refused = {RETRY_REFUSED.format("pending"), RETRY_REFUSED.format("running")}
    for proc in losers:
        assert proc.popen.returncode == 1
        assert proc.err.strip().removeprefix("Error: ") in refused, proc.err
    assert factory.queued_messages() == before + 1

    factory.worker()
    factory.wait_status(job_id, "completed")
    assert factory.runs(job_id) == _expected_runs({"trend_collection"})


# -- 5. Store held in an exclusive transaction --------------------------------------------------

HOLD_SECONDS = 10.0
LOCKER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN EXCLUSIVE")
conn.execute("UPDATE job SET theme = theme")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("COMMIT")
"""


@pytest.mark.slow
def test_store_locked_for_10_s_commands_wait_or_say_busy(factory: Factory) -> None:
    factory.generate()  # the store exists, in WAL mode
    db = factory.home / "vidgen.db"
    locker = subprocess.Popen(
        [sys.executable, "-c", LOCKER, str(db), str(HOLD_SECONDS)],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert locker.stdout is not None and locker.stdout.readline().strip() == "locked"
        locked_at = time.monotonic()
        patient = {cmd: factory.spawn(*cmd.split()) for cmd in ("generate", "status 1", "jobs")}
        busy = {
            cmd: factory.spawn(*cmd.split(), VIDGEN_BUSY_TIMEOUT="2")
            for cmd in ("generate", "retry 1")
        }
        # Readers never queue behind a writer (WAL): they answer even with a short timeout.
        readers = {
            cmd: factory.spawn(*cmd.split(), "--json", VIDGEN_BUSY_TIMEOUT="2")
            for cmd in ("status 1", "jobs")
        }
        for cmd, proc in readers.items():
            assert proc.wait(30) == 0, (cmd, proc.err)
            assert json.loads(proc.out)
        for cmd, proc in busy.items():
            assert proc.wait(30) == 1, (cmd, proc.out, proc.err)
            lines = proc.err.strip().splitlines()
            assert len(lines) == 1, (cmd, proc.err)
            assert "store" in lines[0] and "locked" in lines[0], lines[0]
            assert "Traceback" not in proc.err
        assert time.monotonic() - locked_at < HOLD_SECONDS
        for cmd, proc in patient.items():
            assert proc.wait(60) == 0, (cmd, proc.err)
        assert time.monotonic() - locked_at >= HOLD_SECONDS - 0.5  # generate waited its turn
    finally:
        locker.kill()
        locker.wait()
    assert factory._query("PRAGMA integrity_check")[0][0] == "ok"
    # The patient generate made job 2; the busy one left nothing half-made behind.
    assert [row[0] for row in factory._query("SELECT id FROM job ORDER BY id")] == [1, 2]
    assert factory.status(1) == "pending"
    factory.worker()
    for job_id in (1, 2):
        factory.wait_status(job_id, "completed")


@pytest.mark.slow
def test_worker_outlasts_a_locked_store_without_dropping_the_job(factory: Factory) -> None:
    job_id = factory.generate()
    locker = subprocess.Popen(
        [sys.executable, "-c", LOCKER, str(factory.home / "vidgen.db"), "4"],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert locker.stdout is not None and locker.stdout.readline().strip() == "locked"
        # Its claims give up after 1 s while the lock is held for 4 s.
        worker = factory.worker(VIDGEN_BUSY_TIMEOUT="1")
        factory.wait_status(job_id, "completed", timeout=40)
    finally:
        locker.kill()
        locker.wait()
    assert worker.alive()
    said = " ".join((worker.out + worker.err).split())
    assert "stayed locked" in said  # it said why it was waiting
    assert "Traceback" not in said
    assert factory.runs(job_id) == _expected_runs(set())


# -- 6. Disk full -------------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs (root only); skipped where mounting is not permitted."""
    mount = tmp_path / "small-disk"
    mount.mkdir()
    if shutil.which("mount") is None:
        pytest.skip("no mount command")
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
        check=False,
    )
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _review_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


@pytest.mark.slow
def test_full_review_disk_fails_clearly_leaves_nothing_and_retry_completes(
    factory: Factory, small_disk: Path
) -> None:
    factory.env.update(
        VIDGEN_OUTPUT_DIR=str(small_disk),
        VIDGEN_STAGE_ATTEMPTS="2",
        STAGEKIT_COMPOSITION="fakevideo",
        STAGEKIT_FAKEVIDEO_BYTES=str(2 << 20),  # twice the disk
        STAGEKIT_REVIEW="real",
    )
    factory.worker()
    job_id = factory.generate()
    factory.wait_status(job_id, "failed")
    job = factory.job(job_id)
    assert job["stage"] == "review"
    assert "No space left on device" in job["error_message"]
    assert _review_files(small_disk) == []  # no partial MP4, no temp file

    remount = ["mount", "-o", "remount,size=16m", str(small_disk)]
    subprocess.run(remount, check=True)
    factory.retry(job_id)
    factory.wait_status(job_id, "completed")
    files = _review_files(small_disk / "review")
    assert [Path(f).suffix for f in files] == [".jpg", ".json", ".mp4"]
    video = next((small_disk / "review").glob("*.mp4"))
    composed = factory.home / "jobs" / str(job_id) / "composition" / "attempt-1" / "video.mp4"
    assert video.read_bytes() == composed.read_bytes()
    assert factory.runs(job_id) == _expected_runs({"review"}) + Counter({"review": 1})


@pytest.mark.slow
def test_full_disk_while_composing_fails_clearly_and_retry_completes(
    factory: Factory, small_disk: Path
) -> None:
    """The real stages, with the job folders on a 3 MiB disk: the clips and voiceover fit, the
    composition's soundtrack and video do not. The store, queue and review folder live
    elsewhere, as they would on a machine whose scratch disk filled up."""
    subprocess.run(["mount", "-o", "remount,size=3m", str(small_disk)], check=True)
    factory.env.update(
        VIDGEN_HOME=str(small_disk),
        VIDGEN_DATABASE_URL=f"sqlite:///{factory.home / 'vidgen.db'}",
        VIDGEN_QUEUE_URL=f"sqlite:///{factory.home / 'queue.db'}",
        VIDGEN_OUTPUT_DIR=str(factory.home / "output"),
        VIDGEN_STAGE_PACKAGE="vidgen.stages",
        VIDGEN_STAGE_ATTEMPTS="2",
    )
    factory.worker()
    job_id = factory.generate()
    factory.wait_status(job_id, "failed", timeout=120)
    job = factory.job(job_id)
    assert job["stage"] == "composition"
    assert "no space left on device" in job["error_message"].lower()
    composition = small_disk / "jobs" / str(job_id) / "composition"
    assert not [p.name for p in composition.rglob("*") if p.suffix in (".mp4", ".wav", ".tmp")]
    assert _review_files(factory.home / "output") == []

    subprocess.run(["mount", "-o", "remount,size=64m", str(small_disk)], check=True)
    factory.retry(job_id)
    factory.wait_status(job_id, "completed", timeout=120)
    assert [Path(f).suffix for f in _review_files(factory.home / "output" / "review")] == [
        ".jpg",
        ".json",
        ".mp4",
        ".srt",
    ]
    runs = factory._query(
        "SELECT stage, count(*) FROM checkpoint WHERE job_id = ? GROUP BY stage", job_id
    )
    counts = {row[0]: row[1] for row in runs}
    assert counts["content_generation"] == 1  # its clips and voiceover were reused
    assert counts["composition"] == 3  # two attempts on the full disk, one after


@pytest.mark.slow
def test_enospc_publishing_the_thumbnail_leaves_no_orphan_video(factory: Factory) -> None:
    factory.env.update(
        VIDGEN_STAGE_ATTEMPTS="1",
        STAGEKIT_COMPOSITION="fakevideo",
        STAGEKIT_FAKEVIDEO_BYTES="100000",
        STAGEKIT_REVIEW="enospc+real",
    )
    factory.worker()
    job_id = factory.generate()
    factory.wait_status(job_id, "failed")
    job = factory.job(job_id)
    assert job["stage"] == "review"
    assert "No space left on device" in job["error_message"]
    review = factory.home / "output" / "review"
    assert _review_files(review) == []  # the video published before the thumbnail is gone too
    assert factory._query("SELECT count(*) FROM video")[0][0] == 0

    factory.retry(job_id)
    factory.wait_status(job_id, "completed")
    assert [Path(f).suffix for f in _review_files(review)] == [".jpg", ".json", ".mp4"]


@pytest.mark.slow
def test_disk_full_while_recording_a_checkpoint_fails_clearly_and_retry_completes(
    factory: Factory,
) -> None:
    factory.env.update(VIDGEN_STAGE_ATTEMPTS="1", STAGEKIT_COMPOSITION="diskfull-checkpoint")
    worker = factory.worker()
    job_id = factory.generate()
    factory.wait_for(
        lambda: factory.status(job_id) != "running" and factory.runs(job_id)["composition"] == 1,
        30,
        "the job to stop running",
    )
    job = factory.job(job_id)
    assert job["status"] == "failed"
    assert job["stage"] == "composition"
    assert "database or disk is full" in job["error_message"]
    assert "worker lost" not in job["error_message"]
    assert all(c["status"] != "running" for c in factory.checkpoints(job_id))

    factory.retry(job_id)
    factory.wait_status(job_id, "completed")
    assert worker.alive()
    assert factory.runs(job_id) == _expected_runs({"composition"})


# -- 7. A stage that hangs ----------------------------------------------------------------------


@pytest.mark.slow
def test_hung_stage_in_a_worker_process_becomes_failed_attempts(factory: Factory) -> None:
    worker = factory.worker(
        VIDGEN_STAGE_TIMEOUT="1", VIDGEN_STAGE_ATTEMPTS="2", **_stage_env("trend_analysis", "hang")
    )
    job_id = factory.generate()
    took = factory.wait_status(job_id, "failed", timeout=40)
    assert took < 20
    job = factory.job(job_id)
    assert job["stage"] == "trend_analysis"
    assert job["error_message"] == (
        "trend_analysis failed after 2 attempts: trend_analysis exceeded its time limit of 1 s"
    )
    attempts = [c for c in factory.checkpoints(job_id) if c["stage"] == "trend_analysis"]
    assert [(c["attempt"], c["status"]) for c in attempts] == [(1, "failed"), (2, "failed")]
    assert worker.alive()  # the hung thread did not take the worker down


# -- 8. Queue file deleted or corrupted ---------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("damage", ["deleted", "corrupted"])
def test_lost_or_corrupt_queue_is_rebuilt_from_the_store(factory: Factory, damage: str) -> None:
    job_ids = [factory.generate() for _ in range(3)]
    queue = factory.home / "queue.db"
    for suffix in ("-wal", "-shm"):
        Path(f"{queue}{suffix}").unlink(missing_ok=True)
    if damage == "deleted":
        queue.unlink()
        recover = factory.vidgen("recover", "--json")
        assert recover.popen.returncode == 0, recover.err
        assert json.loads(recover.out)["requeued_job_ids"] == job_ids
        worker = factory.worker()
    else:
        queue.write_bytes(b"this is not a database " * 200)
        worker = factory.worker()  # recovers on start
        factory.wait_for(lambda: "unreadable" in worker.err, 20, "the worker's recovery line")
        assert "re-enqueued 3 pending job(s)" in worker.err
        assert list(factory.home.glob("queue.db.corrupt-*"))  # kept for inspection
    for job_id in job_ids:
        factory.wait_status(job_id, "completed")
        assert factory.runs(job_id) == _expected_runs(set())


def _freeze_outside_store_lock(pid: int, *dbs: Path) -> None:
    """SIGSTOP the worker (so new jobs stay pending), but never while one of its threads holds
    the write lock of one of `dbs`: frozen then, it kept every later command waiting for the
    lock (the beat thread writes the store every few seconds, the consumer's dequeue writes the
    queue), which made the corrupted-queue test flaky."""
    for _ in range(50):
        os.kill(pid, signal.SIGSTOP)
        if all(_write_lock_free(db) for db in dbs):
            return
        os.kill(pid, signal.SIGCONT)  # frozen inside a write: let it finish, then again
        time.sleep(0.05)
    raise AssertionError("the worker held a write lock every time it was stopped")


def _write_lock_free(db: Path) -> bool:
    probe = sqlite3.connect(db, timeout=0.2, isolation_level=None)
    try:
        probe.execute("BEGIN IMMEDIATE")
        probe.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        probe.close()


@pytest.mark.slow
@pytest.mark.parametrize("damage", ["deleted", "corrupted"])
def test_queue_damaged_under_a_running_worker_is_followed(factory: Factory, damage: str) -> None:
    worker = factory.worker()
    first = factory.generate()
    factory.wait_status(first, "completed")
    queue = factory.home / "queue.db"
    if damage == "deleted":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{queue}{suffix}").unlink(missing_ok=True)
        later = [factory.generate() for _ in range(2)]  # these go into a brand-new queue file
    else:
        _freeze_outside_store_lock(worker.pid, factory.home / "vidgen.db", queue)
        try:
            later = [factory.generate() for _ in range(2)]
            for suffix in ("-wal", "-shm"):  # the messages' pages may still be in the WAL
                Path(f"{queue}{suffix}").unlink(missing_ok=True)
            with open(queue, "r+b") as handle:  # corrupted in place, under the worker's feet
                handle.write(b"this is not a database " * 200)
            recover = factory.vidgen("recover", "--json")
            assert recover.popen.returncode == 0, recover.err
            body = json.loads(recover.out)
            assert body["queue_reset"] is True
            assert body["requeued_job_ids"] == later
        finally:
            os.kill(worker.pid, signal.SIGCONT)
    for job_id in later:
        factory.wait_status(job_id, "completed", timeout=30)
        assert factory.runs(job_id) == _expected_runs(set())
    assert worker.alive()
