"""The stages' typed outputs: every stage declares one, docs/ARCHITECTURE.md states them as they
are, what is stored is the same JSON as ever, and a resume reruns a stage whose record no
longer fits its model.

Regenerate the documented list after changing a model with
``PYTHONPATH=src python tests/test_stage_outputs.py`` (from the repository root).
"""

from __future__ import annotations

import types
import typing
from datetime import UTC, datetime
from importlib import import_module
from pathlib import Path
from typing import Any, get_args, get_origin

import pytest
from pydantic import BaseModel

from vidgen.stages import PIPELINE_STAGES
from vidgen.stages.base import (
    RecordedOutput,
    StageContext,
    StageOutput,
    StageResult,
    output_model,
)

ROOT = Path(__file__).resolve().parents[1]
ARCHITECTURE = ROOT / "docs" / "ARCHITECTURE.md"
BEGIN = "<!-- stage outputs: generated from the Output models (tests/test_stage_outputs.py) -->"
END = "<!-- end of stage outputs -->"
WIDTH = 100


def type_text(annotation: Any, module: str, local: list[type[BaseModel]] | None = None) -> str:
    """A field's type as the docs write it. Models of other packages are named with their
    module; models of the stage's own module by name, collected in ``local`` to be listed."""
    if annotation is type(None):
        return "None"
    if annotation is Any:
        return "Any"
    origin, args = get_origin(annotation), get_args(annotation)
    if origin in (types.UnionType, typing.Union):
        return " | ".join(type_text(arg, module, local) for arg in args)
    if origin is not None:
        inner = ", ".join(type_text(arg, module, local) for arg in args)
        return f"{origin.__name__}[{inner}]"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation.__module__ != module:
            return f"{annotation.__name__} ({annotation.__module__})"
        if local is not None and annotation not in local:
            local.append(annotation)
        return annotation.__name__
    return str(annotation.__name__)


def field_texts(
    model: type[BaseModel], module: str, local: list[type[BaseModel]] | None = None
) -> list[str]:
    """``name: type`` per field, in order; ``name?`` for one left out of the record when None."""
    omitted = getattr(model, "OMIT_WHEN_NONE", frozenset())
    texts = []
    for name, field in model.model_fields.items():
        optional = "?" if name in omitted else ""
        texts.append(f"{name}{optional}: {type_text(field.annotation, module, local)}")
    return texts


def _wrap(tokens: list[str], first: str, indent: str, sep: str) -> list[str]:
    """Greedy wrap that never breaks inside a token (a field and its type, or a word)."""
    lines, line = [], first
    for i, token in enumerate(tokens):
        piece = token + (sep if i < len(tokens) - 1 else "")
        if line.strip() and len(line) + 1 + len(piece) > WIDTH:
            lines.append(line)
            line = indent + piece
        elif line.strip():
            line = f"{line} {piece}"
        else:
            line += piece
    lines.append(line)
    return lines


def documented_outputs() -> str:
    """The outputs list of docs/ARCHITECTURE.md, as the models state it."""
    lines = [BEGIN]
    for stage in PIPELINE_STAGES:
        model = output_model(stage)
        module = model.__module__
        local: list[type[BaseModel]] = []
        lines.append("")
        lines.append(f"- `{stage}` (`{module}.Output`):")
        fields = [f"`{text}`" for text in field_texts(model, module, local)]
        lines.extend(_wrap(fields, "  ", "  ", ","))
        for nested in local:  # grows while it is walked: nested models of nested models
            fields = [f"`{text}`" for text in field_texts(nested, module, local)]
            lines.extend(_wrap(fields, f"  - `{nested.__name__}`:", "    ", ","))
        doc = " ".join((model.__doc__ or "").split())
        if doc:
            lines.append("")
            lines.extend(_wrap(doc.split(" "), "  ", "  ", ""))
    lines.append("")
    lines.append(END)
    return "\n".join(lines)


def _documented_in_file() -> str:
    text = ARCHITECTURE.read_text(encoding="utf-8")
    assert BEGIN in text and END in text, f"{ARCHITECTURE} lost its generated outputs block"
    return text[text.index(BEGIN) : text.index(END) + len(END)]


def test_every_stage_declares_its_output_model() -> None:
    for stage in PIPELINE_STAGES:
        model = getattr(import_module(f"vidgen.stages.{stage}"), "Output", None)
        assert isinstance(model, type) and issubclass(model, StageOutput), stage
        assert stage == model.STAGE
        assert output_model(stage) is model
        assert model.model_config.get("extra") == "forbid"
        assert model.__doc__, f"{stage}'s Output needs a docstring: the docs quote it"


def test_architecture_doc_lists_the_models() -> None:
    expected = documented_outputs()
    assert _documented_in_file() == expected, (
        "docs/ARCHITECTURE.md's stage outputs differ from the models; "
        "run `python tests/test_stage_outputs.py` to rewrite them"
    )


def test_the_doc_check_sees_names_and_types() -> None:
    class Nested(BaseModel):
        path: str

    class Before(StageOutput):
        width: int
        clips: list[Nested]
        note: str | None = None

    class After(StageOutput):
        width: float
        clips: list[Nested]
        notes: str | None = None

    here = __name__
    local: list[type[BaseModel]] = []
    assert field_texts(Before, here, local) == [
        "width: int", "clips: list[Nested]", "note: str | None"
    ]  # fmt: skip
    assert local == [Nested]
    assert field_texts(After, here) == ["width: float", "clips: list[Nested]", "notes: str | None"]
    assert type_text(datetime, here) == "datetime"


