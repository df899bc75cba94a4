"""Limits and the checks of raw values every face shares (ids, statuses, pages, themes, paths)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from vidgen.errors import InvalidInput, NotFound
from vidgen.schemas import (
    MAX_PAGE_LIMIT,
    check_limit,
)
from vidgen.service._handles import (
    jobs,
)
from vidgen.statuses import JobStatus

if TYPE_CHECKING:
    from vidgen.store import Store
    from vidgen.store.models import Job


MAX_LIMIT = MAX_PAGE_LIMIT  # the faces' Query(le=...) reads it here


MAX_OFFSET = 10**9


MAX_JOB_ID = 2**63 - 1


STATUS_NAMES = tuple(status.value for status in JobStatus)


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
    check_limit(limit)
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


def _get_job(store: Store, job_id: int) -> Job:
    check_job_id(job_id)
    job = jobs.get(store, job_id)
    if job is None:
        raise NotFound(f"Job {job_id} not found")
    return job


def check_video_id(video_id: int) -> int:
    if not 1 <= video_id <= MAX_JOB_ID:
        raise NotFound(f"Video {video_id} not found (video ids are positive whole numbers)")
    return video_id
