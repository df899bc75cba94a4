"""The service layer: what every CLI command and HTTP route calls.

Functions take validated-but-raw user values, do the work against the store and queue, and return
the pydantic response models from ``vidgen.schemas``. They raise only ``vidgen.errors`` types;
the edges turn those into exit codes or HTTP statuses. Nothing here prints.
"""

from __future__ import annotations

import importlib
import logging
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, Protocol

from vidgen.errors import InvalidInput, NotFound, Refused, VidgenError
from vidgen.files import Swept
from vidgen.schemas import (
    MAX_PAGE_LIMIT,
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
    PublicationListResponse,
    PublicationResponse,
    PublicationSummary,
    PublishDueResponse,
    RecoverResponse,
    StageDetail,
    VideoFileResponse,
)
from vidgen.schemas import iso as _iso
from vidgen.settings import Settings
from vidgen.stages import PIPELINE_STAGES
from vidgen.store.status import CheckpointStatus, JobStatus, RunnerEvent

if TYPE_CHECKING:
    from http.server import HTTPServer

    from vidgen.config import ThemeConfig
    from vidgen.pipeline import report
    from vidgen.pipeline.follow import Following
    from vidgen.pipeline.worker import WorkerHost
    from vidgen.pipeline.worklog import WorkerLog
    from vidgen.providers.oauth import Authorization
    from vidgen.providers.publish import UploadRequest
    from vidgen.review import JobPageResponse, VideoListResponse, VideoResponse
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
    from vidgen.store.models import Job, Publication, Video

    class _DetailJob(report.JobFields, Protocol):
        """What ``vidgen status ID`` shows of a job: a ``Job`` or a ``fastread.JobRow``."""

        @property
        def config_path(self) -> str | None: ...
        @property
        def profile(self) -> str | None: ...

else:
    # The store and everything built on it load on first use: importing SQLAlchemy alone was
    # about five times the CLI's import floor, and `vidgen status ID` / `vidgen jobs` on a
    # SQLite store never need it (``store.fastread``). The imports above keep the layer
    # contracts and the types; these names resolve to the same modules when first called.

    class _OnFirstUse:
        def __init__(self, module: str) -> None:
            self._module = module

        def __getattr__(self, name: str) -> Any:
            return getattr(importlib.import_module(self._module), name)

    report = _OnFirstUse("vidgen.pipeline.report")
    checkpoints = _OnFirstUse("vidgen.store.checkpoints")
    events = _OnFirstUse("vidgen.store.events")
    jobs = _OnFirstUse("vidgen.store.jobs")
    trends = _OnFirstUse("vidgen.store.trends")
    videos = _OnFirstUse("vidgen.store.videos")
    workers = _OnFirstUse("vidgen.store.workers")
    _engine = _OnFirstUse("vidgen.store.engine")

    def get_store(settings: Settings) -> Store:
        return _engine.get_store(settings)

    def public_url(url: str) -> str:
        return _engine.public_url(url)


log = logging.getLogger("vidgen.service")

MAX_LIMIT = MAX_PAGE_LIMIT  # the faces' Query(le=...) reads it here
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
def _completed_by_job(store: Store, job_ids: list[int]) -> dict[int, list[str]]:
    return report.completed_by_job(store, job_ids)


def to_status(
    job: Job, completed: list[str], publications: list[PublicationSummary]
) -> JobStatusResponse:
    return report.to_status(job, completed, publications)


def _published(
    rows: Mapping[int, Sequence[report.PublicationFields]], job_id: int
) -> list[PublicationSummary]:
    """Job ``job_id``'s publications, from either read path's rows."""
    return [report.to_summary(row) for row in rows.get(job_id, ())]


def _get_job(store: Store, job_id: int) -> Job:
    check_job_id(job_id)
    job = jobs.get(store, job_id)
    if job is None:
        raise NotFound(f"Job {job_id} not found")
    return job


