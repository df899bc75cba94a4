"""Jobs coming in: ``generate`` and ``generate --batch`` check everything first (theme, config, the
files it names, the daily budget), record the jobs with their config snapshots, and enqueue them;
not queued means not created.
"""

from __future__ import annotations

import logging
import stat
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from vidgen.errors import InvalidInput, Refused, VidgenError
from vidgen.schemas import (
    BatchEntry,
    BatchTriggerResponse,
    GenerateSkippedResponse,
    PipelineTriggerResponse,
)
from vidgen.service._checks import (
    check_stage_package,
    check_theme,
    check_utf8,
    confined_config_path,
)
from vidgen.service._handles import (
    checkpoints,
    get_store,
    jobs,
)
from vidgen.settings import Settings

if TYPE_CHECKING:
    from vidgen.config import ThemeConfig
    from vidgen.store import Store


log = logging.getLogger("vidgen.service")


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
