"""One settings object, read from ``VIDGEN_*`` environment variables.

Where things live (home folder, job store, queue, outputs) and how hard the runner tries
(attempts, backoff, timeouts, leases). Another backend is a settings change, not a code change.
A bad value is reported as one line naming the variable and what it should be.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from vidgen.errors import InvalidInput

ENV_PREFIX = "VIDGEN_"


def default_home() -> Path:
    return Path.home() / ".vidgen"


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    home: Path = Field(default_factory=default_home, description="State folder (VIDGEN_HOME)")
    database_url: str = Field("", description="SQLAlchemy URL of the job store")
    queue_url: str = Field("", description="sqlite:///path or redis://host:port/db")
    output_dir: Path | None = Field(None, description="Where review/approved/rejected live")
    themes_dir: Path | None = Field(None, description="The only folder HTTP config_path may name")
    config: Path | None = Field(None, description="Default theme config (VIDGEN_CONFIG)")
    profile: Literal["full", "preview"] | None = Field(
        None, description="Override the config's render profile"
    )
    stage_attempts: int = Field(3, ge=1, le=20)
    backoff_base: float = Field(2.0, ge=0, le=3600)
    backoff_max: float = Field(60.0, ge=0, le=86400)
    # Floors: a lease of 1e-300 s expires before the claim commits (every job "lost" at once),
    # a busy timeout of 1e-9 s makes every concurrent write fail, a sub-second stage timeout
    # fails every real stage. Tests use a 1.5 s lease, well above the floor.
    stage_timeout: float = Field(900.0, ge=1, le=86400)
    lease_seconds: float = Field(60.0, ge=1, le=86400)
    busy_timeout: float = Field(30.0, ge=0.1, le=3600)
    daily_budget_usd: float | None = Field(
        None, ge=0, le=1_000_000, description="Refuse new paid jobs once today's spend reaches it"
    )
    prune_after: str | None = Field(
        None,
        pattern=r"^\s*(\d{1,9}[smhdwSMHDW])+\s*$",
        description="Workers delete work files of jobs that ended longer ago than this",
    )
    webhook_url: str | None = Field(
        None,
        pattern=r"^https?://\S+$",
        description="POST each job's status body here when it completes, fails or is cancelled",
    )
    api_token: str | None = Field(
        None,
        pattern=r"^[\x21-\x7e]+$",
        description="Bearer token for the HTTP shim: printable ASCII, no spaces",
    )
    stage_package: str = Field(
        "vidgen.stages",
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$",
        description="Package the stage modules are imported from (custom stages, tests)",
    )

    @field_validator("home", "output_dir", "themes_dir", mode="after")
    @classmethod
    def _folder_or_absent(cls, path: Path | None) -> Path | None:
        # Caught here, every command says which variable is wrong; otherwise the first mkdir
        # under it fails with an OSError somewhere deep in a stage.
        if path is not None and path.exists() and not path.is_dir():
            raise ValueError(f"{path} is a file, not a folder")
        return path

    @field_validator("database_url", mode="after")
    @classmethod
    def _not_in_memory(cls, url: str) -> str:
        # An in-memory SQLite database lives and dies with one connection of one process:
        # generate would print a job id that no other command (or worker) can ever see.
        if url and is_in_memory_sqlite(url):
            raise ValueError(
                "it names an in-memory SQLite database, which every other process sees empty "
                "(jobs would be lost); point it at a file such as sqlite:////path/to/vidgen.db"
            )
        return url

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.home / 'vidgen.db'}"

    @property
    def queue(self) -> str:
        return self.queue_url or f"sqlite:///{self.home / 'queue.db'}"

    @property
    def output_root(self) -> Path:
        return self.output_dir or self.home / "output"

    @property
    def themes_root(self) -> Path:
        return self.themes_dir or self.home / "themes"

    @property
    def jobs_dir(self) -> Path:
        return self.home / "jobs"

    @property
    def heartbeat_seconds(self) -> float:
        return max(0.05, self.lease_seconds / 4)

    @property
    def worker_beat_seconds(self) -> float:
        """How often a worker reports in, reaps lost jobs and checks its queue file."""
        return min(5.0, self.heartbeat_seconds)


def is_in_memory_sqlite(url: str) -> bool:
    """True for the SQLAlchemy/SQLite URL forms that open a private in-memory database:
    ``sqlite://``, ``sqlite:///``, ``sqlite:///:memory:``, ``file::memory:`` and any
    ``mode=memory`` URI (parsed by hand: settings must not import SQLAlchemy)."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.lower().split("+")[0] != "sqlite":
        return False
    path = rest.partition("?")[0]
    database = path[1:] if path.startswith("/") else path  # sqlite:///x -> "x"
    if "mode=memory" in url.lower().replace("%3d", "="):
        return True
    return database.removeprefix("file:").startswith(":memory:") or database in ("", "file:")


def _field_env_name(name: str) -> str:
    return ENV_PREFIX + name.upper()


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    """Build settings from the environment; raise InvalidInput naming the bad variable."""
    env = os.environ if environ is None else environ
    raw: dict[str, Any] = {}
    for name in Settings.model_fields:
        value = env.get(_field_env_name(name))
        if value is not None and value != "":
            raw[name] = os.path.expanduser(value) if name in _PATH_FIELDS else value
    try:
        return Settings(**raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = str(err["loc"][0]) if err["loc"] else "?"
        var = _field_env_name(field)
        msg = str(err["msg"]).removeprefix("Value error, ")
        if err["type"] == "string_pattern_mismatch":  # a regex means nothing to most users
            msg = f"it must be {_PATTERN_MEANING.get(field, 'in the documented format')}"
        elif field in _SECONDS_FIELDS and err["type"] in ("greater_than_equal", "less_than_equal"):
            bound = (err.get("ctx") or {}).get("ge", (err.get("ctx") or {}).get("le"))
            side = "at least" if err["type"] == "greater_than_equal" else "at most"
            msg = f"it must be {side} {bound:g} s"
        shown = "(hidden)" if field == "api_token" else repr(env.get(var, ""))
        raise InvalidInput(f"{var}={shown} is invalid: {msg}. Fix or unset {var}.") from None


_PATTERN_MEANING = {
    "api_token": "printable ASCII with no spaces, e.g. from: openssl rand -hex 32",
    "stage_package": "a dotted Python package name such as vidgen.stages",
    "webhook_url": "an http:// or https:// URL such as https://example.com/hooks/vidgen",
    "prune_after": "a duration: a number and a unit, like 14d, 12h or 30m",
}


_SECONDS_FIELDS = {"stage_timeout", "lease_seconds", "busy_timeout", "backoff_base", "backoff_max"}
_PATH_FIELDS = {"home", "output_dir", "themes_dir", "config"}
