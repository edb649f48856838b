"""The dashboard's browser harness: Debian's Chromium driven by Playwright, sign-in helpers, the axe check."""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.support.server import Server

VENDOR = Path(__file__).parent / "vendor"
# in CI the browser tests must run: a missing chromium is a failure there, a skip on a developer's machine
REQUIRED = bool(os.environ.get("CI"))
EMAIL = "owner@example.com"
PASSWORD = "correct horse battery"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "images"


def chromium_path() -> str | None:
    """Debian's chromium binary (POSTDODO_CHROMIUM overrides), or None when it is not installed."""
    path = os.environ.get("POSTDODO_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    return path if Path(path).exists() else None


def require_chromium() -> str:
    """The binary, or skip (fail in CI) with the reason."""
    path = chromium_path()
    if path is None:
        reason = "chromium is not installed (apt-get install -y chromium); the dashboard's browser tests need it"
        if REQUIRED:
            pytest.fail(reason + " and CI is set: these tests must run in CI")
        pytest.skip(reason)
    return path


@dataclass
class Dashboard:
    """A `postdodo serve` with its first-run link, and who has signed up through it."""

    server: Server
    setup_url: str
    owner: tuple[str, str] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def url(self) -> str:
        """The server's base URL."""
        return self.server.url


def setup_link(server: Server) -> str:
    """The one-time first sign-in link `postdodo serve` printed."""
    for line in server.output:
        if found := re.search(r"(http://\S+/setup\?token=[A-Za-z0-9_-]+)", line):
            return found.group(1)
    raise AssertionError("postdodo serve printed no first sign-in link:\n" + "".join(server.output))


class CSPWatch:
    """Console messages of a page; a CSP violation is a test failure."""

    def __init__(self, page: Any) -> None:
        self.messages: list[str] = []
        page.on("console", lambda msg: self.messages.append(f"{msg.type}: {msg.text}"))

    def violations(self) -> list[str]:
        """Console lines that report a blocked script, style or frame."""
        return [m for m in self.messages if "Content Security Policy" in m or "Refused to" in m]


def first_sign_in(page: Any, dash: Dashboard, email: str = EMAIL, password: str = PASSWORD) -> None:
    """Sign up through the printed link as a person would: open it, fill the form, land in the dashboard."""
    page.goto(dash.setup_url)
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_label("Password again").fill(password)
    page.get_by_role("button", name="Create my account").click()
    page.wait_for_url(re.compile(r"/w/ws_\w+/posts$"))
    dash.owner = (email, password)


def sign_in(page: Any, dash: Dashboard) -> None:
    """Signed in as the owner: through the first-run link the first time, the sign-in form afterwards."""
    if dash.owner is None:
        first_sign_in(page, dash)
        return
    email, password = dash.owner
    page.goto(dash.url + "/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/w/ws_\w+/posts$"))


def workspace_url(page: Any) -> str:
    """The /w/<id> prefix of the page the browser shows."""
    found = re.search(r"^(.*/w/ws_\w+)", page.url)
    assert found, page.url
    return found.group(1)


def assert_accessible(page: Any) -> None:
    """axe-core (vendored, injected over the DevTools protocol: CSP stays on) finds no serious or critical issue.

    Also asserts the page has no inline script, event handler attribute or style attribute: the CSP would
    block them, so one would be a silently broken control.
    """
    inline = page.evaluate("""() => [
        ...[...document.scripts].filter(s => !s.src).map(s => 'inline <script>'),
        // (an empty style="" is what Playwright's screenshot leaves after hiding the caret)
        ...[...document.querySelectorAll('[style]')].filter(e => e.getAttribute('style').trim())
                                                   .map(e => e.tagName + ' style='),
        ...[...document.querySelectorAll('*')].flatMap(e => [...e.attributes].filter(a => a.name.startsWith('on'))
                                                        .map(a => e.tagName + ' ' + a.name + '=')),
    ]""")
    assert inline == [], f"inline code on {page.url}: {inline}"
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate((VENDOR / "axe.min.js").read_text())
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    bad = [f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
           for v in result["violations"] if v["impact"] in ("serious", "critical")]
    assert not bad, f"accessibility violations on {page.url}:\n" + "\n".join(bad)


def screenshot(page: Any, name: str) -> None:
    """docs/images/dashboard-<name>.png, only when POSTDODO_SCREENSHOTS=1 (normal runs leave the tree clean)."""
    if os.environ.get("POSTDODO_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"dashboard-{name}.png"), full_page=True)
