"""The store and the runtime modules the service calls, loaded on first use.

Under type checking these are the modules themselves (so the layer contracts and the types see
them); at run time each is a handle that imports its module when first used, so the read
commands on SQLite (``store.fastread``) never import SQLAlchemy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from vidgen.settings import Settings

if TYPE_CHECKING:
    from vidgen.pipeline import report
    from vidgen.store import (
        Store,
        beats,
        checkpoints,
        events,
        get_store,
        jobs,
        public_url,
        trends,
        videos,
    )

else:
    # The store and everything built on it load on first use: importing SQLAlchemy alone was
    # about five times the CLI's import floor, and `vidgen status ID` / `vidgen jobs` on a
    # SQLite store never need it (``store.fastread``). The imports above keep the layer
    # contracts and the types; these names resolve to the same modules when first called.

    class _OnFirstUse:
        def __init__(self, module: str) -> None:
            self._module = module

        def __getattr__(self, name: str) -> Any:
            return getattr(importlib.import_module(self._module), name)

    report = _OnFirstUse("vidgen.pipeline.report")
    checkpoints = _OnFirstUse("vidgen.store.checkpoints")
    events = _OnFirstUse("vidgen.store.events")
    jobs = _OnFirstUse("vidgen.store.jobs")
    trends = _OnFirstUse("vidgen.store.trends")
    videos = _OnFirstUse("vidgen.store.videos")
    beats = _OnFirstUse("vidgen.store.beats")
    _engine = _OnFirstUse("vidgen.store.engine")

    def get_store(settings: Settings) -> Store:
        return _engine.get_store(settings)

    def public_url(url: str) -> str:
        return _engine.public_url(url)


__all__ = [
    "beats",
    "checkpoints",
    "events",
    "get_store",
    "jobs",
    "public_url",
    "report",
    "trends",
    "videos",
]