def job_status(settings: Settings, job_id: int) -> JobStatusResponse:
    from vidgen.store import fastread

    def fast(reader: fastread.Reader) -> JobStatusResponse:
        check_job_id(job_id)
        row = reader.job(job_id)
        if row is None:
            raise NotFound(f"Job {job_id} not found")
        latest = reader.latest_states([job_id])[job_id]
        published = _published(reader.publications([job_id]), job_id)
        return report.to_status(row, report.completed_stages(latest), published)

    body = fastread.attempt(settings, fast)  # None: not SQLite, no store yet, other schema
    if body is not None:
        return body
    store = get_store(settings)
    job = _get_job(store, job_id)
    published = report.publications_by_job(store, [job_id]).get(job_id, [])
    return to_status(job, _completed_by_job(store, [job_id])[job_id], published)


def list_jobs(
    settings: Settings, status: str | None = None, limit: int = 20, offset: int = 0
) -> JobListResponse:
    from vidgen.store import fastread

    check_status(status)
    check_page(limit, offset)

    def fast(reader: fastread.Reader) -> JobListResponse:
        found = reader.newest(status, limit, offset)
        states = reader.latest_states(row.id for row in found)
        pubs = reader.publications(row.id for row in found)
        items = [
            report.to_status(row, report.completed_stages(states[row.id]), _published(pubs, row.id))
            for row in found
        ]
        return JobListResponse(count=len(items), total=reader.count(status), jobs=items)

    body = fastread.attempt(settings, fast)  # None: not SQLite, no store yet, other schema
    if body is not None:
        return body
    store = get_store(settings)
    found = jobs.newest(store, status, limit, offset)
    total = jobs.count(store, status)
    ids = [job.id for job in found if job.id is not None]
    completed = _completed_by_job(store, ids)
    published = report.publications_by_job(store, ids)
    items = [
        to_status(job, completed[job.id], published.get(job.id, []))
        for job in found
        if job.id is not None
    ]
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
    from vidgen.store import fastread

    def fast(reader: fastread.Reader) -> JobDetailResponse:
        check_job_id(job_id)
        job = reader.job(job_id)
        if job is None:
            raise NotFound(f"Job {job_id} not found")
        latest = {cp.stage: cp for cp in reader.checkpoints(job_id)}  # the last row per stage
        total = reader.total_cost(job_id)
        published = _published(reader.publications([job_id]), job_id)
        return _detail(job, latest, total, reader.video(job_id), published)

    body = fastread.attempt(settings, fast)  # None: not SQLite, no store yet, other schema
    if body is not None:
        return body
    store = get_store(settings)
    job = _get_job(store, job_id)
    video = videos.for_job(store, job_id)
    return _detail(
        job,
        checkpoints.latest(store, job_id),
        checkpoints.total_cost(store, job_id),
        (video.id, video.video_path) if video is not None and video.id is not None else None,
        report.publications_by_job(store, [job_id]).get(job_id, []),
    )


def _detail(
    job: _DetailJob,
    latest: Mapping[str, Any],
    total_cost: float,
    video: tuple[int, str] | None,
    publications: list[PublicationSummary],
) -> JobDetailResponse:
    """``latest``: each stage's latest checkpoint (a ``Checkpoint`` or ``fastread`` row)."""
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
    base = report.to_status(job, completed, publications)
    return JobDetailResponse(
        **base.model_dump(),
        config_path=job.config_path,
        profile=job.profile,
        total_cost=round(total_cost, 6),
        stages=stages,
        video_path=video[1] if video else None,
        video_id=video[0] if video else None,
    )


# -- changing jobs --------------------------------------------------------------------------


@dataclass(frozen=True)
class _NewJob:
    """A job request that passed every check; nothing is recorded until all of a batch pass."""

    theme: str
    config_path: Path
    paid: tuple[str, ...]
    profile: str
    config: ThemeConfig  # as checked: the job's snapshot


def _check_job_request(
    settings: Settings, theme: str | None, config_path: str | None, *, confine_config: bool
) -> _NewJob:
    """Everything that can be known before a job is queued: theme, config, the files it names."""
    check_theme(theme)
    if config_path is not None and not config_path.strip():
        config_path = None  # like an empty --config: the default lookup, over HTTP too
    if config_path is not None:
        check_utf8("config path", config_path)
    from vidgen.config import load_config, resolve_config_path  # not loaded for the read commands

    if confine_config and config_path is not None:
        path = confined_config_path(config_path, settings.themes_root)
    else:
        path = resolve_config_path(config_path, settings.config, settings.home)
    config = load_config(path)  # raises InvalidInput with file, field and reason
    config.check_files()
    check_media_files(config)
    # Every photo and clip it names or its media folder holds decodes (probed with ffmpeg).
    from vidgen.media.library import check_config_media

    check_config_media(config)
    if theme is not None and settings.stage_package == "vidgen.stages":
        # Only vidgen's own stages are known to need a subject; a team's own may not.
        check_theme_covered(config, theme)
    return _NewJob(
        # Without a theme the job records the config's own theme, so `vidgen jobs` says what
        # the video is about instead of "default".
        theme=theme if theme is not None else config.config.theme,
        config_path=path,
        paid=paid_providers(config),
        profile=settings.profile or config.config.profile,
        config=config,
    )


