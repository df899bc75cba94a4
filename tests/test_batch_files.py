"""Batch files are read with the theme configs' guarded YAML loader.

A deeply nested file (``[`` x 5000) ended in a ``RecursionError`` traceback and a duplicate key
in an entry was kept silently (the last one won); both are one line now, exit 2, nothing
queued.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import CliResult
from test_unattended_operation import job_count, one_line_error
from vidgen.store import Store

Cli = Callable[..., CliResult]
BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(12)
)  # 108 aliases standing for 9**13 strings: refused before anything is expanded


@pytest.mark.parametrize(
    ("content", "needles"),
    [
        ("[" * 5000 + "]" * 5000, ("invalid YAML/JSON", "nested more than")),
        ("- {theme: one, theme: two}\n", ("invalid YAML/JSON", "duplicate key 'theme'")),
        ("- theme: one\n  config: a.yml\n  theme: two\n", ("duplicate key 'theme'", "line 3")),
        ('[{"theme": "one", "theme": "two"}]', ("duplicate key 'theme'",)),
        (BOMB, ("invalid YAML/JSON", "aliases")),
    ],
    ids=["nested-5000", "duplicate-flow", "duplicate-block", "duplicate-json", "alias-bomb"],
)
def test_a_bad_batch_file_is_one_line_and_queues_nothing(
    cli: Cli, store: Store, tmp_path: Path, content: str, needles: tuple[str, ...]
) -> None:
    batch = tmp_path / "batch.yml"
    batch.write_text(content)
    one_line_error(cli("generate", "--batch", str(batch)), 2, *needles)
    assert job_count(store) == 0
