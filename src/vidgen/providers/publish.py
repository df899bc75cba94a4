"""Upload destinations: the provider kind that puts an approved video on a platform.

One Protocol (``Destination``), one factory (``vidgen.providers.destinations.get_destination``,
names from ``vidgen.registry.DESTINATIONS``), one shared contract test
(``tests/test_destinations.py``) run against each destination and a local fake of its API. A
destination does the network work and returns data; the upload task
(``vidgen.pipeline.upload``) records it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel, Field

# What a destination hands back after recording progress: the session state as JSON.
UploadState = dict[str, Any]
Record = Callable[[UploadState], None]


class UploadRequest(BaseModel):
    """What vidgen sends, fixed when the publication is scheduled (``Publication.request``)."""

    title: str = Field(max_length=100)
    description: str = Field("", max_length=5000)
    tags: list[str] = Field(default_factory=list)
    privacy: str = "private"  # public | unlisted | private
    made_for_kids: bool
    category: str = "22"
    language: str = "en"
    publish_at: str | None = None  # ISO-8601 UTC: a scheduled (private until then) release
    tiktok_mode: str = "direct"  # direct | inbox (TikTok only)
    video_path: str
    thumbnail_path: str | None = None
    captions_path: str | None = None


class Published(BaseModel):
    remote_id: str
    url: str | None
    applied_privacy: str | None
    note: str | None = None  # a later step the platform refused (the video is up regardless)


class Destination(Protocol):
    """Contract of an upload destination (``youtube``, ``tiktok``).

    ``upload(request, state, record)`` puts ``request.video_path`` on the platform once and
    returns the remote id, URL and the privacy the platform applied.

    - ``state`` is the upload session recorded by an earlier attempt (``{}`` at first). With a
      session in it, the destination asks the platform how many bytes it has and continues
      from there; it never opens a second upload while the platform still knows the first
      (a session the platform no longer knows never made a video, so a new one is safe).
    - ``record(state)`` is called with the new session before any byte of the video is sent,
      after every chunk the platform confirmed and after each later step (thumbnail,
      captions), so a process killed at any point resumes, never repeats a finished step.
    - An answer lost after the last chunk is settled by asking the platform, not by sending
      the video again.
    - Errors: ``StageError`` for what another attempt may fix (5xx, a reset connection, a
      timeout); ``FatalStageError`` with one line saying what to do for what it cannot
      (expired or revoked authorisation, quota spent, a request the platform refuses).
    - No store access, no printing: the caller records ``state`` and the result.
    """

    name: str

    def upload(self, request: UploadRequest, state: UploadState, record: Record) -> Published: ...


def credentials_dir(home: Path) -> Path:
    """Where ``vidgen auth`` keeps refresh tokens (files of mode 0600)."""
    return home / "credentials"