def default_config(settings: Settings) -> Path:
    """The theme config a job without --config uses (created from the sample if missing)."""
    from vidgen.config import resolve_config_path

    return resolve_config_path(None, settings.config, settings.home)


def check_media_files(config: ThemeConfig) -> None:
    """The music file the config names is one the bundled ffmpeg can read (a
    corrupt file is refused here, not three attempts into composition)."""
    from vidgen.media.ffmpeg import media_file_problem

    where = str(config.source) if config.source is not None else "config"
    for field, path in config.named_files():
        # Photos and clips are probed by media.library.check_config_media; a Piper model is
        # not media.
        if not field.startswith("config.music"):
            continue
        kind = "audio"
        try:
            info = path.stat()
            key: tuple[str, str, int, int] | None = (
                str(path),
                kind,
                info.st_size,
                info.st_mtime_ns,
            )
        except OSError:
            key = None  # media_file_problem says why
        if key is not None and key in _media_ok:
            continue  # a batch (or cron every 30 min) names the same unchanged file: decoded once
        problem = media_file_problem(path, kind)
        if problem is not None:
            raise InvalidInput(f"{where}: {field}: {path}: {problem}")
        if key is not None:
            if len(_media_ok) >= 256:
                _media_ok.clear()
            _media_ok.add(key)


# Media files that decoded, by (path, kind, size, mtime): a changed file is checked again.
_media_ok: set[tuple[str, str, int, int]] = set()


def _write_snapshots(settings: Settings, store: Store, ids: list[int], new: list[_NewJob]) -> None:
    """Store each job's checked config under its folder before it is queued (the worker
    renders that, not the file as it is later). If one cannot be written, the jobs are
    removed again: not queued means not created."""
    import json

    from vidgen.config import SNAPSHOT_NAME
    from vidgen.files import atomic_write_text

    for job_id, checked in zip(ids, new, strict=True):
        path = settings.jobs_dir / str(job_id) / SNAPSHOT_NAME
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(path, json.dumps(checked.config.snapshot(), indent=1))
        except OSError as exc:
            _remove_unqueued(store, ids)
            raise Refused(
                f"cannot store the job's config under {path.parent} ({exc.strerror}); "
                "free disk space or fix the permissions of VIDGEN_HOME, then run it again"
            ) from None


def check_theme_covered(config: ThemeConfig, theme: str) -> None:
    """Refuse a theme nothing configured can make a video about (no reference matches it, no
    shipped trend is about it, no network trend provider or LLM planner): a video that says
    nothing is worse than none."""
    from vidgen.planning import uncovered_theme

    themed = config.model_copy(update={"config": config.config.model_copy(update={"theme": theme})})
    shipped = None
    if themed.config.providers.trends == "sample":
        from vidgen.providers.trends import SampleTrendSource

        shipped = SampleTrendSource().fetch(themed.config.trend_limit)
    problem = uncovered_theme(themed, shipped)
    if problem is not None:
        raise Refused(problem)


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
    store = get_store(settings)  # first: an unusable VIDGEN_HOME is named as such
    new = _check_job_request(settings, theme, config_path, confine_config=confine_config)
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
    _write_snapshots(settings, store, [job_id], [new])
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
    from vidgen.config import load_yaml

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
    _write_snapshots(settings, store, ids, checked)
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
    """(skipping, running, reused files per skipped stage, completed stages that run again
    because their files are gone or changed, e.g. after ``prune``).

    Skipped: the leading completed stages (before ``from_stage``, if given) whose files are
    intact, exactly as the runner decides (``pipeline.resume.reusable_outputs``); it runs
    everything from the first other stage on, reusing the skipped stages' recorded outputs.
    """
    from vidgen.pipeline.resume import files_intact

    latest = checkpoints.latest(store, job_id)
    job_dir = settings.jobs_dir / str(job_id)
    skipping: list[str] = []
    changed: list[str] = []
    for stage in PIPELINE_STAGES:
        cp = latest.get(stage)
        if stage == from_stage or cp is None or cp.status != CheckpointStatus.COMPLETED:
            break
        if not files_intact(job_dir, cp.files):
            changed.append(stage)
            break
        skipping.append(stage)
    reused = {stage: sorted(latest[stage].files) for stage in skipping}
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
        reuse += (
            f"; {changed[0]} completed but its files are gone or changed (pruned?), "
            "so it runs again"
        )
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
    from vidgen.schemas import LiveLease
    from vidgen.store.engine import forget_store

    if new_store:
        aside = forget_store(settings)
        result = recover_queue(settings)
        kept = f" (the old store file is kept as {aside})" if aside is not None else ""
        result.message = f"started a new, empty job store{kept}; {result.message}"
        return result
    result = recover_queue(settings)
    # A killed worker's job keeps its lease until it lapses: say so and when, instead of a
    # bare "failed 0 lost job(s)" that leaves the user wondering.
    now = datetime.now(UTC)
    live = []
    for job in jobs.newest(get_store(settings), JobStatus.RUNNING.value, MAX_LIMIT, 0):
        expires = job.lease_expires_at
        if job.id is None or expires is None:
            continue
        if expires.tzinfo is None:
            expires = expires.replace(tzinfo=UTC)
        if expires > now:
            live.append(
                LiveLease(
                    job_id=job.id,
                    stage=job.stage,
                    lease_expires_at=_iso(expires) or "",
                    seconds_left=round((expires - now).total_seconds(), 1),
                )
            )
    if not live:
        return result
    notes = [
        f"job {lease.job_id} is running ({lease.stage}) with a live lease until "
        f"{lease.lease_expires_at} (in {lease.seconds_left:.0f} s)"
        for lease in live
    ]
    message = (
        f"{result.message}; {'; '.join(notes)}: its worker renews it while alive; if that "
        "worker was killed, run 'vidgen recover' again after then and the job is failed, "
        "ready to retry"
    )
    return result.model_copy(update={"live_leases": live, "message": message})


def sweep_dead_attempts(settings: Settings, *, dry_run: bool = False) -> Swept:
    """Remove temp files and unfinished publications of jobs that are not running (prune)."""
    from vidgen.pipeline.recovery import sweep_dead_attempts as sweep

    return sweep(settings, dry_run=dry_run)


# -- the runtime, for the faces that host it -----------------------------------------------


def open_store(settings: Settings) -> None:
    """Open the job store now: a store that cannot open fails here, not in every request."""
    get_store(settings)


