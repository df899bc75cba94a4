"""Which store a home recorded its jobs in: the marker file in the home (no SQLAlchemy).

``store.engine`` writes the marker when it creates or first opens a store and refuses a store
whose id differs (lost, emptied, replaced); ``store.fastread`` reads the same marker so the
read commands' fast path never shows a store the home did not record.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

from vidgen.files import atomic_write_text

MARKER_NAME = "store-identity.json"
NEW_STORE_HINT = "vidgen recover --new-store"


def marker_path(home: Path) -> Path:
    return home / MARKER_NAME


def read_marker(home: Path) -> dict[str, str]:
    """Store URL -> store id, for every store this home has used."""
    try:
        data = json.loads(marker_path(home).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    stores = data.get("stores") if isinstance(data, dict) else None
    return {str(k): str(v) for k, v in stores.items()} if isinstance(stores, dict) else {}


def marked(home: Path, url: str) -> str | None:
    """The id of the store this home last used at ``url`` (as the engine shows URLs), or None."""
    return read_marker(home).get(url)


def write_marker(home: Path, url: str, identity: str | None) -> None:
    """Record (or, with None, forget) the store this home uses at ``url``."""
    stores = read_marker(home)
    if identity is None:
        stores.pop(url, None)
    else:
        stores[url] = identity
    # A read-only home still works; it only cannot tell a lost store later.
    with contextlib.suppress(OSError):
        atomic_write_text(marker_path(home), json.dumps({"stores": stores}, indent=2) + "\n")
