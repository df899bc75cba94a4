"""The fonts we render text with: shipped in a pip package, never looked up on the system.

An explicit font file matters: ffmpeg's drawtext fails without one and libass silently draws
nothing, so every overlay and caption names one of these paths.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from vidgen.errors import FatalStageError


@cache
def font_dir() -> Path:
    import font_roboto

    return Path(font_roboto.__file__).parent / "files"


def font_path(weight: str = "Bold") -> Path:
    """Path of Roboto-<weight>.ttf (Regular, Bold, Black, Medium, Light...)."""
    path = font_dir() / f"Roboto-{weight}.ttf"
    if not path.is_file():
        raise FatalStageError(
            f"font {path.name} is missing from the font-roboto package; reinstall vidgen"
        )
    return path