def themes_folder(settings: Settings) -> Path:
    """The folder whose theme files HTTP ``config_path`` (and the dashboard) may name, created
    if missing so the user is not sent to a folder that does not exist."""
    root = settings.themes_root
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        var = "VIDGEN_THEMES_DIR" if settings.themes_dir is not None else "VIDGEN_HOME"
        raise InvalidInput(
            f"cannot create the themes folder {root} ({exc.strerror}); fix {var}"
        ) from None
    return root


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
    live = serving_workers(settings)
    return HealthResponse(
        version=__version__,
        store=public_url(settings.db_url),
        queue=public_url(settings.queue),
        workers=live,
        worker_message=f"{live} worker(s) running"
        if live
        else "no worker running: queued jobs wait until one starts ('vidgen worker')",
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
    store = get_store(settings)
    found = review.list_videos(store, settings, status, limit)
    return found.model_copy(update={"videos": _with_publications(store, found.videos)})


def _with_publications(store: Store, found: list[VideoResponse]) -> list[VideoResponse]:
    """``found`` with each video's publications (``vidgen videos``, ``approve``)."""
    from vidgen.store import publications

    by_video = publications.for_videos(store, [video.id for video in found])
    return [
        video.model_copy(
            update={"publications": [report.to_summary(p) for p in by_video.get(video.id, [])]}
        )
        for video in found
    ]


def approve_video(settings: Settings, video_id: int) -> VideoResponse:
    from vidgen import review

    store = get_store(settings)
    approved = review.approve_video(store, settings, check_video_id(video_id))
    schedule_after_approval(settings, approved.id)  # a config's publish: section
    return _with_publications(store, [approved])[0]  # ... and what it scheduled


def reject_video(settings: Settings, video_id: int, reason: str) -> VideoResponse:
    from vidgen import review

    if not reason.strip():
        raise InvalidInput("a rejection needs a reason: say what is wrong with the video")
    return review.reject_video(get_store(settings), settings, check_video_id(video_id), reason)


def video_id_of_job(settings: Settings, job_id: int) -> int:
    """The id of the video job ``job_id`` made: ``approve``/``reject`` take the job id a user
    sees everywhere (generate, status, file names, the dashboard URL)."""
    store = get_store(settings)
    job = _get_job(store, check_job_id(job_id))
    video = videos.for_job(store, job_id)
    if video is None or video.id is None:
        raise NotFound(
            f"Job {job_id} has no video to review (it is {job.status}); "
            "'vidgen videos' lists the videos waiting for review"
        )
    return video.id


def approve_job(settings: Settings, job_id: int) -> VideoResponse:
    """Approve the video of job ``job_id``."""
    return approve_video(settings, video_id_of_job(settings, job_id))


def reject_job(settings: Settings, job_id: int, reason: str) -> VideoResponse:
    """Reject the video of job ``job_id``."""
    if not reason.strip():
        raise InvalidInput("a rejection needs a reason: say what is wrong with the video")
    return reject_video(settings, video_id_of_job(settings, job_id), reason)


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
    published = report.publications_by_job(store, ids)
    cards = []
    for job in found:
        assert job.id is not None
        video = by_job.get(job.id)
        cards.append(
            JobCard(
                **to_status(job, completed[job.id], published.get(job.id, [])).model_dump(),
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
    from vidgen.review import JobPageResponse, subtitles_of, to_response

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
    captions = subtitles_of(Path(video.video_path)) if video is not None else None
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
        video=_with_publications(store, [to_response(video)])[0] if video is not None else None,
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


# -- publishing: approved videos to YouTube / TikTok (one block; uploads run in workers) -------

MAX_PUBLICATION_ID = MAX_JOB_ID


def _seconds(seconds: float) -> timedelta:
    return timedelta(seconds=seconds)


def _zone(name: str) -> tzinfo:
    """``publish.timezone`` (UTC needs no time zone database)."""
    if name == "UTC":
        return UTC
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


PUBLICATION_STATUS_NAMES = ("scheduled", "uploading", "published", "failed", "cancelled")


def check_destination(name: str) -> str:
    from vidgen.registry import DESTINATIONS

    if name not in DESTINATIONS:
        raise InvalidInput(f"unknown destination {name!r}: use one of {', '.join(DESTINATIONS)}")
    return name


def check_account(account: str | None) -> str:
    import re

    if account is None:
        return "default"
    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,40}", account):
        raise InvalidInput(
            f"account {account!r} is not a name: use 1-40 letters, digits, '.', '_' or '-'"
        )
    return account


def parse_publish_time(raw: str | None, zone: str, now: datetime | None = None) -> datetime:
    """``--at``: ISO-8601 with an offset, or a local time in ``zone``; now when absent.
    A time in the past (more than a minute ago) is refused."""
    now = now or datetime.now(UTC)
    if raw is None or not raw.strip():
        return now
    text = raw.strip().replace(" ", "T", 1)
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(
            f"--at {raw!r} is not a time: use ISO-8601 such as 2026-12-24T18:00+01:00, or "
            "2026-12-24T18:00 for the local time in publish.timezone"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=_zone(zone))
    when = when.astimezone(UTC)
    if when < now - _seconds(60):
        raise InvalidInput(
            f"--at {raw!r} is in the past ({when.isoformat()}); give a future time or leave "
            "--at out to publish now"
        )
    return max(when, now)


def _publish_config(settings: Settings, job_config: str | None) -> tuple[ThemeConfig | None, str]:
    """The job's config with the ``publish:`` section to use, and the file to name in a
    message. The job's own config first; when it has no ``publish:`` (a job generated before
    the section was added), the default config's: where to publish is a channel setting, not
    part of what a job rendered."""
    from vidgen.config import load_config

    default = default_config(settings)
    found: ThemeConfig | None = None
    for where in (job_config, str(default)):
        if where is None:
            continue
        try:
            cfg = load_config(Path(where))
        except InvalidInput:
            if where == job_config:
                raise
            continue
        if found is None:
            found = cfg
        if cfg.publish is not None:
            return found.model_copy(update={"publish": cfg.publish}), where
    return found, job_config or str(default)


def _publish_settings(settings: Settings, store: Store, video_id: int) -> tuple[Video, ThemeConfig]:
    """(video, its config with the publish: section) or Refused saying what to fix."""
    from vidgen.store.status import VideoStatus

    video = videos.get(store, check_video_id(video_id))
    if video is None:
        raise NotFound(f"video {video_id} not found")
    if video.status != VideoStatus.APPROVED.value:
        raise Refused(
            f"video {video_id} is {video.status}: only approved videos can be published "
            f"(vidgen approve {video.job_id} first)"
        )
    job = jobs.get(store, video.job_id)
    cfg, where = _publish_config(settings, job.config_path if job is not None else None)
    if cfg is None or cfg.publish is None or cfg.publish.made_for_kids is None:
        raise Refused(
            f"{where}: publish.made_for_kids is not set: add 'publish: {{made_for_kids: false}}' "
            "(or true) -- the platforms require the answer and vidgen never guesses it"
        )
    return video, cfg


def _upload_request(
    video: Video, cfg: ThemeConfig, destination: str, at: datetime
) -> UploadRequest:
    """What vidgen sends for ``video``: the plan's title and description (with the credits
    the assets need), the config's description and hashtags, privacy, made-for-kids."""
    from vidgen.providers.publish import UploadRequest
    from vidgen.review import read_log, subtitles_of

    publish = cfg.publish
    assert publish is not None and publish.made_for_kids is not None
    try:
        log_data = read_log(Path(video.log_path))
    except Refused:
        log_data = {}
    raw_plan = log_data.get("plan")
    plan: dict[str, Any] = raw_plan if isinstance(raw_plan, dict) else {}
    description = str(log_data.get("description") or plan.get("description") or "")
    hashtags = [str(t) for t in plan.get("hashtags") or []] + list(publish.hashtags)
    tags = list(dict.fromkeys(t.lstrip("#") for t in hashtags if t.strip("#")))
    missing = [t for t in tags if f"#{t}".lower() not in description.lower()]
    extra = " ".join(f"#{t}" for t in missing)
    parts = [description.strip(), publish.description.strip(), extra]
    captions = subtitles_of(Path(video.video_path))
    publish_at = None
    if destination == "youtube" and at > datetime.now(UTC) + _seconds(120):
        publish_at = at.isoformat().replace("+00:00", "Z")

    # YouTube refuses '<' and '>' in titles and descriptions (invalidTitle/invalidDescription).
    def clean(text: str) -> str:
        return text.replace("<", "(").replace(">", ")")

    return UploadRequest(
        title=clean(video.title or plan.get("title") or "video")[:100],
        description=clean("\n\n".join(p for p in parts if p))[:5000],
        tags=tags[:30],
        privacy=publish.privacy,
        made_for_kids=publish.made_for_kids,
        category=publish.category,
        language=cfg.config.language,
        publish_at=publish_at,
        tiktok_mode=publish.tiktok_mode,
        video_path=video.video_path,
        thumbnail_path=video.thumbnail_path or None,
        captions_path=str(captions) if captions.is_file() else None,
    )


def _schedule(
    settings: Settings,
    store: Store,
    video: Video,
    cfg: ThemeConfig,
    destination: str,
    account: str,
    at: datetime,
) -> Publication:
    from vidgen.store import publications

    request = _upload_request(video, cfg, destination, at)
    assert cfg.publish is not None and video.id is not None
    # YouTube holds a scheduled release itself (private until publishAt): upload now, so a
    # worker that is down at the release time cannot make it late. TikTok has no such field:
    # its publication waits here until it is due.
    upload_at = datetime.now(UTC) if request.publish_at is not None else at
    body = request.model_dump(mode="json") | {"max_per_day": cfg.publish.max_per_day}
    return publications.schedule(
        store, video.id, destination, account, upload_at, request.privacy, body
    )


def _publication_response(store: Store, pub: Publication) -> PublicationResponse:
    from vidgen.pipeline.upload import to_response

    return to_response(pub, videos.get(store, pub.video_id))


def publish_video(
    settings: Settings,
    video_id: int,
    to: str,
    at: str | None = None,
    account: str | None = None,
) -> PublicationResponse:
    """``vidgen publish VIDEO --to DEST`` / ``POST /api/videos/{id}/publish``: schedule one
    publication, and queue its upload for the workers when it is due now."""
    from vidgen.providers.oauth import CLIENTS, TokenStore
    from vidgen.providers.publish import credentials_dir

    destination = check_destination(to)
    name = check_account(account)
    store = get_store(settings)
    video, cfg = _publish_settings(settings, store, video_id)
    assert cfg.publish is not None  # _publish_settings refused a config without one
    when = parse_publish_time(at, cfg.publish.timezone)
    tokens = TokenStore(CLIENTS[destination], name, credentials_dir(settings.home))
    if not tokens.exists():
        raise Refused(tokens.missing_message())
    pub = _schedule(settings, store, video, cfg, destination, name, when)
    assert pub.id is not None
    if pub.scheduled_at <= datetime.now(UTC):
        _queue_publications(settings, [pub.id])
    return _publication_response(store, pub)


def _queue_publications(settings: Settings, ids: list[int]) -> list[int]:
    from vidgen.pipeline.queue import QueueUnavailable, enqueue_publication

    queued: list[int] = []
    for pub_id in ids:
        try:
            enqueue_publication(settings, pub_id)
        except QueueUnavailable as exc:
            # Still scheduled and due: the next 'publish --due' queues it again.
            log.warning("publication %s not queued: %s", pub_id, exc)
            continue
        queued.append(pub_id)
    return queued


def schedule_after_approval(settings: Settings, video_id: int) -> list[int]:
    """``approve`` with a ``publish:`` section: one publication per destination at the next
    of ``publish.times``. Never undoes the approval: a problem is logged and the video stays
    approved, to be published by hand."""
    from vidgen.store.status import VideoStatus

    store = get_store(settings)
    video = videos.get(store, video_id)
    job = jobs.get(store, video.job_id) if video is not None else None
    if video is None or job is None or video.status != VideoStatus.APPROVED.value:
        return []
    try:
        cfg, _where = _publish_config(settings, job.config_path)
    except VidgenError as exc:
        log.warning("video %s approved; not scheduled: %s", video_id, exc)
        return []
    if cfg is None or cfg.publish is None or not cfg.publish.destinations:
        return []
    made: list[int] = []
    when = next_slot(cfg.publish.times, cfg.publish.timezone)
    for destination in cfg.publish.destinations:
        try:
            pub = _schedule(settings, store, video, cfg, destination, cfg.publish.account, when)
        except VidgenError as exc:
            log.warning("video %s: not scheduled on %s: %s", video_id, destination, exc)
            continue
        assert pub.id is not None
        made.append(pub.id)
    return made


def next_slot(times: list[str], zone: str, now: datetime | None = None) -> datetime:
    """The next of ``times`` (HH:MM in ``zone``) after ``now``, in UTC."""
    tz = _zone(zone)
    here = (now or datetime.now(UTC)).astimezone(tz)
    candidates = []
    for day in (0, 1):
        base = (here + _seconds(86400 * day)).date()
        for slot in times:
            hour, minute = (int(part) for part in slot.split(":"))
            candidates.append(datetime(base.year, base.month, base.day, hour, minute, tzinfo=tz))
    return min(c for c in candidates if c > here).astimezone(UTC)


def list_publications(
    settings: Settings, status: str | None = None, limit: int = 20
) -> PublicationListResponse:
    """``vidgen publications`` / ``GET /api/publications``: newest first."""
    from vidgen.store import publications

    if status is not None and status not in PUBLICATION_STATUS_NAMES:
        raise InvalidInput(
            f"unknown publication status {status!r}: use one of "
            f"{', '.join(PUBLICATION_STATUS_NAMES)}"
        )
    check_page(limit, 0)
    store = get_store(settings)
    rows = publications.newest(store, status, limit)
    found = [_publication_response(store, row) for row in rows]
    return PublicationListResponse(count=len(found), publications=found)


def video_publications(settings: Settings, video_id: int) -> PublicationListResponse:
    """One video's publications, oldest first (the dashboard's Publishing box)."""
    from vidgen.pipeline.upload import to_response
    from vidgen.store import publications

    store = get_store(settings)
    video = videos.get(store, check_video_id(video_id))
    if video is None:
        raise NotFound(f"video {video_id} not found")
    found = [
        to_response(p, video) for p in publications.for_videos(store, [video_id]).get(video_id, [])
    ]
    return PublicationListResponse(count=len(found), publications=found)


def publish_due(settings: Settings) -> PublishDueResponse:
    """``vidgen publish --due`` / ``POST /api/publications/due`` (the cron line): queue the
    uploads due now -- and those whose worker died mid-upload, to resume -- for the workers,
    keeping each destination within its ``publish.max_per_day``; returns at once."""
    from vidgen.store import publications
    from vidgen.store.status import PublicationStatus

    store = get_store(settings)
    today = start_of_today()
    started: dict[str, int] = {}
    held: dict[str, int] = {}
    ids: list[int] = []
    for pub in publications.due(store, datetime.now(UTC)):
        assert pub.id is not None
        if pub.status == PublicationStatus.UPLOADING.value:
            ids.append(pub.id)  # a resume: already counted when it started
            continue
        limit = pub.request.get("max_per_day")
        if isinstance(limit, int):
            dest = pub.destination
            if dest not in started:
                started[dest] = publications.started_since(store, dest, today)
            if started[dest] >= limit:
                held[dest] = held.get(dest, 0) + 1
                continue
            started[dest] += 1
        ids.append(pub.id)
    queued = _queue_publications(settings, ids)
    note = "".join(
        f"; {n} on {dest} held back by publish.max_per_day" for dest, n in sorted(held.items())
    )
    return PublishDueResponse(
        queued=queued,
        held_back=held,
        message=f"{len(queued)} upload(s) queued for the workers{note}",
    )


def cancel_publication(settings: Settings, pub_id: int) -> PublicationResponse:
    """``vidgen publications cancel ID`` / ``POST /api/publications/{id}/cancel``."""
    from vidgen.store import publications

    if not 1 <= pub_id <= MAX_PUBLICATION_ID:
        raise NotFound(f"publication {pub_id} not found (ids are positive whole numbers)")
    store = get_store(settings)
    body = _publication_response(store, publications.cancel(store, pub_id))
    from vidgen.pipeline import webhook

    webhook.send_publication(settings, body)  # an end, like published or failed
    return body


def auth_begin(
    settings: Settings, destination: str, account: str | None, port: int
) -> tuple[Authorization, HTTPServer]:
    """Start ``vidgen auth DEST``: (Authorization with its consent URL, the loopback server
    already listening for the browser's redirect)."""
    from http.server import BaseHTTPRequestHandler, HTTPServer

    from vidgen.providers import oauth

    dest = check_destination(destination)
    name = check_account(account)
    try:
        server = HTTPServer(("127.0.0.1", port), BaseHTTPRequestHandler)
    except OSError as exc:
        raise InvalidInput(
            f"cannot listen on 127.0.0.1:{port} ({exc.strerror}); pick another --port"
        ) from None
    auth = oauth.start(oauth.CLIENTS[dest], name, server.server_address[1])
    return auth, server


def auth_finish(
    settings: Settings,
    auth: Authorization,
    server: HTTPServer,
    pasted: str | None,
    timeout: float = 300.0,
) -> str:
    """Finish ``vidgen auth``: the code from the pasted redirect URL or the loopback listener,
    exchanged for tokens kept in the home (mode 0600). Returns where they are."""
    import httpx

    from vidgen.providers import oauth
    from vidgen.providers.publish import credentials_dir

    if pasted is not None:
        server.server_close()
        code = oauth.code_from_redirect(auth, pasted)
    else:
        code = oauth.receive_on_loopback(auth, server, timeout)
    with httpx.Client(timeout=30.0) as http:
        tokens = oauth.finish(auth, code, credentials_dir(settings.home), http)
    return str(tokens.path)
