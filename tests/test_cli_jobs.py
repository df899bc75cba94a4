"""The contract's commands through the CLI, as a user or a cron job runs them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from conftest import SAMPLE_CONFIG, CliResult
from stagekit import runs_log
from vidgen import PIPELINE_STAGES

Cli = Callable[..., CliResult]


def test_pipeline_stages_are_the_contract_names() -> None:
    assert PIPELINE_STAGES == (
        "trend_collection",
        "trend_analysis",
        "content_generation",
        "composition",
        "review",
    )


def test_generate_records_a_pending_job_and_returns_at_once(cli: Cli) -> None:
    result = cli("generate", "--json")
    assert result.code == 0, result.err
    body = result.json()
    assert body["job_id"] == 1
    assert body["status"] == "queued"
    assert body["poll_url"] == "/api/jobs/1"
    assert body["message"] == "Pipeline execution started"
    assert body["task_id"]
    status = cli("status", "1", "--json").json()
    assert status == {
        **status,
        "status": "pending",
        "stage": "initialization",
        "theme": "Product Demo",  # the config's theme when --theme is absent
        "completed_stages": [],
        "total_stages": 5,
        "progress_pct": 0.0,
        "error_message": None,
    }


def test_generate_uses_the_home_config_from_any_folder(cli: Cli, store, home: Path) -> None:  # type: ignore[no-untyped-def]
    from vidgen.config import packaged_config_path
    from vidgen.store.models import Job

    (Path.cwd() / "sample-data.yml").write_text("not: [a config")  # the cwd plays no part
    assert cli("generate", "--theme", "Travel").code == 0  # a theme the shipped trends cover
    with store.read() as session:
        job = session.get(Job, 1)
    assert job.theme == "Travel"
    assert job.config_path == str(home / "config.yml")
    assert (home / "config.yml").read_text() == SAMPLE_CONFIG.read_text()
    assert packaged_config_path().read_text() == SAMPLE_CONFIG.read_text()


def test_config_lookup_prefers_option_then_env_then_home(
    cli: Cli,
    store,
    home: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    from vidgen.store.models import Job

    env_config = tmp_path / "env.yml"
    env_config.write_text(SAMPLE_CONFIG.read_text())
    option = tmp_path / "option.yml"
    option.write_text(SAMPLE_CONFIG.read_text())
    assert cli("generate").code == 0
    monkeypatch.setenv("VIDGEN_CONFIG", str(env_config))
    assert cli("generate").code == 0
    assert cli("generate", "--config", str(option)).code == 0
    with store.read() as session:
        assert session.get(Job, 1).config_path == str(home / "config.yml")
        assert session.get(Job, 2).config_path == str(env_config)
        assert session.get(Job, 3).config_path == str(option)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "config file not found"),
        ("config: [unclosed", "invalid YAML at line 1"),
        ("- just\n- a list\n", "expected a mapping"),
        (b"config:\n  theme: \xff\xfe\n", "not UTF-8 text"),
        ("config:\n  theme: x\n", "content_references: Field required"),
    ],
)
def test_generate_rejects_bad_config_files_and_records_nothing(
    cli: Cli, tmp_path: Path, content: str | bytes | None, expected: str
) -> None:
    path = tmp_path / "bad.yml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    result = cli("generate", "--config", str(path))
    assert result.code == 2
    assert expected in result.err
    assert str(path) in result.err
    assert len(result.err.strip().splitlines()) == 1
    assert "Traceback" not in result.err
    assert cli("jobs", "--json").json() == {"count": 0, "total": 0, "jobs": []}


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("video_duration_seconds", 500, "config.video_duration_seconds: Input should be less"),
        (
            "video_duration_seconds",
            "long",
            "config.video_duration_seconds: Input should be a valid",
        ),
        ("style", "vlog", "config.style: Input should be"),
        ("profile", "4k", "config.profile"),
        ("unknown_key", 1, "config.unknown_key: unknown key"),
        ("thumbnail_time", 99, "thumbnail_time 99"),
    ],
)
def test_generate_names_the_bad_field(
    cli: Cli, tmp_path: Path, field: str, value: object, expected: str
) -> None:
    raw = yaml.safe_load(SAMPLE_CONFIG.read_text())
    raw["config"][field] = value
    path = tmp_path / "theme.yml"
    path.write_text(yaml.safe_dump(raw))
    result = cli("generate", "--config", str(path))
    assert result.code == 2, result.out
    assert expected in result.err
    assert cli("jobs", "--json").json()["count"] == 0


def test_yaml_alias_bomb_is_refused(cli: Cli, tmp_path: Path) -> None:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 12):
        prev, cur = chr(ord("a") + i - 1), chr(ord("a") + i)
        lines.append(f"{cur}: &{cur} [" + ", ".join([f"*{prev}"] * 10) + "]")
    path = tmp_path / "bomb.yml"
    path.write_text("\n".join(lines))
    result = cli("generate", "--config", str(path))
    assert result.code == 2
    assert "aliases" in result.err


def test_jobs_lists_newest_first_with_filters(cli: Cli, stagekit: Path, drain, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("STAGEKIT_TREND_COLLECTION", "fatal")
    assert cli("generate", "--theme", "one").code == 0
    drain()
    monkeypatch.delenv("STAGEKIT_TREND_COLLECTION")
    for theme in ("two", "three"):
        assert cli("generate", "--theme", theme).code == 0
    listing = cli("jobs", "--json").json()
    assert listing["count"] == 3
    assert [job["theme"] for job in listing["jobs"]] == ["three", "two", "one"]
    failed = cli("jobs", "--status", "failed", "--json").json()
    assert [job["id"] for job in failed["jobs"]] == [1]
    assert cli("jobs", "--limit", "1", "--json").json()["jobs"][0]["theme"] == "three"
    page = cli("jobs", "--limit", "1", "--offset", "1", "--json").json()
    assert page["jobs"][0]["theme"] == "two"
    table = cli("jobs")
    assert table.code == 0 and "three" in table.out and "failed" in table.out


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("jobs", "--status", "bogus"), 2, "unknown status 'bogus'"),
        (("jobs", "--limit", "0"), 2, "limit must be between 1 and 1000 (got 0)"),
        (("jobs", "--limit", "-5"), 2, "limit must be between"),
        (("jobs", "--limit", "99999999999"), 2, "limit must be between"),
        (("jobs", "--offset", "-1"), 2, "offset must be between"),
        (("jobs", "--limit", "ten"), 2, "Invalid value for '--limit'"),
        (("status", "abc"), 2, "Invalid value for 'ID'"),
        (("status", "999"), 1, "Job 999 not found"),
        (("status", "0"), 1, "Job 0 not found"),
        (("status", "-3"), 2, "No such option: -3"),
        (("status", "--", "-3"), 2, "'-3' is not an id"),
        (("status", "99999999999999999999999"), 1, "not found"),
        (("retry", "999"), 1, "Job 999 not found"),
        (("retry", "x"), 2, "Invalid value"),
        (("generate", "--theme", ""), 2, "theme is empty"),
        (("generate", "--theme", "a\x00b"), 2, "control character"),
        (("generate", "--theme", "x" * 201), 2, "200 or fewer"),
        (("nosuchcommand",), 2, "No such command"),
    ],
)
def test_errors_are_one_line_with_the_right_exit_code(
    cli: Cli, args: tuple[str, ...], code: int, message: str
) -> None:
    result = cli(*args)
    assert result.code == code, (result.out, result.err)
    assert message in result.err
    assert len(result.err.strip().splitlines()) == 1
    assert "Traceback" not in result.err + result.out


def test_bad_environment_variable_is_named(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIDGEN_STAGE_ATTEMPTS", "many")
    result = cli("jobs")
    assert result.code == 2
    assert "VIDGEN_STAGE_ATTEMPTS='many' is invalid" in result.err


def test_retry_refuses_jobs_that_are_not_failed(cli: Cli) -> None:
    cli("generate")
    result = cli("retry", "1", "--json")
    assert result.code == 1
    assert result.err.strip() == (
        "Error: Cannot retry job with status 'pending'. Only 'failed' jobs can be retried."
    )


def test_failed_job_resumes_from_its_checkpoint(
    cli: Cli,
    stagekit: Path,
    drain,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    monkeypatch.setenv("STAGEKIT_COMPOSITION", "fail:5")
    cli("generate", "--theme", "resume me")
    drain()
    status = cli("status", "1", "--json").json()
    assert status["status"] == "failed"
    assert status["stage"] == "composition"
    assert status["error_message"] == (
        "composition failed after 3 attempts: composition scripted failure"
    )
    assert status["completed_stages"] == list(PIPELINE_STAGES[:3])
    assert status["progress_pct"] == 60.0
    assert cli("jobs", "--status", "failed", "--json").json()["count"] == 1

    monkeypatch.delenv("STAGEKIT_COMPOSITION")
    retried = cli("retry", "1", "--json")
    assert retried.code == 0, retried.err
    body = retried.json()
    assert body["status"] == "queued"
    assert body["resume_from"] == "composition"
    assert body["skipping_stages"] == list(PIPELINE_STAGES[:3])
    assert cli("status", "1", "--json").json()["status"] == "pending"
    drain()
    final = cli("status", "1", "--json").json()
    assert final["status"] == "completed"
    assert final["progress_pct"] == 100.0
    runs = [stage for stage, _, _ in runs_log(stagekit)]
    assert runs.count("trend_collection") == 1
    assert runs.count("content_generation") == 1
    assert runs.count("composition") == 4
    human = cli("status", "1")
    assert "completed" in human.out and "review" in human.out


def test_generate_wait_runs_in_process_without_a_worker(cli: Cli, stagekit: Path) -> None:
    result = cli("generate", "--wait")
    assert result.code == 0, result.err
    assert "running the job in this process" in result.out
    assert "job 1 completed" in result.out
    assert cli("status", "1", "--json").json()["status"] == "completed"


def test_generate_wait_exits_1_when_the_job_fails(
    cli: Cli, stagekit: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STAGEKIT_TREND_ANALYSIS", "fatal")
    result = cli("generate", "--wait")
    assert result.code == 1
    assert "job 1 failed: trend_analysis failed" in result.out


def test_status_watch_follows_to_the_end(cli: Cli, stagekit: Path, drain) -> None:  # type: ignore[no-untyped-def]
    cli("generate")
    drain()
    result = cli("status", "1", "--watch", "--json")
    assert result.code == 0
    assert '"status":"completed"' in result.out


def test_recover_requeues_pending_jobs_missing_from_the_queue(
    cli: Cli,
    stagekit: Path,
    drain,
    settings,  # type: ignore[no-untyped-def]
) -> None:
    from vidgen.pipeline.queue import get_huey, reset_queues, sqlite_queue_path

    cli("generate")
    cli("generate")
    get_huey(settings).flush()  # the queue lost its messages; the store still has the jobs
    result = cli("recover", "--json")
    assert result.code == 0
    assert result.json()["requeued_job_ids"] == [1, 2]
    assert cli("recover", "--json").json()["requeued_job_ids"] == []  # idempotent
    path = sqlite_queue_path(settings)
    assert path is not None
    reset_queues()
    path.write_bytes(b"this is not a sqlite database" * 100)
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    repaired = cli("recover", "--json").json()
    assert repaired["queue_reset"] is True
    assert repaired["requeued_job_ids"] == [1, 2]
    assert drain() == 2
    assert cli("jobs", "--status", "completed", "--json").json()["count"] == 2
