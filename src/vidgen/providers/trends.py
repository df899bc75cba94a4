"""Trend sources: where stage 1 gets trending short videos from.

``sample`` (default) reads the dataset shipped in ``vidgen/data/trends.json`` and needs no network.
``youtube`` and ``tiktok`` call real APIs and need a key in the environment.
Sources return ``TrendItem`` data; the trend_collection stage stores it (``vidgen.store.trends``).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from importlib import resources
from typing import Any, Protocol, runtime_checkable

import httpx
from pydantic import BaseModel, Field, ValidationError, field_validator

from vidgen.clock import utcnow
from vidgen.errors import FatalStageError, StageError
from vidgen.outgoing import (
    Credential,
    RetryPolicy,
    Sleep,
    default_timeout,
    request_json,
    require_key,
)
from vidgen.registry import names

TREND_SOURCES: tuple[str, ...] = names("trends")

YOUTUBE_KEY_ENV = "VIDGEN_YOUTUBE_API_KEY"
APIFY_TOKEN_ENV = "VIDGEN_APIFY_TOKEN"
SHORTS_MAX_SECONDS = 60.0


_HASHTAG_RE = re.compile(r"#(\w+)", re.UNICODE)


class TrendItem(BaseModel):
    """One trending short video, as any source reports it."""

    platform: str = Field(min_length=1, max_length=40)
    external_id: str = Field(min_length=1, max_length=200)
    title: str = Field(max_length=2000)
    # What the creator wrote under the video (YouTube's description, TikTok's caption past its
    # first line): often the takeaway a roundup can pass on. "" when there is none.
    description: str = Field("", max_length=5000)
    hashtags: list[str] = Field(default_factory=list)
    views: int = Field(0, ge=0)
    likes: int = Field(0, ge=0)
    comments: int = Field(0, ge=0)
    shares: int = Field(0, ge=0)
    creator: str = ""
    sound: str = ""
    duration_seconds: float = Field(0.0, ge=0)
    posted_at: datetime

    @field_validator("hashtags")
    @classmethod
    def _normalise_hashtags(cls, tags: list[str]) -> list[str]:
        # One spelling per tag ("#Tech", "tech ") so counting and dedupe work across platforms.
        seen: list[str] = []
        for tag in tags:
            clean = tag.strip().lstrip("#").lower()
            if clean and clean not in seen:
                seen.append(clean)
        return seen

    @field_validator("posted_at")
    @classmethod
    def _aware_utc(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


@runtime_checkable
class TrendSource(Protocol):
    """Contract for a trend source.

    - ``name``: the config name (``providers.trends``) of the source.
    - ``fetch(limit)``: at most ``limit`` trending short videos as ``TrendItem`` (aware-UTC
      ``posted_at``, lower-case hashtags without ``#``), best-effort unique per
      (platform, external_id). An empty list is a valid answer.
    - ``cost``: US dollars spent by the last ``fetch`` (0.0 for free or quota-based APIs).
    - Raises ``StageError`` for failures a later attempt may fix (timeouts, HTTP 429/5xx after
      bounded retries, malformed bodies) and ``FatalStageError`` for bad or missing credentials
      or a request the service refuses; messages name the env var or setting to fix.
    """

    name: str
    cost: float

    def fetch(self, limit: int) -> list[TrendItem]: ...


NO_KEY_FALLBACK = "use providers.trends: sample"


def _check_limit(limit: int) -> None:
    if limit < 1:
        raise FatalStageError(f"trend_limit must be at least 1 (got {limit})")


def hashtags_in(*texts: str) -> list[str]:
    tags: list[str] = []
    for text in texts:
        tags.extend(match.lower() for match in _HASHTAG_RE.findall(text or ""))
    return list(dict.fromkeys(tags))


# --------------------------------------------------------------------------- sample (offline)


class SampleTrendSource:
    """The shipped dataset, re-dated so it always looks freshly collected.

    The file stores a fixed ``reference_time``; every ``posted_at`` is shifted by
    ``now - reference_time`` at load, so "posted 5 hours ago" stays 5 hours ago and engagement
    velocity keeps its meaning whenever the job runs.
    """

    name = "sample"

    def __init__(self, now: Callable[[], datetime] = utcnow, data: str | None = None) -> None:
        self._now = now
        self._data = data
        self.cost = 0.0

    def _raw(self) -> dict[str, Any]:
        if self._data is not None:
            text = self._data
        else:
            text = (resources.files("vidgen") / "data" / "trends.json").read_text("utf-8")
        raw: Any = json.loads(text)
        if not isinstance(raw, dict) or "reference_time" not in raw or "items" not in raw:
            raise FatalStageError(
                "the sample trends dataset has no 'reference_time'/'items'; reinstall vidgen"
            )
        return raw

    def fetch(self, limit: int) -> list[TrendItem]:
        _check_limit(limit)
        self.cost = 0.0
        raw = self._raw()
        reference = datetime.fromisoformat(str(raw["reference_time"]))
        if reference.tzinfo is None:
            reference = reference.replace(tzinfo=UTC)
        shift = self._now() - reference
        items: list[TrendItem] = []
        try:
            for entry in raw["items"][:limit]:
                item = TrendItem.model_validate(entry)
                items.append(item.model_copy(update={"posted_at": item.posted_at + shift}))
        except ValidationError as exc:
            raise FatalStageError(
                f"the sample trends dataset is invalid ({exc.errors()[0]['msg']}); reinstall vidgen"
            ) from None
        return items


# --------------------------------------------------------------------------- YouTube

_ISO_DURATION = re.compile(
    r"^P(?:(?P<d>\d+)D)?(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$"
)


def parse_iso8601_duration(value: str) -> float | None:
    """Seconds in an ISO-8601 duration like ``PT1M5S``; None if it is not one."""
    match = _ISO_DURATION.match(value or "")
    if match is None or value in ("P", "PT"):
        return None
    parts = {key: float(val) if val else 0.0 for key, val in match.groupdict().items()}
    return parts["d"] * 86400 + parts["h"] * 3600 + parts["m"] * 60 + parts["s"]


def _int(value: Any) -> int:
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return 0


class YouTubeTrendSource:
    """YouTube Data API v3 ``videos?chart=mostPopular``, keeping Shorts (duration <= 60 s).

    The chart mixes long videos and Shorts, so pages are read until ``limit`` Shorts are found or
    the chart ends (it holds at most ~200 videos per region). YouTube does not publish share
    counts or sounds, so those stay 0 / "". Quota-based and free: ``cost`` is 0.0 (each page
    costs 1 quota unit of the default 10,000 per day).
    """

    name = "youtube"
    URL = "https://www.googleapis.com/youtube/v3/videos"
    MAX_PAGES = 8

    def __init__(
        self,
        api_key: str | None = None,
        *,
        region: str = "US",
        client: httpx.Client | None = None,
        sleep: Sleep = time.sleep,
        policy: RetryPolicy = RetryPolicy(),
    ) -> None:
        self._key = require_key(
            api_key, YOUTUBE_KEY_ENV, "The YouTube trend source", NO_KEY_FALLBACK
        )
        self._region = region
        self._client = client
        self._sleep = sleep
        self._policy = policy
        self._credential = Credential(
            "YouTube", "API key", YOUTUBE_KEY_ENV, bad_key_markers=("API_KEY_INVALID", "keyInvalid")
        )
        self.cost = 0.0

    def fetch(self, limit: int) -> list[TrendItem]:
        _check_limit(limit)
        self.cost = 0.0
        client = self._client or httpx.Client(timeout=default_timeout())
        try:
            return self._fetch(client, limit)
        finally:
            if self._client is None:
                client.close()

    def _fetch(self, client: httpx.Client, limit: int) -> list[TrendItem]:
        items: dict[str, TrendItem] = {}
        page_token: str | None = None
        for _ in range(self.MAX_PAGES):
            params = {
                "part": "snippet,statistics,contentDetails",
                "chart": "mostPopular",
                "regionCode": self._region,
                "maxResults": 50,
                "key": self._key,
            }
            if page_token:
                params["pageToken"] = page_token
            body = request_json(
                client,
                "GET",
                self.URL,
                params=params,
                credential=self._credential,
                sleep=self._sleep,
                policy=self._policy,
            )
            if not isinstance(body, dict) or not isinstance(body.get("items"), list):
                raise StageError("YouTube returned a response without 'items'; try again later")
            for entry in body["items"]:
                item = self.parse_video(entry)
                if item is not None and item.external_id not in items:
                    items[item.external_id] = item
                    if len(items) >= limit:
                        return list(items.values())
            page_token = body.get("nextPageToken")
            if not page_token:
                break
        return list(items.values())

    @staticmethod
    def parse_video(entry: Any) -> TrendItem | None:
        """A ``TrendItem`` for a Short, or None for long videos, live streams and broken entries."""
        if not isinstance(entry, dict):
            return None
        snippet = entry.get("snippet") or {}
        stats = entry.get("statistics") or {}
        details = entry.get("contentDetails") or {}
        seconds = parse_iso8601_duration(str(details.get("duration", "")))
        if seconds is None or seconds <= 0 or seconds > SHORTS_MAX_SECONDS:
            return None
        title = str(snippet.get("title", ""))
        hashtags = hashtags_in(title, str(snippet.get("description", "")))
        if not hashtags:
            # Without in-text hashtags the uploader's tags are the best topical signal we have.
            hashtags = [re.sub(r"\W+", "", str(tag)).lower() for tag in snippet.get("tags", [])[:8]]
        try:
            return TrendItem(
                platform="youtube",
                external_id=str(entry["id"]),
                title=title,
                description=str(snippet.get("description", ""))[:5000],
                hashtags=[tag for tag in hashtags if tag],
                views=_int(stats.get("viewCount")),
                likes=_int(stats.get("likeCount")),
                comments=_int(stats.get("commentCount")),
                shares=0,
                creator=str(snippet.get("channelTitle", "")),
                sound="",
                duration_seconds=seconds,
                posted_at=datetime.fromisoformat(str(snippet["publishedAt"])),
            )
        except (KeyError, ValueError, ValidationError):
            return None


# --------------------------------------------------------------------------- TikTok via Apify


class TikTokTrendSource:
    """TikTok videos through an Apify actor's ``run-sync-get-dataset-items`` endpoint.

    The default actor (``clockworks~tiktok-scraper``) scrapes the given discovery hashtags; its
    items carry ``id``, ``text``, ``createTimeISO``, ``authorMeta``, ``musicMeta``, ``videoMeta``,
    ``playCount``, ``diggCount``, ``commentCount``, ``shareCount`` and ``hashtags``. The sync
    endpoint holds the connection while the actor runs, hence the long read timeout.
    ``cost`` is estimated from the number of results at ``price_per_item`` (Apify bills the
    actor per result; set the price your plan pays).
    """

    name = "tiktok"
    BASE_URL = "https://api.apify.com/v2/acts"
    DEFAULT_ACTOR = "clockworks~tiktok-scraper"
    DEFAULT_HASHTAGS: tuple[str, ...] = ("fyp", "trending", "tiktokmademebuyit", "lifehack")
    # Approximate pay-per-result price of the default actor (USD, $4 per 1,000 results).
    DEFAULT_PRICE_PER_ITEM = 0.004

    def __init__(
        self,
        token: str | None = None,
        *,
        actor: str = DEFAULT_ACTOR,
        hashtags: Sequence[str] = DEFAULT_HASHTAGS,
        price_per_item: float = DEFAULT_PRICE_PER_ITEM,
        client: httpx.Client | None = None,
        sleep: Sleep = time.sleep,
        policy: RetryPolicy = RetryPolicy(attempts=3),
    ) -> None:
        self._token = require_key(
            token, APIFY_TOKEN_ENV, "The TikTok trend source (Apify)", NO_KEY_FALLBACK
        )
        self._actor = actor.replace("/", "~")
        self._hashtags = list(hashtags)
        self._price = price_per_item
        self._client = client
        self._sleep = sleep
        self._policy = policy
        self._credential = Credential("Apify", "API token", APIFY_TOKEN_ENV)
        self.cost = 0.0

    def estimate_cost(self, limit: int) -> float:
        """The most ``fetch(limit)`` can cost: every hashtag's share of results at the price."""
        per_tag = max(1, -(-limit // max(1, len(self._hashtags))))
        return round(per_tag * max(1, len(self._hashtags)) * self._price, 6)

    @property
    def url(self) -> str:
        return f"{self.BASE_URL}/{self._actor}/run-sync-get-dataset-items"

    def fetch(self, limit: int) -> list[TrendItem]:
        _check_limit(limit)
        self.cost = 0.0
        per_tag = max(1, -(-limit // max(1, len(self._hashtags))))
        payload = {
            "hashtags": self._hashtags,
            "resultsPerPage": per_tag,
            "shouldDownloadVideos": False,
            "shouldDownloadCovers": False,
            "shouldDownloadSubtitles": False,
        }
        client = self._client or httpx.Client(timeout=default_timeout(read=330.0))
        try:
            body = request_json(
                client,
                "POST",
                self.url,
                json=payload,
                headers={"Authorization": f"Bearer {self._token}"},
                credential=self._credential,
                sleep=self._sleep,
                policy=self._policy,
            )
        finally:
            if self._client is None:
                client.close()
        if not isinstance(body, list):
            raise StageError("Apify returned something other than a list of items; try again later")
        # Apify bills every item it scraped, including ones we drop below.
        self.cost = round(len(body) * self._price, 6)
        items: dict[str, TrendItem] = {}
        for entry in body:
            item = self.parse_item(entry)
            if item is not None and item.external_id not in items:
                items[item.external_id] = item
        return list(items.values())[:limit]

    @staticmethod
    def parse_item(entry: Any) -> TrendItem | None:
        if not isinstance(entry, dict) or not entry.get("id"):
            return None
        author = entry.get("authorMeta") or {}
        music = entry.get("musicMeta") or {}
        video = entry.get("videoMeta") or {}
        text = str(entry.get("text", ""))
        tags = [
            str(tag.get("name", "")) for tag in entry.get("hashtags") or [] if isinstance(tag, dict)
        ]
        tags = [tag for tag in tags if tag] or hashtags_in(text)
        sound = str(music.get("musicName", ""))
        if sound and music.get("musicAuthor"):
            sound = f"{sound} - {music['musicAuthor']}"
        try:
            if entry.get("createTimeISO"):
                posted = datetime.fromisoformat(str(entry["createTimeISO"]).replace("Z", "+00:00"))
            else:
                posted = datetime.fromtimestamp(int(entry["createTime"]), UTC)
            return TrendItem(
                platform="tiktok",
                external_id=str(entry["id"]),
                # TikTok has no separate title; the caption minus its hashtag tail plays that role.
                title=_HASHTAG_RE.sub("", text).strip() or text,
                description=text[:5000],
                hashtags=tags,
                views=_int(entry.get("playCount")),
                likes=_int(entry.get("diggCount")),
                comments=_int(entry.get("commentCount")),
                shares=_int(entry.get("shareCount")),
                creator=str(author.get("name") or author.get("nickName") or ""),
                sound=sound,
                duration_seconds=float(video.get("duration") or 0.0),
                posted_at=posted,
            )
        except (KeyError, TypeError, ValueError, OverflowError, ValidationError):
            return None


# --------------------------------------------------------------------------- factory and storage


def get_trend_source(name: str) -> TrendSource:
    """The configured source; network sources read their key from the environment."""
    if name == "sample":
        return SampleTrendSource()
    if name == "youtube":
        return YouTubeTrendSource()
    if name == "tiktok":
        return TikTokTrendSource()
    raise FatalStageError(
        f"unknown trend source {name!r}; set providers.trends to one of {', '.join(TREND_SOURCES)}"
    )