def test_a_module_without_a_model_records_any_object() -> None:
    # A stage package of a team's own (VIDGEN_STAGE_PACKAGE) need not declare models.
    assert output_model("trend_collection", "stagekit") is RecordedOutput
    assert output_model("no_such_stage") is RecordedOutput
    recorded = RecordedOutput.model_validate({"file": "x.txt", "saw": []})
    assert recorded.model_dump(mode="json") == {"file": "x.txt", "saw": []}


def test_records_are_the_stage_dicts_key_for_key() -> None:
    from vidgen.stages import composition, review, trend_collection

    collected = trend_collection.Output(
        source="sample", fetched=3, new=2, updated=1, trend_ids=[1, 2, 3],
        platforms={"tiktok": 2, "youtube": 1},
    )  # fmt: skip
    result = StageResult(output=collected)
    assert list(result.outputs) == ["source", "fetched", "new", "updated", "trend_ids", "platforms"]
    # Optional outputs are left out when absent, never stored as null.
    composed = composition.Output(
        video_path="composition/attempt-1/video.mp4",
        thumbnail_path="composition/attempt-1/thumbnail.jpg",
        duration=6.5, width=360, height=640, video_codec="h264", audio_codec="aac",
        size_bytes=1000, assets=[], attribution=None,
    )  # fmt: skip
    assert "subtitles_path" not in StageResult(output=composed).outputs
    with_srt = composed.model_copy(update={"subtitles_path": "composition/attempt-1/c.srt"})
    assert list(StageResult(output=with_srt).outputs) == [
        "video_path", "thumbnail_path", "duration", "width", "height", "video_codec",
        "audio_codec", "size_bytes", "subtitles_path", "assets", "attribution",
    ]  # fmt: skip
    assert composition.Output.model_validate(with_srt.model_dump(mode="json")) == with_srt
    # An unknown key is refused: the record is not what this vidgen's stages wrote.
    with pytest.raises(ValueError, match="extra"):
        review.Output.model_validate(
            {"video_id": 1, "video_path": "a", "thumbnail_path": "b", "log_path": "c",
             "status": "pending_review", "surprise": 1}
        )  # fmt: skip


def test_ctx_output_reads_typed_and_refuses_what_does_not_fit(
    stage_context: Any,
) -> None:
    from vidgen.errors import FatalStageError
    from vidgen.stages import trend_collection

    record = {"source": "sample", "fetched": 1, "new": 1, "updated": 0, "trend_ids": [7],
              "platforms": {"tiktok": 1}}  # fmt: skip
    ctx: StageContext = stage_context("trend_analysis", {"trend_collection": record})
    collected = ctx.output(trend_collection.Output)
    assert collected.trend_ids == [7]
    # Another package's model with the same fields is accepted (and converted).
    ctx.outputs = {"trend_collection": RecordedOutput.model_validate(record)}
    assert ctx.output(trend_collection.Output) == collected
    ctx.outputs = {"trend_collection": RecordedOutput.model_validate({**record, "trend_ids": "x"})}
    assert ctx.optional_output(trend_collection.Output) is None
    with pytest.raises(FatalStageError, match=r"trend_ids.*rerun the job"):
        ctx.output(trend_collection.Output)
    ctx.outputs = {}
    with pytest.raises(FatalStageError, match="none were recorded"):
        ctx.output(trend_collection.Output)


def test_resume_reruns_a_stage_whose_record_no_longer_fits(tmp_path: Path, store: Any) -> None:
    from vidgen.pipeline.resume import reusable_outputs
    from vidgen.stages import trend_collection
    from vidgen.store.models import Checkpoint, Job

    good = {"source": "sample", "fetched": 1, "new": 1, "updated": 0, "trend_ids": [7],
            "platforms": {"tiktok": 1}}  # fmt: skip
    with store.write() as session:
        job = Job(theme="t", config_path="c.yaml")
        session.add(job)
        session.flush()
        job_id = job.id
        now = datetime.now(UTC)
        for stage, outputs in [
            ("trend_collection", good),
            ("trend_analysis", {"report_id": 1}),  # recorded by an older vidgen, say
            ("content_generation", {}),
        ]:
            session.add(
                Checkpoint(job_id=job_id, stage=stage, attempt=1, status="completed",
                           started_at=now, finished_at=now, outputs=outputs)
            )  # fmt: skip
    reused = reusable_outputs(store, job_id, tmp_path, PIPELINE_STAGES, output_model)
    # trend_analysis runs again, and so does everything after it.
    assert list(reused) == ["trend_collection"]
    assert isinstance(reused["trend_collection"], trend_collection.Output)
    assert reused["trend_collection"].trend_ids == [7]


def _rewrite() -> None:
    text = ARCHITECTURE.read_text(encoding="utf-8")
    old = _documented_in_file()
    ARCHITECTURE.write_text(text.replace(old, documented_outputs()), encoding="utf-8")


if __name__ == "__main__":
    _rewrite()
