"""The service layer: what every CLI command and HTTP route calls.

Functions take validated-but-raw user values, do the work against the store and queue, and return
the pydantic response models from ``vidgen.schemas``. They raise only ``vidgen.errors`` types;
the edges turn those into exit codes or HTTP statuses. Nothing here prints.
"""

from __future__ import annotations

import logging
import stat
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from vidgen.config import ThemeConfig, load_config, load_yaml, resolve_config_path
from vidgen.errors import InvalidInput, NotFound, Refused, VidgenError
from vidgen.files import Swept
from vidgen.pipeline import report
from vidgen.schemas import (
    BatchEntry,
    BatchTriggerResponse,
    GenerateSkippedResponse,
    HealthResponse,
    JobCancelResponse,
    JobCard,
    JobCardListResponse,
    JobDetailResponse,
    JobEvent,
    JobListResponse,
    JobLogEvent,
    JobLogResponse,
    JobRetryResponse,
    JobStatusResponse,
    PipelineTriggerResponse,
    PlanScene,
    PlanSummary,
    PruneResponse,
    RecoverResponse,
    StageDetail,
    VideoFileResponse,
)
from vidgen.settings import Settings
from vidgen.stages import PIPELINE_STAGES
from vidgen.store import (
    Store,
    checkpoints,
    events,
    get_store,
    jobs,
    public_url,
    trends,
    videos,
    workers,
)
from vidgen.store.status import CheckpointStatus, JobStatus, RunnerEvent

if TYPE_CHECKING:
    from vidgen.pipeline.follow import Following
    from vidgen.pipeline.worker import WorkerHost
    from vidgen.pipeline.worklog import WorkerLog
    from vidgen.review import JobPageResponse, VideoListResponse, VideoResponse
    from vidgen.store.models import Job

log = logging.getLogger("vidgen.service")

MAX_LIMIT = 1000
MAX_OFFSET = 10**9
MAX_JOB_ID = 2**63 - 1
STATUS_NAMES = tuple(status.value for status in JobStatus)


# -- validation of raw values -----------------------------------------------------------------


def check_job_id(job_id: int) -> int:
    if not 1 <= job_id <= MAX_JOB_ID:
        raise NotFound(f"Job {job_id} not found (job ids are positive whole numbers)")
    return job_id


def check_status(status: str | None) -> str | None:
    if status is None:
        return None
    if status not in STATUS_NAMES:
        raise InvalidInput(f"unknown status {status!r}: use one of {', '.join(STATUS_NAMES)}")
    return status


def check_page(limit: int, offset: int) -> None:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT} (got {limit})")
    if not 0 <= offset <= MAX_OFFSET:
        raise InvalidInput(f"offset must be between 0 and {MAX_OFFSET} (got {offset})")


def check_theme(theme: str | None) -> str | None:
    if theme is None:
        return None
    if not theme.strip():
        raise InvalidInput(
            "theme is empty: give a theme such as 'Product Demo', or none for the default"
        )
    if len(theme) > 200:
        raise InvalidInput(f"theme is {len(theme)} characters long: keep it to 200 or fewer")
    bad = [ch for ch in theme if ord(ch) < 32 and ch not in "\n\t"]
    if bad:
        raise InvalidInput(f"theme contains control character {bad[0]!r}: remove it")
    check_utf8("theme", theme)
    return theme


