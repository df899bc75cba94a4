"""One registry of provider names per kind: config accepts exactly those, factories build them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from vidgen.config import Providers
from vidgen.errors import FatalStageError
from vidgen.media.tts import get_tts
from vidgen.media.visuals import get_visual_source
from vidgen.providers.llm import LLM_PROVIDERS, get_llm
from vidgen.providers.trends import get_trend_source
from vidgen.registry import PROVIDERS


def _llm_or_local(name: str) -> Any:
    return None if name == "local" else get_llm(name)


KEY_ENV = (
    "VIDGEN_OPENAI_API_KEY",
    "VIDGEN_ANTHROPIC_API_KEY",
    "VIDGEN_YOUTUBE_API_KEY",
    "VIDGEN_APIFY_TOKEN",
    "VIDGEN_PEXELS_API_KEY",
    "VIDGEN_PIXABAY_API_KEY",
)

FACTORIES: dict[str, Callable[[str], Any]] = {
    "trends": get_trend_source,
    "analysis": _llm_or_local,
    "planner": _llm_or_local,
    "visuals": lambda name: get_visual_source(name, [Path("still.png")]),
    "tts": get_tts,
}


def test_config_allows_exactly_the_registered_names() -> None:
    schema = Providers.model_json_schema()
    assert set(schema["properties"]) == set(PROVIDERS)
    for kind, names in PROVIDERS.items():
        assert tuple(schema["properties"][kind]["enum"]) == names
        assert getattr(Providers(), kind) == names[0]  # the first name is the default


@pytest.mark.parametrize(
    ("kind", "name"), [(kind, name) for kind, names in PROVIDERS.items() for name in names]
)
def test_every_registered_name_is_one_its_factory_builds(
    kind: str, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in KEY_ENV:  # building a provider needs its key, calling it is not tested here
        monkeypatch.setenv(key, "test-key")
    built = FACTORIES[kind](name)
    assert built is not None or name == "local"


@pytest.mark.parametrize("kind", sorted(PROVIDERS))
def test_a_name_outside_the_registry_is_refused(kind: str) -> None:
    if kind in ("analysis", "planner"):
        with pytest.raises(FatalStageError):
            get_llm("nosuch")
        assert set(PROVIDERS[kind]) == {"local", *LLM_PROVIDERS}
        return
    with pytest.raises(FatalStageError):
        FACTORIES[kind]("nosuch")
