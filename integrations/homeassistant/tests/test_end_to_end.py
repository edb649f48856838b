"""The whole loop against a real `postdodo serve`: configure, post, receive the signed webhooks, remove."""

from __future__ import annotations

import asyncio
import os
import re
import select
import subprocess
import time
from collections.abc import Generator
from pathlib import Path

import pytest
from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.const import CONF_API_KEY, CONF_URL
from homeassistant.core import HomeAssistant
from homeassistant.core_config import async_process_ha_core_config
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import async_capture_events
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.postdodo._postdodo_client import AsyncClient
from custom_components.postdodo.const import CONF_ENDPOINT_ID, DOMAIN

START_TIMEOUT = 30.0
EVENT_TIMEOUT = 30.0


@pytest.fixture
def postdodo_server(tmp_path: Path) -> Generator[tuple[str, str]]:
    """A real PostDodo service on a free port, its demo sandbox workspace, webhooks to private addresses allowed."""
    env = {**os.environ, "POSTDODO_WEBHOOK_ALLOW_PRIVATE": "1", "PYTHONUNBUFFERED": "1"}
    env.pop("POSTDODO_DATABASE_URL", None)
    env.pop("POSTDODO_REDIS_URL", None)
    # the project's own venv runs the server: Home Assistant's venv has only the component's vendored client
    python = os.environ.get("POSTDODO_PYTHON") or str(Path(__file__).resolve().parents[3] / ".venv/bin/python")
    if not Path(python).exists():
        pytest.fail(f"no project venv at {python}: run ./scripts/test once, or set POSTDODO_PYTHON")
    proc = subprocess.Popen([python, "-m", "postdodo_connect", "serve", "--port", "0"], cwd=tmp_path,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    key = url = None
    output = ""
    deadline = time.monotonic() + START_TIMEOUT
    try:
        assert proc.stdout is not None
        while url is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or proc.poll() is not None:
                pytest.fail("postdodo serve did not start:\n" + output)
            # raw reads: a buffered readline could hold the next lines where select() cannot see them
            ready, _, _ = select.select([proc.stdout], [], [], remaining)
            if ready:
                output += os.read(proc.stdout.fileno(), 65536).decode(errors="replace")
            if found := re.search(r"\b(pd_test_\w+)", output):
                key = found.group(1)
            if found := re.search(r"listening on (http://\S+)", output):
                url = found.group(1)
        assert key, "no demo key printed:\n" + output
        yield url, key
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout:
            proc.stdout.close()


async def _wait_for(condition, what: str) -> None:
    deadline = time.monotonic() + EVENT_TIMEOUT
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def test_post_and_receive_events(hass: HomeAssistant, postdodo_server: tuple[str, str],
                                       hass_client_no_auth: ClientSessionGenerator) -> None:
    """Config flow → create_post → signed post.published/post.completed deliveries → sensors → removal."""
    base, key = postdodo_server
    assert await async_setup_component(hass, "webhook", {})
    http = await hass_client_no_auth()  # Home Assistant's HTTP server on a real local port
    await async_process_ha_core_config(hass, {"internal_url": f"http://127.0.0.1:{http.server.port}"})

    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_URL: base, CONF_API_KEY: key})
    assert result["type"] is FlowResultType.CREATE_ENTRY, result
    entry = result["result"]
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data.push.active, entry.runtime_data.push.error

    published = async_capture_events(hass, "postdodo_post_published")
    completed = async_capture_events(hass, "postdodo_post_completed")
    post = await hass.services.async_call(
        DOMAIN, "create_post", {"caption": "Fresh from Home Assistant", "account_ids": ["bluesky:demo_bluesky",
                                                                                      "demo_mastodon"]},
        blocking=True, return_response=True)
    assert post["status"] == "publishing"

    await _wait_for(lambda: len(completed) == 1 and len(published) == 2, "post.published twice and post.completed")
    assert {e.data["account_id"] for e in published} == {t["account_id"] for t in post["targets"]}
    assert all(e.data["post_id"] == post["id"] and e.data["permalink"] for e in published)
    assert completed[0].data["status"] == "published"

    sensor = hass.states.get("sensor.demo_bluesky_bluesky_last_post")
    assert sensor.state == "confirmed"
    assert sensor.attributes["permalink"] == next(e.data["permalink"] for e in published
                                                  if e.data["platform"] == "bluesky")
    event_entity = hass.states.get("event.demo_bluesky_bluesky_post_events")
    # whatever order the three deliveries arrived in, the entity ends on the newest of the post's events
    assert event_entity.attributes["event_type"] == "completed"
    assert event_entity.attributes["sequence"] == completed[0].data["sequence"] == 3

    fetched = await hass.services.async_call(DOMAIN, "get_post", {"post_id": post["id"]}, blocking=True,
                                             return_response=True)
    assert fetched["status"] == "published"

    # alt text, a caption per platform and a first comment, as the real API stores them
    later = await hass.services.async_call(DOMAIN, "create_post", {
        "caption": "Bread at nine", "account_ids": ["demo_bluesky", "demo_mastodon"],
        "scheduled_at": "2030-04-01T09:00:00+00:00", "media": ["https://cdn.example.com/bread.jpg"],
        "media_alt": "Three loaves on a rack", "platform_captions": {"bluesky": "Bread at nine, Bluesky"},
        "first_comment": "Open until two"}, blocking=True, return_response=True)
    content = {t["platform"]: t["content"] for t in later["targets"]}
    assert content["bluesky"]["caption"] == "Bread at nine, Bluesky" and content["mastodon"]["caption"] == "Bread at nine"
    assert content["mastodon"]["media"][0]["alt"] == "Three loaves on a rack"
    assert content["bluesky"]["first_comment"] == "Open until two"
    await hass.services.async_call(DOMAIN, "cancel_post", {"post_id": later["id"]}, blocking=True)

    endpoint_id = entry.data[CONF_ENDPOINT_ID]
    await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()

    client = AsyncClient(api_key=key, base_url=base, session=async_get_clientsession(hass))
    assert endpoint_id not in {w.id for w in await client.webhooks.list()}
