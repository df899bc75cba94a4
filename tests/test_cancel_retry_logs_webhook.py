"""Issue 12 (part B): cancel, logs, the worker log, retry --from-stage / --dry-run, the webhook.

Each command's ``--json`` is compared with its HTTP twin's body; the cancel of a running job is
checked with a real worker process whose stage runs a real ffmpeg child.
"""

from __future__ import annotations

import json
import os
import re
import signal
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from conftest import CliResult
from conftest import new_job as _new_job
from conftest import run_job as _run
from processkit import Factory
from stagekit import runs_log
from vidgen.api.app import create_app
from vidgen.settings import load_settings
from vidgen.stages import PIPELINE_STAGES
from vidgen.statuses import JobStatus
from vidgen.store import Store, checkpoints

Cli = Callable[..., CliResult]
ISO_LINE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z (INFO|WARNING|ERROR) ")


@pytest.fixture
def client(home: Path) -> Iterator[TestClient]:
    with TestClient(create_app()) as test_client:
        yield test_client


def _one_line_error(result: CliResult, code: int, *needles: str) -> str:
    assert result.code == code, (result.code, result.out, result.err)
    err = result.err.strip()
    assert err.startswith("Error: ") and len(err.splitlines()) == 1, result.err
    for needle in needles:
        assert needle in err, (needle, err)
    return err


def _wait(predicate: Callable[[], bool], timeout: float, what: str) -> float:
    started = time.monotonic()
    while not predicate():
        assert time.monotonic() - started < timeout, f"timed out waiting for {what}"
        time.sleep(0.05)
    return time.monotonic() - started


# -- 5. cancel ----------------------------------------------------------------------------------


def test_cancel_a_pending_job_at_once_and_refuse_an_ended_one(
    cli: Cli, client: TestClient, stagekit: Path
) -> None:
    job_id = _new_job(cli)
    result = cli("cancel", str(job_id), "--json")
    assert result.code == 0, result.err
    body = result.json()
    assert body["status"] == "cancelled" and body["cancel_requested"] is False
    assert cli("status", str(job_id), "--json").json()["status"] == "cancelled"
    listed = cli("jobs", "--status", "cancelled", "--json").json()
    assert [job["id"] for job in listed["jobs"]] == [job_id]
    # the queued message finds nothing to do: the job stays cancelled
    assert _run(job_id) is None
    assert cli("status", str(job_id), "--json").json()["status"] == "cancelled"

    # the twin: same body for another pending job
    other = _new_job(cli)
    response = client.post(f"/api/jobs/{other}/cancel")
    assert response.status_code == 200
    assert response.json() == {**body, "job_id": other, "message": body["message"].replace(
        str(job_id), str(other))}  # fmt: skip

    err = _one_line_error(cli("cancel", str(job_id)), 1, "already cancelled")
    refused = client.post(f"/api/jobs/{job_id}/cancel")
    assert refused.status_code == 400 and refused.json()["detail"] == err.removeprefix("Error: ")
    _one_line_error(cli("cancel", "999"), 1, "not found")
    assert client.post("/api/jobs/999/cancel").status_code == 404
    # retry still accepts only failed jobs
    _one_line_error(
        cli("retry", str(job_id)),
        1,
        "Cannot retry job with status 'cancelled'. Only 'failed' jobs can be retried.",
    )
    # a completed job is refused too
    done = _new_job(cli)
    assert _run(done) == JobStatus.COMPLETED
    _one_line_error(cli("cancel", str(done)), 1, "already completed")


