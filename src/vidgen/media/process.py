"""Running a child program for a stage: killed when the stage is cancelled, times out, or the
worker that started it dies. ``vidgen.media.ffmpeg`` runs ffmpeg with it; the Piper voice runs
in a child Python the same way, so its ~200 MB model goes away with the child.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING

from vidgen.errors import StageTimeout

if TYPE_CHECKING:
    from vidgen.cancel_token import CancelToken

_PR_SET_PDEATHSIG = 1


@cache
def _prctl() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    prctl.restype = ctypes.c_int
    return prctl


def _die_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn`` that has Linux SIGKILL ffmpeg if the thread that started it dies.

    Without it, a worker killed outright (OOM killer, ``kill -9``) left its ffmpeg rendering to
    the end, using CPU and memory for a file nothing would read. It only calls prctl (resolved
    before the fork) and getppid, so it is safe in the forked child of a threaded process.
    """
    prctl = _prctl()
    if prctl is None:
        return None
    parent = os.getpid()

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)

    return preexec


# glibc's malloc serves blocks over a threshold with their own mmap, unmapped again on free, but
# by default it raises that threshold to the size of the largest block freed (up to 32 MB).
# After the first few frames or tensors, ffmpeg's decoded frames and onnxruntime's activations
# then came from the heap, where freed blocks of different sizes fragmented it: the Piper voice
# peaked at 335-380 MB instead of 248 MB, the full-size composition's ffmpeg at 255-290 MB
# instead of 225-250 MB, same output bytes. A fixed threshold (glibc's own default, 128 KiB)
# turns the adjustment off. It costs the Piper child ~1 s more CPU and ~0.6 s of wall time
# (fresh pages for each sentence); ffmpeg's cost is within noise. Other C libraries ignore it.
_CHILD_MALLOC = {"MALLOC_MMAP_THRESHOLD_": "131072"}


def child_env() -> dict[str, str]:
    """The environment of a stage's child program: this process's, with ``_CHILD_MALLOC``
    (unless the user set those variables)."""
    return {**_CHILD_MALLOC, **os.environ}


_M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter


@cache
def fix_mmap_threshold() -> None:
    """The same fixed threshold for this process (glibc only; once): what it draws at full size
    (PIL's image blocks) is then unmapped when freed instead of fragmenting the heap, so less
    of it is still resident when ffmpeg runs beside it."""
    if not sys.platform.startswith("linux"):
        return
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    mallopt(_M_MMAP_THRESHOLD, int(_CHILD_MALLOC["MALLOC_MMAP_THRESHOLD_"]))


def run_child(
    cmd: list[str],
    *,
    ctx: CancelToken | None = None,
    timeout: float | None = None,
    what: str,
    stdin: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``cmd`` (no shell) to the end and return its exit code and output, whatever the code.

    Raises StageTimeout (after killing it) when ``ctx`` is cancelled or the deadline (``timeout``
    or the stage's, whichever is sooner) passes.
    """
    deadline = time.monotonic() + timeout if timeout is not None else float("inf")
    if ctx is not None:
        deadline = min(deadline, ctx.deadline)
    proc = subprocess.Popen(
        cmd,
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
        env=child_env(),
        preexec_fn=_die_with_parent(),  # safe with threads: see _die_with_parent
    )
    pending = stdin
    try:
        while True:
            try:
                out, err = proc.communicate(input=pending, timeout=0.2)
                break
            except subprocess.TimeoutExpired:
                pending = None  # communicate() keeps feeding what it started writing
                cancelled = ctx is not None and ctx.cancel.is_set()
                if cancelled or time.monotonic() > deadline:
                    proc.kill()
                    proc.communicate()
                    raise StageTimeout(
                        f"{what} was stopped (time limit or worker shutdown)"
                    ) from None
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)
