"""Crash-safe file writes: everything vidgen publishes is written to a temporary name and renamed.

A reader (or a retry after a crash or a full disk) therefore sees the old file or the new one,
never half of one.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from pathlib import Path


def temp_sibling(path: Path) -> Path:
    """A hidden temporary name in the same folder, so the final rename is atomic."""
    return path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")


def _fsync_and_replace(tmp: Path, dest: Path) -> None:
    with open(tmp, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, dest)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_sibling(path)
    try:
        tmp.write_bytes(data)
        _fsync_and_replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def publish_copy(src: Path, dest: Path) -> None:
    """Copy src to dest via a temporary sibling; dest appears complete or not at all."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_sibling(dest)
    try:
        shutil.copyfile(src, tmp)
        _fsync_and_replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


def file_digest(path: Path) -> dict[str, int | str]:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return {"size": path.stat().st_size, "sha256": digest.hexdigest()}
