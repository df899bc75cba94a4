"""Retention: delete the work files of jobs that ended long ago (``vidgen prune``).

A full-size job leaves about 100 MB under ``<home>/jobs/<id>/`` (clips, voiceover, soundtrack
and the composed video; the outside trial measured 96 MB); from a 30-minute cron that is
several gigabytes a day. Only those work folders go (and, when asked, the files of rejected
videos): videos waiting for review or approved are never touched, and every job's record stays.
The worker applies ``VIDGEN_PRUNE_AFTER`` with the same function.
"""

from __future__ import annotations

import os
import re
import shutil
from datetime import timedelta
from pathlib import Path

from vidgen.clock import utcnow
from vidgen.errors import InvalidInput
from vidgen.schemas import PruneResponse
from vidgen.settings import Settings
from vidgen.statuses import VideoStatus
from vidgen.store import Store, jobs
from vidgen.store import videos as video_rows

_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_duration(text: str, what: str = "--older-than") -> timedelta:
    """``7d``, ``12h``, ``30m``, ``90s``, ``2w`` or combinations such as ``1d12h``."""
    cleaned = text.strip().lower()
    pieces = re.findall(r"(\d{1,9})([smhdw])", cleaned)
    if not cleaned or "".join(n + u for n, u in pieces) != cleaned:
        raise InvalidInput(
            f"{what} {text!r} is not a duration: write a number and a unit, "
            "like 7d, 12h, 30m (s, m, h, d, w)"
        )
    seconds = sum(int(n) * _DURATION_UNITS[u] for n, u in pieces)
    if seconds > 100 * 365 * 86400:
        raise InvalidInput(f"{what} {text!r} is more than 100 years; use a shorter one")
    return timedelta(seconds=seconds)


def _tree_size(path: Path) -> tuple[int, int]:
    """(files, bytes) under ``path``, without following symlinks."""
    files = size = 0
    for root, _dirs, names in os.walk(path):
        for name in names:
            try:
                size += Path(root, name).lstat().st_size
            except OSError:
                continue
            files += 1
    return files, size


def prune(
    store: Store,
    settings: Settings,
    older_than: str,
    *,
    dry_run: bool = False,
    rejected: bool = False,
) -> PruneResponse:
    """Delete the work files (``<home>/jobs/<id>/``) of jobs that ended before ``older_than``
    ago. Videos in review/ and approved/ are never touched; with ``rejected``, the files of
    videos rejected before then go too. The store keeps every job's record."""
    from vidgen.review_folders import FOLDERS, subtitles_of

    age = parse_duration(older_than)
    cutoff = utcnow() - age
    jobs_root = settings.jobs_dir
    folders = (
        sorted(int(p.name) for p in jobs_root.iterdir() if p.name.isdigit() and p.is_dir())
        if jobs_root.is_dir()
        else []
    )
    candidates = jobs.ended_among(store, folders, cutoff)
    files = size = 0
    ended: list[int] = []
    for job_id in candidates:
        folder = jobs_root / str(job_id)
        if dry_run:
            count, used = _tree_size(folder)
        else:
            # The listing above is only a candidate list: a retry may make any of these jobs
            # pending meanwhile. Each folder goes inside a transaction that holds the job row
            # and finds it still ended, so a retry either waits for the delete (and then runs
            # every stage again, its files being gone) or its job keeps its files.
            def delete(folder: Path = folder) -> tuple[int, int]:
                found = _tree_size(folder)
                shutil.rmtree(folder, ignore_errors=True)
                return found

            done = jobs.if_ended_before(store, job_id, cutoff, delete)
            if done is None:
                continue
            count, used = done
        ended.append(job_id)
        files, size = files + count, size + used
    videos = 0
    if rejected:
        rejected_dir = (settings.output_root / FOLDERS[VideoStatus.REJECTED.value]).resolve()
        for video in video_rows.rejected_before(store, cutoff):
            found = False
            base = Path(video.video_path)
            for path in {
                Path(video.video_path),
                Path(video.thumbnail_path),
                Path(video.log_path),
                subtitles_of(base),
            }:
                # Only ever inside rejected/: a path that moved elsewhere is not ours to delete.
                if not path.resolve().is_relative_to(rejected_dir) or not path.is_file():
                    continue
                found = True
                files, size = files + 1, size + path.lstat().st_size
                if not dry_run:
                    path.unlink(missing_ok=True)
            videos += found
    verb = "would free" if dry_run else "freed"
    extra = f" and {videos} rejected video(s)" if rejected else ""
    return PruneResponse(
        dry_run=dry_run,
        older_than=older_than,
        cutoff=cutoff.isoformat(),
        jobs=len(ended),
        job_ids=ended,
        rejected_videos=videos,
        files=files,
        bytes=size,
        message=f"{verb} {size} bytes in {files} file(s): work files of {len(ended)} job(s) "
        f"that ended before {cutoff.isoformat(timespec='seconds')}{extra}",
    )
