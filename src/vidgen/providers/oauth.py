"""OAuth for the upload destinations: ``vidgen auth``'s flow and the tokens uploads use.

Installed-app authorisation code flow with a loopback redirect (RFC 8252; Google retired the
copy-a-code flow): ``vidgen auth youtube`` prints the consent URL and receives the code on
``http://127.0.0.1:PORT/``, or, on a headless machine, takes the redirect URL the browser
could not load, pasted back. The refresh token is kept in ``<home>/credentials/<destination>-
<account>.json`` with mode 0600 (with the client id and secret, so a cron-started worker needs
no environment); access tokens are refreshed when they expire. A refresh token the platform
no longer accepts (``invalid_grant``: Google drops those of apps in "Testing" after 7 days) is
one line saying so and how to fix it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import httpx

from vidgen.errors import FatalStageError, InvalidInput, StageError
from vidgen.files import temp_sibling

REFRESH_MARGIN_SECONDS = 60.0


@dataclass(frozen=True)
class OAuthClient:
    name: str  # the destination
    service: str  # for messages
    authorize_url: str
    token_url_default: str
    token_url_env: str
    id_env: str
    secret_env: str
    id_param: str  # "client_id" (Google) or "client_key" (TikTok)
    scopes: tuple[str, ...]
    scope_separator: str
    expired_fix: str  # what to do when the refresh token is refused
    pkce: bool = True

    @property
    def token_url(self) -> str:
        return os.environ.get(self.token_url_env) or self.token_url_default


CLIENTS: dict[str, OAuthClient] = {
    "youtube": OAuthClient(
        name="youtube",
        service="YouTube",
        authorize_url="https://accounts.google.com/o/oauth2/v2/auth",
        token_url_default="https://oauth2.googleapis.com/token",
        token_url_env="VIDGEN_YOUTUBE_TOKEN_URL",
        id_env="VIDGEN_YOUTUBE_CLIENT_ID",
        secret_env="VIDGEN_YOUTUBE_CLIENT_SECRET",
        id_param="client_id",
        # upload + thumbnails (youtube.upload); captions.insert needs youtube.force-ssl
        scopes=(
            "https://www.googleapis.com/auth/youtube.upload",
            "https://www.googleapis.com/auth/youtube.force-ssl",
        ),
        scope_separator=" ",
        expired_fix=(
            "apps in Google's 'Testing' mode lose it after 7 days: publish the OAuth consent "
            "screen to 'In production', then run 'vidgen auth youtube' again"
        ),
    ),
    "tiktok": OAuthClient(
        name="tiktok",
        service="TikTok",
        authorize_url="https://www.tiktok.com/v2/auth/authorize/",
        token_url_default="https://open.tiktokapis.com/v2/oauth/token/",
        token_url_env="VIDGEN_TIKTOK_TOKEN_URL",
        id_env="VIDGEN_TIKTOK_CLIENT_KEY",
        secret_env="VIDGEN_TIKTOK_CLIENT_SECRET",
        id_param="client_key",
        scopes=("user.info.basic", "video.publish", "video.upload"),
        scope_separator=",",
        expired_fix="TikTok refresh tokens last 365 days: run 'vidgen auth tiktok' again",
        pkce=False,
    ),
}


def _write_private(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` as JSON readable by the owner only (0600 from creation, then renamed)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = temp_sibling(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


class TokenStore:
    """The tokens of one account on one destination, refreshed on demand."""

    def __init__(self, client: OAuthClient, account: str, folder: Path) -> None:
        self.client = client
        self.account = account
        self.path = folder / f"{client.name}-{account}.json"

    def exists(self) -> bool:
        return self.path.is_file()

    def missing_message(self) -> str:
        return (
            f"no {self.client.service} credentials for account '{self.account}': run "
            f"'vidgen auth {self.client.name}"
            + ("" if self.account == "default" else f" --account {self.account}")
            + "' first"
        )

    def load(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise FatalStageError(self.missing_message()) from None
        except (OSError, ValueError) as exc:
            raise FatalStageError(
                f"cannot read {self.path} ({exc}); run 'vidgen auth {self.client.name}' again"
            ) from None
        if not isinstance(data, dict) or not data.get("refresh_token"):
            raise FatalStageError(
                f"{self.path} holds no refresh token; run 'vidgen auth {self.client.name}' again"
            )
        return data

    def save(self, data: dict[str, Any]) -> None:
        _write_private(self.path, data)

    def access_token(self, http: httpx.Client, *, force: bool = False) -> str:
        """A valid access token: the stored one, or a fresh one from the refresh token.

        Refreshing holds an exclusive lock on a file beside the tokens: two workers uploading
        for one account refresh one after the other, and the second reads the first's token
        (TikTok rotates refresh tokens, so a second refresh with the old one could fail)."""
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with open(self.path.with_suffix(".lock"), "a") as lock:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
            return self._access_token(http, force=force)

    def _access_token(self, http: httpx.Client, *, force: bool) -> str:
        data = self.load()
        if (
            not force
            and data.get("access_token")
            and float(data.get("expires_at", 0)) > time.time() + REFRESH_MARGIN_SECONDS
        ):
            return str(data["access_token"])
        fresh = token_request(
            http,
            self.client,
            {
                self.client.id_param: data.get("client_id", ""),
                "client_secret": data.get("client_secret", ""),
                "grant_type": "refresh_token",
                "refresh_token": data["refresh_token"],
            },
        )
        data["access_token"] = fresh["access_token"]
        data["expires_at"] = time.time() + float(fresh.get("expires_in", 3600))
        if fresh.get("refresh_token"):  # TikTok rotates refresh tokens
            data["refresh_token"] = fresh["refresh_token"]
        if fresh.get("open_id"):
            data["open_id"] = fresh["open_id"]
        self.save(data)
        return str(data["access_token"])


def token_request(http: httpx.Client, client: OAuthClient, form: dict[str, str]) -> dict[str, Any]:
    """POST the token endpoint; the parsed JSON, or one line saying what went wrong."""
    try:
        response = http.post(
            client.token_url,
            data=form,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    except httpx.HTTPError as exc:
        raise StageError(f"{client.service} token endpoint unreachable ({exc})") from None
    if response.status_code >= 500:
        raise StageError(f"{client.service} token endpoint answered HTTP {response.status_code}")
    try:
        body = response.json()
    except ValueError:
        body = {}
    error = body.get("error") if isinstance(body, dict) else None
    if response.status_code >= 400 or error or "access_token" not in body:
        if error == "invalid_grant":
            raise FatalStageError(
                f"the {client.service} refresh token expired or was revoked; {client.expired_fix}"
            )
        if error == "invalid_client":
            raise FatalStageError(
                f"{client.service} refused the OAuth client ({body.get('error_description', '')})"
                f"; check {client.id_env} and {client.secret_env}, then run "
                f"'vidgen auth {client.name}' again"
            )
        detail = body.get("error_description") or error or f"HTTP {response.status_code}"
        raise FatalStageError(f"{client.service} token request refused: {detail}")
    return dict(body)


# -- the authorisation code flow (vidgen auth) ------------------------------------------------


@dataclass
class Authorization:
    """One ``vidgen auth`` in progress: the consent URL to open and what checks its answer."""

    client: OAuthClient
    account: str
    client_id: str
    client_secret: str
    redirect_uri: str
    state: str
    verifier: str
    url: str


def start(client: OAuthClient, account: str, port: int) -> Authorization:
    """The consent URL for a loopback redirect on ``port`` (client id/secret from the env)."""
    client_id = os.environ.get(client.id_env, "").strip()
    client_secret = os.environ.get(client.secret_env, "").strip()
    if not client_id or not client_secret:
        raise InvalidInput(
            f"set {client.id_env} and {client.secret_env} to your {client.service} OAuth "
            "client's id and secret (see the README's 'Publishing' section)"
        )
    redirect_uri = f"http://127.0.0.1:{port}/"
    state = secrets.token_urlsafe(16)
    verifier = secrets.token_urlsafe(48)
    params = {
        client.id_param: client_id,
        "redirect_uri": redirect_uri,
        "response_type": "code",
        "scope": client.scope_separator.join(client.scopes),
        "state": state,
    }
    if client.pkce:
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
        params |= {
            "code_challenge": challenge.decode().rstrip("="),
            "code_challenge_method": "S256",
            "access_type": "offline",  # a refresh token
            "prompt": "consent",  # ... every time, not only on the first consent
        }
    url = f"{client.authorize_url}?{urlencode(params)}"
    return Authorization(
        client, account, client_id, client_secret, redirect_uri, state, verifier, url
    )


def code_from_redirect(auth: Authorization, redirect_url: str) -> str:
    """The code in the redirect URL (pasted, or requested of the loopback listener)."""
    query = parse_qs(urlparse(redirect_url.strip()).query)
    if "error" in query:
        raise InvalidInput(f"{auth.client.service} refused the authorisation: {query['error'][0]}")
    if query.get("state", [""])[0] != auth.state:
        raise InvalidInput(
            "that redirect URL is not the answer to this 'vidgen auth' (state differs); "
            "paste the URL the browser showed after this consent"
        )
    code = query.get("code", [""])[0]
    if not code:
        raise InvalidInput("the redirect URL has no ?code=: paste the whole URL")
    return code


def receive_on_loopback(auth: Authorization, server: HTTPServer, timeout: float) -> str:
    """Wait for the browser's redirect on ``server``; the code in it."""
    received: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            received.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.end_headers()
            self.wfile.write(b"vidgen received the answer; you can close this tab.\n")

        def log_message(self, *args: Any) -> None:
            pass

    server.RequestHandlerClass = Handler
    server.timeout = 1.0
    deadline = time.monotonic() + timeout
    while not received and time.monotonic() < deadline:
        server.handle_request()
    server.server_close()
    if not received:
        raise InvalidInput(
            f"no answer on {auth.redirect_uri} within {timeout:g} s; run again, or use --paste "
            "on a machine without a browser"
        )
    return code_from_redirect(auth, f"http://127.0.0.1{received[0]}")


def finish(auth: Authorization, code: str, folder: Path, http: httpx.Client) -> TokenStore:
    """Exchange ``code`` for tokens and keep them (mode 0600)."""
    form = {
        auth.client.id_param: auth.client_id,
        "client_secret": auth.client_secret,
        "code": code,
        "grant_type": "authorization_code",
        "redirect_uri": auth.redirect_uri,
    }
    if auth.client.pkce:
        form["code_verifier"] = auth.verifier
    try:
        fresh = token_request(http, auth.client, form)
    except (FatalStageError, StageError) as exc:
        raise InvalidInput(str(exc)) from None
    if not fresh.get("refresh_token"):
        raise InvalidInput(
            f"{auth.client.service} sent no refresh token; remove vidgen's access in your "
            "account's security settings and run 'vidgen auth' again"
        )
    tokens = TokenStore(auth.client, auth.account, folder)
    tokens.save(
        {
            "client_id": auth.client_id,
            "client_secret": auth.client_secret,
            "refresh_token": fresh["refresh_token"],
            "access_token": fresh["access_token"],
            "expires_at": time.time() + float(fresh.get("expires_in", 3600)),
            "scope": fresh.get("scope", ""),
            "open_id": fresh.get("open_id"),
        }
    )
    return tokens
