"""User text is printed as typed, never parsed as Rich markup.

A theme such as ``Sale [/] today`` (accepted by ``generate``, HTTP and batch files) made
``vidgen jobs``, ``status`` and ``videos`` exit 1 with a ``MarkupError`` traceback -- anyone who
could queue a job broke the cron morning report -- and stranded a ``generate --wait`` job in
``running``; ``[link=…]…[/link]`` printed a hidden terminal hyperlink.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from conftest import CliResult
from vidgen.cli import output

Cli = Callable[..., CliResult]
THEMES = ("Sale [/] today", "[link=https://evil.example]Free[/link] [bold red]x")


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Render as on a terminal (colours, live display), as a user at a shell sees it."""
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setattr(output, "_console", None)
    yield
    output._console = None


def _shown(result: CliResult, *texts: str) -> None:
    assert result.code == 0, (result.out, result.err)
    assert "Traceback" not in result.out + result.err
    assert "MarkupError" not in result.out + result.err
    assert "\x1b]8;" not in result.out  # no OSC 8 terminal hyperlink
    for text in texts:
        assert text in result.out, (text, result.out)


@pytest.mark.parametrize("theme", THEMES)
def test_a_theme_with_markup_is_printed_as_typed_by_every_listing(
    cli: Cli,
    stagekit: Path,
    drain: Callable[[], int],
    monkeypatch: pytest.MonkeyPatch,
    terminal: None,
    theme: str,
) -> None:
    monkeypatch.setenv("STAGEKIT_COMPOSITION", "fakevideo")
    monkeypatch.setenv("STAGEKIT_REVIEW", "real")
    assert cli("generate", "--theme", theme).code == 0
    drain()
    # A terminal's table shortens long cells (with "…"); the text shown is as typed.
    _shown(cli("jobs"), output.clip(theme, 30).rstrip("…"))
    _shown(cli("status", "1"), theme)
    _shown(cli("videos"), output.clip(theme, 40).rstrip("…"))


def test_an_error_with_markup_is_printed_as_typed(
    cli: Cli,
    stagekit: Path,
    drain: Callable[[], int],
    monkeypatch: pytest.MonkeyPatch,
    terminal: None,
    tmp_path: Path,
) -> None:
    # A config path the job cannot read later: its name (user text) ends up in the error.
    from conftest import SAMPLE_CONFIG

    # "<tmp>/x[/" + "]theme.yml": the path holds a closing tag with nothing to close.
    config = tmp_path / "x[" / "]theme.yml"
    config.parent.mkdir()
    config.write_text(SAMPLE_CONFIG.read_text())
    assert cli("generate", "--config", str(config)).code == 0
    from vidgen.config import SNAPSHOT_NAME

    # Without its snapshot (as queued by an older vidgen) the job reads the file again.
    (stagekit / "jobs" / "1" / SNAPSHOT_NAME).unlink()
    config.unlink()
    drain()
    _shown(cli("jobs", "--status", "failed"), "1")
    _shown(cli("status", "1"), "x[/]theme.yml")


def test_generate_wait_with_a_markup_theme_completes_the_job(
    cli: Cli, stagekit: Path, terminal: None
) -> None:
    result = cli("generate", "--theme", THEMES[0], "--wait")
    assert result.code == 0, (result.out, result.err)
    assert "Traceback" not in result.out + result.err
    assert cli("status", "1", "--json").json()["status"] == "completed"