def test_cancel_a_running_job_stops_it_within_seconds(
    cli: Cli, stagekit: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STAGEKIT_TREND_ANALYSIS", "sleep:120")
    job_id = _new_job(cli)
    outcome: list[JobStatus | None] = []
    thread = threading.Thread(target=lambda: outcome.append(_run(job_id)), daemon=True)
    thread.start()
    _wait(
        lambda: cli("status", str(job_id), "--json").json()["stage"] == "trend_analysis",
        30,
        "the job to reach trend_analysis",
    )
    result = cli("cancel", str(job_id), "--json")
    assert result.code == 0, result.err
    assert result.json()["status"] == "running" and result.json()["cancel_requested"] is True
    thread.join(10)
    assert outcome == [JobStatus.CANCELLED]
    status = cli("status", str(job_id), "--json").json()
    assert status["status"] == "cancelled" and status["stage"] == "trend_analysis"
    assert status["completed_stages"] == ["trend_collection"]
    kinds = [event["kind"] for event in cli("logs", str(job_id), "--json").json()["events"]]
    assert kinds[-3:] == ["cancel_requested", "stage_failed", "job_cancelled"]
    latest = checkpoints.latest(store, job_id)["trend_analysis"]
    assert latest.status == "failed" and latest.error == "cancelled"
    # the follow loops end on cancelled, with exit 1
    assert cli("status", str(job_id), "--watch", "--json").code == 1
    assert cli("logs", str(job_id), "--follow").code == 1


def test_a_job_cancelled_while_requeued_is_cancelled_when_claimed(
    cli: Cli, stagekit: Path, store: Store
) -> None:
    from vidgen.store import jobs

    job_id = _new_job(cli)
    _job, lease = jobs.claim(store, job_id, "gone-worker", 60)
    assert jobs.cancel(store, job_id).cancel_requested  # running: asked to stop
    jobs.requeue(store, lease, None)  # ... but its worker shut down first
    assert _run(job_id) == JobStatus.CANCELLED
    assert runs_log(stagekit) == []  # no stage ran
    assert cli("status", str(job_id), "--json").json()["status"] == "cancelled"


def test_logs_follow_says_when_no_worker_serves_a_pending_job(factory: Factory) -> None:
    job_id = factory.generate()
    follow = factory.spawn("logs", str(job_id), "--follow")
    factory.wait_for(lambda: "no worker is serving" in follow.err, 20, "the no-worker note")
    assert follow.alive()  # it keeps waiting
    assert factory.vidgen("cancel", str(job_id)).popen.returncode == 0
    assert follow.wait(10) == 1
    assert f"job {job_id} job_cancelled: before it started" in follow.out


def _children(pid: int) -> list[tuple[int, str]]:
    """(pid, command line) of every live descendant of ``pid`` (read from /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            state = stat.rsplit(")", 1)[1].split()[0]
            if state != "Z":
                parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
    found: list[tuple[int, str]] = []
    frontier = [pid]
    while frontier:
        parent = frontier.pop()
        for child, ppid in parents.items():
            if ppid == parent:
                try:
                    cmd = (Path("/proc") / str(child) / "cmdline").read_bytes()
                except OSError:
                    continue
                found.append((child, cmd.replace(b"\0", b" ").decode(errors="replace")))
                frontier.append(child)
    return found


def test_cancel_kills_the_ffmpeg_of_a_running_job_in_a_real_worker(factory: Factory) -> None:
    job_id = factory.generate()
    worker = factory.worker(STAGEKIT_CONTENT_GENERATION="ffmpeg-long")
    ffmpeg_pids: list[int] = []

    def ffmpeg_started() -> bool:
        # The stage's own long ffmpeg (its testsrc input), not any short-lived ffmpeg child,
        # and the pids from the same /proc scan that saw it: a second scan made this flaky.
        ffmpeg_pids[:] = [pid for pid, cmd in _children(worker.pid) if "testsrc" in cmd]
        return bool(ffmpeg_pids)

    factory.wait_for(ffmpeg_started, 60, "the worker's ffmpeg child")
    cancel = factory.vidgen("cancel", str(job_id), "--json")
    assert cancel.popen.returncode == 0, cancel.err
    assert json.loads(cancel.out)["cancel_requested"] is True
    took = factory.wait_status(job_id, "cancelled", timeout=15)
    assert took < 10
    factory.wait_for(
        lambda: not any(Path(f"/proc/{pid}").exists() for pid in ffmpeg_pids),
        5,
        "ffmpeg to be gone",
    )
    assert worker.alive()  # the worker goes on serving the queue
    os.kill(worker.pid, signal.SIGTERM)
    assert worker.wait(30) == 0
    log = worker.err
    assert f"job {job_id} cancelled during content_generation" in log, log
    assert "no job was in progress" in log and "put back" not in log, log


# -- 4. logs ----------------------------------------------------------------------------------


def test_logs_show_attempts_backoff_and_errors_and_match_http(
    cli: Cli, client: TestClient, stagekit: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STAGEKIT_TREND_ANALYSIS", "fail:1")
    job_id = _new_job(cli)
    assert _run(job_id) == JobStatus.COMPLETED
    result = cli("logs", str(job_id), "--json")
    assert result.code == 0, result.err
    body = result.json()
    assert client.get(f"/api/jobs/{job_id}/logs").text == result.out.strip()
    assert body["job_id"] == job_id and body["status"] == "completed"
    events = body["events"]
    assert [e["id"] for e in events] == sorted(e["id"] for e in events)
    kinds = [(e["kind"], e["stage"], e["attempt"]) for e in events]
    assert kinds[:6] == [
        ("job_claimed", None, None),
        ("stage_started", "trend_collection", 1),
        ("stage_completed", "trend_collection", 1),
        ("stage_started", "trend_analysis", 1),
        ("stage_failed", "trend_analysis", 1),
        ("backoff", "trend_analysis", 1),
    ]
    assert kinds[-1] == ("job_completed", None, None)
    done = events[2]
    assert done["data"]["duration_seconds"] >= 0 and done["data"]["cost"] == 0.01
    failed = events[4]
    assert failed["message"] == "trend_analysis scripted failure"
    assert failed["traceback_tail"] and "StageError" in failed["traceback_tail"][-1]
    assert events[5]["data"]["delay"] > 0

    # ?after= for followers, and the people's table
    later = client.get(f"/api/jobs/{job_id}/logs", params={"after": events[-2]["id"]}).json()
    assert [e["kind"] for e in later["events"]] == ["job_completed"]
    plain = cli("logs", str(job_id))  # not a terminal: one line per event
    assert plain.code == 0
    assert len(plain.out.strip().splitlines()) == len(events) + len(failed["traceback_tail"])
    assert (
        f"job {job_id} stage_failed trend_analysis attempt 1: trend_analysis scripted failure"
        in plain.out
    )
    assert "0.0 s, $0.0100" in plain.out and "StageError" in plain.out
    from rich.console import Console

    from vidgen.cli.logs import log_table
    from vidgen.schemas import JobLogResponse

    people = Console(width=200, record=True, file=open(os.devnull, "w"))  # noqa: SIM115
    people.print(log_table(JobLogResponse.model_validate(body)))
    table = people.export_text()
    assert "stage_failed" in table and "trend_analysis scripted failure" in table
    # unknown job: not found, one line
    _one_line_error(cli("logs", "999"), 1, "not found")
    assert client.get("/api/jobs/999/logs").status_code == 404
    assert client.get(f"/api/jobs/{job_id}/logs", params={"after": -1}).status_code == 422


def test_logs_follow_prints_until_the_job_ends(
    cli: Cli, stagekit: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("STAGEKIT_COMPOSITION", "fatal")
    job_id = _new_job(cli)
    thread = threading.Thread(target=lambda: _run(job_id), daemon=True)
    result_box: list[CliResult] = []
    thread.start()
    result_box.append(cli("logs", str(job_id), "--follow"))
    thread.join(30)
    follow = result_box[0]
    assert follow.code == 1, follow.err  # failed
    lines = follow.out.strip().splitlines()
    assert lines[-1].endswith(
        "job_failed composition: composition failed: composition cannot work with this config"
    ), lines[-1]
    assert any("stage_completed content_generation attempt 1" in line for line in lines)
    # JSON follow: bodies of GET .../logs?after=...; their events together are the whole log
    bodies = [
        json.loads(line) for line in cli("logs", str(job_id), "--follow", "--json").out.splitlines()
    ]
    assert sum(len(b["events"]) for b in bodies) == len(
        cli("logs", str(job_id), "--json").json()["events"]
    )


def test_a_failed_render_keeps_ffmpegs_stderr_tail_in_the_log(
    cli: Cli, stagekit: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STAGEKIT_COMPOSITION", "ffmpeg-fail")
    monkeypatch.setenv("VIDGEN_STAGE_ATTEMPTS", "1")
    job_id = _new_job(cli)
    assert _run(job_id) == JobStatus.FAILED
    failed = [e for e in cli("logs", str(job_id), "--json").json()["events"]
              if e["kind"] == "stage_failed"]  # fmt: skip
    assert len(failed) == 1
    tail = failed[0]["data"]["stderr_tail"]
    assert any("No such filter: 'no_such_filter_xyz'" in line for line in tail), tail
    assert "ffmpeg composition failed (exit" in failed[0]["message"]
    assert "ffmpeg: " in cli("logs", str(job_id)).out


# -- 3. the worker log ------------------------------------------------------------------------


def test_worker_log_is_one_iso_line_per_event(factory: Factory) -> None:
    job_id = factory.generate()
    worker = factory.worker(STAGEKIT_TREND_ANALYSIS="fail:1", COLUMNS="80")
    factory.wait_status(job_id, "completed", timeout=60)
    os.kill(worker.pid, signal.SIGTERM)
    assert worker.wait(30) == 0
    lines = worker.err.strip().splitlines()
    assert lines, worker.err
    for line in lines:
        assert ISO_LINE.match(line), line
    text = "\n".join(lines)
    for needle in (
        f"job {job_id} claimed by ",
        f"job {job_id} trend_collection attempt 1 done in ",
        ", cost $0.0100",
        f"job {job_id} trend_analysis attempt 1 failed: trend_analysis scripted failure",
        f"job {job_id} trend_analysis attempt 1 will be retried: next attempt in",
        f"job {job_id} completed",
    ):
        assert needle in text, (needle, text)
    # no wrapping at 80 columns: the claim line (with the long owner id) is one line
    assert max(len(line) for line in lines) > 80


@pytest.mark.huey_versions
def test_worker_log_json_for_log_shippers(factory: Factory) -> None:
    job_id = factory.generate()
    worker = factory.worker("--log-format", "json", STAGEKIT_REVIEW="fatal")
    factory.wait_status(job_id, "failed", timeout=60)
    os.kill(worker.pid, signal.SIGTERM)
    assert worker.wait(30) == 0
    records = [json.loads(line) for line in worker.err.strip().splitlines()]
    events = [r for r in records if "event" in r]
    assert all(r["at"].endswith("Z") and r["level"] for r in records)
    failed = [r for r in events if r["event"] == "job_failed"]
    assert failed and failed[0]["job_id"] == job_id and failed[0]["stage"] == "review"
    assert failed[0]["level"] == "error" and "review cannot work" in failed[0]["message"]
    done = [r for r in events if r["event"] == "stage_completed"]
    assert {r["stage"] for r in done} == set(PIPELINE_STAGES[:4])
    assert all(r["data"]["cost"] == 0.01 for r in done)
    assert records[-1]["message"] == "vidgen worker stopped; no job was in progress"


@pytest.mark.huey_versions
def test_worker_says_which_jobs_it_put_back(factory: Factory) -> None:
    job_id = factory.generate()
    worker = factory.worker(STAGEKIT_TREND_ANALYSIS="pause")
    factory.wait_inside("trend_analysis")
    os.kill(worker.pid, signal.SIGTERM)
    assert worker.wait(30) == 0
    assert f"job {job_id} requeued during trend_analysis" in worker.err
    assert f"put back in the queue: job {job_id}" in worker.err
    assert factory.status(job_id) == "pending"


def test_worker_rejects_an_unknown_log_format(cli: Cli) -> None:
    _one_line_error(cli("worker", "--log-format", "xml"), 2, "use text or json")


# -- 8. retry --from-stage / --dry-run ----------------------------------------------------------


def _ran(home: Path, job_id: int) -> list[str]:
    return [stage for stage, jid, _ in runs_log(home) if jid == job_id]


def test_retry_from_stage_dry_run_changes_nothing_and_matches_http(
    cli: Cli, client: TestClient, stagekit: Path, store: Store
) -> None:
    job_id = _new_job(cli)
    assert _run(job_id) == JobStatus.COMPLETED
    before_status = cli("status", str(job_id), "--json").json()
    before_checkpoints = [(c.id, c.status) for c in checkpoints.for_job(store, job_id)]
    result = cli("retry", str(job_id), "--from-stage", "composition", "--dry-run", "--json")
    assert result.code == 0, result.err
    body = result.json()
    assert body["status"] == "dry_run" and body["dry_run"] is True and body["task_id"] == ""
    assert body["resume_from"] == "composition"
    assert body["running_stages"] == ["composition", "review"]
    assert body["skipping_stages"] == ["trend_collection", "trend_analysis", "content_generation"]
    assert body["reused_outputs"]["content_generation"] == [
        "content_generation/attempt-1/content_generation.txt"
    ]
    http = client.post(
        f"/api/jobs/{job_id}/retry", json={"from_stage": "composition", "dry_run": True}
    )
    assert http.status_code == 200 and http.text == result.out.strip()
    human = cli("retry", str(job_id), "--from-stage", "composition", "--dry-run")
    assert "Would run:  composition, review" in human.out and "nothing was changed" in human.out
    assert cli("status", str(job_id), "--json").json() == before_status
    assert [(c.id, c.status) for c in checkpoints.for_job(store, job_id)] == before_checkpoints
    # a plain retry of a completed job is still refused (contract), dry run or not
    _one_line_error(cli("retry", str(job_id), "--dry-run"), 1, "Only 'failed' jobs")
    # unknown stage: usage error listing the names
    err = _one_line_error(cli("retry", str(job_id), "--from-stage", "render"), 2, "unknown stage")
    assert ", ".join(PIPELINE_STAGES) in err
    assert (
        client.post(f"/api/jobs/{job_id}/retry", json={"from_stage": "render"}).status_code == 422
    )
    # an empty body is today's retry
    assert client.post(f"/api/jobs/{job_id}/retry").status_code == 400


def test_retry_from_stage_reruns_that_stage_and_later_ones_of_a_completed_job(
    cli: Cli, client: TestClient, stagekit: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    job_id = _new_job(cli)
    assert _run(job_id) == JobStatus.COMPLETED
    result = cli("retry", str(job_id), "--from-stage", "composition", "--json")
    assert result.code == 0, result.err
    body = result.json()
    assert body["status"] == "queued" and body["resume_from"] == "composition"
    status = cli("status", str(job_id), "--json").json()
    assert status["status"] == "pending" and status["stage"] == "composition"
    assert status["completed_stages"] == list(PIPELINE_STAGES[:3])
    assert _run(job_id) == JobStatus.COMPLETED
    assert _ran(stagekit, job_id) == [*PIPELINE_STAGES, "composition", "review"]
    assert cli("status", str(job_id), "--json").json()["completed_stages"] == list(PIPELINE_STAGES)
    # over HTTP, the same for a failed job
    monkeypatch.setenv("STAGEKIT_REVIEW", "fatal")
    other = _new_job(cli)
    assert _run(other) == JobStatus.FAILED
    monkeypatch.delenv("STAGEKIT_REVIEW")
    http = client.post(f"/api/jobs/{other}/retry", json={"from_stage": "trend_analysis"})
    assert http.status_code == 200, http.text
    assert http.json()["running_stages"] == list(PIPELINE_STAGES[1:])
    assert _run(other) == JobStatus.COMPLETED
    assert _ran(stagekit, other) == [*PIPELINE_STAGES, *PIPELINE_STAGES[1:]]


def test_retry_from_stage_keeps_the_published_video_until_the_new_one_is_filed(
    cli: Cli, stagekit: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STAGEKIT_COMPOSITION", "fakevideo")
    monkeypatch.setenv("STAGEKIT_REVIEW", "real")
    job_id = _new_job(cli)
    assert _run(job_id) == JobStatus.COMPLETED
    video = cli("videos", "--json").json()["videos"][0]
    old_path = Path(video["video_path"])
    assert old_path.exists()
    # the re-run fails at review: the old video stays published
    assert cli("retry", str(job_id), "--from-stage", "composition").code == 0
    monkeypatch.setenv("STAGEKIT_REVIEW", "fatal")
    assert _run(job_id) == JobStatus.FAILED
    assert old_path.exists()
    # the next one files its video, which replaces the old one
    monkeypatch.setenv("STAGEKIT_REVIEW", "real")
    monkeypatch.setenv("STAGEKIT_FAKEVIDEO_BYTES", "4096")
    assert cli("retry", str(job_id), "--from-stage", "review").code == 0
    assert _run(job_id) == JobStatus.COMPLETED
    videos = cli("videos", "--json").json()["videos"]
    assert len(videos) == 1 and videos[0]["id"] == video["id"]
    assert Path(videos[0]["video_path"]).exists()


# -- 9. the webhook ---------------------------------------------------------------------------


class Hook:
    """A real HTTP server on 127.0.0.1 that answers with scripted statuses and records bodies."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = statuses
        self.received: list[tuple[int, dict[str, Any], dict[str, str]]] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length))
                code = hook.statuses.pop(0) if len(hook.statuses) > 1 else hook.statuses[0]
                hook.received.append((code, body, dict(self.headers)))
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hook_factory(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[list[int]], Hook]]:
    from vidgen.pipeline import webhook

    made: list[Hook] = []

    def make(statuses: list[int]) -> Hook:
        hook = Hook(statuses)
        made.append(hook)
        monkeypatch.setenv("VIDGEN_WEBHOOK_URL", hook.url)
        webhook.install(load_settings())
        return hook

    yield make
    webhook.wait(10)
    webhook.uninstall()
    for hook in made:
        hook.close()


