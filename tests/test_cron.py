"""The README's cron block, run line by line as cron runs it, on a fresh HOME.

Every line of the ```cron block in README.md's "From cron" section runs verbatim through
``env -i HOME=<fresh> PATH=/usr/bin:/bin sh -c '<command>'`` in that HOME (cron's environment),
with one substitution: ``/path/to/vidgen/.venv/bin/vidgen`` becomes a stand-in that runs this
checkout's vidgen with the scripted test stages (``tests/stagekit``), so the job takes
milliseconds instead of a full-size render. The long-running ``@reboot`` worker line is started,
must log that it started and serve the job the ``*/30`` line queued, then is stopped with SIGTERM.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import REPO_ROOT

PLACEHOLDER = "/path/to/vidgen/.venv/bin/vidgen"


def cron_lines() -> list[tuple[str, str]]:
    """(schedule, command) for every entry of the README's cron block."""
    readme = (REPO_ROOT / "README.md").read_text()
    section = readme.split("### From cron", 1)[1]
    block = re.search(r"```cron\n(.*?)```", section, re.DOTALL)
    assert block is not None, "README's 'From cron' section has no ```cron block"
    entries = []
    for line in block.group(1).splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if line.startswith("@"):
            schedule, command = line.split(None, 1)
        else:
            fields = line.split(None, 5)
            schedule, command = " ".join(fields[:5]), fields[5]
        assert "%" not in command, f"cron turns % into a newline: {line}"
        entries.append((schedule, command.strip()))
    return entries


def stand_in(folder: Path) -> Path:
    """An executable that plays the venv's vidgen: this checkout's code, the test stages."""
    exe = folder / "vidgen"
    exe.write_text(
        "#!/bin/sh\n"
        f"PYTHONPATH='{REPO_ROOT / 'src'}:{REPO_ROOT / 'tests'}'\n"
        "VIDGEN_STAGE_PACKAGE=stagekit\n"
        "export PYTHONPATH VIDGEN_STAGE_PACKAGE\n"
        f"exec '{sys.executable}' -m vidgen.cli.main \"$@\"\n"
    )
    exe.chmod(0o755)
    return exe


def as_cron(command: str, home: Path, exe: Path, **popen: object) -> subprocess.Popen[str]:
    assert PLACEHOLDER in command, command
    line = command.replace(PLACEHOLDER, str(exe))
    return subprocess.Popen(
        ["env", "-i", f"HOME={home}", "PATH=/usr/bin:/bin", "sh", "-c", line],
        cwd=home,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        **popen,  # type: ignore[call-overload]
    )


def stop_group(proc: subprocess.Popen[str]) -> None:
    """SIGTERM the line's process group (sh and vidgen) and wait until all of it has exited:
    sh goes at once, vidgen after putting its jobs back."""
    os.killpg(proc.pid, signal.SIGTERM)
    proc.communicate(timeout=60)
    deadline = time.monotonic() + 60
    while True:
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            return
        if time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            raise AssertionError("the worker did not stop within 60 s of SIGTERM")
        time.sleep(0.1)


def run_as_cron(command: str, home: Path, exe: Path) -> tuple[int, str, str]:
    proc = as_cron(command, home, exe)
    out, err = proc.communicate(timeout=120)
    return proc.returncode, out, err


def job_status(home: Path, exe: Path, job_id: int) -> str:
    code, out, err = run_as_cron(f"{PLACEHOLDER} status {job_id} --json", home, exe)
    assert code == 0, err
    return str(json.loads(out)["status"])


@pytest.mark.slow  # a real worker process
def test_every_readme_cron_line_works_verbatim_on_a_fresh_home(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    exe = stand_in(tmp_path)
    entries = cron_lines()
    workers = [cmd for schedule, cmd in entries if schedule == "@reboot"]
    others = [cmd for schedule, cmd in entries if schedule != "@reboot"]
    assert len(workers) == 1 and any(" generate " in cmd for cmd in others)
    assert not (home / ".vidgen").exists()

    # The periodic lines first, on a HOME where nothing exists yet.
    generate = next(cmd for cmd in others if " generate " in cmd)
    code, out, err = run_as_cron(generate, home, exe)
    assert code == 0, (out, err)
    cron_log = home / ".vidgen" / "cron.log"
    logged = cron_log.read_text()
    assert "Queued job 1" in logged and "no worker is serving" in logged
    # The overlap guard: the next run while job 1 is still pending queues nothing.
    code, out, err = run_as_cron(generate, home, exe)
    assert code == 0, (out, err)
    assert "Skipped" in cron_log.read_text()

    worker = as_cron(workers[0], home, exe)
    try:
        deadline = time.monotonic() + 60
        while job_status(home, exe, 1) != "completed":
            assert worker.poll() is None, worker.communicate()
            assert time.monotonic() < deadline, (home / ".vidgen" / "worker.log").read_text()
            time.sleep(0.5)
        worker_log = (home / ".vidgen" / "worker.log").read_text()
        assert "vidgen worker" in worker_log and "slot(s)" in worker_log
    finally:
        stop_group(worker)
    assert "vidgen worker stopped" in (home / ".vidgen" / "worker.log").read_text()

    for command in others:
        if command == generate:
            continue
        code, out, err = run_as_cron(command, home, exe)
        assert code == 0, (command, out, err)
        assert "Traceback" not in out + err + cron_log.read_text()
    assert (home / ".vidgen" / "vidgen.db").exists()
    assert not (home / "sample-data.yml").exists()  # the shipped config was found by itself


@pytest.mark.parametrize("target", ["run", "worker"])
def test_make_uses_the_home_plain_vidgen_and_cron_use(target: str) -> None:
    """`make run`/`make worker` must not pick a home of their own: cron would never see it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIDGEN_")}
    database = subprocess.run(
        ["make", "-pn", target], cwd=REPO_ROOT, env=env, capture_output=True, text=True
    ).stdout
    assert database, "make -pn printed nothing"
    defined = [line for line in database.splitlines() if re.match(r"VIDGEN_\w+ :?= ", line)]
    assert defined == [], defined


VENV_VIDGEN = REPO_ROOT / ".venv" / "bin" / "vidgen"


def _fresh_env(home: Path, **extra: str) -> dict[str, str]:
    """cron's (and a new login shell's) environment: HOME, a bare PATH, nothing of vidgen's."""
    return {"HOME": str(home), "PATH": "/usr/bin:/bin", **extra}


def _sh(line: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["env", "-i", *(f"{k}={v}" for k, v in env.items()), "sh", "-c", line],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_morning_report_is_whole_rows_in_cron_mail(tmp_path: Path) -> None:
    """The README's morning-report line, piped as cron mails it: one tab-separated line per
    job, the error whole, no box drawing, no cut-off paths."""
    home = tmp_path / "home"
    home.mkdir()
    exe = stand_in(tmp_path)
    failing = tmp_path / "failing"
    failing.mkdir()
    failing_exe = failing / "vidgen"
    failing_exe.write_text(
        exe.read_text().replace(
            "export ", "STAGEKIT_COMPOSITION=fatal\nexport STAGEKIT_COMPOSITION "
        )
    )
    failing_exe.chmod(0o755)
    code, out, err = run_as_cron(f"{PLACEHOLDER} generate --wait", home, failing_exe)
    assert code == 1, (out, err)
    report = next(cmd for _, cmd in cron_lines() if "--status failed" in cmd)
    code, out, err = run_as_cron(report, home, exe)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split("\t")[:3] == ["id", "status", "stage"], out
    row = lines[1].split("\t")
    assert row[:3] == ["1", "failed", "composition"], out
    error = job_error(home, exe, 1)
    assert row[-1] == error and len(error) > 20
    assert not any(ch in out for ch in "│─╭…")


def job_error(home: Path, exe: Path, job_id: int) -> str:
    code, out, err = run_as_cron(f"{PLACEHOLDER} status {job_id} --json", home, exe)
    assert code == 0, err
    return str(json.loads(out)["error_message"])


@pytest.mark.skipif(not VENV_VIDGEN.exists(), reason="needs `make install`'s .venv")
def test_commands_vidgen_prints_work_when_pasted_without_vidgen_on_path(tmp_path: Path) -> None:
    """`make run`'s own command (the venv's vidgen, not on PATH) prints full paths, and the
    printed line runs verbatim in the same (fresh) shell."""
    home = tmp_path / "home"
    home.mkdir()
    env = _fresh_env(home, PYTHONPATH=str(REPO_ROOT / "tests"), VIDGEN_STAGE_PACKAGE="stagekit")
    ran = _sh(f"'{VENV_VIDGEN}' generate --wait", env, home)
    assert ran.returncode == 0, ran.stderr
    follow = next(line for line in ran.stdout.splitlines() if line.startswith("Follow it: "))
    printed = follow.removeprefix("Follow it: ")
    assert printed == f"{VENV_VIDGEN} status 1 --watch"
    pasted = _sh(printed, env, home)
    assert pasted.returncode == 0, pasted.stderr  # completed: --watch ends at once
    # A failed job: the "resume it with" line runs as printed too.
    failing = _sh(
        f"'{VENV_VIDGEN}' generate --wait", {**env, "STAGEKIT_COMPOSITION": "fatal"}, home
    )
    assert failing.returncode == 1
    resume = next(
        line for line in failing.stdout.splitlines() if line.startswith("resume it with: ")
    )
    assert resume == f"resume it with: {VENV_VIDGEN} retry 2"
    retried = _sh(resume.removeprefix("resume it with: "), env, home)
    assert retried.returncode == 0 and "Queued job 2 again" in retried.stdout, retried.stderr
    # The default config is the home's, made from the sample: cron and make run share it.
    assert (home / ".vidgen" / "config.yml").read_text() == (
        REPO_ROOT / "sample-data.yml"
    ).read_text()


@pytest.mark.skipif(not VENV_VIDGEN.exists(), reason="needs `make install`'s .venv")
def test_make_says_how_to_type_vidgen_and_links_it(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = _fresh_env(home)
    advice = _sh(f"make -s -C '{REPO_ROOT}' path-advice", env, home)
    assert advice.returncode == 0, advice.stderr
    assert f"vidgen is not on your PATH: type it as {VENV_VIDGEN}" in advice.stdout
    assert "make link" in advice.stdout
    assert _sh(f"'{VENV_VIDGEN}' --version", env, home).returncode == 0

    linked = _sh(f"make -s -C '{REPO_ROOT}' link", env, home)
    assert linked.returncode == 0, linked.stderr + linked.stdout
    assert (home / ".local" / "bin" / "vidgen").resolve() == VENV_VIDGEN.resolve()
    assert 'export PATH="$HOME/.local/bin:$PATH"' in linked.stdout  # not on PATH yet: says so
    on_path = _fresh_env(home, PATH=f"{home}/.local/bin:/usr/bin:/bin")
    assert _sh("vidgen --version", on_path, home).stdout.startswith("vidgen ")
    assert _sh(f"make -s -C '{REPO_ROOT}' path-advice", on_path, home).stdout == ""
    # A file of the user's own is never replaced.
    (home / ".local" / "bin" / "vidgen").unlink()
    (home / ".local" / "bin" / "vidgen").write_text("mine")
    refused = _sh(f"make -s -C '{REPO_ROOT}' link", env, home)
    assert refused.returncode != 0 and "left alone" in refused.stdout
    assert (home / ".local" / "bin" / "vidgen").read_text() == "mine"


@pytest.mark.skipif(not VENV_VIDGEN.exists(), reason="needs `make install`'s .venv")
def test_make_run_on_a_fresh_home_prints_only_commands_that_work(tmp_path: Path) -> None:
    """The README's first command as a new user types it (the scripted stages stand in for a
    full-size render), then every command it printed, pasted into the same shell."""
    home = tmp_path / "home"
    home.mkdir()
    env = _fresh_env(home, PYTHONPATH=str(REPO_ROOT / "tests"), VIDGEN_STAGE_PACKAGE="stagekit")
    ran = _sh(f"make -s -C '{REPO_ROOT}' run", env, home)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert f"Config: {home}/.vidgen/config.yml" in ran.stdout
    assert f"vidgen is not on your PATH: type it as {VENV_VIDGEN}" in ran.stdout
    printed = [
        line.split(": ", 1)[1]
        for line in ran.stdout.splitlines()
        if line.startswith(("Follow it: ", "review it: ", "resume it with: "))
    ]
    printed.append(f"{VENV_VIDGEN} jobs")  # "type it as ...": the README's next step
    assert printed[0] == f"{VENV_VIDGEN} status 1 --watch"
    for command in printed:
        pasted = _sh(command, env, home)
        assert pasted.returncode == 0, (command, pasted.stdout, pasted.stderr)
    assert "completed" in _sh(f"{VENV_VIDGEN} jobs", env, home).stdout
