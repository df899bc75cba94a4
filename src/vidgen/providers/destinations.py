"""The factory of upload destinations (the names are ``vidgen.registry.DESTINATIONS``)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from vidgen.errors import FatalStageError
from vidgen.providers import oauth
from vidgen.providers.publish import Destination, credentials_dir
from vidgen.registry import DESTINATIONS


def get_destination(
    name: str, account: str, home: Path, backoff: Callable[[int], float] | None = None
) -> Destination:
    """The destination ``name`` for ``account`` (its tokens from ``vidgen auth NAME``); the
    API base URLs can be pointed elsewhere (``VIDGEN_YOUTUBE_API_URL``,
    ``VIDGEN_TIKTOK_API_URL``: a proxy, or the tests' local fakes). ``backoff(n)``: seconds to
    wait after the n-th failed chunk in a row (the runner's retry settings)."""
    if name not in DESTINATIONS:
        raise FatalStageError(f"unknown destination {name!r}: use one of {', '.join(DESTINATIONS)}")
    tokens = oauth.TokenStore(oauth.CLIENTS[name], account, credentials_dir(home))
    if name == "youtube":
        from vidgen.providers.youtube_publish import YouTube

        return YouTube(
            tokens, base_url=os.environ.get("VIDGEN_YOUTUBE_API_URL") or None, backoff=backoff
        )
    from vidgen.providers.tiktok_publish import TikTok

    return TikTok(tokens, base_url=os.environ.get("VIDGEN_TIKTOK_API_URL") or None, backoff=backoff)
