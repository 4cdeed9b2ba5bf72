"""What the browser tests share: Debian's Chromium (the tests skip, saying why, when it is
missing, unless RCM_REQUIRE_BROWSER is set), the app served by uvicorn on loopback in a thread,
and Chromium launched with this machine's flags and a HOME of its own."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip


def require_chromium() -> None:
    """Skip the calling test module when Chromium is missing (fail when CI requires it)."""
    if Path(CHROMIUM).exists():
        return
    if os.environ.get("RCM_REQUIRE_BROWSER"):
        raise RuntimeError(f"{CHROMIUM} is missing but RCM_REQUIRE_BROWSER is set")
    pytest.skip(
        f"browser tests skipped: {CHROMIUM} not installed (apt-get install chromium)",
        allow_module_level=True,
    )


@contextmanager
def served(store: Any) -> Iterator[str]:
    """The web app over ``store``, served by uvicorn on a free loopback port; yields its URL."""
    import uvicorn

    from rcm.web import create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(create_app(store), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not server.started:
        if time.time() > deadline:
            raise RuntimeError("the web app did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def chromium(home: Path) -> Iterator[Any]:
    """Chromium launched headless by Playwright, with ``home`` as its HOME."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, args=ARGS, env={**os.environ, "HOME": str(home)}
        )
        try:
            yield browser
        finally:
            browser.close()
