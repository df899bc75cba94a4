"""Trend sources, the shipped dataset, upserts and the trend_collection stage."""

from __future__ import annotations

import importlib.util
import json
import statistics
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from sqlmodel import select

from httpkit import SleepRecorder, recorded
from vidgen.errors import FatalStageError, StageError
from vidgen.outgoing import RetryPolicy, retry_after_seconds
from vidgen.providers.trends import (
    APIFY_TOKEN_ENV,
    TREND_SOURCES,
    YOUTUBE_KEY_ENV,
    SampleTrendSource,
    TikTokTrendSource,
    TrendItem,
    TrendSource,
    YouTubeTrendSource,
    get_trend_source,
    parse_iso8601_duration,
)
from vidgen.stages import trend_collection
from vidgen.stages.base import StageContext
from vidgen.store import Store, trends
from vidgen.store.models import Trend

REPO_ROOT = Path(__file__).resolve().parents[1]
YOUTUBE_URL = "https://www.googleapis.com/youtube/v3/videos"
APIFY_URL = "https://api.apify.com/v2/acts/clockworks~tiktok-scraper/run-sync-get-dataset-items"
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def dataset() -> dict[str, Any]:
    text = (resources.files("vidgen") / "data" / "trends.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def youtube(sleeps: SleepRecorder, **kwargs: Any) -> YouTubeTrendSource:
    return YouTubeTrendSource("test-key", client=httpx.Client(), sleep=sleeps, **kwargs)


def tiktok(sleeps: SleepRecorder, **kwargs: Any) -> TikTokTrendSource:
    return TikTokTrendSource("test-token", client=httpx.Client(), sleep=sleeps, **kwargs)


def mock_youtube_pages(router: respx.MockRouter) -> respx.Route:
    def answer(request: httpx.Request) -> httpx.Response:
        page = request.url.params.get("pageToken")
        name = (
            "youtube_most_popular_page2.json"
            if page == "CAMQAA"
            else ("youtube_most_popular_page1.json")
        )
        return httpx.Response(200, json=recorded(name))

    return router.get(YOUTUBE_URL).mock(side_effect=answer)


# --------------------------------------------------------------------------- the shipped dataset


def test_dataset_has_enough_unique_realistic_trends() -> None:
    data = dataset()
    items = [TrendItem.model_validate(entry) for entry in data["items"]]
    keys = {(item.platform, item.external_id) for item in items}
    assert len(items) >= 220
    assert len(keys) == len(items) >= 200
    assert {item.platform for item in items} == {"tiktok", "youtube", "instagram"}
    reference = datetime.fromisoformat(data["reference_time"])
    for item in items:
        assert 7 <= item.duration_seconds <= 60
        assert item.title and item.creator and item.hashtags
        assert item.likes <= item.views
        assert item.comments <= item.likes and item.shares <= item.likes
        assert reference - timedelta(days=7, hours=3) <= item.posted_at < reference
        assert all(tag == tag.lower() and not tag.startswith("#") for tag in item.hashtags)
    views = sorted(item.views for item in items)
    # Heavy tail: the biggest video dwarfs the typical one.
    assert views[-1] > 20 * statistics.median(views)
    rates = [item.likes / item.views for item in items if item.views]
    assert 0.01 < statistics.median(rates) < 0.15
    tags = {tag for item in items for tag in item.hashtags}
    assert {"tech", "food", "fitness", "travel", "diy", "tiktokmademebuyit"} <= tags


def test_dataset_is_what_the_committed_script_generates() -> None:
    spec = importlib.util.spec_from_file_location(
        "make_sample_trends", REPO_ROOT / "scripts" / "make_sample_trends.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.build() == dataset()


def test_sample_source_shifts_posted_times_to_now() -> None:
    data = dataset()
    reference = datetime.fromisoformat(data["reference_time"])
    now = datetime(2030, 1, 1, tzinfo=UTC)
    items = SampleTrendSource(now=lambda: now).fetch(10_000)
    assert len(items) == len(data["items"])
    first = TrendItem.model_validate(data["items"][0])
    assert items[0].posted_at == first.posted_at + (now - reference)
    assert all(now - timedelta(days=7, hours=3) <= item.posted_at < now for item in items)
    assert len(SampleTrendSource().fetch(25)) == 25


# --------------------------------------------------------------------------- YouTube


def test_youtube_keeps_only_shorts_and_parses_them(
    mocked: respx.MockRouter, sleeps: SleepRecorder
) -> None:
    route = mock_youtube_pages(mocked)
    items = youtube(sleeps).fetch(50)
    assert [item.external_id for item in items] == ["dQw4w9WgXcQ", "Lm5nO7pQ9rS", "Qw3eR5tY7uI"]
    lamp, pasta, travel = items
    assert lamp.platform == "youtube"
    assert lamp.hashtags == ["tech", "gadgets", "desksetup", "shorts"]
    assert (lamp.views, lamp.likes, lamp.comments, lamp.shares) == (1843221, 95410, 1203, 0)
    assert lamp.creator == "Gadget Lab" and lamp.duration_seconds == 42
    assert lamp.posted_at == datetime(2025, 5, 31, 18, 0, 7, tzinfo=UTC)
    # Hidden like count reads as 0; no in-text hashtags falls back to the uploader's tags.
    assert pasta.likes == 0
    assert pasta.hashtags == ["easyrecipe", "pasta", "3ingredients"]
    assert travel.duration_seconds == 60
    assert route.call_count == 2
    first = route.calls[0].request
    assert first.url.params["chart"] == "mostPopular"
    assert first.url.params["part"] == "snippet,statistics,contentDetails"
    assert first.url.params["key"] == "test-key"
    assert route.calls[1].request.url.params["pageToken"] == "CAMQAA"
    assert sleeps.calls == []


def test_youtube_stops_paging_once_the_limit_is_reached(
    mocked: respx.MockRouter, sleeps: SleepRecorder
) -> None:
    route = mock_youtube_pages(mocked)
    assert len(youtube(sleeps).fetch(2)) == 2
    assert route.call_count == 1


def test_youtube_429_with_retry_after_then_success(
    mocked: respx.MockRouter, sleeps: SleepRecorder
) -> None:
    mocked.get(YOUTUBE_URL).mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "7"}, json={"error": {"code": 429}}),
            httpx.Response(200, json=recorded("youtube_most_popular_page2.json")),
        ]
    )
    items = youtube(sleeps).fetch(5)
    assert [item.external_id for item in items] == ["Qw3eR5tY7uI"]
    assert sleeps.calls == [7.0]


