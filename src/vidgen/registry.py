"""The provider names of each kind: the one list theme configs are validated against.

A provider is added by registering its name here and teaching that kind's factory to build it
(``get_trend_source``, ``get_llm`` / ``get_planner``, ``get_visual_source``, ``get_tts``);
``tests/test_registry.py`` checks that every name here is one its factory builds. Kept in the
bottom layer, free of imports, so ``vidgen.config`` can read it.
"""

from __future__ import annotations

# kind (the key under ``providers:`` in a theme config) -> names, the default first
PROVIDERS: dict[str, tuple[str, ...]] = {
    "trends": ("sample", "youtube", "tiktok"),
    "analysis": ("local", "openai", "anthropic"),
    "planner": ("local", "openai", "anthropic"),
    "visuals": ("procedural", "images", "pexels", "pixabay"),
    "tts": ("piper", "espeak", "openai"),
}

# Upload destinations (``publish.destinations``, ``vidgen publish --to``): built by
# ``vidgen.providers.publish.get_destination``; not under ``providers:`` (a video may go to
# several at once).
DESTINATIONS: tuple[str, ...] = ("youtube", "tiktok")


# The visuals that search stock footage (``vidgen.media.stock.get_stock_provider`` builds each);
# scenes they find nothing for fall back to your media, then to illustrations.
STOCK_SOURCES: tuple[str, ...] = ("pexels", "pixabay")


def names(kind: str) -> tuple[str, ...]:
    """The registered names of ``kind`` (KeyError for an unknown kind)."""
    return DESTINATIONS if kind == "destinations" else PROVIDERS[kind]
