"""The review dashboard in a real headless Chromium against a real ``vidgen serve`` process.

The browser is the system's Chromium (Debian's ``chromium`` package, which ``.ci/run``
installs), driven by Playwright's Python package through ``executable_path``: Playwright never
downloads a browser here. One installation (processkit.Factory) gets a real preview render, a
few fast scripted jobs with a real 2-second MP4 (stagekit ``tinyvideo``) and failed jobs; then
a reviewer watches, approves, rejects, retries and generates from the page, once with the API
open on loopback and once with ``VIDGEN_API_TOKEN`` set, and the CLI must agree with every click.
Every request the page makes is recorded (all to the server) and so is every console error
(none).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from processkit import Factory, Proc

pytestmark = pytest.mark.slow

TOKEN = "dashboard-browser-token"
BROWSER_CANDIDATES = (
    os.environ.get("VIDGEN_TEST_CHROMIUM"),
    "/usr/lib/chromium/chromium",  # Debian's binary; /usr/bin/chromium is a shell wrapper
    shutil.which("chromium"),
    shutil.which("chromium-browser"),
)


def chromium() -> str | None:
    for candidate in BROWSER_CANDIDATES:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api", reason="install the dev extra")
    exe = chromium()
    if exe is None:
        message = "no Chromium: apt-get install chromium (.ci/run does)"
        if os.environ.get("VIDGEN_REQUIRE_BROWSER"):
            pytest.fail(message)
        pytest.skip(message)
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=exe)
        yield launched
        launched.close()


@dataclass
class Site:
    factory: Factory
    jobs: dict[str, int]
    servers: dict[str, str] = field(default_factory=dict)

    def cli(self, *args: str) -> Any:
        proc = self.factory.vidgen(*args, "--json")
        assert proc.popen.returncode == 0, proc.err
        return json.loads(proc.out)

    def video_of(self, job_id: int) -> dict[str, Any]:
        videos = self.cli("videos", "--limit", "100")["videos"]
        found: dict[str, Any] = next(v for v in videos if v["job_id"] == job_id)
        return found


def _job(factory: Factory, theme: str, expect: int = 0, **env: str) -> int:
    """Run one job to its end in the ``generate --wait`` process (no worker stays behind)."""
    proc = factory.vidgen("generate", "--theme", theme, "--wait", timeout=300, **env)
    assert proc.popen.returncode == expect, (proc.out, proc.err)
    rows = factory._query("SELECT max(id) FROM job")
    return int(rows[0][0])


def _serve(factory: Factory, **env: str) -> tuple[str, Proc]:
    port = free_port()
    proc = factory.spawn("serve", "--port", str(port), **env)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                return base, proc
        except httpx.TransportError:
            pass
        assert proc.alive(), proc.err
        assert time.monotonic() < deadline, "vidgen serve did not come up"
        time.sleep(0.1)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    factory = Factory(tmp_path_factory.mktemp("dashboard"))
    tiny = {"STAGEKIT_COMPOSITION": "tinyvideo", "STAGEKIT_REVIEW": "real"}
    fatal = {"STAGEKIT_COMPOSITION": "fatal"}
    try:
        jobs = {
            # A real preview render: real plan, voice, thumbnail and H.264 video.
            "real": _job(factory, "Running", VIDGEN_STAGE_PACKAGE="vidgen.stages"),
            "open-reject": _job(factory, "Too dark", **tiny),
            "open-failed": _job(factory, "Broken config", expect=1, **fatal),
            "token-approve": _job(factory, "Desk tour", **tiny),
            "token-reject": _job(factory, "Shaky cam", **tiny),
            "token-failed": _job(factory, "Broken again", expect=1, **fatal),
        }
        result = Site(factory, jobs)
        result.servers["open"], _ = _serve(factory)
        result.servers["token"], _ = _serve(factory, VIDGEN_API_TOKEN=TOKEN)
        yield result
    finally:
        factory.cleanup()


class Recorder:
    """Every request the page makes, every response, every console error and page error."""

    def __init__(self, page: Any) -> None:
        self.requests: list[str] = []
        self.responses: list[Any] = []
        self.errors: list[str] = []
        page.on("request", lambda request: self.requests.append(request.url))
        page.on("response", lambda response: self.responses.append(response))
        page.on(
            "console",
            lambda message: (
                self.errors.append(f"console: {message.text}") if message.type == "error" else None
            ),
        )
        page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))

    def check_all_local(self, base: str) -> None:
        assert self.requests, "the page made no requests"
        outside = [url for url in self.requests if not url.startswith(f"{base}/")]
        assert outside == [], outside
        assert self.errors == []


def sign_in(page: Any, rec: Recorder, base: str, path: str = "/") -> None:
    page.goto(f"{base}{path}")
    page.wait_for_url(lambda url: url.startswith(f"{base}/login?next="))
    page.fill("#token", "not-the-token")
    page.click("button[type=submit]")
    assert "not the token" in page.inner_text(".error")
    # The one error the browser may log: the login form's own 401 for the wrong token.
    assert rec.errors == [
        "console: Failed to load resource: the server responded with a status of 401 (Unauthorized)"
    ]
    rec.errors.clear()
    page.fill("#token", TOKEN)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: url == f"{base}{path}")


def wait_text(page: Any, selector: str, text: str, timeout: float = 15_000) -> None:
    page.wait_for_function(
        "([sel, text]) => [...document.querySelectorAll(sel)]"
        ".some(e => e.textContent.includes(text))",
        arg=[selector, text],
        timeout=timeout,
    )


def play(page: Any, rec: Recorder) -> None:
    """Start the video muted, see its clock advance, and see it was fetched by range."""
    page.wait_for_selector("#player")
    page.evaluate(
        "() => { const v = document.getElementById('player'); v.muted = true; v.play(); }"
    )
    page.wait_for_function(
        "() => { const v = document.getElementById('player');"
        " return v.readyState >= 3 && v.currentTime > 0.3 && v.duration > 1; }",
        timeout=20_000,
    )
    ranged = [
        r
        for r in rec.responses
        if "/files/video" in r.url
        and r.status == 206
        and r.headers.get("content-type") == "video/mp4"
        and r.headers.get("content-range", "").startswith("bytes ")
    ]
    assert ranged, [(r.url, r.status, r.headers) for r in rec.responses if "/files/" in r.url]
    # Seeking works (the server answers ranges): jump near the end and play on.
    page.evaluate(
        "() => { const v = document.getElementById('player'); v.currentTime = v.duration - 0.5; }"
    )
    page.wait_for_function(
        "() => { const v = document.getElementById('player');"
        " return v.currentTime >= v.duration - 0.5 && !v.seeking; }",
        timeout=10_000,
    )


@pytest.mark.parametrize("mode", ["open", "token"])
def test_a_reviewer_watches_approves_rejects_retries_and_generates(
    browser: Any, site: Site, mode: str
) -> None:
    base = site.servers[mode]
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    rec = Recorder(page)
    approve_id = site.jobs["real" if mode == "open" else "token-approve"]
    reject_id = site.jobs[f"{mode}-reject"]
    failed_id = site.jobs[f"{mode}-failed"]

    if mode == "token":
        sign_in(page, rec, base)
        cookie = next(c for c in context.cookies() if c["name"] == "vidgen_session")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
        assert TOKEN not in cookie["value"]
        assert "vidgen_session" not in page.evaluate("document.cookie")
    else:
        page.goto(f"{base}/")

    # The list: the finished job with its status, review state and thumbnail.
    card = page.locator(f'[data-job="{approve_id}"]')
    card.wait_for()
    assert "completed" in card.inner_text() and "Waiting for review" in card.inner_text()
    card.locator("img").evaluate(
        "img => img.complete ? img.naturalWidth : new Promise(ok => img.onload = () => ok())"
    )
    assert card.locator("img").evaluate("img => img.naturalWidth") > 0
    # Filtered by status: exactly the jobs the CLI lists as failed.
    page.click('[data-filter="failed"]')
    page.wait_for_url("**/?status=failed")
    failed = {job["id"] for job in site.cli("jobs", "--status", "failed")["jobs"]}
    page.wait_for_function(
        "ids => { const shown = [...document.querySelectorAll('[data-job]')]"
        ".map(e => +e.dataset.job);"
        " return shown.length === ids.length && ids.every(i => shown.includes(i)); }",
        arg=sorted(failed),
    )
    page.click('[data-filter="all"]')

    # The job page: stages, plan, the video playing in the page.
    page.goto(f"{base}/jobs/{approve_id}")
    play(page, rec)
    states = page.eval_on_selector_all(
        "#timeline [data-stage]", "els => els.map(e => e.dataset.state)"
    )
    assert states == ["completed"] * 5
    wait_text(page, "#log", "job_completed")  # the job's log: the runner's events in order
    log_lines = page.inner_text("#log").splitlines()
    assert "job_claimed" in log_lines[0] and "job_completed" in log_lines[-1]
    assert sum("stage_completed" in line for line in log_lines) == 5
    if mode == "open":
        log = json.loads(Path(site.video_of(approve_id)["log_path"]).read_text())
        assert page.inner_text("#job-title") == log["plan"]["title"]
        assert page.inner_text("#plan-script") == log["plan"]["voiceover_script"]
        for tag in log["plan"]["hashtags"]:
            assert tag in page.inner_text("#plan-hashtags")

    # Approve: the files move to approved/ and `vidgen videos` says so.
    before = site.video_of(approve_id)
    page.click("#approve")
    wait_text(page, "#actions", "Approved")
    after = site.video_of(approve_id)
    assert after["status"] == "approved"
    assert (
        Path(after["video_path"]).parent.name == "approved" and Path(after["video_path"]).is_file()
    )
    assert not Path(before["video_path"]).exists()
    play(page, rec)  # the same page still plays it from its new place after a reload
    page.reload()
    play(page, rec)

    # Reject with a reason; the captions file beside the video is shown on the page.
    srt = "1\n00:00:00,000 --> 00:00:01,500\nToo dark to read\n"
    Path(site.video_of(reject_id)["video_path"]).with_suffix(".srt").write_text(srt)
    page.goto(f"{base}/jobs/{reject_id}")
    wait_text(page, "#captions", "Too dark to read")
    page.click("#reject")
    page.fill("#reason", "Too dark in the first scene")
    page.click("#reject-confirm")
    wait_text(page, "#actions", "Rejected")
    rejected = site.video_of(reject_id)
    assert rejected["status"] == "rejected" and rejected["reason"] == "Too dark in the first scene"
    assert Path(rejected["video_path"]).parent.name == "rejected"
    assert "Too dark in the first scene" in page.inner_text("#video-reason")

    # Retry a failed job: queued again, as `vidgen status` shows.
    page.goto(f"{base}/jobs/{failed_id}")
    wait_text(page, "#job-error", "cannot work with this config")
    assert "composition" in page.inner_text("#timeline [data-state=failed]")
    wait_text(page, "#log", "stage_failed")
    assert "cannot work with this config" in page.inner_text("#log")
    page.click("#retry")
    wait_text(page, ".job-head", "pending")
    assert site.cli("status", str(failed_id))["status"] == "pending"
    assert page.locator("#retry").count() == 0

    # Generate from the form: a new pending job the CLI lists.
    page.goto(f"{base}/")
    theme = f"From the page ({mode})"
    page.fill("input[name=theme]", theme)
    page.click("#generate button[type=submit]")
    wait_text(page, "#jobs", theme)
    listed = site.cli("jobs", "--limit", "100")["jobs"]
    assert [job["status"] for job in listed if job["theme"] == theme] == ["pending"]

    if mode == "token":  # signing out ends the session: the page asks for the token again
        page.click("#logout button")
        page.wait_for_url(f"{base}/login")
        assert not [c for c in context.cookies() if c["name"] == "vidgen_session"]
        page.goto(f"{base}/jobs/{approve_id}")
        page.wait_for_url(lambda url: url.startswith(f"{base}/login?next="))

    rec.check_all_local(base)
    context.close()


def test_docs_work_offline_and_with_the_token(browser: Any, site: Site) -> None:
    base = site.servers["token"]
    context = browser.new_context()
    page = context.new_page()
    rec = Recorder(page)
    sign_in(page, rec, base, "/docs")
    page.wait_for_selector(".opblock", timeout=30_000)
    paths = page.eval_on_selector_all(".opblock-summary-path", "els => els.map(e => e.textContent)")
    assert "/api/generate" in paths and "/api/jobs/{job_id}/retry" in paths
    # Try it out from the docs: a read, and a write that carries the page's CSRF header.
    for method, path in (("get", "/api/jobs"), ("post", "/api/recover")):
        block = page.locator(f".opblock-{method}", has=page.locator(f'[data-path="{path}"]'))
        block.locator(".opblock-summary").first.click()
        block.locator(".try-out__btn").click()
        block.locator(".execute").click()
        status = block.locator(".live-responses-table tbody .response-col_status").first
        status.wait_for()
        assert status.inner_text().strip() == "200", path
    rec.check_all_local(base)
    context.close()


def _approved_job(site: Site, theme: str, publish: dict[str, Any] | None) -> int:
    """A fast scripted job with a real MP4, rendered from the sample config plus ``publish``
    (none: the sample as it is, which has no publish section), approved from the CLI."""
    import yaml

    from conftest import SAMPLE_CONFIG

    raw = yaml.safe_load(SAMPLE_CONFIG.read_text())
    if publish is not None:
        raw["publish"] = publish
    config = site.factory.root / f"publish-{len(list(site.factory.root.glob('publish-*')))}.yml"
    config.write_text(yaml.safe_dump(raw, allow_unicode=True))
    tiny = {"STAGEKIT_COMPOSITION": "tinyvideo", "STAGEKIT_REVIEW": "real"}
    made = site.factory.vidgen(
        "generate", "--theme", theme, "--config", str(config), "--wait", timeout=300, **tiny
    )
    assert made.popen.returncode == 0, (made.out, made.err)
    job_id = int(site.factory._query("SELECT max(id) FROM job")[0][0])
    site.cli("approve", str(job_id))
    return job_id


def _toast(page: Any, text: str) -> str:
    """The error the page shows (its toast) once it contains ``text``."""
    try:
        page.wait_for_function(
            "text => { const t = document.getElementById('toast');"
            " return t.classList.contains('bad') && t.textContent.includes(text); }",
            arg=text,
            timeout=15_000,
        )
    except Exception as exc:  # playwright's TimeoutError: say what the page showed instead
        raise AssertionError(
            f"no error toast with {text!r}: {page.inner_text('#toast')!r}"
        ) from exc
    shown: str = page.inner_text("#toast")
    return shown


def test_a_reviewer_publishes_an_approved_video_from_its_page(browser: Any, site: Site) -> None:
    """The Publishing box of an approved video: a destination without credentials, and a
    config without the made-for-kids answer, each say what to do in one line and schedule
    nothing; with both, a click schedules the upload and the page shows it as the CLI does.
    No worker runs here, so nothing is uploaded (and nothing reaches the network)."""
    from platformkit import write_credentials

    base = site.servers["open"]
    ready = _approved_job(site, "Desk tour", {"made_for_kids": False, "privacy": "private"})
    unanswered = _approved_job(site, "Desk tour", None)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    rec = Recorder(page)

    # No credentials for YouTube yet: the one line says which command gives them.
    page.goto(f"{base}/jobs/{ready}")
    page.wait_for_selector("#publishing:not([hidden]) #publish-youtube")
    assert "Not published yet." in page.inner_text("#publishing")
    page.click("#publish-youtube")
    message = _toast(page, "vidgen auth youtube")
    assert message == (
        "Publish to youtube: no YouTube credentials for account 'default': "
        "run 'vidgen auth youtube' first"
    )
    assert "\n" not in message
    assert site.cli("publications")["count"] == 0

    # With credentials (as `vidgen auth youtube` leaves them) the same click schedules it.
    write_credentials(site.factory.home, "youtube")
    page.click("#publish-youtube")
    row = page.locator("#publishing [data-publication]")
    row.wait_for()
    (pub,) = site.cli("publications")["publications"]
    assert pub["destination"] == "youtube" and pub["status"] == "scheduled"
    assert row.get_attribute("data-publication") == str(pub["id"])
    assert "youtube" in row.inner_text()
    assert row.locator("[data-status]").get_attribute("data-status") == "scheduled"
    scheduled = pub["scheduled_at"][:16].replace("T", " ")
    assert f"at {scheduled} UTC" in row.inner_text()
    # One live publication per destination: its button is gone, the other one stays.
    assert page.locator("#publish-youtube").count() == 0
    assert page.locator("#publish-tiktok").count() == 1
    # The job's status and the videos list say the same (issue 21: visible everywhere).
    status = site.cli("status", str(ready))["publications"]
    assert [(p["id"], p["status"]) for p in status] == [(pub["id"], "scheduled")]

    # A config without publish.made_for_kids: refused, never defaulted, nothing scheduled.
    write_credentials(site.factory.home, "tiktok")
    page.goto(f"{base}/jobs/{unanswered}")
    page.wait_for_selector("#publishing:not([hidden]) #publish-tiktok")
    page.click("#publish-tiktok")
    message = _toast(page, "made_for_kids is not set")
    assert message.startswith("Publish to tiktok: ") and "\n" not in message
    assert site.cli("publications")["count"] == 1
    assert site.cli("status", str(unanswered))["publications"] == []
    assert "Not published yet." in page.inner_text("#publishing")

    # The page's failed POSTs are the only console errors; everything stayed on the server.
    expected = "Failed to load resource: the server responded with a status of 400"
    assert rec.errors and all(expected in error for error in rec.errors), rec.errors
    rec.errors.clear()
    rec.check_all_local(base)
    context.close()
