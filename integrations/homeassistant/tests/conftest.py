"""Fixtures: custom integrations on, a fake PostDodo API behind ``aioclient_mock``, a configured entry."""

from __future__ import annotations

import pytest
from homeassistant.const import CONF_API_KEY, CONF_URL, CONF_WEBHOOK_ID
from homeassistant.core import HomeAssistant
from homeassistant.core_config import async_process_ha_core_config
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker

from custom_components.postdodo.const import DOMAIN

from .fake_api import ACCOUNTS, BASE, KEY, FakePostDodo

WEBHOOK_ID = "0123456789abcdef0123456789abcdef"


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Load custom_components/postdodo in every test."""


@pytest.fixture(autouse=True)
async def ha_urls(hass: HomeAssistant) -> None:
    """Home Assistant's own addresses, which the webhook URL is built from."""
    await async_process_ha_core_config(hass, {"internal_url": "http://192.168.1.5:8123",
                                              "external_url": "https://home.example.com"})


@pytest.fixture
def api(aioclient_mock: AiohttpClientMocker) -> FakePostDodo:
    """The fake PostDodo workspace at BASE; every request of Home Assistant's shared session goes to the mocker."""
    return FakePostDodo(aioclient_mock)


@pytest.fixture
def entry(hass: HomeAssistant) -> MockConfigEntry:
    """A configured PostDodo entry (not yet set up)."""
    config_entry = MockConfigEntry(domain=DOMAIN, title="PostDodo sandbox (192.168.1.20:8080)",
                                   unique_id=ACCOUNTS[0]["id"],
                                   data={CONF_URL: BASE, CONF_API_KEY: KEY, CONF_WEBHOOK_ID: WEBHOOK_ID})
    config_entry.add_to_hass(hass)
    return config_entry


@pytest.fixture
async def loaded(hass: HomeAssistant, api: FakePostDodo, entry: MockConfigEntry) -> MockConfigEntry:
    """The entry, set up against the fake API."""
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry
