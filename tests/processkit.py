"""Real ``vidgen`` processes for the process-level tests: each ``Factory`` is one installation
in a temp folder (its own VIDGEN_HOME, scripted ``tests/stagekit`` stages, a short lease, fast
backoff), driven only through subprocesses and read back the way another process would.
Spawned processes run in their own process group and are SIGKILLed at cleanup.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from stagekit import runs_log

TESTS = Path(__file__).resolve().parent
LEASE = 1.5
VIDGEN = [sys.executable, "-m", "vidgen.cli.main"]


class Proc:
    """A spawned vidgen process whose output goes to files (never a full pipe)."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path, logs: Path) -> None:
        self.args = args
        stem = logs / f"{len(list(logs.glob('*.out'))):03d}-{args[0]}"
        self.out_path, self.err_path = Path(f"{stem}.out"), Path(f"{stem}.err")
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.popen = subprocess.Popen(
                [*VIDGEN, *args], env=env, cwd=cwd, stdout=out, stderr=err, start_new_session=True
            )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def wait(self, timeout: float = 60) -> int:
        return self.popen.wait(timeout)

    def alive(self) -> bool:
        return self.popen.poll() is None

    @property
    def out(self) -> str:
        return self.out_path.read_text(errors="replace")

    @property
    def err(self) -> str:
        return self.err_path.read_text(errors="replace")

    def kill_group(self) -> None:
        """SIGKILL the process and anything it started (ffmpeg), like the OOM killer would."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, signal.SIGKILL)  # also children left behind by the leader
        self.popen.wait(10)


class Factory:
    """One vidgen installation in a temp folder, driven only through subprocesses."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.home = root / "home"
        self.cwd = root / "cwd"
        self.logs = root / "logs"
        for folder in (self.home, self.cwd, self.logs):
            folder.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VIDGEN_", "STAGEKIT_"))}
        pythonpath = [str(TESTS), env.get("PYTHONPATH", "")]
        env.update(
            VIDGEN_HOME=str(self.home),
            VIDGEN_STAGE_PACKAGE="stagekit",
            VIDGEN_PROFILE="preview",
            VIDGEN_LEASE_SECONDS=str(LEASE),
            VIDGEN_BACKOFF_BASE="0.01",
            VIDGEN_BACKOFF_MAX="0.05",
            PYTHONPATH=os.pathsep.join(p for p in pythonpath if p),
            COLUMNS="200",
        )
        self.env = env
        self.procs: list[Proc] = []

    # -- processes -------------------------------------------------------------------------

    def spawn(self, *args: str, **extra_env: str) -> Proc:
        proc = Proc(list(args), {**self.env, **extra_env}, self.cwd, self.logs)
        self.procs.append(proc)
        return proc

    def vidgen(self, *args: str, timeout: float = 60, **extra_env: str) -> Proc:
        proc = self.spawn(*args, **extra_env)
        proc.wait(timeout)
        return proc

    def worker(self, *args: str, **extra_env: str) -> Proc:
        return self.spawn("worker", *args, **extra_env)

    def generate(self, **extra_env: str) -> int:
        proc = self.vidgen("generate", "--json", **extra_env)
        assert proc.popen.returncode == 0, proc.err
        return int(json.loads(proc.out)["job_id"])

    def retry(self, job_id: int) -> dict[str, Any]:
        proc = self.vidgen("retry", str(job_id), "--json")
        assert proc.popen.returncode == 0, proc.err
        body: dict[str, Any] = json.loads(proc.out)
        return body

    def cleanup(self) -> None:
        for proc in self.procs:
            proc.kill_group()

    def all_output(self) -> str:
        return "".join(p.out + p.err for p in self.procs)

    # -- reading state (directly, as another process would) ------------------------------------

    def _query(self, sql: str, *params: Any) -> list[Any]:
        url = self.env.get("VIDGEN_DATABASE_URL", "")
        if url and not url.startswith("sqlite"):
            return _query_url(url, sql, *params)
        conn = sqlite3.connect(self.home / "vidgen.db", timeout=30)
        conn.row_factory = sqlite3.Row
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()

    def job(self, job_id: int) -> dict[str, Any]:
        rows = self._query("SELECT * FROM job WHERE id = ?", job_id)
        return dict(rows[0]) if rows else {}

    def status(self, job_id: int) -> str | None:
        return self.job(job_id).get("status")

    def checkpoints(self, job_id: int) -> list[dict[str, Any]]:
        rows = self._query("SELECT * FROM checkpoint WHERE job_id = ? ORDER BY id", job_id)
        return [dict(row) for row in rows]

    def queued_messages(self) -> int:
        conn = sqlite3.connect(self.home / "queue.db", timeout=30)
        try:
            return int(conn.execute("SELECT count(*) FROM task").fetchone()[0])
        finally:
            conn.close()

    def runs(self, job_id: int) -> Counter[str]:
        return Counter(stage for stage, jid, _ in runs_log(self.home) if jid == job_id)

    def wait_for(self, predicate: Callable[[], bool], timeout: float, what: str) -> float:
        """Poll until ``predicate()``; returns the seconds it took. Fails with the process logs."""
        started = time.monotonic()
        while not predicate():
            if time.monotonic() - started > timeout:
                tails = "\n".join(
                    f"--- {' '.join(p.args)} (pid {p.pid}, rc {p.popen.poll()})\n"
                    f"{p.out[-1500:]}{p.err[-3000:]}"
                    for p in self.procs
                )
                raise AssertionError(f"timed out after {timeout} s waiting for {what}\n{tails}")
            time.sleep(0.05)
        return time.monotonic() - started

    def wait_status(self, job_id: int, status: str, timeout: float = 60) -> float:
        return self.wait_for(
            lambda: self.status(job_id) == status, timeout, f"job {job_id} to be {status}"
        )

    def wait_inside(self, stage: str, timeout: float = 60) -> None:
        marker = self.home / f"inside-{stage}"
        self.wait_for(marker.exists, timeout, f"a worker to be inside {stage}")


# -- services the scale-out tests start themselves ---------------------------------------------


def redis_server_exe() -> str | None:
    search = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    return shutil.which("redis-server", path=search)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    def __init__(self, exe: str, folder: Path) -> None:
        self.exe, self.folder, self.port = exe, folder, _free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / "redis.log", "ab") as log:
            self.proc = subprocess.Popen(
                [self.exe, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no", "--dir", str(self.folder)],
                stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError((self.folder / "redis.log").read_text()[-2000:])
            time.sleep(0.05)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


_engines: dict[str, Any] = {}


def _query_url(url: str, sql: str, *params: Any) -> list[Any]:
    """``_query`` against a database server: rows as mappings, ``?`` placeholders as in sqlite3."""
    from sqlalchemy import create_engine, text

    # pool_pre_ping: a test may restart the server (tests/test_pg_outage.py).
    engine = _engines.get(url) or _engines.setdefault(url, create_engine(url, pool_pre_ping=True))
    names = [f"p{i}" for i in range(len(params))]
    for name in names:
        sql = sql.replace("?", f":{name}", 1)
    with engine.connect() as conn:
        rows = conn.execute(text(sql), dict(zip(names, params, strict=True)))
        return [row._mapping for row in rows]
