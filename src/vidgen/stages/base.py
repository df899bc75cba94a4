"""What a stage receives and returns.

A stage is a module with ``run(ctx: StageContext) -> StageResult``. It reads the recorded outputs
of earlier stages from ``ctx.outputs`` (on a resume these come from checkpoints, never recomputed),
writes its files under ``ctx.work_dir`` and returns JSON-serialisable outputs. Paths in outputs are
relative to ``ctx.job_dir`` (use ``ctx.rel``) so a job folder can move. Files listed in
``StageResult.files`` are hashed by the runner and verified before a resume reuses them.

Raise ``StageError`` for failures another attempt may fix, ``FatalStageError`` for ones it cannot.
Long work calls ``ctx.check_cancelled()`` (or passes ``ctx`` to ``vidgen.media.ffmpeg.run``) so a
timeout or shutdown stops it promptly.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from vidgen.errors import StageTimeout

if TYPE_CHECKING:
    from vidgen.config import ThemeConfig
    from vidgen.settings import Settings
    from vidgen.store import Store
    from vidgen.store.leases import Lease


@dataclass
class StageContext:
    job_id: int
    stage: str
    attempt: int
    theme: str
    config: ThemeConfig
    settings: Settings
    job_dir: Path
    work_dir: Path
    outputs: Mapping[str, Mapping[str, Any]]
    store: Store  # persist rows through vidgen.store.<table group> functions, never raw SQL
    cancel: threading.Event = field(default_factory=threading.Event)
    deadline: float = float("inf")  # time.monotonic() value
    log: Callable[[str], None] = lambda message: None
    # The job's recorded provider spend before this stage, plus what this stage has spent so far
    # (``add_cost``): what ``check_cost`` compares with ``config.max_cost_usd``.
    spent_usd: float = 0.0
    # The runner's lease on the job: a stage that writes rows for the job itself (review files
    # its video) passes it to the store, which refuses the write once the lease is lost.
    lease: Lease | None = None

    def check_cost(self, estimate: float, what: str) -> None:
        """Call before a paid provider call: fail the stage at once (no retry can help) if the
        call's estimated cost would take the job past ``config.max_cost_usd``. Free calls
        (estimate 0) always pass."""
        limit = self.config.config.max_cost_usd
        if limit is None or estimate <= 0 or self.spent_usd + estimate <= limit:
            return
        from vidgen.errors import FatalStageError

        raise FatalStageError(
            f"{what} would cost about ${estimate:.4f}, taking the job to "
            f"${self.spent_usd + estimate:.4f}, past config.max_cost_usd={limit:g} "
            f"(spent ${self.spent_usd:.4f} so far): raise config.max_cost_usd or use a "
            "local provider"
        )

    def add_cost(self, cost: float) -> None:
        self.spent_usd += cost

    def rel(self, path: Path) -> str:
        """Path relative to the job folder, for outputs."""
        return str(Path(path).resolve().relative_to(self.job_dir.resolve()))

    def path(self, rel: str) -> Path:
        """Absolute path of an output path recorded by an earlier stage."""
        return self.job_dir / rel

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def check_cancelled(self) -> None:
        if self.cancel.is_set() or time.monotonic() > self.deadline:
            raise StageTimeout(f"{self.stage} was stopped (time limit or worker shutdown)")


@dataclass
class StageResult:
    outputs: dict[str, Any]
    files: list[Path] = field(default_factory=list)
    cost: float = 0.0
    # Takes back what the stage published outside its job folder (review: the video row and
    # files) when the runner loses its lease before the checkpoint is recorded.
    undo: Callable[[], None] | None = None


class StageFunction(Protocol):
    def __call__(self, ctx: StageContext) -> StageResult: ...


def load_stage(name: str, package: str = "vidgen.stages") -> StageFunction:
    """Import ``<package>.<name>`` and return its ``run``; imported only when the stage runs.

    ``package`` comes from ``VIDGEN_STAGE_PACKAGE``: a team can replace or wrap stages without
    forking vidgen, and the test suite injects faults the same way.
    """
    try:
        module = import_module(f"{package}.{name}")
    except ModuleNotFoundError as exc:
        from vidgen.errors import FatalStageError

        raise FatalStageError(f"stage module {package}.{name} not found ({exc})") from None
    run: StageFunction = module.run
    return run
