"""Diagnostics: useful, and without the key, the endpoint secret or the webhook address."""

from __future__ import annotations

import json

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import get_diagnostics_for_config_entry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from .conftest import WEBHOOK_ID
from .fake_api import ACCOUNTS, KEY, FakePostDodo


async def test_diagnostics_redacted(hass: HomeAssistant, loaded: MockConfigEntry, api: FakePostDodo,
                                    hass_client: ClientSessionGenerator) -> None:
    """Secrets are redacted; accounts, push state and latest posts are there."""
    loaded.runtime_data.push.dispatch("post.published", {
        "post_id": "post_d", "account_id": ACCOUNTS[0]["id"], "platform": "instagram", "status": "confirmed",
        "permalink": "https://www.instagram.com/p/x/"}, "evt_d")
    result = await get_diagnostics_for_config_entry(hass, hass_client, loaded)
    text = json.dumps(result)
    for secret in (KEY, api.endpoint["secret"], WEBHOOK_ID):
        assert secret not in text
    data = result["entry"]["data"]
    assert data["api_key"] == data["endpoint_secret"] == data["webhook_id"] == data["endpoint_url"] == "**REDACTED**"
    assert data["url"] == api.base and data["endpoint_id"] == api.endpoint["id"]
    assert result["push"] == {"active": True, "local_only": True, "error": None}
    assert [a["id"] for a in result["accounts"]] == [a["id"] for a in ACCOUNTS]
    assert result["last_posts"][ACCOUNTS[0]["id"]]["status"] == "confirmed"
