"""Dashboard fixtures: a fresh `postdodo serve` per test module, one headless Chromium, a page per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.dashboard.browser import CSPWatch, Dashboard, require_chromium, setup_link
from tests.support.server import start_server


@pytest.fixture(scope="module")
def dash(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    """`postdodo serve` on a fresh SQLite file (demo sandbox workspace, no users yet) and its first-run link."""
    require_chromium()
    workdir: Path = tmp_path_factory.mktemp("dashboard")
    server = start_server(workdir, extra_env={"POSTDODO_WEBHOOK_ALLOW_PRIVATE": "1",
                                              "POSTDODO_RATE_LIMIT": "100000/minute"}, args=("--workers", "2"))
    yield Dashboard(server, setup_link(server))
    server.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's chromium under Playwright (its own browser download is never used)."""
    executable = require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture
def context(browser: Any, dash: Dashboard) -> Iterator[Any]:
    """A fresh browser profile (no cookies) pointed at the module's server."""
    ctx = browser.new_context(base_url=dash.url, viewport={"width": 1100, "height": 800})
    ctx.set_default_timeout(15_000)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: Any) -> Iterator[Any]:
    """A page whose console is watched: no test may end with a Content-Security-Policy violation."""
    page = context.new_page()
    watch = CSPWatch(page)
    yield page
    assert watch.violations() == [], "CSP violations:\n" + "\n".join(watch.violations())