def check_utf8(what: str, text: str) -> str:
    """Refuse text that cannot be stored: bytes from argv that are not UTF-8 arrive as lone
    surrogates (Python's surrogateescape), and the store's encoder would crash on them."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        char = text[exc.start]
        byte = f"byte 0x{ord(char) - 0xDC00:02x}" if 0xDC80 <= ord(char) <= 0xDCFF else repr(char)
        raise InvalidInput(
            f"{what} is not valid UTF-8 text ({byte} at position {exc.start}); "
            "pass it as UTF-8 (check the terminal's or cron's locale)"
        ) from None
    return text


def check_stage_package(package: str) -> None:
    """Refuse a job up front rather than queue one no worker can run."""
    import importlib.util

    try:
        found = importlib.util.find_spec(package) is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        raise InvalidInput(
            f"VIDGEN_STAGE_PACKAGE={package!r} cannot be imported: install that package "
            "or unset VIDGEN_STAGE_PACKAGE to use vidgen.stages"
        )


def confined_config_path(raw: str, themes_root: Path) -> Path:
    """An HTTP config_path must name a file inside the themes folder, after resolving links."""
    if "\x00" in raw:
        raise InvalidInput("config_path contains a NUL byte")
    try:
        root = themes_root.resolve()
        candidate = Path(raw)
        if not candidate.is_absolute():
            candidate = root / candidate
        resolved = candidate.resolve()
    except (RuntimeError, OSError) as exc:  # RuntimeError: a symlink loop (Python 3.11)
        raise InvalidInput(
            f"config_path {raw!r} cannot be resolved ({exc}); fix the link or pass another name"
        ) from None
    if not resolved.is_relative_to(root):
        raise InvalidInput(
            f"config_path {raw!r} is outside the themes folder {root}; "
            "put the config there and pass its name"
        )
    try:
        is_file = resolved.is_file()
    except OSError as exc:  # ENAMETOOLONG (a component over 255 bytes), EACCES on a folder...
        raise InvalidInput(
            f"config_path {raw[:80]!r}{'...' if len(raw) > 80 else ''} cannot be used "
            f"({exc.strerror}); pass the name of a YAML file in the themes folder"
        ) from None
    if not is_file:  # load_config's wording ("pass --config") is for the CLI
        raise InvalidInput(
            f"config_path {raw!r} is not a file in the themes folder {root}; "
            "put the YAML file there and pass its name"
        )
    return resolved


# -- reading jobs ---------------------------------------------------------------------------


# One definition of the status body (the webhook sends it too): vidgen.pipeline.report.
_completed_by_job = report.completed_by_job
_iso = report.iso
to_status = report.to_status


def _get_job(store: Store, job_id: int) -> Job:
    check_job_id(job_id)
    job = jobs.get(store, job_id)
    if job is None:
        raise NotFound(f"Job {job_id} not found")
    return job


def job_status(settings: Settings, job_id: int) -> JobStatusResponse:
    store = get_store(settings)
    job = _get_job(store, job_id)
    return to_status(job, _completed_by_job(store, [job_id])[job_id])


def list_jobs(
    settings: Settings, status: str | None = None, limit: int = 20, offset: int = 0
) -> JobListResponse:
    check_status(status)
    check_page(limit, offset)
    store = get_store(settings)
    found = jobs.newest(store, status, limit, offset)
    total = jobs.count(store, status)
    completed = _completed_by_job(store, [job.id for job in found if job.id is not None])
    items = [to_status(job, completed[job.id]) for job in found if job.id is not None]
    return JobListResponse(count=len(items), total=total, jobs=items)


def job_changes(settings: Settings, job_id: int) -> str:
    """A token that changes whenever ``job_detail`` would show something new (a move, a stage
    starting, ending or backing off): followers poll this and re-read the detail only then."""
    marker = jobs.change_marker(get_store(settings), job_id)
    if marker is None:
        raise NotFound(f"Job {job_id} not found")
    return f"{marker[0].isoformat()}/{marker[1]}"


def job_detail(settings: Settings, job_id: int) -> JobDetailResponse:
    """Status plus every stage's latest checkpoint, cost and the video, for people."""
    store = get_store(settings)
    job = _get_job(store, job_id)
    latest = checkpoints.latest(store, job_id)
    video = videos.for_job(store, job_id)
    stages = []
    for name in PIPELINE_STAGES:
        cp = latest.get(name)
        stages.append(
            StageDetail(
                stage=name,
                # A superseded attempt (retry --from-stage) runs again: the stage is waiting.
                state="waiting" if cp is None or cp.status == "superseded" else cp.status,
                attempt=cp.attempt if cp else None,
                started_at=_iso(cp.started_at) if cp else None,
                finished_at=_iso(cp.finished_at) if cp else None,
                duration_seconds=cp.duration_seconds if cp else None,
                cost=cp.cost if cp else 0.0,
                error=cp.error if cp else None,
            )
        )
    completed = [s.stage for s in stages if s.state == CheckpointStatus.COMPLETED.value]
    base = to_status(job, completed)
    return JobDetailResponse(
        **base.model_dump(),
        config_path=job.config_path,
        profile=job.profile,
        total_cost=round(checkpoints.total_cost(store, job_id), 6),
        stages=stages,
        video_path=video.video_path if video else None,
    )


# -- changing jobs --------------------------------------------------------------------------


@dataclass(frozen=True)
class _NewJob:
    """A job request that passed every check; nothing is recorded until all of a batch pass."""

    theme: str
    config_path: Path
    paid: tuple[str, ...]
    profile: str


def _check_job_request(
    settings: Settings, theme: str | None, config_path: str | None, *, confine_config: bool
) -> _NewJob:
    """Everything that can be known before a job is queued: theme, config, the files it names."""
    check_theme(theme)
    if config_path is not None and not config_path.strip():
        config_path = None  # like an empty --config: the default lookup, over HTTP too
    if config_path is not None:
        check_utf8("config path", config_path)
    if confine_config and config_path is not None:
        path = confined_config_path(config_path, settings.themes_root)
    else:
        path = resolve_config_path(config_path, settings.config)
    config = load_config(path)  # raises InvalidInput with file, field and reason
    config.check_files()
    return _NewJob(
        # Without a theme the job records the config's own theme, so `vidgen jobs` says what
        # the video is about instead of "default".
        theme=theme if theme is not None else config.config.theme,
        config_path=path,
        paid=paid_providers(config),
        profile=settings.profile or config.config.profile,
    )