def test_retry_after_is_capped_and_5xx_retries_are_bounded(
    mocked: respx.MockRouter, sleeps: SleepRecorder
) -> None:
    route = mocked.get(YOUTUBE_URL).mock(
        return_value=httpx.Response(503, headers={"Retry-After": "86400"}, text="busy")
    )
    source = youtube(sleeps, policy=RetryPolicy(attempts=3, retry_after_max=30.0))
    with pytest.raises(StageError, match="HTTP 503 3 times"):
        source.fetch(5)
    assert route.call_count == 3
    assert sleeps.calls == [30.0, 30.0]


def test_youtube_403_is_fatal_and_names_the_env_var(
    mocked: respx.MockRouter, sleeps: SleepRecorder
) -> None:
    route = mocked.get(YOUTUBE_URL).mock(
        return_value=httpx.Response(403, json=recorded("youtube_error_403.json"))
    )
    with pytest.raises(FatalStageError) as caught:
        youtube(sleeps).fetch(5)
    message = str(caught.value)
    assert message.startswith(
        "YouTube rejected the API key (HTTP 403): check VIDGEN_YOUTUBE_API_KEY"
    )
    assert "\n" not in message
    assert route.call_count == 1 and sleeps.calls == []


def test_youtube_invalid_key_400_is_a_credential_error(
    mocked: respx.MockRouter, sleeps: SleepRecorder
) -> None:
    mocked.get(YOUTUBE_URL).mock(
        return_value=httpx.Response(400, json=recorded("youtube_error_400_key_invalid.json"))
    )
    with pytest.raises(FatalStageError, match=r"rejected the API key \(HTTP 400\).*YOUTUBE_API"):
        youtube(sleeps).fetch(5)


def test_network_timeouts_are_retried_then_retryable(
    mocked: respx.MockRouter, sleeps: SleepRecorder
) -> None:
    mocked.get(YOUTUBE_URL).mock(side_effect=httpx.ConnectTimeout("slow"))
    source = youtube(sleeps, policy=RetryPolicy(attempts=2, backoff_base=0.5))
    with pytest.raises(StageError, match="timed out 2 times"):
        source.fetch(5)
    assert sleeps.calls == [0.5]