def test_webhook_posts_the_status_body_when_a_job_ends(
    cli: Cli, stagekit: Path, hook_factory: Callable[[list[int]], Hook],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    from vidgen.pipeline import webhook

    hook = hook_factory([200])
    done = _new_job(cli)
    assert _run(done) == JobStatus.COMPLETED
    webhook.wait(10)
    ((_, body, headers),) = hook.received
    assert body == cli("status", str(done), "--json").json() and body["status"] == "completed"
    assert headers["Content-Type"] == "application/json"
    # failed
    monkeypatch.setenv("STAGEKIT_REVIEW", "fatal")
    failed = _new_job(cli)
    assert _run(failed) == JobStatus.FAILED
    webhook.wait(10)
    assert hook.received[-1][1]["status"] == "failed" and hook.received[-1][1]["id"] == failed
    # cancelled while pending (the cancel command sends it and waits for it)
    pending = _new_job(cli)
    assert cli("cancel", str(pending)).code == 0
    assert hook.received[-1][1] == cli("status", str(pending), "--json").json()
    assert len(hook.received) == 3


def test_a_failing_webhook_is_retried_and_never_changes_the_job(
    cli: Cli, stagekit: Path, hook_factory: Callable[[list[int]], Hook]
) -> None:
    from vidgen.pipeline import webhook

    hook = hook_factory([500, 200])
    job_id = _new_job(cli)
    started = time.monotonic()
    assert _run(job_id) == JobStatus.COMPLETED
    assert time.monotonic() - started < 5  # the job did not wait for the hook
    webhook.wait(10)
    assert [code for code, _, _ in hook.received] == [500, 200]
    assert [h["X-Vidgen-Attempt"] for _, _, h in hook.received] == ["1", "2"]

    hook.statuses[:] = [500]  # always failing
    hook.received.clear()
    other = _new_job(cli)
    assert _run(other) == JobStatus.COMPLETED
    webhook.wait(15)
    assert [code for code, _, _ in hook.received] == [500] * (len(webhook.RETRY_DELAYS) + 1)
    assert cli("status", str(other), "--json").json()["status"] == "completed"


def test_an_unreachable_webhook_never_changes_the_job(
    cli: Cli, stagekit: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from vidgen.pipeline import webhook

    monkeypatch.setattr(webhook, "RETRY_DELAYS", (0.01,))
    monkeypatch.setenv("VIDGEN_WEBHOOK_URL", "http://127.0.0.1:9/nothing-listens")
    webhook.install(load_settings())
    try:
        job_id = _new_job(cli)
        assert _run(job_id) == JobStatus.COMPLETED
        webhook.wait(10)
    finally:
        webhook.uninstall()
    assert cli("status", str(job_id), "--json").json()["status"] == "completed"


def test_a_bad_webhook_url_is_one_line(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIDGEN_WEBHOOK_URL", "ftp://example.com")
    _one_line_error(cli("jobs"), 2, "VIDGEN_WEBHOOK_URL", "http://")
