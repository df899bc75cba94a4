"""``WebSession`` rows: dashboard sign-ins (the only module that writes them).

A sign-in gets a random cookie value (``create``); the store keeps only its SHA-256, with the
fingerprint of the API token it was opened with and an expiry on the store's clock. ``valid``
checks all three; ``revoke`` (sign-out) deletes it. Expired rows are deleted as new ones are
made.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import delete
from sqlmodel import col

from vidgen.store.engine import Store
from vidgen.store.models import WebSession


def _key(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "replace")).hexdigest()


def create(store: Store, token_fp: str, seconds: float) -> str:
    """A new session for ``seconds``; returns the cookie value (shown once, never stored)."""
    value = secrets.token_urlsafe(32)
    now = store.now()
    with store.write() as session:
        session.execute(delete(WebSession).where(col(WebSession.expires_at) < now))
        session.add(
            WebSession(
                id=_key(value),
                token_fp=token_fp,
                created_at=now,
                expires_at=now + timedelta(seconds=seconds),
            )
        )
    return value


def valid(store: Store, value: str, token_fp: str) -> bool:
    """True if ``value`` is a session opened with this token that has not expired or ended."""
    if not value:
        return False
    with store.read() as session:
        row = session.get(WebSession, _key(value))
    return (
        row is not None
        and secrets.compare_digest(row.token_fp, token_fp)
        and row.expires_at > store.now()
    )


def revoke(store: Store, value: str) -> None:
    """End the session ``value`` (sign-out); nothing if there is none."""
    if not value:
        return
    with store.write() as session:
        session.execute(delete(WebSession).where(col(WebSession.id) == _key(value)))
