"""Dashboard fixtures: a fresh `postdodo serve` per test module, one headless Chromium, a page per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.dashboard.browser import CSPWatch, Dashboard, require_chromium, setup_link
from tests.support.server import start_server


def serve_dashboard(tmp_path_factory: pytest.TempPathFactory, env: dict[str, str], workers: int) -> Dashboard:
    """`postdodo serve` on a fresh SQLite file (demo sandbox workspace, no users yet) and its first-run link."""
    require_chromium()
    workdir: Path = tmp_path_factory.mktemp("dashboard")
    server = start_server(workdir, extra_env={"POSTDODO_WEBHOOK_ALLOW_PRIVATE": "1",
                                              "POSTDODO_RATE_LIMIT": "100000/minute", **env},
                          args=("--workers", str(workers)))
    return Dashboard(server, setup_link(server))


@pytest.fixture(scope="module")
def dash(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    """The module's server, two workers; every sign-in comes from 127.0.0.1, so the per-address throttle is
    raised here (the per-user one keeps its default; test_first_run.py checks both defaults)."""
    dashboard = serve_dashboard(tmp_path_factory, {"POSTDODO_LOGIN_RATE_LIMIT_ADDRESS": "1000/minute"}, 2)
    yield dashboard
    dashboard.server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's chromium under Playwright (its own browser download is never used).

    Per module, not per session: Playwright's sync API keeps an asyncio loop running while it is open, and
    later tests that start their own loop (the async client's) would find it there.
    """
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
