"""Issue 12 (part A): unattended operation through the CLI and its HTTP twins.

Batch generate, the cron overlap guard, budgets, retention, validation at generate, the
"no worker" hints and the CLI conventions (--version, -h, completion, examples in help).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlmodel import col

from conftest import REPO_ROOT, SAMPLE_CONFIG, CliResult
from vidgen.api.app import create_app
from vidgen.store import Store
from vidgen.store.models import Checkpoint, Job, Video, WorkerBeat, utcnow

Cli = Callable[..., CliResult]
COMMANDS = (
    "generate", "jobs", "status", "retry", "worker", "recover", "prune", "serve",
    "videos", "approve", "reject", "logs", "cancel",
)  # fmt: skip


@pytest.fixture
def client(home: Path) -> Iterator[TestClient]:
    with TestClient(create_app()) as test_client:
        yield test_client


def job_count(store: Store) -> int:
    from vidgen.store import jobs

    return jobs.count(store, None)


def write_config(folder: Path, name: str = "theme.yml", **overrides: Any) -> Path:
    raw = yaml.safe_load(SAMPLE_CONFIG.read_text())
    raw["config"].update(overrides)
    path = folder / name
    path.write_text(yaml.safe_dump(raw))
    return path


def one_line_error(result: CliResult, code: int, *needles: str) -> str:
    assert result.code == code, (result.code, result.out, result.err)
    err = result.err.strip()
    assert err.startswith("Error: ") and len(err.splitlines()) == 1, result.err
    assert "Traceback" not in result.err
    for needle in needles:
        assert needle in err, (needle, err)
    return err


# -- CLI conventions --------------------------------------------------------------------------


def test_version_and_short_help(cli: Cli) -> None:
    from vidgen import __version__

    assert cli("--version").out.strip() == f"vidgen {__version__}"
    assert cli("-V").out.strip() == f"vidgen {__version__}"
    short, long = cli("-h"), cli("--help")
    assert short.code == 0 and short.out == long.out
    assert "--install-completion" in long.out and "--show-completion" in long.out
    assert cli("jobs", "-h").out == cli("jobs", "--help").out


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_help_has_an_example_and_no_internal_names(cli: Cli, command: str) -> None:
    result = cli(command, "--help")
    assert result.code == 0, result.err
    text = result.out
    assert "Example" in text and f"vidgen {command}" in text.split("Example", 1)[1], text
    for internal in ("Response", "Request", "<str>", "<int", "{job_id}", "{video_id}"):
        assert internal not in text, (internal, text)


def test_show_completion_prints_a_script(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT / "src"), "SHELL": "/bin/bash"}
    # From a bash, as a user runs it: typer finds the shell by walking up the process tree,
    # which from a test runner started in the background reaches none. A second command
    # keeps bash from exec-ing the first, so bash stays its parent.
    done = subprocess.run(
        ["bash", "-c", f"'{sys.executable}' -m vidgen.cli.main --show-completion; exit $?"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "complete" in done.stdout and "vidgen" in done.stdout.lower()


def test_jobs_json_carries_total_beside_count(cli: Cli, client: TestClient) -> None:
    for _ in range(3):
        assert cli("generate").code == 0
    page = cli("jobs", "--limit", "2", "--json").json()
    assert page["count"] == 2 and page["total"] == 3
    assert cli("jobs", "--status", "failed", "--json").json()["total"] == 0
    via_http = client.get("/api/jobs?limit=2&offset=2")
    assert via_http.json()["count"] == 1 and via_http.json()["total"] == 3
    assert cli("jobs", "--limit", "2", "--offset", "2", "--json").out.strip() == via_http.text
    assert "2 of 3 jobs" in cli("jobs", "--limit", "2").out


# -- one home, and "no worker" hints ----------------------------------------------------------


def test_generate_says_when_no_worker_serves_the_home(cli: Cli, home: Path, store: Store) -> None:
    result = cli("generate", "--json")
    assert result.code == 0
    assert json.loads(result.out)["job_id"] == 1  # stdout stays pure JSON
    note = result.err.strip()
    assert note.startswith("Note: no worker is serving") and str(home) in note
    assert "vidgen worker" in note
    with store.write() as session:  # a live worker on this queue
        session.add(WorkerBeat(id="w1", hostname="h", pid=1, queue=f"sqlite:///{home}/queue.db"))
    assert cli("generate").err == ""
    with store.write() as session:  # one that stopped beating long ago does not count
        session.execute(update(WorkerBeat).values(last_seen=utcnow() - timedelta(hours=1)))
    assert "no worker is serving" in cli("generate").err


def test_status_watch_says_within_seconds_that_no_worker_serves_the_job(
    cli: Cli, home: Path
) -> None:
    assert cli("generate").code == 0
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT / "src")}
    watch = subprocess.Popen(
        [sys.executable, "-m", "vidgen.cli.main", "status", "1", "--watch"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert watch.stderr is not None
        started = time.monotonic()
        line = watch.stderr.readline()
        assert time.monotonic() - started < 20
        assert "no worker is serving" in line and str(home) in line and "Still waiting" in line
        assert watch.poll() is None  # it keeps waiting, as documented
    finally:
        watch.kill()
        watch.communicate()


# -- generate --batch ---------------------------------------------------------------------


def test_batch_queues_every_entry_and_matches_http(
    cli: Cli, client: TestClient, tmp_path: Path, settings: Any
) -> None:
    themes = tmp_path / "themes"
    themes.mkdir()
    write_config(themes, "launch.yml")
    batch = tmp_path / "batch.yml"
    batch.write_text(
        "- theme: Home Workout\n"  # themes the shipped config covers
        "  config: themes/launch.yml\n"  # relative to the batch file
        "- {theme: Tea}\n"
        "- {}\n"
    )
    result = cli("generate", "--batch", str(batch), "--json")
    assert result.code == 0, result.err
    body = result.json()
    assert body["count"] == 3 and [job["job_id"] for job in body["jobs"]] == [1, 2, 3]
    assert all(job["status"] == "queued" for job in body["jobs"])
    themes_seen = [cli("status", str(i), "--json").json()["theme"] for i in (1, 2, 3)]
    assert themes_seen == ["Home Workout", "Tea", "Product Demo"]
    human = cli("generate", "--batch", str(batch))
    assert "Queued 3 job(s): 4 5 6" in human.out

    as_json = tmp_path / "batch.json"
    as_json.write_text(json.dumps([{"theme": "Travel"}, {"theme": "Running"}]))
    settings.themes_root.mkdir(parents=True)
    write_config(settings.themes_root, "demo.yml")
    via_cli = cli("generate", "--batch", str(as_json), "--json").json()
    via_http = client.post(
        "/api/generate/batch",
        json=[{"theme": "Travel"}, {"theme": "Running", "config": "demo.yml"}],
    )
    assert via_http.status_code == 200, via_http.text
    http_body = via_http.json()
    for doc in (via_cli, http_body):  # ids and task ids differ; the shape is the same
        for job in doc["jobs"]:
            job.pop("job_id"), job.pop("task_id"), job.pop("poll_url")
    assert via_cli == http_body


@pytest.mark.parametrize(
    ("content", "needles"),
    [
        ("- {theme: Travel}\n- {theme: ''}\n", ("entry 2 of 2:", "theme is empty")),
        ("- {theme: Travel}\n- {theem: typo}\n", ("entry 2 of 2:", "theem", "Extra inputs")),
        (
            "- {theme: Travel}\n- {config: missing.yml}\n",
            ("entry 2 of 2:", "missing.yml", "not found"),
        ),
        ("- {theme: Travel}\n- 12\n", ("entry 2 of 2:",)),
        ("theme: not a list\n", ("expected a list",)),
        ("[]\n", ("batch is empty",)),
        ("- [unclosed\n", ("invalid YAML/JSON",)),
    ],
)
def test_one_bad_batch_entry_queues_nothing(
    cli: Cli, store: Store, tmp_path: Path, content: str, needles: tuple[str, ...]
) -> None:
    batch = tmp_path / "batch.yml"
    batch.write_text(content)
    one_line_error(cli("generate", "--batch", str(batch)), 2, *needles)
    assert job_count(store) == 0


def test_batch_entry_with_a_bad_config_field_is_named(
    cli: Cli, client: TestClient, store: Store, tmp_path: Path
) -> None:
    write_config(tmp_path, "bad.yml", video_duration_seconds=500)
    batch = tmp_path / "batch.yml"
    batch.write_text("- {theme: Travel}\n- {theme: other, config: bad.yml}\n")
    one_line_error(
        cli("generate", "--batch", str(batch)), 2, "entry 2 of 2:", "config.video_duration_seconds"
    )
    one_line_error(cli("generate", "--batch", str(tmp_path / "nope.yml")), 2, "not found")
    one_line_error(cli("generate", "--batch", str(batch), "--theme", "x"), 2, "--batch")
    bad_http = client.post("/api/generate/batch", json=[{"theme": "Travel"}, {"theme": ""}])
    assert bad_http.status_code == 422 and "entry 2 of 2" in bad_http.json()["detail"]
    assert client.post("/api/generate/batch", json={"theme": "x"}).status_code == 422
    assert job_count(store) == 0


# -- generate --skip-if-queued ------------------------------------------------------------


def test_skip_if_queued_is_a_cron_overlap_guard(
    cli: Cli, client: TestClient, store: Store, stagekit: Path, drain: Callable[[], int]
) -> None:
    first = cli("generate", "--theme", "Nightly", "--skip-if-queued", "--json")
    assert first.code == 0 and first.json()["status"] == "queued"
    skipped = cli("generate", "--theme", "Nightly", "--skip-if-queued", "--json")
    assert skipped.code == 0, skipped.err
    assert skipped.json() == {
        "job_id": 1,
        "status": "skipped",
        "job_status": "pending",
        "theme": "Nightly",
        "poll_url": "/api/jobs/1",
        "message": "Job 1 for theme 'Nightly' is already pending; nothing queued",
    }
    assert "Skipped" in cli("generate", "--theme", "Nightly", "--skip-if-queued").out
    via_http = client.post("/api/generate", json={"theme": "Nightly", "skip_if_queued": True})
    assert via_http.status_code == 200 and via_http.text == skipped.out.strip()
    # Another theme is not held back, and without the flag a job is always queued.
    assert cli("generate", "--theme", "Other", "--skip-if-queued", "--json").json()["job_id"] == 2
    assert cli("generate", "--theme", "Nightly", "--json").json()["job_id"] == 3
    assert job_count(store) == 3
    drain()  # every job ends: the guard lets the next run through
    again = cli("generate", "--theme", "Nightly", "--skip-if-queued", "--json")
    assert again.json()["status"] == "queued" and again.json()["job_id"] == 4


# -- budgets --------------------------------------------------------------------------------


def _record_spend(store: Store, dollars: float, when: Any = None) -> None:
    with store.write() as session:
        job = Job(theme="spent", status="completed")
        session.add(job)
        session.flush()
        assert job.id is not None
        session.add(
            Checkpoint(
                job_id=job.id,
                stage="trend_analysis",
                attempt=1,
                status="completed",
                finished_at=when or utcnow(),
                cost=dollars,
            )
        )


def test_daily_budget_refuses_paid_jobs_once_spent(
    cli: Cli, client: TestClient, store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VIDGEN_DAILY_BUDGET_USD", "0.50")
    paid = write_config(tmp_path, providers={"planner": "openai"})
    _record_spend(store, 0.30)
    _record_spend(store, 5.00, when=utcnow() - timedelta(days=2))  # not today
    assert cli("generate", "--config", str(paid)).code == 0  # $0.30 < $0.50
    _record_spend(store, 0.25)
    before = job_count(store)
    one_line_error(cli("generate", "--config", str(paid)), 1, "VIDGEN_DAILY_BUDGET_USD", "$0.5500")
    batch = tmp_path / "batch.yml"
    batch.write_text(f"- {{config: {paid}}}\n")
    one_line_error(cli("generate", "--batch", str(batch)), 1, "VIDGEN_DAILY_BUDGET_USD")
    assert job_count(store) == before
    # Local providers cost nothing and are never refused.
    assert cli("generate").code == 0
    monkeypatch.setenv("VIDGEN_THEMES_DIR", str(tmp_path))
    refused = client.post("/api/generate", json={"config_path": paid.name})
    assert refused.status_code == 400 and "VIDGEN_DAILY_BUDGET_USD" in refused.json()["detail"]
    monkeypatch.setenv("VIDGEN_DAILY_BUDGET_USD", "lots")
    one_line_error(cli("generate"), 2, "VIDGEN_DAILY_BUDGET_USD")


def test_max_cost_fails_a_paid_call_before_it_is_made(
    stage_context: Callable[..., Any], theme_config: Callable[..., Any]
) -> None:
    from vidgen.errors import FatalStageError
    from vidgen.providers.llm import OpenAIChat, estimate_cost

    llm = OpenAIChat(model="gpt-4o", api_key="test-key")
    estimate = estimate_cost(llm, "system", "user " * 100)
    assert estimate > 0
    ctx = stage_context("trend_analysis", config=theme_config(max_cost_usd=0.01))
    ctx.spent_usd = 0.005
    ctx.check_cost(0.004, "the openai analysis")  # 0.009 <= 0.01
    with pytest.raises(FatalStageError, match=r"config\.max_cost_usd=0\.01"):
        ctx.check_cost(0.006, "the openai analysis")
    ctx.check_cost(0.0, "a local provider")  # free calls always pass
    unlimited = stage_context("trend_analysis")
    unlimited.check_cost(1000.0, "anything")


def test_max_cost_stops_the_openai_planner_without_calling_it(
    stage_context: Callable[..., Any],
    theme_config: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from vidgen.errors import FatalStageError
    from vidgen.stages import content_generation

    monkeypatch.setenv("VIDGEN_OPENAI_API_KEY", "test-key")
    config = theme_config(max_cost_usd=0.000001, providers={"planner": "openai"})
    from test_content_generation import REPORT

    ctx = stage_context("content_generation", config=config, outputs={"trend_analysis": REPORT})
    called: list[str] = []
    monkeypatch.setattr(
        "vidgen.providers.llm.OpenAIChat.complete_json",
        lambda self, system, user: called.append(user),
    )
    with pytest.raises(FatalStageError, match="planner would cost"):
        content_generation.run(ctx)
    assert called == []


# -- validation at generate ---------------------------------------------------------------


@pytest.mark.parametrize("kind", ["missing", "folder", "fifo"])
@pytest.mark.parametrize("field", ["music", "images", "voice"])
def test_files_the_config_names_are_checked_at_generate(
    cli: Cli, client: TestClient, store: Store, tmp_path: Path, kind: str, field: str
) -> None:
    target = tmp_path / ("voice.onnx" if field == "voice" else "media.mp3")
    if kind == "folder":
        target.mkdir()
    elif kind == "fifo":
        os.mkfifo(target)  # never opened: a FIFO would block the reader
    overrides: dict[str, Any] = {
        "music": {"music": {"path": target.name}},
        "images": {"images": [str(target)], "providers": {"visuals": "images"}},
        "voice": {"voice": {"name": target.name}, "providers": {"tts": "piper"}},
    }[field]
    path = write_config(tmp_path, **overrides)
    expected = {"missing": "not found", "folder": "is a folder", "fifo": "not a regular file"}
    label = {"music": "config.music.path", "images": "config.images[0]", "voice": "config.voice"}
    one_line_error(cli("generate", "--config", str(path)), 2, label[field], expected[kind])
    assert job_count(store) == 0


def test_existing_media_files_pass(cli: Cli, tmp_path: Path) -> None:
    import wave

    with wave.open(str(tmp_path / "bed.mp3"), "wb") as out:  # decodable, whatever its name
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\0\0" * 4000)
    path = write_config(tmp_path, music={"path": "bed.mp3"})
    assert cli("generate", "--config", str(path)).code == 0


# -- prune ----------------------------------------------------------------------------------


def _age(store: Store, job_ids: list[int], days: float) -> None:
    with store.write() as session:
        session.execute(
            update(Job)
            .where(col(Job.id).in_(job_ids))
            .values(updated_at=utcnow() - timedelta(days=days))
        )


def _video(store: Store, settings: Any, job_id: int, status: str, days: float) -> list[Path]:
    folder = settings.output_root / {"pending_review": "review"}.get(status, status)
    folder.mkdir(parents=True, exist_ok=True)
    files = [folder / f"job-{job_id}-x.{ext}" for ext in ("mp4", "jpg", "json", "srt")]
    for path in files:
        path.write_bytes(b"v" * 1000)
    with store.write() as session:
        session.add(
            Video(
                job_id=job_id,
                status=status,
                video_path=str(files[0]),
                thumbnail_path=str(files[1]),
                log_path=str(files[2]),
                reviewed_at=utcnow() - timedelta(days=days),
            )
        )
    return files


def test_prune_deletes_work_files_of_old_ended_jobs_only(
    cli: Cli,
    client: TestClient,
    store: Store,
    settings: Any,
    stagekit: Path,
    drain: Callable[[], int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for theme in ("one", "two"):
        cli("generate", "--theme", theme)
    drain()
    monkeypatch.setenv("STAGEKIT_TREND_ANALYSIS", "fatal")
    cli("generate", "--theme", "three")
    drain()
    cli("generate", "--theme", "pending")  # never run
    jobs_dir = settings.jobs_dir
    # Job 4's folder holds only its config snapshot (taken at generate): it is not ended.
    assert {p.name for p in jobs_dir.iterdir()} == {"1", "2", "3", "4"}
    reviewed = _video(store, settings, 1, "pending_review", 10)
    approved = _video(store, settings, 2, "approved", 10)
    rejected = _video(store, settings, 3, "rejected", 10)

    fresh = cli("prune", "--older-than", "7d", "--json").json()
    assert fresh["jobs"] == 0 and fresh["files"] == 0  # they all just ended
    _age(store, [1, 2, 3, 4], 10)

    dry = cli("prune", "--older-than", "7d", "--dry-run", "--json")
    assert dry.code == 0, dry.err
    body = dry.json()
    assert body["dry_run"] is True and body["job_ids"] == [1, 2, 3] and body["jobs"] == 3
    assert body["files"] > 0 and body["bytes"] > 0 and body["rejected_videos"] == 0
    assert {p.name for p in jobs_dir.iterdir()} == {"1", "2", "3", "4"}  # nothing deleted
    via_http = client.post("/api/prune", json={"older_than": "7d", "dry_run": True}).json()
    for doc in (body, via_http):
        doc.pop("cutoff"), doc.pop("message")
    assert body == via_http
    assert "Would free" in cli("prune", "--older-than", "7d", "--dry-run").out

    done = cli("prune", "--older-than", "7d", "--rejected", "--json").json()
    assert done["job_ids"] == [1, 2, 3] and done["rejected_videos"] == 1
    assert done["files"] == body["files"] + 4
    assert [p.name for p in jobs_dir.iterdir()] == ["4"]  # the pending job keeps its snapshot
    assert all(p.exists() for p in reviewed + approved)  # review/ and approved/ untouched
    assert not any(p.exists() for p in rejected)
    again = cli("prune", "--older-than", "7d", "--json").json()
    assert again["jobs"] == 0 and again["files"] == 0
    assert cli("status", "1", "--json").json()["status"] == "completed"  # records stay


@pytest.mark.parametrize("bad", ["7x", "", "seven days", "-1d", "7", "d7"])
def test_prune_rejects_a_bad_duration(cli: Cli, client: TestClient, bad: str) -> None:
    one_line_error(cli("prune", "--older-than", bad), 2, "like 7d, 12h, 30m")
    response = client.post("/api/prune", json={"older_than": bad})
    assert response.status_code == 422


def test_the_profile_is_recorded_at_generate_and_used_by_the_worker(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from vidgen.pipeline.runner import JobRunner
    from vidgen.settings import load_settings

    monkeypatch.setenv("VIDGEN_PROFILE", "preview")  # the generating process's setting
    assert cli("generate").code == 0
    monkeypatch.delenv("VIDGEN_PROFILE")
    full = write_config(tmp_path, profile="full")
    assert cli("generate", "--config", str(full)).code == 0  # no override: the config's
    assert cli("status", "1").out.count("profile preview") == 1
    for job_id, expected in ((1, "preview"), (2, "full")):
        detail = json.loads(TestClient(create_app()).get(f"/api/jobs/{job_id}/detail").text)
        assert detail["profile"] == expected
    # The worker's own VIDGEN_PROFILE does not change what the jobs were queued with.
    monkeypatch.setenv("VIDGEN_PROFILE", "full")
    settings = load_settings()
    from vidgen.store import get_store

    with get_store(settings).read() as session:
        jobs = [session.get(Job, 1), session.get(Job, 2)]
    profiles = [JobRunner(job.id, settings)._load_config(job).config.profile for job in jobs]
    monkeypatch.setenv("VIDGEN_PROFILE", "preview")
    settings = load_settings()
    profiles += [JobRunner(job.id, settings)._load_config(job).config.profile for job in jobs]
    assert profiles == ["preview", "full", "preview", "full"]


def test_a_store_from_before_the_profile_column_is_upgraded(home: Path) -> None:
    import sqlite3

    from vidgen.settings import load_settings
    from vidgen.store import get_store, reset_stores

    assert get_store(load_settings())  # today's schema
    reset_stores()
    db = home / "vidgen.db"
    with sqlite3.connect(db) as conn:  # a schema-2 store: no job.profile yet
        conn.execute("ALTER TABLE job DROP COLUMN profile")
        conn.execute("INSERT INTO job (status, stage, theme, created_at, updated_at) "
                     "VALUES ('failed', 'review', 'old', "
                     "'2026-01-01 00:00:00', '2026-01-01 00:00:00')")  # fmt: skip
        conn.execute("PRAGMA user_version = 2")
    store = get_store(load_settings())
    with store.read() as session:
        old = session.get(Job, 1)
    assert old is not None and old.theme == "old" and old.profile is None


def test_the_worker_applies_prune_after_hourly(
    cli: Cli,
    store: Store,
    stagekit: Path,
    drain: Callable[[], int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:

    from vidgen.pipeline.consumer import Beat
    from vidgen.settings import load_settings

    cli("generate")
    cli("generate")
    drain()
    _age(store, [1], 20)
    monkeypatch.setenv("VIDGEN_PRUNE_AFTER", "14d")
    settings = load_settings()
    beat = Beat(store, settings, "w1")
    beat.prune_if_due()
    assert sorted(p.name for p in settings.jobs_dir.iterdir()) == ["2"]
    _age(store, [2], 20)
    beat.prune_if_due()  # not due again for an hour
    assert sorted(p.name for p in settings.jobs_dir.iterdir()) == ["2"]
    monkeypatch.setenv("VIDGEN_PRUNE_AFTER", "two weeks")
    one_line_error(cli("jobs"), 2, "VIDGEN_PRUNE_AFTER", "like 14d")


def test_videos_table_names_video_and_job_ids(cli: Cli, store: Store, settings: Any) -> None:
    with store.write() as session:
        for theme in ("a", "b", "c"):
            session.add(Job(theme=theme, status="completed"))
    _video(store, settings, 3, "pending_review", 0)
    table = cli("videos").out
    header = next(line for line in table.splitlines() if "status" in line)
    assert "video" in header and "job" in header
    row = next(line for line in table.splitlines() if "pending" in line)
    assert row.split("\t")[0] == "1" and row.split("\t")[1] == "3"


def test_the_cli_starts_without_pydantic_or_the_store() -> None:
    """`vidgen --help` (and every command until it runs) loads typer and rich only: pydantic,
    SQLAlchemy and the HTTP stack come in when a command needs them (make bench: CLI start)."""
    code = (
        "import sys, vidgen.cli.main; "
        "print(sorted(m for m in sys.modules "
        "if m.split('.')[0] in ('pydantic', 'pydantic_core', 'sqlalchemy', 'sqlmodel', "
        "'fastapi', 'httpx')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout
