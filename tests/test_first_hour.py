"""A new user's first hour: one default config, the job renders the config it was checked with,
media checked at generate, one id for approve/reject, and --json errors a script can read."""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from conftest import SAMPLE_CONFIG, CliResult

Cli = Callable[..., CliResult]


def _config(tmp_path: Path, name: str = "theme.yml", **overrides: object) -> Path:
    raw = yaml.safe_load(SAMPLE_CONFIG.read_text())
    raw["config"].update(overrides)
    path = tmp_path / name
    path.write_text(yaml.safe_dump(raw))
    return path


def _job_status(cli: Cli, job_id: int) -> dict[str, object]:
    result = cli("status", str(job_id), "--json")
    assert result.code == 0, result.err
    data: dict[str, object] = result.json()
    return data


# -- one default config ----------------------------------------------------------------------


def test_default_config_is_created_in_home_and_named(cli: Cli, home: Path, tmp_path: Path) -> None:
    assert not (home / "config.yml").exists()
    first = cli("generate")
    assert first.code == 0
    assert f"Config: {home / 'config.yml'} (see 'vidgen config')" in first.out
    assert (home / "config.yml").read_text() == SAMPLE_CONFIG.read_text()
    # The user's file from then on: an edit is kept, never overwritten by the sample.
    (home / "config.yml").write_text(SAMPLE_CONFIG.read_text().replace("Product Demo", "Mine"))
    os.chdir(tmp_path)  # another folder, as cron's $HOME is
    assert cli("generate").code == 0
    assert _job_status(cli, 2)["theme"] == "Mine"
    shown = cli("status", "2")
    assert str(home / "config.yml") in shown.out.replace("\n", "")
    named = cli("config")
    assert named.code == 0 and named.out.strip() == str(home / "config.yml")
    assert "the default: $VIDGEN_HOME/config.yml" in cli("config", "--explain").out


def test_skip_if_queued_sees_one_config_from_any_folder(cli: Cli, tmp_path: Path) -> None:
    assert cli("generate", "--skip-if-queued").code == 0
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    os.chdir(elsewhere)
    again = cli("generate", "--skip-if-queued", "--json")
    assert again.code == 0
    assert again.json()["status"] == "skipped"


def test_a_missing_vidgen_config_names_the_variable(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VIDGEN_CONFIG", "/nope.yml")
    result = cli("generate")
    assert result.code == 2
    assert result.err.startswith("Error: VIDGEN_CONFIG=/nope.yml: no such file")
    assert "unset VIDGEN_CONFIG" in result.err


# -- the snapshot taken at generate ---------------------------------------------------------


def test_a_queued_job_renders_the_config_it_was_checked_with(
    cli: Cli, stagekit: Path, drain: Callable[[], int], tmp_path: Path
) -> None:
    from vidgen.config import SNAPSHOT_NAME, load_snapshot

    music = tmp_path / "media" / "bed.wav"
    music.parent.mkdir()
    _write_wav(music)
    path = _config(tmp_path, music="media/bed.wav", video_duration_seconds=30)
    assert cli("generate", "--config", str(path)).code == 0
    # After generate: the file is broken, its music moved. The job does not care.
    path.write_text("config: [this is not valid")
    snapshot = load_snapshot(stagekit / "jobs" / "1" / SNAPSHOT_NAME)
    assert snapshot is not None
    assert snapshot.config.video_duration_seconds == 30
    assert snapshot.config.music is not None and not isinstance(snapshot.config.music, str)
    assert snapshot.config.music.path == music  # resolved at generate, absolute
    drain()
    assert _job_status(cli, 1)["status"] == "completed"


def test_a_job_without_a_snapshot_reads_its_config_file(
    cli: Cli, stagekit: Path, drain: Callable[[], int]
) -> None:
    from vidgen.config import SNAPSHOT_NAME

    assert cli("generate").code == 0
    (stagekit / "jobs" / "1" / SNAPSHOT_NAME).unlink()  # as queued by an older vidgen
    drain()
    assert _job_status(cli, 1)["status"] == "completed"


def test_every_job_of_a_batch_keeps_its_own_snapshot(cli: Cli, home: Path, tmp_path: Path) -> None:
    from vidgen.config import SNAPSHOT_NAME, load_snapshot

    short = _config(tmp_path, "short.yml", video_duration_seconds=12)
    batch = tmp_path / "batch.yml"
    batch.write_text(f"- {{theme: Running, config: {short.name}}}\n- {{theme: Travel}}\n")
    assert cli("generate", "--batch", str(batch)).code == 0
    first = load_snapshot(home / "jobs" / "1" / SNAPSHOT_NAME)
    second = load_snapshot(home / "jobs" / "2" / SNAPSHOT_NAME)
    assert first is not None and second is not None
    assert first.config.video_duration_seconds == 12 and first.source == short
    assert second.source == home / "config.yml"


# -- config errors -------------------------------------------------------------------------


def test_every_config_error_at_once_with_suggestions(cli: Cli, tmp_path: Path) -> None:
    raw = yaml.safe_load(SAMPLE_CONFIG.read_text())
    raw["config"]["theem"] = "x"
    raw["config"]["style"] = "vlog"
    raw["config"]["voice"] = {"nmae": "en-us"}
    path = tmp_path / "typos.yml"
    path.write_text(yaml.safe_dump(raw))
    result = cli("generate", "--config", str(path))
    assert result.code == 2
    assert len(result.err.strip().splitlines()) == 1
    assert "config.theem: unknown key; did you mean 'theme'?" in result.err
    assert "config.voice.nmae: unknown key; did you mean 'name'?" in result.err
    assert "config.style: Input should be" in result.err


def test_config_errors_name_the_users_keys_never_internal_classes(cli: Cli, tmp_path: Path) -> None:
    raw = yaml.safe_load(SAMPLE_CONFIG.read_text())
    raw["config"].update({"Theme": "x", "my-key": 1, "voice": 7, "providers": "local"})
    path = tmp_path / "odd.yml"
    path.write_text(yaml.safe_dump(raw))
    err = cli("generate", "--config", str(path)).err
    assert "config.Theme: unknown key; did you mean 'theme'?" in err
    assert "config.my-key: unknown key; known keys: " in err
    assert "config.voice: must be a block of 'key: value' settings" in err
    assert "config.providers: must be a block" in err
    assert "Voice" not in err and "Providers" not in err


@pytest.mark.parametrize("value", [42, 1.5, ["a.mp3"]])
def test_music_of_the_wrong_kind_is_explained_in_user_words(
    cli: Cli, tmp_path: Path, value: object
) -> None:
    result = cli("generate", "--config", str(_config(tmp_path, music=value)))
    assert result.code == 2
    assert "config.music: must be a file path, {path: FILE, volume: 0.25} or none" in result.err
    assert "Music" not in result.err and "literal" not in result.err


# -- media probed at generate --------------------------------------------------------------


def _write_wav(path: Path) -> None:
    import wave

    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\0\0" * 8000)


def test_corrupt_music_is_refused_at_generate_naming_the_file(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "sounds").mkdir()
    (tmp_path / "sounds" / "bed.mp3").write_bytes(b"this is not an mp3 " * 100)
    path = _config(tmp_path, music="sounds/bed.mp3")
    result = cli("generate", "--config", str(path), "--json")
    assert result.code == 2
    detail = json.loads(result.out)["detail"]
    assert f"{path}: config.music.path: {tmp_path / 'sounds' / 'bed.mp3'}" in detail
    assert "not a readable audio file" in detail and "replace it with" in detail
    assert cli("jobs", "--json").json()["count"] == 0


def test_corrupt_image_is_refused_at_generate(cli: Cli, tmp_path: Path) -> None:
    from PIL import Image

    Image.new("RGB", (8, 8), "red").save(tmp_path / "good.png")
    (tmp_path / "bad.png").write_bytes(b"\x89PNG garbage")
    path = _config(tmp_path, images=["good.png", "bad.png"])
    result = cli("generate", "--config", str(path))
    assert result.code == 2
    assert "config.images[1]" in result.err and "bad.png: is not a picture" in result.err
    path = _config(tmp_path, name="ok.yml", images=["good.png"])
    assert cli("generate", "--config", str(path)).code == 0


def test_a_fifo_named_as_music_cannot_hang_generate(cli: Cli, tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "bed.mp3")
    started = time.monotonic()
    result = cli("generate", "--config", str(_config(tmp_path, music="bed.mp3")))
    assert result.code == 2 and "FIFO" in result.err
    assert time.monotonic() - started < 10


def test_media_file_problem_accepts_real_audio(tmp_path: Path) -> None:
    from vidgen.media.ffmpeg import media_file_problem

    _write_wav(tmp_path / "bed.wav")
    assert media_file_problem(tmp_path / "bed.wav", "audio") is None
    assert "not a readable image file" in str(media_file_problem(tmp_path / "bed.wav", "image"))


# -- one id for approve / reject ---------------------------------------------------------------


def test_approve_and_reject_take_the_job_id(
    cli: Cli, stagekit: Path, drain: Callable[[], int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STAGEKIT_COMPOSITION", "fakevideo")
    monkeypatch.setenv("STAGEKIT_REVIEW", "real")
    monkeypatch.setenv("STAGEKIT_TREND_COLLECTION", "fatal")
    assert cli("generate").code == 0  # job 1 fails: no video, so the ids diverge
    drain()
    monkeypatch.delenv("STAGEKIT_TREND_COLLECTION")
    for _ in range(3):
        assert cli("generate").code == 0  # jobs 2, 3, 4 make videos 1, 2, 3
    drain()
    approved = cli("approve", "3", "--json")
    assert approved.code == 0, approved.err
    assert approved.json()["job_id"] == 3 and approved.json()["id"] == 2
    people = cli("reject", "2", "--reason", "blurry")
    assert people.code == 0
    assert "Job 2's video (video 1) rejected (blurry)" in people.out
    # The video's own id, given explicitly, still works.
    assert cli("approve", "--video-id", "3", "--json").json()["job_id"] == 4
    # status shows the video id where it differs from the job id.
    assert "(video id 2)" in cli("status", "3").out
    # It offers "review it: ... approve" only while the video waits in review/.
    for decided in ("2", "3", "4"):  # rejected, approved, approved
        assert "review it" not in cli("status", decided).out
    assert cli("generate").code == 0
    drain()
    assert "review it" in cli("status", "5").out
    failed = cli("approve", "1", "--json")
    assert failed.code == 1
    assert json.loads(failed.out)["detail"].startswith("Job 1 has no video to review")


def test_http_approve_and_reject_take_the_job_id(
    cli: Cli, stagekit: Path, drain: Callable[[], int], monkeypatch: pytest.MonkeyPatch
) -> None:
    from fastapi.testclient import TestClient

    from vidgen.api.app import create_app

    monkeypatch.setenv("STAGEKIT_COMPOSITION", "fakevideo")
    monkeypatch.setenv("STAGEKIT_REVIEW", "real")
    monkeypatch.setenv("STAGEKIT_TREND_COLLECTION", "fatal")
    assert cli("generate").code == 0
    drain()
    monkeypatch.delenv("STAGEKIT_TREND_COLLECTION")
    assert cli("generate").code == 0
    assert cli("generate").code == 0
    drain()
    client = TestClient(create_app())
    approved = client.post("/api/jobs/2/approve")
    assert approved.status_code == 200 and approved.json()["id"] == 1
    rejected = client.post("/api/jobs/3/reject", json={"reason": "blurry"})
    assert rejected.status_code == 200 and rejected.json()["id"] == 2
    missing = client.post("/api/jobs/1/approve")
    assert missing.status_code == 404
    cli_missing = cli("approve", "1", "--json")
    assert cli_missing.out.strip() == missing.text


# -- --json errors ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "code", "detail"),
    [
        (("status", "5", "--json"), 1, "Job 5 not found"),
        (("retry", "5", "--json"), 1, "Job 5 not found"),
        (("jobs", "--status", "nope", "--json"), 2, "status"),
        (("jobs", "--limit", "abc", "--json"), 2, "Invalid value for '--limit'"),
        (("approve", "--json"), 2, "name the job"),
    ],
)
def test_json_errors_print_the_http_error_body_on_stdout(
    cli: Cli, args: tuple[str, ...], code: int, detail: str
) -> None:
    result = cli(*args)
    assert result.code == code
    body = json.loads(result.out)
    assert list(body) == ["detail"] and detail in body["detail"]
    assert "\n" not in body["detail"]


def test_json_error_is_the_http_twins_body(cli: Cli) -> None:
    from fastapi.testclient import TestClient

    from vidgen.api.app import create_app

    http = TestClient(create_app()).get("/api/jobs/5")
    assert http.status_code == 404
    assert cli("status", "5", "--json").out.strip() == http.text


# -- honest dry runs, cancelled jobs resumable --------------------------------------------


def test_retry_dry_run_after_prune_says_what_really_runs(
    cli: Cli, stagekit: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    from conftest import new_job, run_job
    from vidgen.statuses import JobStatus

    monkeypatch.setenv("STAGEKIT_COMPOSITION", "fatal")
    job_id = new_job(cli)
    assert run_job(job_id) == JobStatus.FAILED
    # prune (or a user) removed the work files of the completed stages
    for stage in ("trend_analysis", "content_generation"):
        shutil.rmtree(stagekit / "jobs" / str(job_id) / stage)
    dry = cli("retry", str(job_id), "--dry-run", "--json").json()
    assert dry["skipping_stages"] == ["trend_collection"]
    assert dry["running_stages"] == [
        "trend_analysis",
        "content_generation",
        "composition",
        "review",
    ]
    assert dry["resume_from"] == "trend_analysis"
    assert list(dry["reused_outputs"]) == ["trend_collection"]
    assert "would run trend_analysis, content_generation, composition, review" in dry["message"]
    assert "trend_analysis completed but its files are gone" in dry["message"]
    human = cli("retry", str(job_id), "--dry-run").out
    assert "Would run:  trend_analysis, content_generation, composition, review" in human
    assert "reuse content_generation" not in human and "Note: trend_analysis" in human
    monkeypatch.delenv("STAGEKIT_COMPOSITION")
    real = cli("retry", str(job_id))
    assert "reusing trend_collection." in real.out
    assert run_job(job_id) == JobStatus.COMPLETED
    runs = [stage for stage, _, _ in runs_log_of(stagekit)]
    assert runs.count("trend_analysis") == 2 and runs.count("trend_collection") == 1


def runs_log_of(home: Path) -> list[tuple[str, int, int]]:
    from stagekit import runs_log

    return runs_log(home)


def test_a_cancelled_job_resumes_with_from_stage_only(
    cli: Cli, stagekit: Path, store: object
) -> None:
    from conftest import new_job, run_job
    from vidgen.statuses import JobStatus

    job_id = new_job(cli)
    assert cli("cancel", str(job_id)).code == 0
    plain = cli("retry", str(job_id))
    assert plain.code == 1
    assert "Only 'failed' jobs can be retried" in plain.err and "--from-stage" in plain.err
    dry = cli("retry", str(job_id), "--from-stage", "trend_collection", "--dry-run", "--json")
    assert dry.code == 0 and dry.json()["running_stages"][0] == "trend_collection"
    again = cli("retry", str(job_id), "--from-stage", "trend_collection", "--json")
    assert again.code == 0, again.err
    assert _job_status(cli, job_id)["status"] == "pending"
    assert run_job(job_id) == JobStatus.COMPLETED


# -- piped output, printed commands, completion ---------------------------------------------


def test_piped_read_commands_print_whole_tab_separated_rows(
    cli: Cli, stagekit: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from conftest import new_job, run_job

    long = "ffmpeg soundtrack failed: " + "x" * 150 + " /a/very/long/path/to/job-1-file.mp3"
    monkeypatch.setenv("STAGEKIT_COMPOSITION", "fatal")
    job_id = new_job(cli)
    run_job(job_id)
    from vidgen.settings import load_settings
    from vidgen.store import get_store
    from vidgen.store.models import Job

    with get_store(load_settings()).write() as session:
        job = session.get(Job, job_id)
        assert job is not None
        job.error_message = long
    out = cli("jobs", "--status", "failed").out
    lines = out.splitlines()
    assert lines[0].split("\t")[:3] == ["id", "status", "stage"]
    row = lines[1].split("\t")
    assert row[0] == str(job_id) and row[1] == "failed" and row[-1] == long
    assert not any(ch in out for ch in "│─╭…")
    status = cli("status", str(job_id)).out
    assert "╭" not in status and f"job {job_id}" in status.splitlines()[0]
    assert any(line.endswith("config.yml") and "/" in line for line in status.splitlines())


def test_printed_commands_work_when_vidgen_is_not_on_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    from vidgen.cli.output import me

    exe = tmp_path / "venv" / "bin" / "vidgen"
    exe.parent.mkdir(parents=True)
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    monkeypatch.setattr(sys, "argv", [str(exe), "generate"])
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    assert me() == str(exe)
    link = tmp_path / "local-bin"
    link.mkdir()
    (link / "vidgen").symlink_to(exe)
    monkeypatch.setenv("PATH", f"{link}:/usr/bin:/bin")
    assert me() == "vidgen"


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("vidgen jobs --status c", ["completed", "cancelled"]),
        ("vidgen retry 3 --from-stage trend", ["trend_collection", "trend_analysis"]),
        ("vidgen videos --status app", ["approved"]),
    ],
)
def test_shell_completion_offers_statuses_and_stage_names(
    home: Path, words: str, expected: list[str]
) -> None:
    """What bash's completion script asks the installed vidgen (vidgen --install-completion)."""
    import subprocess

    from conftest import REPO_ROOT

    exe = REPO_ROOT / ".venv" / "bin" / "vidgen"
    if not exe.exists():
        pytest.skip("needs `make install`'s .venv")
    env = {
        **os.environ,
        "_VIDGEN_COMPLETE": "complete_bash",
        "COMP_WORDS": words,
        "COMP_CWORD": str(len(words.split()) - 1),
    }
    done = subprocess.run([str(exe)], env=env, capture_output=True, text=True, timeout=60)
    assert done.stdout.split() == expected, done.stderr


# -- worker liveness, leases, serve ---------------------------------------------------------


def test_health_says_whether_a_worker_is_running(home: Path) -> None:
    from fastapi.testclient import TestClient

    from vidgen.api.app import create_app
    from vidgen.settings import load_settings
    from vidgen.store import beats, get_store

    client = TestClient(create_app())
    idle = client.get("/api/health").json()
    assert idle["workers"] == 0 and idle["worker_message"].startswith("no worker running")
    settings = load_settings()
    beats.beat(get_store(settings), "w1", hostname="here", pid=1, queue=settings.queue)
    busy = client.get("/api/health").json()
    assert busy["workers"] == 1 and busy["worker_message"] == "1 worker(s) running"


def _run_app_js(expression: str) -> object:
    """Evaluate ``expression`` in node with the dashboard's app.js loaded (no page: its start
    finds no #app and returns), for the functions that decide what the page says."""
    import shutil
    import subprocess

    from conftest import REPO_ROOT

    node = shutil.which("node")
    if node is None:
        pytest.skip("no node to run the dashboard's script")
    script = REPO_ROOT / "src" / "vidgen" / "web" / "static" / "app.js"
    program = (
        "const vm = require('vm'); const fs = require('fs');"
        "const context = { document: { body: { dataset: {} }, getElementById: () => null,"
        " addEventListener: () => {} }, location: { pathname: '/' }, console };"
        "vm.createContext(context);"
        f"vm.runInContext(fs.readFileSync({json.dumps(str(script))}, 'utf8'), context);"
        f"process.stdout.write(JSON.stringify(vm.runInContext({json.dumps(expression)}, context)));"
    )
    done = subprocess.run([node, "-e", program], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_a_card_cancelled_before_it_started_says_cancelled() -> None:
    cancelled = {"status": "cancelled", "stage": "initialization"}
    assert _run_app_js(f"cardStage({json.dumps(cancelled)})") == "Cancelled"
    pending = {"status": "pending", "stage": "initialization"}
    assert _run_app_js(f"cardStage({json.dumps(pending)})") == "Queued"


def test_a_failed_jobs_log_shows_its_stderr_once() -> None:
    stderr = ["[aac] bad frame", "Error while filtering: Invalid argument"]
    failed = [
        {
            "at": "2026-12-04T10:00:00Z",
            "kind": "stage_failed",
            "stage": "composition",
            "attempt": n,
            "message": "ffmpeg soundtrack failed (exit 1): Invalid argument",
            "data": {"stderr_tail": stderr},
        }
        for n in (1, 2, 3)
    ]
    text = str(_run_app_js(f"renderLog({json.dumps({'events': failed})})"))
    assert text.count("Error while filtering") == 1
    assert text.count("ffmpeg soundtrack failed") == 1
    assert text.count("the same error as above") == 2


def test_recover_says_when_a_live_lease_lapses(cli: Cli) -> None:
    from vidgen.settings import load_settings
    from vidgen.store import get_store, jobs

    assert cli("generate").code == 0
    jobs.claim(get_store(load_settings()), 1, "killed-worker", 60)
    result = cli("recover", "--json")
    assert result.code == 0, result.err
    body = result.json()
    assert body["failed_lost_job_ids"] == []
    [lease] = body["live_leases"]
    assert lease["job_id"] == 1 and 30 < lease["seconds_left"] <= 60
    assert (
        f"job 1 is running (initialization) with a live lease until {lease['lease_expires_at']}"
        in body["message"]
    )
    assert "run 'vidgen recover' again after then" in body["message"]
    # The seconds left, as a person reads them (a loaded test machine may take a while here).
    left = re.search(r"\(in (\d+) s\)", cli("recover").out)
    assert left is not None and 0 < int(left.group(1)) <= 60


def test_serve_help_mentions_the_dashboard_and_the_themes_folder_is_created(
    cli: Cli, home: Path
) -> None:
    from vidgen import service
    from vidgen.settings import load_settings

    text = " ".join(cli("serve", "--help").out.split())
    assert "review dashboard at /" in text and "approve or reject" in text
    assert not (home / "themes").exists()
    assert service.themes_folder(load_settings()) == home / "themes"
    assert (home / "themes").is_dir()


# -- the README's contact-sheet command ------------------------------------------------------


def test_the_readmes_contact_sheet_command_works_and_spares_the_tracked_image(
    home: Path, tmp_path: Path
) -> None:
    import re
    import subprocess
    import sys

    from conftest import REPO_ROOT
    from vidgen.media.ffmpeg import ffmpeg_exe

    readme = (REPO_ROOT / "README.md").read_text()
    command = re.search(r"`(\.venv/bin/python scripts/contact_sheet\.py)`", readme)
    assert command is not None, "the README no longer shows the contact-sheet command"
    review = home / "output" / "review"
    review.mkdir(parents=True)
    video = review / "job-1-demo.mp4"
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", "testsrc=size=90x160:rate=10",
         "-t", "3", "-pix_fmt", "yuv420p", str(video)],
        check=True,
    )  # fmt: skip
    scenes = [{"duration_seconds": 1.0}, {"duration_seconds": 1.0}, {"duration_seconds": 1.0}]
    log = {"paths": {"video": str(video)}, "plan": {"scenes": scenes}}
    (review / "job-1-demo.json").write_text(json.dumps(log))
    tracked = REPO_ROOT / "docs" / "contact-sheet.jpg"
    before = tracked.read_bytes()
    # Verbatim, with the checkout's location spelt out (cwd: anywhere).
    line = command.group(1).replace(".venv/bin/python", sys.executable)
    line = line.replace("scripts/", f"{REPO_ROOT}/scripts/")
    env = {**os.environ, "VIDGEN_HOME": str(home)}
    done = subprocess.run(line.split(), cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "3 tiles (the cover, then one per scene) from job-1-demo.mp4" in done.stdout
    assert (tmp_path / "contact-sheet.jpg").stat().st_size > 0
    assert tracked.read_bytes() == before
    # No video yet: one line, no traceback.
    env["VIDGEN_HOME"] = str(tmp_path / "empty")
    empty = subprocess.run(line.split(), cwd=tmp_path, env=env, capture_output=True, text=True)
    assert empty.returncode == 1 and "Traceback" not in empty.stderr
    assert empty.stderr.strip().startswith("Error: no generated video of any job under")
