"""Stage child programs (ffmpeg, the Piper voice) run with a fixed glibc mmap threshold, which
keeps their large freed buffers from fragmenting the heap (see ``vidgen.media.process``)."""

from __future__ import annotations

import sys

import pytest

from vidgen.media.process import run_child

_PRINT_THRESHOLD = "import os; print(os.environ.get('MALLOC_MMAP_THRESHOLD_', 'unset'))"


def test_a_child_program_gets_the_fixed_mmap_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MALLOC_MMAP_THRESHOLD_", raising=False)
    done = run_child([sys.executable, "-c", _PRINT_THRESHOLD], what="a child")
    assert done.returncode == 0
    assert done.stdout.strip() == "131072"


def test_a_threshold_the_user_set_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MALLOC_MMAP_THRESHOLD_", "65536")
    done = run_child([sys.executable, "-c", _PRINT_THRESHOLD], what="a child")
    assert done.stdout.strip() == "65536"
