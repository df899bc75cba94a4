"""Which of a product's facts a video says, and in what order: the key selling point first,
the others taking turns, what recent videos said last."""

from __future__ import annotations

from collections.abc import Sequence

from vidgen.planning._words import _SENTENCE_END, same_fact


def said_lately(fact: str, scripts: Sequence[str]) -> int:
    """How lately one of ``scripts`` (earlier videos' narration, newest first) said ``fact``: 0
    when none did, else higher the newer the video - a sort key that puts what the last video
    said last, so the next video of a product says what it left out."""
    for age, script in enumerate(scripts):
        if any(same_fact(fact, sentence) for sentence in _SENTENCE_END.split(script)):
            return len(scripts) - age
    return 0


# The claims one product video makes at most: with a fourth, a 31 s kettle video "tried to
# say too much", each fact a still scene of its own.
MAX_FACTS = 3


def fact_order(facts: Sequence[str], turn: int, said: Sequence[str] = ()) -> list[str]:
    """The order a video says a product's ``facts`` in. The first is the key selling point:
    every video says it, first. The others rotate from turn to turn (a video seldom has time
    for them all), and what the recent videos ``said`` (newest first) goes last, the newest
    last of all: two videos of one product a reviewer watched back to back shared two of
    their three facts word for word."""
    if len(facts) <= 2:
        return list(facts)
    key, others = facts[0], facts[1:]
    start = (turn * 2) % len(others)
    turned = [*others[start:], *others[:start]]
    return [key, *sorted(turned, key=lambda fact: said_lately(fact, said))]
