"""A Piper child that crashes is recorded as one line naming its exception, not the tail of
its traceback (file names and source lines)."""

from __future__ import annotations

import subprocess
import sys

from vidgen.media.piper_tts import child_failure


def _crash(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )


def test_a_crashed_child_is_named_by_its_exception() -> None:
    done = _crash("def speak():\n    raise RuntimeError('onnxruntime: bad model')\nspeak()\n")
    assert "Traceback" in done.stderr and "File " in done.stderr  # a real traceback
    message = child_failure(done.returncode, done.stderr)
    assert message == "the Piper voice stopped (exit 1): RuntimeError: onnxruntime: bad model"


def test_a_killed_child_says_which_signal() -> None:
    done = _crash("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n")
    assert child_failure(done.returncode, done.stderr) == (
        "the Piper voice stopped (killed by SIGKILL): no output"
    )