def generate(
    settings: Settings,
    theme: str | None = None,
    config_path: str | None = None,
    *,
    confine_config: bool = False,
    skip_if_queued: bool = False,
) -> PipelineTriggerResponse | GenerateSkippedResponse:
    """Validate the config, record a pending job, enqueue it and return at once.

    With ``skip_if_queued``, a pending or running job for the same theme and config file means
    nothing is queued (a cron overlap guard); the check and the insert share one transaction.
    """
    check_stage_package(settings.stage_package)
    new = _check_job_request(settings, theme, config_path, confine_config=confine_config)
    store = get_store(settings)
    check_daily_budget(settings, store, [new])
    if skip_if_queued:
        job_id, existing = jobs.create_unless_active(
            store, new.theme, str(new.config_path), new.profile
        )
        if existing is not None:
            assert existing.id is not None
            return GenerateSkippedResponse(
                job_id=existing.id,
                job_status=existing.status,
                theme=existing.theme,
                poll_url=f"/api/jobs/{existing.id}",
                message=f"Job {existing.id} for theme {existing.theme!r} is already "
                f"{existing.status}; nothing queued",
            )
    else:
        job_id = jobs.create(store, new.theme, str(new.config_path), new.profile)
    return _enqueue_new(settings, store, [job_id])[0]


MAX_BATCH = 100


def load_batch_file(raw_path: str) -> list[BatchEntry]:
    """Read a YAML or JSON list of ``{theme, config}`` entries; InvalidInput names the entry."""
    import yaml
    from pydantic import ValidationError

    path = Path(raw_path).expanduser()
    where = str(path)
    try:
        mode = path.stat().st_mode
        if not stat.S_ISREG(mode):
            raise InvalidInput(
                f"{where}: not a regular file; pass --batch with a YAML or JSON file"
            )
        if path.stat().st_size > 1_000_000:
            raise InvalidInput(f"{where}: larger than 1 MB; a batch file is a short list")
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInput(
            f"{where}: batch file not found; pass --batch with an existing file"
        ) from None
    except UnicodeDecodeError:
        raise InvalidInput(f"{where}: not UTF-8 text; save the file as UTF-8") from None
    except OSError as exc:
        raise InvalidInput(f"{where}: cannot read the batch file ({exc.strerror})") from None
    try:
        # JSON is YAML, so one parser reads both: the configs' guarded one (no alias bombs,
        # no RecursionError on deep nesting, duplicate keys refused, not silently dropped).
        data = load_yaml(text)
    except (yaml.YAMLError, ValueError) as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or " ".join(str(exc).split())
        raise InvalidInput(f"{where}: invalid YAML/JSON{at}: {problem}") from None
    if isinstance(data, dict) and set(data) == {"jobs"}:
        data = data["jobs"]
    if not isinstance(data, list):
        raise InvalidInput(
            f"{where}: expected a list of entries like "
            "- {theme: 'Product Demo', config: theme.yml}"
        )
    entries: list[BatchEntry] = []
    for index, item in enumerate(data):
        try:
            entry = BatchEntry.model_validate(item)
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(part) for part in err["loc"]) or "(entry)"
            msg = str(err["msg"])
            raise InvalidInput(
                f"{where}: entry {index + 1} of {len(data)}: {field}: {msg}"
            ) from None
        if entry.config is not None and not Path(entry.config).expanduser().is_absolute():
            # Relative config paths in a batch file are relative to the batch file.
            entry = entry.model_copy(
                update={"config": str(path.absolute().parent / Path(entry.config).expanduser())}
            )
        entries.append(entry)
    return entries


def generate_batch(
    settings: Settings, entries: list[BatchEntry], *, confine_config: bool = False
) -> BatchTriggerResponse:
    """Check every entry first; one bad entry and no job is created."""
    if not entries:
        raise InvalidInput("the batch is empty: list at least one {theme, config} entry")
    if len(entries) > MAX_BATCH:
        raise InvalidInput(f"the batch has {len(entries)} entries; send at most {MAX_BATCH}")
    check_stage_package(settings.stage_package)
    checked: list[_NewJob] = []
    for index, entry in enumerate(entries):
        try:
            checked.append(
                _check_job_request(
                    settings, entry.theme, entry.config, confine_config=confine_config
                )
            )
        except InvalidInput as exc:
            raise InvalidInput(f"entry {index + 1} of {len(entries)}: {exc}") from None
    store = get_store(settings)
    check_daily_budget(settings, store, checked)
    ids = jobs.create_many(
        store, [(new.theme, str(new.config_path), new.profile) for new in checked]
    )
    queued = _enqueue_new(settings, store, ids)
    return BatchTriggerResponse(count=len(queued), jobs=queued)


def _reconcile_bound() -> int:
    from vidgen.pipeline.recovery import RECONCILE_BOUND_SECONDS

    return RECONCILE_BOUND_SECONDS


def _ids(job_ids: list[int]) -> str:
    return f"job {job_ids[0]}" if len(job_ids) == 1 else f"jobs {', '.join(map(str, job_ids))}"


def _not_queued(exc: Exception, consequence: str) -> NoReturn:
    """Raise the queue's own one-line reason, then what it left behind and what to do (the
    same error type, so the faces' exit code and HTTP status stay those of the queue's)."""
    if isinstance(exc, VidgenError):
        raise type(exc)(f"{exc}; {consequence}") from exc
    raise exc  # a bug, not an outage: shown as it is


def _enqueue_new(
    settings: Settings, store: Store, job_ids: list[int]
) -> list[PipelineTriggerResponse]:
    """Enqueue jobs just recorded as pending. If the queue refuses one, that job and the ones
    after it are removed again (not queued means not created: run the command again), except
    one a worker already took (the reconcile queued it meanwhile: it runs) and one the store
    cannot remove now (it stays pending and a running worker queues it within
    RECONCILE_BOUND_SECONDS). The error says which."""
    from vidgen.pipeline.queue import enqueue_job

    results: list[PipelineTriggerResponse] = []
    for position, job_id in enumerate(job_ids):
        try:
            task_id = enqueue_job(settings, job_id)
        except Exception as exc:
            removed, taken, kept = _remove_unqueued(store, job_ids[position:])
            results += [_trigger(job_id, task_id) for job_id, task_id in taken]
            if not removed and not kept:
                continue  # every one of them is running already
            queued = [result.job_id for result in results]
            parts = [f"{_ids(queued)} queued"] if queued else []
            if removed:
                again = "those entries" if queued else "the command"
                parts.append(f"{_ids(removed)} not recorded: run {again} again")
            if kept:
                parts.append(
                    f"{_ids(kept)} recorded as pending: a running worker queues "
                    f"{'it' if len(kept) == 1 else 'them'} within {_reconcile_bound()} s "
                    "of the queue being reachable"
                )
            _not_queued(exc, "; ".join(parts))
        jobs.set_task_id(store, job_id, task_id)
        results.append(_trigger(job_id, task_id))
    return results


def _trigger(job_id: int, task_id: str) -> PipelineTriggerResponse:
    return PipelineTriggerResponse(job_id=job_id, task_id=task_id, poll_url=f"/api/jobs/{job_id}")


def _remove_unqueued(
    store: Store, job_ids: list[int]
) -> tuple[list[int], list[tuple[int, str]], list[int]]:
    """(removed, taken with their task ids, kept): a job that is no longer pending was queued
    by a worker's reconcile meanwhile and claimed, so it stays; one the store cannot remove
    now (busy or unreachable too) stays pending for the reconcile."""
    removed: list[int] = []
    taken: list[tuple[int, str]] = []
    kept: list[int] = []
    for job_id in job_ids:
        try:
            if jobs.delete_if_pending(store, job_id):
                removed.append(job_id)
                continue
            found = jobs.get(store, job_id)
            taken.append((job_id, (found.task_id if found else None) or ""))
        except Exception as exc:
            log.warning("job %s: could not remove it (%s)", job_id, " ".join(str(exc).split()))
            kept.append(job_id)
    return removed, taken, kept


# -- budgets --------------------------------------------------------------------------------

# Providers that bill per call; everything else (local, sample, espeak, piper, youtube quota,
# pexels) costs 0 and is never refused.
PAID_PROVIDERS: dict[str, frozenset[str]] = {
    "trends": frozenset({"tiktok"}),
    "analysis": frozenset({"openai", "anthropic"}),
    "planner": frozenset({"openai", "anthropic"}),
    "tts": frozenset({"openai"}),
    "visuals": frozenset(),
}


def paid_providers(config: ThemeConfig) -> tuple[str, ...]:
    chosen = config.config.providers.model_dump()
    return tuple(
        f"{kind}: {chosen[kind]}" for kind, paid in PAID_PROVIDERS.items() if chosen[kind] in paid
    )


def check_daily_budget(settings: Settings, store: Store, new_jobs: list[_NewJob]) -> None:
    """Refuse jobs that would call paid providers once today's recorded spend reaches
    VIDGEN_DAILY_BUDGET_USD; jobs with only free providers always pass."""
    budget = settings.daily_budget_usd
    paid = sorted({name for job in new_jobs for name in job.paid})
    if budget is None or not paid:
        return
    spent = checkpoints.spent_since(store, start_of_today())
    if spent >= budget:
        raise Refused(
            f"today's provider spend ${spent:.4f} has reached VIDGEN_DAILY_BUDGET_USD="
            f"{budget:g} (this job uses {', '.join(paid)}); nothing queued: raise the budget, "
            "use local providers, or wait until 00:00 UTC"
        )


def start_of_today() -> datetime:
    now = datetime.now(UTC)
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


# -- retention ------------------------------------------------------------------------------


def prune(
    settings: Settings, older_than: str, *, dry_run: bool = False, rejected: bool = False
) -> PruneResponse:
    """``vidgen prune`` / ``POST /api/prune``; the worker runs the same for VIDGEN_PRUNE_AFTER."""
    from vidgen.pipeline import retention

    return retention.prune(
        get_store(settings), settings, older_than, dry_run=dry_run, rejected=rejected
    )


# -- workers --------------------------------------------------------------------------------


def serving_workers(settings: Settings) -> int:
    """Live workers (a heartbeat within the lease) that read this store's queue."""
    within = max(10.0, settings.lease_seconds)
    return workers.live_count(get_store(settings), within, queue=settings.queue)


def no_worker_hint(settings: Settings, job_id: int) -> str:
    return (
        f"no worker is serving {settings.home} (queue {public_url(settings.queue)}), so job "
        f"{job_id} waits until one starts: run 'vidgen worker' (or 'make worker' in the "
        "checkout), or add the @reboot line from the README's cron section"
    )


def check_stage(stage: str | None) -> str | None:
    if stage is not None and stage not in PIPELINE_STAGES:
        raise InvalidInput(f"unknown stage {stage!r}: use one of {', '.join(PIPELINE_STAGES)}")
    return stage


def _retry_plan(
    store: Store, settings: Settings, job_id: int, from_stage: str | None
) -> tuple[list[str], list[str], dict[str, list[str]], list[str]]:
    """(skipping, running, reused files per skipped stage, skipped stages whose files changed).

    Skipped: the leading completed stages (before ``from_stage``, if given); the runner runs
    everything from the first other stage on, reusing the skipped stages' recorded outputs.
    """
    from vidgen.pipeline.resume import files_intact

    latest = checkpoints.latest(store, job_id)
    skipping: list[str] = []
    for stage in PIPELINE_STAGES:
        cp = latest.get(stage)
        if stage == from_stage or cp is None or cp.status != CheckpointStatus.COMPLETED:
            break
        skipping.append(stage)
    job_dir = settings.jobs_dir / str(job_id)
    reused = {stage: sorted(latest[stage].files) for stage in skipping}
    changed = [stage for stage in skipping if not files_intact(job_dir, latest[stage].files)]
    return skipping, list(PIPELINE_STAGES[len(skipping) :]), reused, changed


def retry(
    settings: Settings, job_id: int, from_stage: str | None = None, *, dry_run: bool = False
) -> JobRetryResponse:
    """failed -> pending and enqueue; completed stages are skipped when the job runs.

    ``from_stage``: re-run that stage and every later one, also for a completed job (its
    published video is replaced only when the new review stage files the new one).
    ``dry_run``: say what would run, be skipped and be reused, and change nothing.
    """
    from vidgen.pipeline.queue import enqueue_job

    check_job_id(job_id)
    check_stage(from_stage)
    store = get_store(settings)
    job = _get_job(store, job_id)
    if dry_run:
        refusal = jobs.retry_refusal(job.status, from_stage)
        if refusal is not None:
            raise Refused(refusal)
    skipping, running, reused, changed = _retry_plan(store, settings, job_id, from_stage)
    resume_from = running[0] if running else None
    extra = {
        "from_stage": from_stage,
        "running_stages": running,
        "reused_outputs": reused,
    }
    reuse = f"; reusing {', '.join(skipping)}" if skipping else ""
    if changed:
        reuse += f" (files changed, so these run again too: {', '.join(changed)})"
    if dry_run:
        return JobRetryResponse(
            job_id=job_id,
            task_id="",
            status="dry_run",
            resume_from=resume_from,
            skipping_stages=skipping,
            message=f"Dry run: job {job_id} would run {', '.join(running)}{reuse}; "
            "nothing was changed",
            dry_run=True,
            **extra,
        )
    if from_stage is None:
        jobs.retry(store, job_id)
    else:
        checkpoints.retry_from(store, job_id, running)
    try:
        task_id = enqueue_job(settings, job_id)
    except Exception as exc:
        # Raises, saying what became of the job; returns only if a worker took it meanwhile.
        task_id = _retry_not_queued(store, job, from_stage, exc)
    else:
        jobs.set_task_id(store, job_id, task_id)
    skipped = f", skipping {len(skipping)} completed stage(s)" if skipping else ""
    return JobRetryResponse(
        job_id=job_id,
        task_id=task_id,
        resume_from=resume_from,
        skipping_stages=skipping,
        message=f"Job {job_id} queued for retry from {resume_from}{skipped}",
        **extra,
    )


def _retry_not_queued(store: Store, job: Job, from_stage: str | None, exc: Exception) -> str:
    """The queue refused a retry that the store already recorded (the job is pending).

    A plain retry is put back: the job is ``failed`` again with its error, as if the command
    had not run, and running it again is the fix. A ``--from-stage`` retry has already set
    its stages' checkpoints aside, which is not undone: the job stays pending and a running
    worker's reconcile queues it. Either way the error says which. Returns the task id only
    when a worker already queued and claimed the job meanwhile: then the retry happened.
    """
    assert job.id is not None
    job_id = job.id
    pending = (
        f"job {job_id} is pending: a running worker queues it within {_reconcile_bound()} s "
        f"of the queue being reachable (vidgen status {job_id})"
    )
    if from_stage is not None:
        _not_queued(exc, pending)
    why = " ".join(str(exc).split())
    try:
        put_back = jobs.put_back(store, job_id, job.error_message, f"not queued: {why}")
    except Exception as store_exc:  # the store went away too: the reconcile remains
        log.warning("job %s: could not put it back (%s)", job_id, store_exc)
        _not_queued(exc, pending)
    if put_back is None:
        found = jobs.get(store, job_id)
        return (found.task_id if found else None) or ""
    _not_queued(exc, f"job {job_id} is still {put_back.status}: run 'vidgen retry {job_id}' again")


def cancel_job(settings: Settings, job_id: int) -> JobCancelResponse:
    """``vidgen cancel``: a pending job is cancelled at once; a running one is asked to stop
    and its worker cancels it within seconds; an ended one is refused."""
    from vidgen.pipeline import webhook

    check_job_id(job_id)
    store = get_store(settings)
    job = jobs.cancel(store, job_id)
    if job.status == JobStatus.CANCELLED:
        webhook.send(settings, job_id)  # no runner will: the job never started
        message = f"Job {job_id} cancelled (it had not started)"
    else:
        message = (
            # Honest about the race: a job in its last step may complete before its worker
            # sees the request (the outcome is recorded either way, once).
            f"Job {job_id} is running ({job.stage}); cancel requested: its worker stops it "
            "within seconds unless it completes first. "
            f"Follow it: vidgen logs {job_id} --follow"
        )
    return JobCancelResponse(
        job_id=job_id,
        status=job.status,
        cancel_requested=job.status != JobStatus.CANCELLED,
        message=message,
    )


def flush_webhooks(timeout: float = 10.0) -> None:
    """Let webhook deliveries this process started finish (a CLI process is about to exit)."""
    import sys

    if "vidgen.pipeline.webhook" in sys.modules:  # nothing was sent if it was never loaded
        from vidgen.pipeline import webhook

        webhook.wait(timeout)


TRACEBACK_TAIL_LINES = 12


def _traceback_tail(trace: str) -> list[str]:
    """The last lines of a traceback, without the ``^^^^`` markers under each source line."""
    lines = [line for line in trace.rstrip().splitlines() if line.strip(" ^~")]
    return lines[-TRACEBACK_TAIL_LINES:]


def job_logs(settings: Settings, job_id: int, after: int | None = None) -> JobLogResponse:
    """The job's runner events oldest first (only those after event id ``after``, if given);
    a failed attempt carries the tail of its traceback from the checkpoint."""
    from vidgen.store import events as event_rows

    check_job_id(job_id)
    if after is not None and not 0 <= after <= MAX_JOB_ID:
        raise InvalidInput(f"after must be an event id of 0 or more (got {after})")
    store = get_store(settings)
    job = _get_job(store, job_id)  # first: a terminal status read here has its event below
    rows = event_rows.events_for_job(store, job_id, after_id=after)
    traces: dict[tuple[str, int], str] = {}
    if any(row.kind == RunnerEvent.STAGE_FAILED for row in rows):
        traces = {
            (cp.stage, cp.attempt): cp.traceback
            for cp in checkpoints.for_job(store, job_id)
            if cp.traceback
        }
    items = []
    for row in rows:
        assert row.id is not None
        trace = None
        if row.kind == RunnerEvent.STAGE_FAILED:
            trace = traces.get((row.stage or "", row.attempt or 0))
        items.append(
            JobLogEvent(
                id=row.id,
                at=_iso(row.at) or "",
                kind=row.kind,
                stage=row.stage,
                attempt=row.attempt,
                message=row.message,
                data=row.data or {},
                traceback_tail=_traceback_tail(trace) if trace else None,
            )
        )
    return JobLogResponse(job_id=job_id, status=job.status, events=items)


def worker_log(fmt: str, verbose: bool) -> WorkerLog:
    """The worker's event log (``vidgen worker --log-format text|json``), installed."""
    from vidgen.pipeline.worklog import WorkerLog

    if fmt not in ("text", "json"):
        raise InvalidInput(f"unknown log format {fmt!r}: use text or json")
    return WorkerLog("json" if fmt == "json" else "text", verbose).install()


def recover(settings: Settings, *, new_store: bool = False) -> RecoverResponse:
    """Fail jobs whose worker died, repair an unreadable queue, re-enqueue pending jobs.

    ``new_store`` (``vidgen recover --new-store``, the way out a lost store's error names):
    the home forgets the store it used, keeping what is left of a SQLite file aside as
    ``vidgen.db.lost-<time>``, and starts a new, empty one."""
    from vidgen.pipeline.recovery import recover as recover_queue
    from vidgen.store.engine import forget_store

    if not new_store:
        return recover_queue(settings)
    aside = forget_store(settings)
    result = recover_queue(settings)
    kept = f" (the old store file is kept as {aside})" if aside is not None else ""
    result.message = f"started a new, empty job store{kept}; {result.message}"
    return result


def sweep_dead_attempts(settings: Settings, *, dry_run: bool = False) -> Swept:
    """Remove temp files and unfinished publications of jobs that are not running (prune)."""
    from vidgen.pipeline.recovery import sweep_dead_attempts as sweep

    return sweep(settings, dry_run=dry_run)


# -- the runtime, for the faces that host it -----------------------------------------------


def open_store(settings: Settings) -> None:
    """Open the job store now: a store that cannot open fails here, not in every request."""
    get_store(settings)


# A dashboard sign-in lasts this long (then the page asks for the token again).
SESSION_SECONDS = 12 * 3600


def _token_fingerprint(token: str) -> str:
    import hashlib
    import hmac

    return hmac.new(token.encode(), b"vidgen dashboard session v2", hashlib.sha256).hexdigest()


def start_session(settings: Settings) -> tuple[str, int]:
    """A new dashboard session after the token was checked: (cookie value, lifetime in s)."""
    from vidgen.store import sessions

    assert settings.api_token, "sessions exist only on a server with a token"
    value = sessions.create(
        get_store(settings), _token_fingerprint(settings.api_token), SESSION_SECONDS
    )
    return value, SESSION_SECONDS


def session_ok(settings: Settings, value: str) -> bool:
    """True if ``value`` is a live session opened with the current token."""
    from vidgen.store import sessions

    if not settings.api_token or not value:
        return False
    return sessions.valid(get_store(settings), value, _token_fingerprint(settings.api_token))


def end_session(settings: Settings, value: str) -> None:
    """Sign-out: the session ``value`` ends here, not only in the browser."""
    from vidgen.store import sessions

    sessions.revoke(get_store(settings), value)


def health(settings: Settings) -> HealthResponse:
    from vidgen import __version__
    from vidgen.store import public_url

    # Shown unauthenticated: never a password from VIDGEN_DATABASE_URL/QUEUE_URL.
    return HealthResponse(
        version=__version__, store=public_url(settings.db_url), queue=public_url(settings.queue)
    )


def worker_host(settings: Settings, slots: int) -> WorkerHost:
    """The worker runtime behind ``vidgen worker`` (see ``vidgen.pipeline.worker``)."""
    from vidgen.pipeline.worker import WorkerHost

    return WorkerHost(settings, slots)


def follow_job(settings: Settings, job_id: int, *, run_here: bool) -> Following:
    """The runtime side of ``generate --wait`` / ``status --watch`` (``vidgen.pipeline.follow``)."""
    from vidgen.pipeline.follow import Following

    return Following(settings, job_id, run_here=run_here)


# -- review ---------------------------------------------------------------------------------


def list_videos(
    settings: Settings, status: str | None = None, limit: int = 20
) -> VideoListResponse:
    from vidgen import review

    check_page(limit, 0)
    return review.list_videos(get_store(settings), settings, status, limit)


def approve_video(settings: Settings, video_id: int) -> VideoResponse:
    from vidgen import review

    return review.approve_video(get_store(settings), settings, check_video_id(video_id))


def reject_video(settings: Settings, video_id: int, reason: str) -> VideoResponse:
    from vidgen import review

    if not reason.strip():
        raise InvalidInput("a rejection needs a reason: say what is wrong with the video")
    return review.reject_video(get_store(settings), settings, check_video_id(video_id), reason)


def check_video_id(video_id: int) -> int:
    if not 1 <= video_id <= MAX_JOB_ID:
        raise NotFound(f"Video {video_id} not found (video ids are positive whole numbers)")
    return video_id


# -- the dashboard's read models --------------------------------------------------------------

MAX_PAGE_EVENTS = 300  # the job page shows the latest runner events, not a whole history
VIDEO_MEDIA_TYPES: dict[str, tuple[str, str]] = {
    # kind -> (suffix beside the video, media type)
    "video": (".mp4", "video/mp4"),
    "thumbnail": (".jpg", "image/jpeg"),
    "captions": (".srt", "application/x-subrip"),
}


def job_cards(
    settings: Settings, status: str | None = None, limit: int = 20, offset: int = 0
) -> JobCardListResponse:
    """The jobs list with what the dashboard shows beside each status: cost, title, video."""
    check_status(status)
    check_page(limit, offset)
    store = get_store(settings)
    found = [job for job in jobs.newest(store, status, limit, offset) if job.id is not None]
    ids = [job.id for job in found if job.id is not None]
    by_job = videos.for_jobs(store, ids)
    titles = trends.plan_titles(store, ids)
    costs = checkpoints.total_costs(store, ids)
    completed = _completed_by_job(store, ids)
    cards = []
    for job in found:
        assert job.id is not None
        video = by_job.get(job.id)
        cards.append(
            JobCard(
                **to_status(job, completed[job.id]).model_dump(),
                total_cost=round(costs.get(job.id, 0.0), 6),
                title=video.title if video else titles.get(job.id),
                video_id=video.id if video else None,
                video_status=video.status if video else None,
            )
        )
    return JobCardListResponse(count=len(cards), total=jobs.count(store, status), jobs=cards)


def _plan_summary(raw: dict[str, Any], title: str, script: str) -> PlanSummary:
    scenes: list[PlanScene] = []
    for item in raw.get("scenes") or []:
        if isinstance(item, dict):
            scenes.append(
                PlanScene(
                    index=int(item.get("index", len(scenes))),
                    duration_seconds=float(item.get("duration_seconds", 0.0)),
                    on_screen_text=str(item.get("on_screen_text", "")),
                    narration=str(item.get("narration", "")),
                )
            )
    hashtags = raw.get("hashtags")
    style = raw.get("style")
    return PlanSummary(
        title=title,
        description=str(raw.get("description", "")),
        hashtags=[str(tag) for tag in hashtags] if isinstance(hashtags, list) else [],
        style=str(style) if style else None,
        voiceover_script=script or str(raw.get("voiceover_script", "")),
        scenes=scenes,
    )


def job_page(settings: Settings, job_id: int) -> JobPageResponse:
    """A job's stages (every attempt), the plan it wrote, its video and the captions file."""
    from vidgen.review import JobPageResponse, to_response

    detail = job_detail(settings, job_id)
    store = get_store(settings)
    attempts = [
        StageDetail(
            stage=cp.stage,
            state=cp.status,
            attempt=cp.attempt,
            started_at=_iso(cp.started_at),
            finished_at=_iso(cp.finished_at),
            duration_seconds=cp.duration_seconds,
            cost=cp.cost,
            error=cp.error,
        )
        for cp in checkpoints.for_job(store, job_id)
    ]
    recent = events.events_for_job(store, job_id)[-MAX_PAGE_EVENTS:]
    plan_row = trends.plan_for_job(store, job_id)
    plan = (
        _plan_summary(plan_row.plan, plan_row.title, plan_row.voiceover_script)
        if plan_row is not None
        else None
    )
    video = videos.for_job(store, job_id)
    captions = Path(video.video_path).with_suffix(".srt") if video is not None else None
    return JobPageResponse(
        job=detail,
        attempts=attempts,
        events=[
            JobEvent(
                id=event.id or 0,
                at=event.at.isoformat(),
                kind=event.kind,
                stage=event.stage,
                attempt=event.attempt,
                message=event.message,
                data=event.data,
            )
            for event in recent
        ],
        plan=plan,
        video=to_response(video) if video is not None else None,
        captions_path=str(captions) if captions is not None and captions.is_file() else None,
    )


def video_file(settings: Settings, video_id: int, kind: str) -> VideoFileResponse:
    """The path of a file vidgen published for ``video_id``: looked up in the store, and only
    ever inside the output folder, so no caller can name a path of its own."""
    from vidgen.review import get_video

    if kind not in VIDEO_MEDIA_TYPES:
        raise InvalidInput(f"unknown file kind {kind!r}: use one of {', '.join(VIDEO_MEDIA_TYPES)}")
    video = get_video(get_store(settings), check_video_id(video_id))
    suffix, media_type = VIDEO_MEDIA_TYPES[kind]
    recorded = {"video": video.video_path, "thumbnail": video.thumbnail_path}.get(kind)
    path = Path(recorded) if recorded else Path(video.video_path).with_suffix(suffix)
    try:
        resolved = path.resolve()
        inside = resolved.is_relative_to(settings.output_root.resolve())
    except (OSError, RuntimeError):
        inside = False
    if not inside or not resolved.is_file():
        raise NotFound(f"video {video_id} has no {kind} file")
    return VideoFileResponse(
        video_id=video_id,
        kind=kind,
        path=str(resolved),
        media_type=media_type,
        size_bytes=resolved.stat().st_size,
    )
