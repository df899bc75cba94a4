"""Stock footage: search providers (Pexels, Pixabay), candidate scoring, a shared download cache.

A ``StockProvider`` only searches: it turns one query into candidates, each one downloadable
video file. ``score`` ranks candidates for a scene (orientation, resolution, duration, query
words in the video's tags). ``StockCache`` keeps downloaded files under the vidgen home, keyed
by URL, so jobs that pick the same footage download it once. ``vidgen.media.visuals.StockVideos``
puts the three together into a clip source. All HTTP goes through ``vidgen.outgoing`` (timeouts,
retries, size caps, atomic downloads); nothing here records anything.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import httpx

from vidgen.errors import FatalStageError, StageError
from vidgen.outgoing import Credential, RetryPolicy, Sleep, download, request_json, require_key
from vidgen.registry import STOCK_SOURCES

if TYPE_CHECKING:
    from vidgen.cancel_token import CancelToken

MAX_DOWNLOAD_BYTES = 300 * 1024 * 1024
# Search answers are kept this long (Pixabay's terms ask for 24 hours; it also spares every
# provider's hourly request quota when cron makes a video every half hour).
SEARCH_TTL_SECONDS = 24 * 3600
# The cache keeps the most recently used files up to this total; older ones are removed.
CACHE_MAX_BYTES = 2 * 1024 * 1024 * 1024


@dataclass(frozen=True)
class StockCandidate:
    """One video a search found, as one downloadable file."""

    provider: str
    id: str
    page_url: str  # the video's page, for attribution and the generation log
    file_url: str
    width: int
    height: int
    duration: float
    tags: tuple[str, ...] = ()


@runtime_checkable
class StockProvider(Protocol):
    """Contract every stock footage search keeps.

    ``search(client, query, width=, height=, ctx=)`` asks the service for videos matching
    ``query`` (a few plain words) that suit a ``width`` x ``height`` output, and returns them as
    ``StockCandidate``s: for each video the one rendition best for that size (the smallest that
    covers it, else the largest), its page URL, duration and descriptive words (``tags``). It
    never downloads footage. Nothing found is an empty list, not an error.

    Errors follow ``vidgen.outgoing``: a missing key, or one the service rejects, is
    ``FatalStageError`` naming ``key_env``; an unreachable service or 5xx/429 after the shared
    retries is ``StageError`` (the caller may fall back to other footage). ``credential`` names
    the service for download errors; ``licence`` is recorded with what the video shows.
    """

    name: str
    label: str
    key_env: str
    licence: str
    credential: Credential

    def search(
        self,
        client: httpx.Client,
        query: str,
        *,
        width: int,
        height: int,
        ctx: CancelToken | None = None,
    ) -> list[StockCandidate]: ...


def _orientation(width: int, height: int) -> str:
    if height > width:
        return "portrait"
    if width > height:
        return "landscape"
    return "square"


def _covers(file_w: int, file_h: int, width: int, height: int) -> bool:
    """Whether a file scaled to cover ``width`` x ``height`` needs no enlarging."""
    return file_w > 0 and file_h > 0 and max(width / file_w, height / file_h) <= 1.0


def _best_rendition(
    files: list[tuple[int, int, str]], width: int, height: int
) -> tuple[int, int, str] | None:
    """The smallest file that covers the output, else the largest."""
    if not files:
        return None
    covering = sorted((f for f in files if _covers(f[0], f[1], width, height)), key=_area)
    return covering[0] if covering else max(files, key=_area)


def _area(item: tuple[int, int, str]) -> int:
    return item[0] * item[1]


def _slug_words(url: str) -> tuple[str, ...]:
    """Pexels pages name the video: ``/video/woman-working-on-laptop-7579564/``."""
    slug = url.rstrip("/").rsplit("/", 1)[-1]
    return tuple(part for part in re.split(r"[-_]+", slug) if part.isalpha())


# --------------------------------------------------------------------------------------------
# Pexels

PEXELS_SEARCH_URL = "https://api.pexels.com/videos/search"
PEXELS_KEY_ENV = "VIDGEN_PEXELS_API_KEY"
_PEXELS_CREDENTIAL = Credential(
    "Pexels",
    "API key",
    PEXELS_KEY_ENV,
    # A refused search or a vanished file: the seed would pick the same again.
    request_fix="change the scene keywords or use providers.visuals: procedural",
)


@dataclass
class PexelsStock:
    """The Pexels video search (https://www.pexels.com/api/documentation/#videos-search)."""

    api_key: str | None = None
    sleep: Sleep | None = None
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    name: str = "pexels"
    label: str = "Pexels"
    key_env: str = PEXELS_KEY_ENV
    licence: str = "Pexels License"
    credential: Credential = _PEXELS_CREDENTIAL

    def search(
        self,
        client: httpx.Client,
        query: str,
        *,
        width: int,
        height: int,
        ctx: CancelToken | None = None,
    ) -> list[StockCandidate]:
        key = require_key(
            self.api_key,
            self.key_env,
            "The Pexels visual source",
            "use providers.visuals: procedural (a Pexels key is free at pexels.com/api)",
        )
        wanted = _orientation(width, height)
        payload = request_json(
            client,
            "GET",
            PEXELS_SEARCH_URL,
            params={"query": query, "orientation": wanted, "per_page": 15},
            headers={"Authorization": key},
            credential=self.credential,
            sleep=self.sleep,
            policy=self.policy,
            ctx=ctx,
        )
        videos = payload.get("videos") if isinstance(payload, dict) else None
        if not isinstance(videos, list):
            raise StageError("Pexels search response has no 'videos' list")
        found: list[StockCandidate] = []
        for video in videos:
            if not isinstance(video, dict):
                continue
            files = _pexels_files(video, wanted)
            chosen = _best_rendition(files, width, height)
            if chosen is None:
                continue
            page = str(video.get("url") or chosen[2])
            found.append(
                StockCandidate(
                    provider=self.name,
                    id=str(video.get("id", "")),
                    page_url=page,
                    file_url=chosen[2],
                    width=chosen[0],
                    height=chosen[1],
                    duration=_number(video.get("duration")),
                    tags=_slug_words(page),
                )
            )
        return found


def _number(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def _pexels_files(video: dict[str, Any], orientation: str) -> list[tuple[int, int, str]]:
    """The video's MP4 renditions of the wanted orientation: (width, height, link)."""
    files = []
    for item in video.get("video_files") or []:
        if not isinstance(item, dict):
            continue
        width, height, link = item.get("width"), item.get("height"), item.get("link")
        if not (isinstance(width, int) and isinstance(height, int) and isinstance(link, str)):
            continue
        if not str(item.get("file_type", "video/mp4")).startswith("video/"):
            continue
        if _orientation(width, height) == orientation:
            files.append((width, height, link))
    return files


def portrait_file(video: dict[str, Any], min_width: int) -> str | None:
    """Link of the smallest portrait rendition at least ``min_width`` wide (else the largest)."""
    files = _pexels_files(video, "portrait")
    if not files:
        return None
    wide_enough = sorted((f for f in files if f[0] >= min_width), key=_area)
    return wide_enough[0][2] if wide_enough else max(files, key=_area)[2]


# --------------------------------------------------------------------------------------------
# Pixabay

PIXABAY_SEARCH_URL = "https://pixabay.com/api/videos/"
PIXABAY_KEY_ENV = "VIDGEN_PIXABAY_API_KEY"
# The name other tools use for the same key; read when VIDGEN_PIXABAY_API_KEY is not set.
PIXABAY_KEY_ENV_ALIAS = "PIXABAY_API_KEY"
# The API's query limit (https://pixabay.com/api/docs/#api_search_videos).
_PIXABAY_MAX_QUERY = 100
_PIXABAY_CREDENTIAL = Credential(
    "Pixabay",
    "API key",
    PIXABAY_KEY_ENV,
    # Pixabay answers a bad key with HTTP 400 ("[ERROR 400] Invalid API key. ...").
    bad_key_markers=("API key", '"key"'),
    request_fix="change the scene keywords or use providers.visuals: procedural",
)


@dataclass
class PixabayStock:
    """The Pixabay video search (https://pixabay.com/api/docs/#api_search_videos).

    The key travels as the ``key`` query parameter, as the API requires; Pixabay answers a bad
    key with HTTP 400 ("[ERROR 400] ... key"), which the credential marks as a key problem.
    Films only (``video_type=film``), safe search on, 20 results; each hit offers ``large``,
    ``medium``, ``small`` and ``tiny`` renditions, of which the smallest that covers the output
    is taken. Pixabay has no orientation filter: orientation is left to ``score``.
    """

    api_key: str | None = None
    sleep: Sleep | None = None
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    name: str = "pixabay"
    label: str = "Pixabay"
    key_env: str = PIXABAY_KEY_ENV
    licence: str = "Pixabay Content License"
    credential: Credential = _PIXABAY_CREDENTIAL

    def search(
        self,
        client: httpx.Client,
        query: str,
        *,
        width: int,
        height: int,
        ctx: CancelToken | None = None,
    ) -> list[StockCandidate]:
        explicit = self.api_key
        if explicit is None and not os.environ.get(self.key_env, "").strip():
            explicit = os.environ.get(PIXABAY_KEY_ENV_ALIAS) or None
        key = require_key(
            explicit,
            self.key_env,
            "The Pixabay visual source",
            "use providers.visuals: procedural (a Pixabay key is free at pixabay.com/api/docs)",
        )
        payload = request_json(
            client,
            "GET",
            PIXABAY_SEARCH_URL,
            params={
                "key": key,
                "q": query[:_PIXABAY_MAX_QUERY],
                "video_type": "film",
                "safesearch": "true",
                "per_page": 20,
            },
            credential=self.credential,
            sleep=self.sleep,
            policy=self.policy,
            ctx=ctx,
        )
        hits = payload.get("hits") if isinstance(payload, dict) else None
        if not isinstance(hits, list):
            raise StageError("Pixabay search response has no 'hits' list")
        found: list[StockCandidate] = []
        for hit in hits:
            if not isinstance(hit, dict):
                continue
            files: list[tuple[int, int, str]] = []
            renditions = hit.get("videos")
            for item in renditions.values() if isinstance(renditions, dict) else []:
                if not isinstance(item, dict):
                    continue
                w, h, url = item.get("width"), item.get("height"), item.get("url")
                if not (isinstance(w, int) and isinstance(h, int) and isinstance(url, str)):
                    continue
                if w > 0 and h > 0 and url:
                    files.append((w, h, url))
            chosen = _best_rendition(files, width, height)
            if chosen is None:
                continue
            tags = tuple(t.strip() for t in str(hit.get("tags") or "").split(",") if t.strip())
            found.append(
                StockCandidate(
                    provider=self.name,
                    id=str(hit.get("id", "")),
                    page_url=str(hit.get("pageURL") or chosen[2]),
                    file_url=chosen[2],
                    width=chosen[0],
                    height=chosen[1],
                    duration=_number(hit.get("duration")),
                    tags=tags,
                )
            )
        return found


def get_stock_provider(
    name: str, *, api_key: str | None = None, sleep: Sleep | None = None
) -> StockProvider:
    """The stock search named in ``providers.visuals`` (one of ``registry.STOCK_SOURCES``)."""
    if name == "pexels":
        return PexelsStock(api_key=api_key, sleep=sleep)
    if name == "pixabay":
        return PixabayStock(api_key=api_key, sleep=sleep)
    raise FatalStageError(
        f"unknown stock source {name!r}; use one of {', '.join(map(repr, STOCK_SOURCES))}"
    )


# --------------------------------------------------------------------------------------------
# Choosing


def score(
    candidate: StockCandidate, *, width: int, height: int, duration: float, words: set[str]
) -> float:
    """How well a candidate suits a scene: higher is better.

    Same orientation as the output (a landscape video cropped to portrait keeps a third of
    its picture) 3; no enlarging needed 1 (less in proportion); long enough for the scene 1
    (less in proportion); 1.5 for each query word among the video's tags or page name.
    """
    value = (
        3.0
        if _orientation(candidate.width, candidate.height) == _orientation(width, height)
        else 0.0
    )
    if candidate.width > 0 and candidate.height > 0:
        enlarge = max(width / candidate.width, height / candidate.height)
        value += 1.0 if enlarge <= 1.0 else 1.0 / enlarge
    if duration > 0:
        value += min(1.0, candidate.duration / duration)
    tagged = {part.casefold() for tag in candidate.tags for part in re.split(r"\W+", tag) if part}
    value += 1.5 * len({w.casefold() for w in words} & tagged)
    return value


# --------------------------------------------------------------------------------------------
# The download cache


class StockCache:
    """Downloaded stock files (and search answers) shared by every job of a home
    (``<home>/cache/stock``).

    Keyed by the file's URL (sha256), so the same footage is downloaded once. Files appear
    atomically (``vidgen.outgoing.download`` writes a temporary sibling and renames it), so two
    jobs downloading the same URL at once each leave a whole file and one wins the rename. The
    size cap of every download applies; after a download the least recently used files beyond
    ``max_bytes`` in total are removed (only files named like cache entries are touched).
    """

    def __init__(self, folder: Path, *, max_bytes: int = CACHE_MAX_BYTES) -> None:
        self.folder = folder
        self.max_bytes = max_bytes

    def _search_path(self, provider: str, query: str, width: int, height: int) -> Path:
        key = f"{provider}\n{query.casefold()}\n{_orientation(width, height)}\n{width}x{height}"
        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:40]
        return self.folder / "search" / f"{digest}.json"

    def cached_search(
        self, provider: str, query: str, width: int, height: int
    ) -> list[StockCandidate] | None:
        """The candidates a search found within ``SEARCH_TTL_SECONDS``, or None."""
        path = self._search_path(provider, query, width, height)
        try:
            if time.time() - path.stat().st_mtime > SEARCH_TTL_SECONDS:
                return None
            data = json.loads(path.read_text(encoding="utf-8"))
            return [
                StockCandidate(**{**item, "tags": tuple(item.get("tags") or ())}) for item in data
            ]
        except (OSError, ValueError, TypeError):
            return None  # absent, unreadable or from another version: ask again

    def store_search(
        self, provider: str, query: str, width: int, height: int, found: list[StockCandidate]
    ) -> None:
        from vidgen.files import atomic_write_text

        path = self._search_path(provider, query, width, height)
        atomic_write_text(path, json.dumps([asdict(c) for c in found]))

    def path_for(self, url: str) -> Path:
        digest = hashlib.sha256(url.encode("utf-8")).hexdigest()[:40]
        return self.folder / f"{digest}.video"

    def fetch(
        self,
        client: httpx.Client,
        url: str,
        *,
        credential: Credential,
        max_bytes: int,
        sleep: Sleep | None = None,
        policy: RetryPolicy = RetryPolicy(),
        ctx: CancelToken | None = None,
    ) -> Path:
        """The cached file for ``url``, downloading it first when absent."""
        path = self.path_for(url)
        try:
            if path.stat().st_size > 0:
                os.utime(path)  # most recently used: the last to go
                return path
        except FileNotFoundError:
            pass
        download(
            client,
            url,
            path,
            credential=credential,
            max_bytes=max_bytes,
            what="video",
            sleep=sleep,
            policy=policy,
            ctx=ctx,
        )
        self._trim(keep=path)
        return path

    def _trim(self, *, keep: Path) -> None:
        entries = []
        for entry in self.folder.glob("*.video"):
            try:
                info = entry.stat()
            except FileNotFoundError:
                continue
            entries.append((info.st_mtime, info.st_size, entry))
        total = sum(size for _, size, _ in entries)
        for _, size, entry in sorted(entries, key=lambda e: e[0]):
            if total <= self.max_bytes:
                break
            if entry == keep:
                continue
            entry.unlink(missing_ok=True)
            total -= size
