"""How long to wait before a failed stage's next attempt."""

from __future__ import annotations

import random


def backoff_delay(attempt: int, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Delay before attempt ``attempt + 1``: exponential, capped, with "equal jitter".

    Half of ``min(cap, base * 2**(attempt-1))`` is fixed, the other half random, so retries from
    many jobs spread out but a retry never comes sooner than half the nominal delay.
    """
    nominal: float = min(cap, base * 2.0 ** (attempt - 1))
    return nominal / 2 + (rng or random).uniform(0, nominal / 2)
