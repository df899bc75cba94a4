"""The shared LLM client: ask for one JSON object, get it parsed, priced and attributed.

Used by trend analysis (optional commentary) and the content planner. Two implementations,
``OpenAIChat`` and ``AnthropicMessages``, over plain httpx with the shared retry rules of
``vidgen.outgoing`` (429/5xx retried honouring Retry-After, 401/403 fatal).
"""

from __future__ import annotations

import json
import os
import re
import time
from typing import Any, Protocol, runtime_checkable

import httpx
from pydantic import BaseModel

from vidgen.errors import FatalStageError, StageError
from vidgen.outgoing import (
    Credential,
    RetryPolicy,
    Sleep,
    default_timeout,
    request_json,
    require_key,
)

OPENAI_KEY_ENV = "VIDGEN_OPENAI_API_KEY"
OPENAI_BASE_URL_ENV = "VIDGEN_OPENAI_BASE_URL"
ANTHROPIC_KEY_ENV = "VIDGEN_ANTHROPIC_API_KEY"
OPENAI_DEFAULT_BASE_URL = "https://api.openai.com/v1"
ANTHROPIC_URL = "https://api.anthropic.com/v1/messages"
ANTHROPIC_VERSION = "2023-06-01"

DEFAULT_MODELS: dict[str, str] = {"openai": "gpt-4o-mini", "anthropic": "claude-haiku-4-5"}
LLM_PROVIDERS: tuple[str, ...] = tuple(DEFAULT_MODELS)

# USD per million tokens (input, output), from the vendors' public price lists (2025). Matched by
# the longest prefix so dated snapshots ("gpt-4o-mini-2024-07-18") price like their family.
# A model missing here is recorded at 0.0: an honest "unknown" rather than a guess.
PRICES_PER_MTOK: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1": (2.00, 8.00),
    "gpt-5-nano": (0.05, 0.40),
    "gpt-5-mini": (0.25, 2.00),
    "gpt-5": (1.25, 10.00),
    "claude-3-5-haiku": (0.80, 4.00),
    "claude-3-5-sonnet": (3.00, 15.00),
    "claude-3-7-sonnet": (3.00, 15.00),
    "claude-3-haiku": (0.25, 1.25),
    "claude-haiku-4-5": (1.00, 5.00),
    "claude-sonnet-4": (3.00, 15.00),
    "claude-opus-4": (15.00, 75.00),
}

JSON_INSTRUCTION = "Reply with a single JSON object and nothing else."


class LLMResponse(BaseModel):
    data: dict[str, Any]
    text: str
    model: str
    provider: str
    cost: float
    prompt_tokens: int
    completion_tokens: int


@runtime_checkable
class LLM(Protocol):
    """Contract for an LLM client.

    ``complete_json(system, user)`` asks the model for one JSON object and returns it parsed in
    ``LLMResponse.data`` with the raw ``text``, token counts and ``cost`` in US dollars.
    Raises ``StageError`` for malformed or truncated JSON, HTTP 429 and 5xx (after bounded
    retries) and timeouts; ``FatalStageError`` for a missing key, HTTP 401/403 (bad key) and
    other 4xx (e.g. unknown model). Instances are safe to share across threads.
    """

    provider: str
    model: str

    def complete_json(self, system: str, user: str) -> LLMResponse: ...


def estimate_cost(llm: LLM, system: str, user: str) -> float:
    """Upper estimate of one call's cost, for budget checks; 0.0 if the client cannot say."""
    estimate = getattr(llm, "estimate_cost", None)
    return float(estimate(system, user)) if callable(estimate) else 0.0


def price(model: str, prompt_tokens: int, completion_tokens: int) -> float:
    """Dollar cost of one call from ``PRICES_PER_MTOK``; 0.0 for models not in the table."""
    matches = [prefix for prefix in PRICES_PER_MTOK if model.startswith(prefix)]
    if not matches:
        return 0.0
    per_in, per_out = PRICES_PER_MTOK[max(matches, key=len)]
    return round((prompt_tokens * per_in + completion_tokens * per_out) / 1_000_000, 8)


_FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.DOTALL | re.IGNORECASE)


