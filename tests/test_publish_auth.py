"""``vidgen auth``: the loopback redirect and the pasted redirect URL both end in a refresh
token kept with mode 0600; a wrong answer is one line."""

from __future__ import annotations

import io
import re
import stat
import threading
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from conftest import CliResult
from platformkit import FakeYouTube, point_at

Cli = Callable[..., CliResult]


@pytest.fixture
def google(home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeYouTube]:
    fake = FakeYouTube().start()
    point_at(monkeypatch, fake, None)
    monkeypatch.setenv("VIDGEN_YOUTUBE_CLIENT_ID", "client-1.apps.googleusercontent.com")
    monkeypatch.setenv("VIDGEN_YOUTUBE_CLIENT_SECRET", "secret-1")
    yield fake
    fake.stop()


def _saved(home: Path) -> Path:
    path = home / "credentials" / "youtube-default.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert '"refresh_token": "refresh-1"' in path.read_text()
    return path


def test_auth_receives_the_code_on_the_loopback_port(
    home: Path, cli: Cli, google: FakeYouTube, capsys: pytest.CaptureFixture[str]
) -> None:
    from vidgen import service
    from vidgen.settings import load_settings

    settings = load_settings()
    auth, server = service.auth_begin(settings, "youtube", None, 0)
    assert auth.url.startswith("https://accounts.google.com/o/oauth2/v2/auth?")
    for part in ("access_type=offline", "code_challenge_method=S256", "youtube.upload"):
        assert part in auth.url
    assert re.search(r"redirect_uri=http%3A%2F%2F127\.0\.0\.1%3A\d+%2F", auth.url)

    def browser() -> None:  # what the browser does after consent
        urllib.request.urlopen(f"{auth.redirect_uri}?state={auth.state}&code=good-code").read()

    threading.Thread(target=browser, daemon=True).start()
    where = service.auth_finish(settings, auth, server, None, timeout=10)

    assert Path(where) == _saved(home)


def test_auth_takes_the_pasted_redirect_url_on_a_headless_machine(
    home: Path, cli: Cli, google: FakeYouTube, monkeypatch: pytest.MonkeyPatch
) -> None:
    from vidgen.providers import oauth

    states: list[str] = []
    real_start = oauth.start

    def start(*args: object) -> oauth.Authorization:
        made = real_start(*args)  # type: ignore[arg-type]
        states.append(made.state)
        monkeypatch.setattr(
            "sys.stdin",
            io.StringIO(f"http://127.0.0.1:1/?state={made.state}&code=good-code&scope=x\n"),
        )
        return made

    monkeypatch.setattr(oauth, "start", start)
    result = cli("auth", "youtube", "--paste")
    assert result.code == 0, result.err
    assert "Open this URL" in result.out and "mode 0600" in result.out
    _saved(home)


def test_a_redirect_url_from_another_consent_is_refused_in_one_line(
    home: Path, cli: Cli, google: FakeYouTube, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("http://127.0.0.1:1/?state=other&code=x\n"))
    result = cli("auth", "youtube", "--paste")
    assert result.code == 2
    assert "state differs" in result.err and result.err.count("\n") == 1
    assert not (home / "credentials" / "youtube-default.json").exists()


def test_auth_without_a_client_says_which_variables_to_set(
    home: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = cli("auth", "tiktok")
    assert result.code == 2
    assert "VIDGEN_TIKTOK_CLIENT_KEY" in result.err and result.err.count("\n") == 1
    assert cli("auth", "vimeo").code == 2
