"""Take the README's dashboard screenshots with headless Chromium (Debian's ``chromium``).

    PYTHONPATH=src:tests .venv/bin/python scripts/dashboard_screenshots.py docs/

Builds a throw-away home with a few real preview renders, a failed and a pending job, serves it
with ``vidgen serve`` and saves ``dashboard-list.png`` and ``dashboard-job.png``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from playwright.sync_api import sync_playwright

VIDGEN = [sys.executable, "-m", "vidgen.cli.main"]
# Themes the shipped sample covers (a theme nothing covers is refused at generate).
REAL_THEMES = ["Running", "Tea", "Travel"]


def main(out_dir: Path) -> None:
    root = Path(tempfile.mkdtemp(prefix="vidgen-shots-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIDGEN_")}
    env.update(VIDGEN_HOME=str(root / "home"), VIDGEN_PROFILE="preview")
    tests = Path(__file__).resolve().parents[1] / "tests"
    env["PYTHONPATH"] = os.pathsep.join([str(tests), env.get("PYTHONPATH", "")])

    def vidgen(*args: str, **extra: str) -> None:
        subprocess.run([*VIDGEN, *args], env={**env, **extra}, cwd=root, check=False)

    for theme in REAL_THEMES:
        vidgen("generate", "--theme", theme, "--wait")
    vidgen(
        "generate", "--theme", "Unboxing", "--wait",
        VIDGEN_STAGE_PACKAGE="stagekit", STAGEKIT_COMPOSITION="fatal",
    )  # fmt: skip
    vidgen("generate", "--theme", "Home Workout")  # no worker: stays pending
    vidgen("approve", "2")

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen([*VIDGEN, "serve", "--port", str(port)], env=env, cwd=root)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                httpx.get(f"{base}/api/health", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/lib/chromium/chromium")
            page = browser.new_page(viewport={"width": 1280, "height": 760})
            page.goto(f"{base}/")
            page.wait_for_selector(".job img")
            page.wait_for_timeout(1500)
            page.screenshot(path=str(out_dir / "dashboard-list.png"))
            page.set_viewport_size({"width": 1280, "height": 1000})
            page.goto(f"{base}/jobs/1")
            page.wait_for_selector("#player")
            page.evaluate(
                "() => new Promise(ok => { const v = document.getElementById('player');"
                " v.muted = true; v.currentTime = 6.5; v.onseeked = ok; })"
            )
            page.wait_for_timeout(800)
            page.screenshot(path=str(out_dir / "dashboard-job.png"))
            browser.close()
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs"))