@pytest.mark.parametrize(
    ("source", "env_var"), [("youtube", YOUTUBE_KEY_ENV), ("tiktok", APIFY_TOKEN_ENV)]
)
def test_missing_key_is_fatal_and_names_the_env_var(
    source: str, env_var: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(env_var, raising=False)
    with pytest.raises(FatalStageError, match=env_var):
        get_trend_source(source)


def test_get_trend_source_reads_keys_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(YOUTUBE_KEY_ENV, "k1")
    monkeypatch.setenv(APIFY_TOKEN_ENV, "t1")
    assert isinstance(get_trend_source("sample"), SampleTrendSource)
    assert isinstance(get_trend_source("youtube"), YouTubeTrendSource)
    assert isinstance(get_trend_source("tiktok"), TikTokTrendSource)
    with pytest.raises(FatalStageError, match=r"providers\.trends"):
        get_trend_source("myspace")


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("PT42S", 42.0),
        ("PT1M", 60.0),
        ("PT1M5S", 65.0),
        ("PT1H2M13S", 3733.0),
        ("P0D", 0.0),
        ("P1DT1S", 86401.0),
        ("PT", None),
        ("42", None),
        ("", None),
    ],
)
def test_parse_iso8601_duration(text: str, seconds: float | None) -> None:
    assert parse_iso8601_duration(text) == seconds


def test_retry_after_http_date() -> None:
    now = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
    assert retry_after_seconds("Sun, 01 Jun 2025 12:00:30 GMT", now=now) == 30.0
    assert retry_after_seconds("soon", now=now) is None
    assert retry_after_seconds(None) is None


# --------------------------------------------------------------------------- TikTok via Apify


def test_tiktok_parses_apify_items(mocked: respx.MockRouter, sleeps: SleepRecorder) -> None:
    route = mocked.post(APIFY_URL).mock(
        return_value=httpx.Response(201, json=recorded("apify_tiktok_items.json"))
    )
    source = tiktok(sleeps)
    items = source.fetch(10)
    assert [item.external_id for item in items] == ["7374583920182736129", "7374129055512334082"]
    lamp, tofu = items
    assert lamp.title == "this lamp follows the sun \u2600\ufe0f"
    assert lamp.hashtags == ["tech", "desksetup", "tiktokmademebuyit"]
    assert (lamp.views, lamp.likes, lamp.comments, lamp.shares) == (2904100, 210400, 1841, 18230)
    assert lamp.creator == "desk.nerd" and lamp.sound == "Espresso - Sabrina Carpenter"
    assert lamp.duration_seconds == 17
    assert lamp.posted_at == datetime(2025, 5, 31, 18, 0, tzinfo=UTC)
    assert tofu.sound == "original sound - tofu.tina"
    # Apify bills every returned item, including the duplicate and the error row.
    assert source.cost == pytest.approx(4 * TikTokTrendSource.DEFAULT_PRICE_PER_ITEM)
    request = route.calls[0].request
    assert request.headers["Authorization"] == "Bearer test-token"
    payload = json.loads(request.content)
    assert payload["hashtags"] == list(TikTokTrendSource.DEFAULT_HASHTAGS)
    assert payload["resultsPerPage"] == 3
    assert payload["shouldDownloadVideos"] is False


def test_tiktok_bad_token_is_fatal(mocked: respx.MockRouter, sleeps: SleepRecorder) -> None:
    mocked.post(APIFY_URL).mock(
        return_value=httpx.Response(
            401, json={"error": {"type": "token-not-valid", "message": "Authentication failed"}}
        )
    )
    with pytest.raises(FatalStageError, match=r"Apify rejected the API token .*VIDGEN_APIFY_TOKEN"):
        tiktok(sleeps).fetch(10)


def test_tiktok_408_run_timeout_is_retried(mocked: respx.MockRouter, sleeps: SleepRecorder) -> None:
    mocked.post(APIFY_URL).mock(
        side_effect=[
            httpx.Response(408, json={"error": {"type": "run-timeout-exceeded"}}),
            httpx.Response(201, json=recorded("apify_tiktok_items.json")),
        ]
    )
    assert len(tiktok(sleeps).fetch(1)) == 1
    assert sleeps.calls == [1.0]


