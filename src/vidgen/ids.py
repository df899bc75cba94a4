"""Ids as people type them: ASCII digits only, read by one parser for every face.

Python's ``int()`` (and pydantic's lax integers, which Typer and FastAPI use) read ``1_0`` as
10, ``1.0``, `` 1`` and ``+1`` as 1 and U+0661 (an Arabic-Indic one) as 1, so a typo or a
pasted value named some other job, video or publication instead of being refused. Every id a
command or a route takes goes through ``parse_id`` (CLI: ``typer.Argument(parser=parse_id)``;
HTTP: the ``Id`` annotation), so both faces accept and refuse the same spellings.
"""

from __future__ import annotations

import re
from typing import Any

_DIGITS = re.compile(r"[0-9]{1,100}", re.ASCII)


def parse_id(value: object) -> int:
    """``"12"`` -> 12; anything but ASCII digits raises ValueError saying what to write.

    Range (0, past the largest id) is the service's to judge: it answers "not found".
    """
    if isinstance(value, int) and not isinstance(value, bool):
        return value  # a default, or a caller that already has a number
    if not isinstance(value, str) or _DIGITS.fullmatch(value) is None:
        shown = repr(value)[:40] if isinstance(value, str) else type(value).__name__
        # A ValueError whose message pydantic (so Typer and FastAPI) shows without a prefix.
        # Imported here: the CLI reads ids without loading pydantic at start-up.
        from pydantic_core import PydanticCustomError

        raise PydanticCustomError(
            "id_digits", "{shown} is not an id: write it in digits only, e.g. 12", {"shown": shown}
        )
    return int(value)


def __getattr__(name: str) -> Any:
    """``Id``: an id in an HTTP path or query, ``parse_id`` before pydantic's own (lax) integer
    reading. Built on first use (PEP 562), so ``vidgen --help`` does not import pydantic."""
    if name == "Id":
        from typing import Annotated

        from pydantic import BeforeValidator

        value = Annotated[int, BeforeValidator(parse_id)]
        globals()["Id"] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
