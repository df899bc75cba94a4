"""The shared LLM client, tested only against recorded HTTP responses."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import respx

from httpkit import SleepRecorder, recorded
from vidgen.errors import FatalStageError, StageError
from vidgen.providers.llm import (
    ANTHROPIC_KEY_ENV,
    ANTHROPIC_URL,
    ANTHROPIC_VERSION,
    DEFAULT_MODELS,
    LLM,
    OPENAI_BASE_URL_ENV,
    OPENAI_KEY_ENV,
    AnthropicMessages,
    LLMResponse,
    OpenAIChat,
    get_llm,
    parse_json_object,
    price,
)
from vidgen.stages import trend_analysis, trend_collection
from vidgen.stages.base import StageContext

OPENAI_URL = "https://api.openai.com/v1/chat/completions"
EXPECTED_DATA = {
    "insights": [
        "Product demos under 25 s lead velocity",
        "#tech pairs with desk setups",
        "Shares drive the top videos",
    ],
    "hook_ideas": [
        "Your desk lamp is lying to you",
        "Watch the light follow the sun",
        "One lamp, three moods",
    ],
    "recommended_style": "product-demo",
    "recommended_duration_seconds": 21,
}


def openai(sleeps: SleepRecorder, **kwargs: Any) -> OpenAIChat:
    return OpenAIChat("gpt-4o-mini", "sk-test", client=httpx.Client(), sleep=sleeps, **kwargs)


def anthropic(sleeps: SleepRecorder, **kwargs: Any) -> AnthropicMessages:
    return AnthropicMessages(
        "claude-haiku-4-5", "sk-ant-test", client=httpx.Client(), sleep=sleeps, **kwargs
    )


def test_openai_parses_json_and_prices_tokens(
    mocked: respx.MockRouter, sleeps: SleepRecorder
) -> None:
    route = mocked.post(OPENAI_URL).mock(
        return_value=httpx.Response(200, json=recorded("openai_chat_completion.json"))
    )
    answer = openai(sleeps).complete_json("You plan videos.", "Summarise these trends.")
    assert answer.data == EXPECTED_DATA
    assert (answer.provider, answer.model) == ("openai", "gpt-4o-mini")
    assert (answer.prompt_tokens, answer.completion_tokens) == (1200, 300)
    # gpt-4o-mini: 1200 * $0.15/M + 300 * $0.60/M
    assert answer.cost == pytest.approx(0.00036)
    request = route.calls[0].request
    assert request.headers["Authorization"] == "Bearer sk-test"
    body = json.loads(request.content)
    assert body["model"] == "gpt-4o-mini"
    assert body["response_format"] == {"type": "json_object"}
    assert "json" in body["messages"][0]["content"].lower()
    assert body["messages"][1] == {"role": "user", "content": "Summarise these trends."}


def test_openai_base_url_from_environment(
    mocked: respx.MockRouter, sleeps: SleepRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(OPENAI_BASE_URL_ENV, "http://gateway.local:8080/v1/")
    route = mocked.post("http://gateway.local:8080/v1/chat/completions").mock(
        return_value=httpx.Response(200, json=recorded("openai_chat_completion.json"))
    )
    assert openai(sleeps).complete_json("s", "u").data == EXPECTED_DATA
    assert route.call_count == 1


def test_anthropic_parses_fenced_json_and_prices_tokens(
    mocked: respx.MockRouter, sleeps: SleepRecorder
) -> None:
    route = mocked.post(ANTHROPIC_URL).mock(
        return_value=httpx.Response(200, json=recorded("anthropic_message.json"))
    )
    answer = anthropic(sleeps).complete_json("You plan videos.", "Summarise these trends.")
    assert answer.data == EXPECTED_DATA
    assert answer.text.startswith("```json")
    # claude-haiku-4-5: 1200 * $1/M + 300 * $5/M
    assert answer.cost == pytest.approx(0.0027)
    request = route.calls[0].request
    assert request.headers["x-api-key"] == "sk-ant-test"
    assert request.headers["anthropic-version"] == ANTHROPIC_VERSION
    body = json.loads(request.content)
    assert body["messages"] == [{"role": "user", "content": "Summarise these trends."}]
    assert "JSON" in body["system"] and body["max_tokens"] > 0


def test_malformed_json_is_retryable(mocked: respx.MockRouter, sleeps: SleepRecorder) -> None:
    mocked.post(OPENAI_URL).mock(
        return_value=httpx.Response(200, json=recorded("openai_chat_completion_malformed.json"))
    )
    with pytest.raises(StageError, match="malformed JSON") as caught:
        openai(sleeps).complete_json("s", "u")
    assert not isinstance(caught.value, FatalStageError)


def test_truncated_answer_is_retryable(mocked: respx.MockRouter, sleeps: SleepRecorder) -> None:
    body = recorded("openai_chat_completion.json")
    body["choices"][0]["finish_reason"] = "length"
    mocked.post(OPENAI_URL).mock(return_value=httpx.Response(200, json=body))
    with pytest.raises(StageError, match="token limit"):
        openai(sleeps).complete_json("s", "u")


def test_429_waits_for_retry_after_then_succeeds(
    mocked: respx.MockRouter, sleeps: SleepRecorder
) -> None:
    route = mocked.post(OPENAI_URL).mock(
        side_effect=[
            httpx.Response(
                429, headers={"retry-after": "20"}, json=recorded("openai_error_429.json")
            ),
            httpx.Response(200, json=recorded("openai_chat_completion.json")),
        ]
    )
    assert openai(sleeps).complete_json("s", "u").data == EXPECTED_DATA
    assert sleeps.calls == [20.0] and route.call_count == 2


def test_reply_cut_off_midway_is_asked_again(
    mocked: respx.MockRouter, sleeps: SleepRecorder
) -> None:
    """A connection reset while the body streams is retried like a failed connect."""
    whole = json.dumps(recorded("openai_chat_completion.json")).encode()

    class Reset(httpx.SyncByteStream):
        def __iter__(self) -> Iterator[bytes]:
            yield whole[:40]
            raise httpx.RemoteProtocolError("peer closed connection without sending complete body")

    route = mocked.post(OPENAI_URL).mock(
        side_effect=[httpx.Response(200, stream=Reset()), httpx.Response(200, content=whole)]
    )
    assert openai(sleeps).complete_json("s", "u").data == EXPECTED_DATA
    assert sleeps.calls == [1.0] and route.call_count == 2


def test_oversized_reply_is_refused_before_reading(
    mocked: respx.MockRouter, sleeps: SleepRecorder
) -> None:
    read: list[int] = []

    class Huge(httpx.SyncByteStream):
        def __iter__(self) -> Iterator[bytes]:
            read.append(1)
            yield b"{}"

    mocked.post(OPENAI_URL).mock(
        return_value=httpx.Response(200, stream=Huge(), headers={"content-length": str(1 << 30)})
    )
    with pytest.raises(StageError, match="OpenAI response is larger than 32 MB") as caught:
        openai(sleeps).complete_json("s", "u")
    assert not isinstance(caught.value, FatalStageError)
    assert read == [] and sleeps.calls == []


def test_persistent_5xx_is_retryable(mocked: respx.MockRouter, sleeps: SleepRecorder) -> None:
    mocked.post(ANTHROPIC_URL).mock(
        return_value=httpx.Response(529, json={"type": "error", "error": {"type": "overloaded"}})
    )
    with pytest.raises(StageError, match="Anthropic returned HTTP 529 4 times"):
        anthropic(sleeps).complete_json("s", "u")
    assert sleeps.calls == [1.0, 2.0, 4.0]


def test_401_is_fatal_and_names_the_env_var(
    mocked: respx.MockRouter, sleeps: SleepRecorder
) -> None:
    mocked.post(ANTHROPIC_URL).mock(
        return_value=httpx.Response(401, json=recorded("anthropic_error_401.json"))
    )
    with pytest.raises(FatalStageError) as caught:
        anthropic(sleeps).complete_json("s", "u")
    assert str(caught.value) == (
        "Anthropic rejected the API key (HTTP 401): check VIDGEN_ANTHROPIC_API_KEY "
        "(invalid x-api-key)"
    )


def test_unknown_model_400_is_fatal(mocked: respx.MockRouter, sleeps: SleepRecorder) -> None:
    mocked.post(OPENAI_URL).mock(
        return_value=httpx.Response(
            404, json={"error": {"message": "The model `gpt-9` does not exist", "code": "x"}}
        )
    )
    with pytest.raises(FatalStageError, match="HTTP 404: The model `gpt-9` does not exist"):
        openai(sleeps).complete_json("s", "u")


@pytest.mark.parametrize(
    ("provider", "env_var"), [("openai", OPENAI_KEY_ENV), ("anthropic", ANTHROPIC_KEY_ENV)]
)
def test_missing_key_is_fatal(provider: str, env_var: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(env_var, raising=False)
    with pytest.raises(FatalStageError, match=env_var):
        get_llm(provider, None)


def test_get_llm(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(OPENAI_KEY_ENV, "sk-1")
    monkeypatch.setenv(ANTHROPIC_KEY_ENV, "sk-2")
    default_openai = get_llm("openai", None)
    assert isinstance(default_openai, OpenAIChat)
    assert default_openai.model == DEFAULT_MODELS["openai"]
    chosen = get_llm("anthropic", "claude-sonnet-4-5")
    assert isinstance(chosen, AnthropicMessages) and chosen.model == "claude-sonnet-4-5"
    with pytest.raises(FatalStageError, match="openai, anthropic"):
        get_llm("local", None)


def test_price_table() -> None:
    assert price("gpt-4o-mini-2024-07-18", 1_000_000, 0) == pytest.approx(0.15)
    assert price("gpt-4o", 0, 1_000_000) == pytest.approx(10.0)
    assert price("claude-haiku-4-5-20251001", 1_000_000, 1_000_000) == pytest.approx(6.0)
    assert price("some-local-model", 10_000, 10_000) == 0.0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"a": 1}', {"a": 1}),
        ('```json\n{"a": 1}\n```', {"a": 1}),
        ('Here you go: {"a": {"b": [1, 2]}} Hope it helps!', {"a": {"b": [1, 2]}}),
    ],
)
def test_parse_json_object(text: str, expected: dict[str, Any]) -> None:
    assert parse_json_object(text, "m") == expected


@pytest.mark.parametrize("text", ["", "not json", "[1, 2]", '{"a": '])
def test_parse_json_object_rejects(text: str) -> None:
    with pytest.raises(StageError, match=r"^m returned"):
        parse_json_object(text, "m")


# --------------------------------------------------------------------------- shared contract


def _openai(router: respx.MockRouter, sleeps: SleepRecorder) -> LLM:
    router.post(OPENAI_URL).mock(
        return_value=httpx.Response(200, json=recorded("openai_chat_completion.json"))
    )
    return openai(sleeps)


def _anthropic(router: respx.MockRouter, sleeps: SleepRecorder) -> LLM:
    router.post(ANTHROPIC_URL).mock(
        return_value=httpx.Response(200, json=recorded("anthropic_message.json"))
    )
    return anthropic(sleeps)


LLMFactory = Callable[[respx.MockRouter, SleepRecorder], LLM]


@pytest.mark.parametrize("factory", [_openai, _anthropic], ids=["openai", "anthropic"])
def test_llm_contract(factory: LLMFactory, mocked: respx.MockRouter, sleeps: SleepRecorder) -> None:
    llm = factory(mocked, sleeps)
    assert isinstance(llm, LLM)
    assert llm.provider in DEFAULT_MODELS and llm.model
    answer = llm.complete_json("Return trends as JSON.", "Give me insights.")
    assert isinstance(answer, LLMResponse)
    assert answer.provider == llm.provider and answer.model == llm.model
    assert isinstance(answer.data, dict) and answer.data == EXPECTED_DATA
    assert answer.text and answer.prompt_tokens > 0 and answer.completion_tokens > 0
    assert answer.cost > 0


# --------------------------------------------------------------------------- analysis commentary


def test_trend_analysis_adds_llm_insights_and_records_cost(
    stage_context: Callable[..., StageContext],
    theme_config: Callable[..., Any],
    mocked: respx.MockRouter,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(OPENAI_KEY_ENV, "sk-test")
    route = mocked.post(OPENAI_URL).mock(
        return_value=httpx.Response(200, json=recorded("openai_chat_completion.json"))
    )
    config = theme_config(trend_limit=40, providers={"analysis": "openai"})
    collect_ctx = stage_context("trend_collection", config=config)
    collected = trend_collection.run(collect_ctx)
    ctx = stage_context(
        "trend_analysis",
        outputs={"trend_collection": collected.outputs},
        config=config,
        job_id=collect_ctx.job_id,
    )
    result = trend_analysis.run(ctx)
    assert result.cost == pytest.approx(0.00036)
    report = json.loads(ctx.path(result.outputs["report_path"]).read_text())
    assert report["llm_insights"]["insights"] == EXPECTED_DATA["insights"]
    assert report["llm_insights"]["provider"] == "openai"
    prompt = json.loads(route.calls[0].request.content)["messages"][1]["content"]
    assert result.outputs["pattern"] in prompt
