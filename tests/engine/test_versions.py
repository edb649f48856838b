"""The publisher sends each target's own content: its version's caption, its options and its media's alt text."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import responses
from responses import matchers

from tests.engine.conftest import Engine, build_engine
from tests.engine.test_platform_state import MASTODON, live

IMAGE = "https://cdn.example.com/dodo.jpg"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 200


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path, pg_url: str) -> Engine:
    url = f"sqlite:///{tmp_path / 'versions.db'}" if request.param == "sqlite" else pg_url
    return build_engine(url)


@pytest.fixture
def mocked() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


def test_a_mastodon_version_publishes_its_caption_options_and_alt_text(engine: Engine,
                                                                       mocked: responses.RequestsMock) -> None:
    key, account_id = live(engine, "mastodon", "alice@mastodon.example", instance_url=MASTODON, access_token="tok")
    mocked.get(IMAGE, body=JPEG, content_type="image/jpeg")
    mocked.post(f"{MASTODON}/api/v2/media", json={"id": "4242", "type": "image", "url": f"{MASTODON}/m/4242.jpg"})
    sent = {"status": "For the fediverse", "visibility": "unlisted", "spoiler_text": "birds", "media_ids": ["4242"]}
    mocked.post(f"{MASTODON}/api/v1/statuses", match=[matchers.json_params_matcher(sent)], json={
        "id": "110000000000000001", "created_at": "2026-01-01T00:00:00Z", "url": f"{MASTODON}/@alice/110000000000000001",
        "content": "<p>For the fediverse</p>", "account": {"id": "1", "acct": "alice"},
        "media_attachments": [{"id": "4242", "description": "A dodo"}]})
    post = engine.post(key, [account_id], caption="Base caption", media=[{"url": IMAGE, "alt": "A dodo"}],
                       platforms={"mastodon": {"caption": "For the fediverse",
                                               "options": {"visibility": "unlisted", "spoiler_text": "birds"}}})
    engine.tick()
    after = engine.get(key, post["id"])
    assert after["status"] == "published", after
    assert after["targets"][0]["content"]["caption"] == "For the fediverse"
    upload = next(c for c in mocked.calls if "/api/v2/media" in c.request.url)
    assert b'name="description"\r\n\r\nA dodo\r\n' in upload.request.body
    status = next(c for c in mocked.calls if "/api/v1/statuses" in c.request.url)
    assert json.loads(status.request.body) == sent
