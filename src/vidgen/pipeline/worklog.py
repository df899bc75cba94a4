"""The worker's log: one line per runner event, for people (``text``) and log shippers (``json``).

Lines come from the runner events (a listener on ``vidgen.pipeline.signals``), so the worker log
and ``vidgen logs ID`` tell the same story. Every line starts with an ISO-8601 UTC timestamp and
is never wrapped (a plain stream handler: no terminal width, no Rich layout), so a log file,
``journalctl`` or ``grep`` reads it as well as a person does. ``--log-format json`` writes one
JSON object per line with the event's fields (job_id, event, stage, attempt, data).
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, Literal, TextIO

from vidgen.pipeline import signals
from vidgen.statuses import RunnerEvent
from vidgen.store.models import Event

LogFormat = Literal["text", "json"]
EVENT_LOGGER = "vidgen.events"
_EVENT_LEVEL = {
    RunnerEvent.STAGE_FAILED: logging.WARNING,
    RunnerEvent.LEASE_LOST: logging.WARNING,
    RunnerEvent.JOB_FAILED: logging.ERROR,
}


def utc_stamp(created: float) -> str:
    return datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


def event_message(event: Event) -> str:
    """One line saying what happened, e.g. ``job 12 composition attempt 1 done in 4.2 s``."""
    job, stage, attempt = f"job {event.job_id}", event.stage or "", event.attempt
    data = event.data or {}
    at = f"{stage} attempt {attempt}" if attempt is not None else stage
    try:
        kind: RunnerEvent | None = RunnerEvent(event.kind)
    except ValueError:
        kind = None
    if kind is RunnerEvent.JOB_CLAIMED:
        # message: "claimed by <worker id>"
        return f"{job} {event.message}" if event.message else f"{job} claimed"
    if kind is RunnerEvent.STAGE_SKIPPED:
        return f"{job} {stage} skipped (completed before; its recorded outputs are reused)"
    if kind is RunnerEvent.STAGE_STARTED:
        return f"{job} {at} started"
    if kind is RunnerEvent.STAGE_COMPLETED:
        took = float(data.get("duration_seconds") or 0.0)
        cost = float(data.get("cost") or 0.0)
        return f"{job} {at} done in {took:.1f} s, cost ${cost:.4f}"
    if kind is RunnerEvent.STAGE_FAILED:
        return f"{job} {at} failed: {event.message}"
    if kind is RunnerEvent.BACKOFF:
        return f"{job} {at} will be retried: {event.message}"
    if kind is RunnerEvent.LEASE_LOST:
        return f"{job} lease lost during {stage}: another worker declared this one lost; stopping"
    if kind is RunnerEvent.JOB_COMPLETED:
        return f"{job} completed"
    if kind is RunnerEvent.JOB_FAILED:
        return f"{job} failed in {stage}: {event.message}"
    if kind is RunnerEvent.JOB_REQUEUED:
        return f"{job} requeued during {stage} (the worker is stopping; it resumes from there)"
    if kind is RunnerEvent.CANCEL_REQUESTED:
        return f"{job} cancel requested during {stage}"
    if kind is RunnerEvent.JOB_CANCELLED:
        return f"{job} cancelled" + (f" during {stage}" if stage else "")
    if kind is RunnerEvent.JOB_RETRIED:
        return f"{job} queued for retry" + (f" from {stage}" if stage else "")
    if kind is RunnerEvent.RETRY_NOT_QUEUED:
        return f"{job} retry not queued, failed again: {event.message}"
    if kind is RunnerEvent.JOB_REENQUEUED:
        return f"{job} {event.message}"
    return f"{job} {event.kind} {stage} {event.message}".strip()


def event_fields(event: Event) -> dict[str, Any]:
    return {
        "job_id": event.job_id,
        "event": event.kind,
        "event_id": event.id,
        "stage": event.stage,
        "attempt": event.attempt,
        "data": event.data or {},
    }


class TextFormatter(logging.Formatter):
    """``2026-12-01T20:47:03.120Z INFO    job 12 claimed (...)``: one line, ISO UTC time."""

    def format(self, record: logging.LogRecord) -> str:
        message = " ".join(record.getMessage().split())
        line = f"{utc_stamp(record.created)} {record.levelname:<7} {message}"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


class JsonFormatter(logging.Formatter):
    """One JSON object per line: at, level, logger, message and, for events, their fields."""

    def format(self, record: logging.LogRecord) -> str:
        body: dict[str, Any] = {
            "at": utc_stamp(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        body.update(getattr(record, "vidgen_event", None) or {})
        if record.exc_info:
            body["exc"] = self.formatException(record.exc_info)
        return json.dumps(body, ensure_ascii=False, default=str)


class WorkerLog:
    """The worker's log handler plus the event listener that writes a line per event.

    ``requeued`` collects the jobs this process put back in the queue, so the goodbye line says
    which ones (and says nothing of the kind when there were none)."""

    def __init__(self, fmt: LogFormat, verbose: bool, stream: TextIO | None = None) -> None:
        self.handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
        self.handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
        self.verbose = verbose
        self.requeued: list[int] = []
        self.events = logging.getLogger(EVENT_LOGGER)

    def install(self) -> WorkerLog:
        root = logging.getLogger()
        for old in list(root.handlers):
            root.removeHandler(old)
        root.addHandler(self.handler)
        root.setLevel(logging.INFO if self.verbose else logging.WARNING)
        logging.getLogger("vidgen").setLevel(logging.INFO)
        # The runner's own progress lines repeat the events; only --verbose shows them.
        logging.getLogger("vidgen.runner").setLevel(
            logging.INFO if self.verbose else logging.WARNING
        )
        signals.subscribe(self.on_event)
        return self

    def uninstall(self) -> None:
        signals.unsubscribe(self.on_event)
        logging.getLogger().removeHandler(self.handler)

    def on_event(self, event: Event) -> None:
        if event.kind == RunnerEvent.JOB_REQUEUED:
            self.requeued.append(event.job_id)
        level = _EVENT_LEVEL.get(event.kind, logging.INFO)  # type: ignore[call-overload]
        fields = event_fields(event)
        self.events.log(level, "%s", event_message(event), extra={"vidgen_event": fields})
