"""What a stage receives and returns.

A stage is a module with ``run(ctx: StageContext) -> StageResult`` and
``class Output(StageOutput)``, the model of what it records. It reads the outputs of earlier
stages typed, with ``ctx.output(<stage module>.Output)`` (on a resume these come from
checkpoints, validated against the same models, never recomputed), writes its files under
``ctx.work_dir`` and returns its ``Output`` in ``StageResult.output``; the runner records
``model_dump(mode="json")`` of it. Paths in outputs are relative to ``ctx.job_dir`` (use
``ctx.rel``) so a job folder can move. Files listed in ``StageResult.files`` are hashed by the
runner and verified before a resume reuses them.

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
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    SerializerFunctionWrapHandler,
    ValidationError,
    model_serializer,
)

from vidgen.errors import StageTimeout

if TYPE_CHECKING:
    from vidgen.config import ThemeConfig
    from vidgen.settings import Settings
    from vidgen.store import Store


class StageOutput(BaseModel):
    """What one stage records: the contract between it and the stages after it.

    Subclasses set ``STAGE`` (the stage's name, which keys its checkpoint) so that
    ``ctx.output(Model)`` knows where to look. Unknown keys are refused: a recorded output that
    no longer fits its model means the stage runs again on resume rather than feeding later
    stages something they were not written for.
    """

    model_config = ConfigDict(extra="forbid")

    STAGE: ClassVar[str] = ""
    # Optional fields the stage records only when it has them: left out of the stored JSON
    # when None instead of written as null, as the stage's dicts always did.
    OMIT_WHEN_NONE: ClassVar[frozenset[str]] = frozenset()

    @model_serializer(mode="wrap")
    def _omit_absent(self, handler: SerializerFunctionWrapHandler) -> Any:
        data = handler(self)
        if isinstance(data, dict):
            for name in self.OMIT_WHEN_NONE:
                if name in data and data[name] is None:
                    del data[name]
        return data


class RecordedOutput(StageOutput):
    """The outputs of a stage module that declares no ``Output`` model (a stage package of a
    team's own, ``VIDGEN_STAGE_PACKAGE``): any JSON object, checked by the stage that reads it
    (``ctx.output`` validates it against that stage's model of it)."""

    model_config = ConfigDict(extra="allow")


OutputT = TypeVar("OutputT", bound=BaseModel)


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
    # Earlier stages' outputs by stage name; read them typed with ``output(Model)``.
    outputs: Mapping[str, BaseModel]
    store: Store  # persist rows through vidgen.store.<table group> functions, never raw SQL
    cancel: threading.Event = field(default_factory=threading.Event)
    deadline: float = float("inf")  # time.monotonic() value
    log: Callable[[str], None] = lambda message: None
    # The job's recorded provider spend before this stage, plus what this stage has spent so far
    # (``add_cost``): what ``check_cost`` compares with ``config.max_cost_usd``.
    spent_usd: float = 0.0

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

    def output(self, model: type[OutputT]) -> OutputT:
        """The recorded outputs of the stage ``model`` belongs to (``model.STAGE``), typed.

        A stage from another stage package may have recorded them with a model of its own:
        they are accepted if they fit ``model``. Missing or unfit outputs fail the job at once
        (``FatalStageError``): no retry of this stage can produce them.
        """
        found, problem = self._find_output(model)
        if found is None:
            from vidgen.errors import FatalStageError

            raise FatalStageError(f"{self.stage} needs the {_stage_of(model)} outputs; {problem}")
        return found

    def optional_output(self, model: type[OutputT]) -> OutputT | None:
        """Like ``output``, but None when they are missing or do not fit ``model``."""
        return self._find_output(model)[0]

    def _find_output(self, model: type[OutputT]) -> tuple[OutputT | None, str]:
        stage = _stage_of(model)
        value = self.outputs.get(stage)
        if value is None:
            return None, "none were recorded for this job"
        if isinstance(value, model):
            return value, ""
        try:
            return model.model_validate(value.model_dump(mode="json")), ""
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "(top)"
            return None, f"the recorded ones do not fit ({where}: {first['msg']}); rerun the job"

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


def _stage_of(model: type[BaseModel]) -> str:
    stage = getattr(model, "STAGE", "")
    if not isinstance(stage, str) or not stage:
        raise TypeError(f"{model.__name__} names no STAGE; set STAGE = '<stage name>' on it")
    return stage


@dataclass
class StageResult:
    # The stage's ``Output`` (any pydantic model for a stage package of a team's own).
    output: BaseModel
    files: list[Path] = field(default_factory=list)
    cost: float = 0.0

    @property
    def outputs(self) -> dict[str, Any]:
        """The JSON object the runner records in the checkpoint (and a resume validates)."""
        return self.output.model_dump(mode="json")


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


def output_model(name: str, package: str = "vidgen.stages") -> type[BaseModel]:
    """The model of what stage ``<package>.<name>`` records: its module's ``Output``, or
    ``RecordedOutput`` (any JSON object) for a module that declares none."""
    try:
        module = import_module(f"{package}.{name}")
    except ModuleNotFoundError:
        return RecordedOutput
    model = getattr(module, "Output", None)
    if isinstance(model, type) and issubclass(model, BaseModel):
        return model
    return RecordedOutput