def parse_json_object(text: str, who: str) -> dict[str, Any]:
    """The JSON object in a model reply; tolerates code fences and chatter around the braces."""
    candidate = text.strip()
    fenced = _FENCE.match(candidate)
    if fenced:
        candidate = fenced.group(1)
    try:
        value: Any = json.loads(candidate)
    except ValueError as first_error:
        start, end = candidate.find("{"), candidate.rfind("}")
        try:
            if start < 0 or end <= start:
                raise first_error
            value = json.loads(candidate[start : end + 1])
        except ValueError as exc:
            raise StageError(
                f"{who} returned malformed JSON ({str(exc).splitlines()[0]}); "
                "the next attempt asks again"
            ) from None
    if not isinstance(value, dict):
        raise StageError(
            f"{who} returned a JSON {type(value).__name__}, not an object; "
            "the next attempt asks again"
        )
    return value


def _with_json_instruction(system: str, user: str) -> str:
    # OpenAI's json_object mode refuses prompts that never mention JSON; say it once, explicitly.
    if "json" in (system + user).lower():
        return system
    return f"{system.rstrip()}\n\n{JSON_INSTRUCTION}".strip()


class _HTTPLLM:
    provider = ""

    def __init__(
        self,
        model: str,
        api_key: str | None,
        key_env: str,
        *,
        client: httpx.Client | None,
        sleep: Sleep,
        policy: RetryPolicy,
        timeout: float,
        key_optional: bool = False,
    ) -> None:
        self.model = model
        if key_optional:
            # A server of your own (Ollama, llama.cpp) takes no key; send one only if set.
            self._key = (api_key or os.environ.get(key_env, "")).strip()
        else:
            self._key = require_key(
                api_key, key_env, f"the {self.provider} LLM", "choose the 'local' provider"
            )
        self._client = client
        self._sleep = sleep
        self._policy = policy
        self._timeout = timeout
        self._credential = Credential(self._service, "API key", key_env)

    @property
    def _service(self) -> str:
        return {"openai": "OpenAI", "anthropic": "Anthropic"}.get(self.provider, self.provider)

    def _post(self, url: str, payload: dict[str, Any], headers: dict[str, str]) -> Any:
        client = self._client or httpx.Client(timeout=default_timeout(read=self._timeout))
        try:
            return request_json(
                client,
                "POST",
                url,
                json=payload,
                headers=headers,
                credential=self._credential,
                sleep=self._sleep,
                policy=self._policy,
            )
        finally:
            if self._client is None:
                client.close()

    def _response(self, text: str, prompt_tokens: int, completion_tokens: int) -> LLMResponse:
        who = f"{self._service} model {self.model}"
        return LLMResponse(
            data=parse_json_object(text, who),
            text=text,
            model=self.model,
            provider=self.provider,
            cost=price(self.model, prompt_tokens, completion_tokens),
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
        )

    def estimate_cost(self, system: str, user: str) -> float:
        """The most one ``complete_json`` call can cost: the prompt (about 3 characters per
        token, rounded up) and a full ``max_tokens`` reply."""
        prompt_tokens = (len(system) + len(user)) // 3 + 16
        return price(self.model, prompt_tokens, getattr(self, "_max_tokens", 4096))

    def _bad_body(self) -> StageError:
        return StageError(
            f"{self._service} returned an unexpected response shape; the next attempt asks again"
        )


