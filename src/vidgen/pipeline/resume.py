"""What a resumed job can reuse: the recorded outputs of stages whose files are intact and that
still fit the stage's output model."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from vidgen.files import file_digest
from vidgen.statuses import CheckpointStatus
from vidgen.store import Store, checkpoints

log = logging.getLogger("vidgen.runner")


def files_intact(job_dir: Path, files: dict[str, Any]) -> bool:
    """True if every recorded file still exists with the same size and sha256."""
    for rel, expected in files.items():
        path = job_dir / rel
        try:
            if path.stat().st_size != expected.get("size") or file_digest(path) != expected:
                return False
        except OSError:
            return False
    return True


def file_digests(job_dir: Path, paths: Iterable[Path]) -> dict[str, Any]:
    """{path relative to the job folder: size + sha256} of the files a stage handed on."""
    return {
        str(Path(path).resolve().relative_to(job_dir.resolve())): file_digest(Path(path))
        for path in paths
    }


def reusable_outputs(
    store: Store,
    job_id: int,
    job_dir: Path,
    stage_names: Iterable[str],
    output_model: Callable[[str], type[BaseModel]],
) -> dict[str, BaseModel]:
    """Outputs of the leading stages that completed and whose files are intact, in order,
    validated against each stage's ``output_model(stage)``.

    A stage whose files went missing or changed runs again, and so does everything after it,
    because later stages were built from its outputs. So does a stage whose recorded outputs
    no longer fit its model (recorded by an older vidgen, or damaged).
    """
    latest = checkpoints.latest(store, job_id)
    reuse: dict[str, BaseModel] = {}
    for stage in stage_names:
        checkpoint = latest.get(stage)
        if checkpoint is None or checkpoint.status != CheckpointStatus.COMPLETED:
            break
        if not files_intact(job_dir, checkpoint.files):
            log.warning("job %s: %s files missing or changed; running it again", job_id, stage)
            break
        try:
            reuse[stage] = output_model(stage).model_validate(checkpoint.outputs)
        except ValidationError as exc:
            log.warning(
                "job %s: %s recorded outputs that no longer fit its model (%d problem(s)); "
                "running it again",
                job_id,
                stage,
                exc.error_count(),
            )
            break
    return reuse
