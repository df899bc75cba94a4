"""No source module grows past what one reading holds: 600 lines, outside media/ (pure work on
files, long by nature). A module that grows past it is split by role, as service/ was."""

from __future__ import annotations

from pathlib import Path

SOURCE = Path(__file__).resolve().parent.parent / "src" / "vidgen"
MAX_LINES = 600


def test_no_module_outside_media_is_over_600_lines() -> None:
    too_long = {
        path.relative_to(SOURCE).as_posix(): lines
        for path in SOURCE.rglob("*.py")
        if "media" not in path.relative_to(SOURCE).parts[:1]
        and (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not too_long, f"split these by role (at most {MAX_LINES} lines each): {too_long}"