class OpenAIChat(_HTTPLLM):
    """OpenAI-compatible ``/chat/completions`` with ``response_format: json_object``.

    ``base_url`` (config ``llm_base_url``) or ``VIDGEN_OPENAI_BASE_URL`` points it at any
    compatible server: a local Ollama (``http://localhost:11434/v1``) or llama.cpp server
    (``http://localhost:8080/v1``), which needs no API key, or a hosted gateway.
    """

    provider = "openai"

    def __init__(
        self,
        model: str = DEFAULT_MODELS["openai"],
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        max_tokens: int = 4096,
        client: httpx.Client | None = None,
        sleep: Sleep = time.sleep,
        policy: RetryPolicy = RetryPolicy(),
        timeout: float = 120.0,
    ) -> None:
        base = base_url or os.environ.get(OPENAI_BASE_URL_ENV) or OPENAI_DEFAULT_BASE_URL
        super().__init__(
            model,
            api_key,
            OPENAI_KEY_ENV,
            client=client,
            sleep=sleep,
            policy=policy,
            timeout=timeout,
            key_optional=base.rstrip("/") != OPENAI_DEFAULT_BASE_URL,
        )
        self.url = base.rstrip("/") + "/chat/completions"
        self._max_tokens = max_tokens

    def complete_json(self, system: str, user: str) -> LLMResponse:
        payload = {
            "model": self.model,
            "messages": [
                {"role": "system", "content": _with_json_instruction(system, user)},
                {"role": "user", "content": user},
            ],
            "response_format": {"type": "json_object"},
            "max_completion_tokens": self._max_tokens,
        }
        headers = {"Authorization": f"Bearer {self._key}"} if self._key else {}
        body = self._post(self.url, payload, headers)
        try:
            choice = body["choices"][0]
            message = choice["message"]
            text = message.get("content") or ""
            usage = body.get("usage") or {}
            prompt_tokens = int(usage.get("prompt_tokens", 0))
            completion_tokens = int(usage.get("completion_tokens", 0))
        except (KeyError, IndexError, TypeError, ValueError, AttributeError):
            raise self._bad_body() from None
        if message.get("refusal"):
            raise StageError(f"OpenAI model {self.model} refused: {str(message['refusal'])[:150]}")
        if choice.get("finish_reason") == "length":
            raise StageError(
                f"OpenAI model {self.model} hit the token limit before finishing the JSON; "
                "the next attempt asks again"
            )
        return self._response(text, prompt_tokens, completion_tokens)


class AnthropicMessages(_HTTPLLM):
    """Anthropic ``/v1/messages``; JSON is requested in the system prompt and parsed leniently."""

    provider = "anthropic"

    def __init__(
        self,
        model: str = DEFAULT_MODELS["anthropic"],
        api_key: str | None = None,
        *,
        url: str = ANTHROPIC_URL,
        max_tokens: int = 4096,
        client: httpx.Client | None = None,
        sleep: Sleep = time.sleep,
        policy: RetryPolicy = RetryPolicy(),
        timeout: float = 120.0,
    ) -> None:
        super().__init__(
            model,
            api_key,
            ANTHROPIC_KEY_ENV,
            client=client,
            sleep=sleep,
            policy=policy,
            timeout=timeout,
        )
        self.url = url
        self._max_tokens = max_tokens

    def complete_json(self, system: str, user: str) -> LLMResponse:
        payload = {
            "model": self.model,
            "max_tokens": self._max_tokens,
            "system": f"{system.rstrip()}\n\n{JSON_INSTRUCTION}".strip(),
            "messages": [{"role": "user", "content": user}],
        }
        headers = {"x-api-key": self._key, "anthropic-version": ANTHROPIC_VERSION}
        body = self._post(self.url, payload, headers)
        try:
            text = "".join(
                str(block.get("text", ""))
                for block in body["content"]
                if isinstance(block, dict) and block.get("type") == "text"
            )
            usage = body.get("usage") or {}
            prompt_tokens = int(usage.get("input_tokens", 0))
            completion_tokens = int(usage.get("output_tokens", 0))
        except (KeyError, TypeError, ValueError, AttributeError):
            raise self._bad_body() from None
        if body.get("stop_reason") == "max_tokens":
            raise StageError(
                f"Anthropic model {self.model} hit the token limit before finishing the JSON; "
                "the next attempt asks again"
            )
        return self._response(text, prompt_tokens, completion_tokens)


def get_llm(provider: str, model: str | None = None, *, base_url: str | None = None) -> LLM:
    """An LLM client for ``provider`` (openai | anthropic); ``model`` None means the default;
    ``base_url`` points ``openai`` at any OpenAI-compatible server (Ollama, llama.cpp)."""
    if provider == "openai":
        return OpenAIChat(model or DEFAULT_MODELS["openai"], base_url=base_url)
    if provider == "anthropic":
        return AnthropicMessages(model or DEFAULT_MODELS["anthropic"])
    raise FatalStageError(
        f"unknown LLM provider {provider!r}; use one of {', '.join(LLM_PROVIDERS)}"
    )
