"""Faults injected into real vidgen processes, for the process-level tests only.

A test puts this folder first on a process's ``PYTHONPATH`` (``faultkit_env()`` in
``tests/test_queue_refusals_and_reconcile.py``); Python then imports this module at start-up,
before vidgen. Production code has no test hooks: the fault is patched in from here, and only
when its variable is set.

``FAULTKIT_KILL_BEFORE_ENQUEUE=1``: ``vidgen.pipeline.queue.enqueue_job`` SIGKILLs its own
process, so a ``generate`` or ``retry`` dies after its store write and before its enqueue,
the window the outside fault trials hit by chance (3 of 30 generates, 1 of 30 retries).
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import os
import signal
import sys
from types import ModuleType
from typing import Any

_QUEUE = "vidgen.pipeline.queue"


def _die(*_args: Any, **_kwargs: Any) -> str:
    os.kill(os.getpid(), signal.SIGKILL)
    raise AssertionError("unreachable")


class _PatchQueue(importlib.abc.MetaPathFinder):
    """Loads vidgen.pipeline.queue as usual, then replaces its enqueue_job."""

    def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
        if name != _QUEUE:
            return None
        sys.meta_path.remove(self)
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None:
            return spec
        loader: Any = spec.loader
        exec_module = loader.exec_module

        def exec_and_patch(module: ModuleType) -> None:
            exec_module(module)
            module.enqueue_job = _die  # type: ignore[attr-defined]

        loader.exec_module = exec_and_patch
        return spec


if os.environ.get("FAULTKIT_KILL_BEFORE_ENQUEUE") == "1":
    sys.meta_path.insert(0, _PatchQueue())