# --------------------------------------------------------------------------- shared contract


def _sample(router: respx.MockRouter, sleeps: SleepRecorder) -> TrendSource:
    return SampleTrendSource(now=lambda: NOW)


def _youtube(router: respx.MockRouter, sleeps: SleepRecorder) -> TrendSource:
    mock_youtube_pages(router)
    return youtube(sleeps)


def _tiktok(router: respx.MockRouter, sleeps: SleepRecorder) -> TrendSource:
    router.post(APIFY_URL).mock(
        return_value=httpx.Response(201, json=recorded("apify_tiktok_items.json"))
    )
    return tiktok(sleeps)


SourceFactory = Callable[[respx.MockRouter, SleepRecorder], TrendSource]


@pytest.mark.parametrize(
    "factory", [_sample, _youtube, _tiktok], ids=["sample", "youtube", "tiktok"]
)
def test_trend_source_contract(
    factory: SourceFactory, mocked: respx.MockRouter, sleeps: SleepRecorder
) -> None:
    source = factory(mocked, sleeps)
    assert isinstance(source, TrendSource)
    assert source.name in TREND_SOURCES
    items = source.fetch(2)
    assert 1 <= len(items) <= 2
    assert len({(i.platform, i.external_id) for i in items}) == len(items)
    for item in items:
        assert isinstance(item, TrendItem)
        assert item.posted_at.tzinfo is not None and item.posted_at.utcoffset() == timedelta(0)
        assert all(tag and tag == tag.lower() and "#" not in tag for tag in item.hashtags)
        assert min(item.views, item.likes, item.comments, item.shares) >= 0
    assert isinstance(source.cost, float) and source.cost >= 0
    with pytest.raises(FatalStageError):
        source.fetch(0)


# --------------------------------------------------------------------------- storage + stage


def test_upsert_dedupes_and_refreshes_stats(store: Store) -> None:
    items = SampleTrendSource(now=lambda: NOW).fetch(40)
    new_ids, updated_ids = trends.upsert(store, [i.model_dump() for i in items])
    assert len(new_ids) == 40 and updated_ids == []

    bumped = [item.model_copy(update={"views": item.views + 1000}) for item in items]
    new_again, updated = trends.upsert(store, [i.model_dump() for i in bumped])
    assert new_again == []
    assert sorted(updated) == sorted(new_ids)
    with store.read() as session:
        rows = session.exec(select(Trend)).all()
    assert len(rows) == 40
    by_key = {(row.platform, row.external_id): row for row in rows}
    for item in items:
        assert by_key[(item.platform, item.external_id)].views == item.views + 1000


def test_upsert_counts_a_repeated_key_in_one_batch_once(store: Store) -> None:
    item = SampleTrendSource(now=lambda: NOW).fetch(1)[0]
    twice = [item, item.model_copy(update={"likes": item.likes + 5})]
    new_ids, updated_ids = trends.upsert(store, [i.model_dump() for i in twice])
    assert len(new_ids) == 1 and updated_ids == []
    with store.read() as session:
        assert session.exec(select(Trend)).one().likes == item.likes + 5
    assert trends.upsert(store, []) == ([], [])


def test_trend_collection_stage_is_idempotent(
    stage_context: Callable[..., StageContext], theme_config: Callable[..., Any]
) -> None:
    config = theme_config(trend_limit=50)
    first = trend_collection.run(stage_context("trend_collection", config=config))
    out = first.outputs
    assert set(out) == {"source", "fetched", "new", "updated", "trend_ids", "platforms"}
    assert out["source"] == "sample"
    assert (out["fetched"], out["new"], out["updated"]) == (50, 50, 0)
    assert len(out["trend_ids"]) == 50 and sum(out["platforms"].values()) == 50
    assert first.cost == 0.0
    json.dumps(out)

    second = trend_collection.run(stage_context("trend_collection", config=config)).outputs
    assert (second["new"], second["updated"]) == (0, 50)
    assert second["trend_ids"] == out["trend_ids"]


def test_trend_collection_without_youtube_key_fails_fast(
    stage_context: Callable[..., StageContext], theme_config: Callable[..., Any]
) -> None:
    config = theme_config(providers={"trends": "youtube"})
    with pytest.raises(FatalStageError, match=YOUTUBE_KEY_ENV):
        trend_collection.run(stage_context("trend_collection", config=config))
