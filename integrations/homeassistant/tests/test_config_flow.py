"""The config flow: user step with every error and its recovery, duplicates, reauth, reconfigure."""

from __future__ import annotations

import json
from unittest.mock import patch

import pytest
from aiohttp import ClientConnectionError
from homeassistant.config_entries import SOURCE_USER
from homeassistant.const import CONF_API_KEY, CONF_URL, CONF_WEBHOOK_ID
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker

from custom_components.postdodo.const import DOMAIN

from .fake_api import ACCOUNTS, BASE, KEY, FakePostDodo

NEW_KEY = "pd_test_rotatedkey"


@pytest.fixture
def no_setup():
    """Flows that create entries do not set them up here (test_init.py does)."""
    with (patch("custom_components.postdodo.async_setup_entry", return_value=True),
          patch("custom_components.postdodo.async_unload_entry", return_value=True)):
        yield


async def _start(hass: HomeAssistant) -> str:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    assert result["errors"] == {}
    return result["flow_id"]


async def test_user_creates_entry(hass: HomeAssistant, api: FakePostDodo, no_setup: None) -> None:
    """A working URL and key make an entry named after the server, unique by the oldest account."""
    flow_id = await _start(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_URL: f" {BASE}/v1/ ", CONF_API_KEY: f"{KEY}\n"})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "PostDodo sandbox (192.168.1.20:8080)"
    assert result["result"].unique_id == ACCOUNTS[0]["id"]
    data = result["data"]
    assert data[CONF_URL] == BASE and data[CONF_API_KEY] == KEY
    assert len(data[CONF_WEBHOOK_ID]) >= 32  # webhook.async_generate_id(): random hex


async def test_live_key_title(hass: HomeAssistant, api: FakePostDodo, no_setup: None) -> None:
    """A live key gives a plain title."""
    api.keys.add("pd_live_abc")
    flow_id = await _start(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, {CONF_URL: BASE, CONF_API_KEY: "pd_live_abc"})
    assert result["title"] == "PostDodo (192.168.1.20:8080)"


def _html(mock: AiohttpClientMocker, status: int = 200) -> None:
    mock.get(f"{BASE}/v1/accounts", text="<html>login</html>", status=status, headers={"Content-Type": "text/html"})


@pytest.mark.parametrize(
    ("arrange", "user_input", "error"),
    [
        (FakePostDodo, {CONF_URL: BASE, CONF_API_KEY: "pd_test_wrong"}, {"base": "invalid_auth"}),
        (lambda mock: mock.get(f"{BASE}/v1/accounts", exc=ClientConnectionError("refused")),
         {CONF_URL: BASE, CONF_API_KEY: KEY}, {"base": "cannot_connect"}),
        (lambda mock: mock.get(f"{BASE}/v1/accounts", status=503,
                               json={"error": {"code": "unavailable", "message": "db down"}}),
         {CONF_URL: BASE, CONF_API_KEY: KEY}, {"base": "cannot_connect"}),
        (_html, {CONF_URL: BASE, CONF_API_KEY: KEY}, {"base": "not_postdodo"}),
        (lambda mock: _html(mock, 404), {CONF_URL: BASE, CONF_API_KEY: KEY}, {"base": "not_postdodo"}),
        (lambda mock: mock.get(f"{BASE}/v1/accounts", json={"data": [{"name": "x"}]}),
         {CONF_URL: BASE, CONF_API_KEY: KEY}, {"base": "not_postdodo"}),
        (lambda mock: mock.get(f"{BASE}/v1/accounts", json={"data": []}),
         {CONF_URL: BASE, CONF_API_KEY: KEY}, {"base": "no_accounts"}),
        (lambda mock: None, {CONF_URL: "ftp://nowhere", CONF_API_KEY: KEY}, {CONF_URL: "invalid_url"}),
    ],
    ids=["invalid_auth", "refused", "server_error", "html", "html_404", "wrong_shape", "no_accounts", "bad_url"],
)
async def test_user_errors_then_recovery(hass: HomeAssistant, aioclient_mock: AiohttpClientMocker,
                                         no_setup: None, arrange, user_input, error) -> None:
    """Each failure shows its translated error; fixing the input then creates the entry."""
    arrange(aioclient_mock)  # registered first, so it answers before the fake API
    flow_id = await _start(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, user_input)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == error
    aioclient_mock.clear_requests()
    FakePostDodo(aioclient_mock)
    result = await hass.config_entries.flow.async_configure(flow_id, {CONF_URL: BASE, CONF_API_KEY: KEY})
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_user_unknown_error(hass: HomeAssistant, api: FakePostDodo) -> None:
    """A bug in the check is reported as unknown, not as a crash."""
    flow_id = await _start(hass)
    with patch("custom_components.postdodo.config_flow.AsyncClient", side_effect=RuntimeError("bug")):
        result = await hass.config_entries.flow.async_configure(flow_id, {CONF_URL: BASE, CONF_API_KEY: KEY})
    assert result["errors"] == {"base": "unknown"}


async def test_already_configured(hass: HomeAssistant, api: FakePostDodo, entry: MockConfigEntry) -> None:
    """The same workspace twice aborts."""
    flow_id = await _start(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, {CONF_URL: BASE, CONF_API_KEY: KEY})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_already_configured_after_oldest_account_removed(hass: HomeAssistant, loaded: MockConfigEntry,
                                                                api: FakePostDodo) -> None:
    """A workspace whose oldest account went away is still recognised through its other accounts."""
    api.accounts.pop(0)
    hass.config_entries.async_update_entry(loaded, unique_id="acct_somethingelse")
    flow_id = await _start(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, {CONF_URL: BASE, CONF_API_KEY: KEY})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_reauth(hass: HomeAssistant, loaded: MockConfigEntry, api: FakePostDodo) -> None:
    """A rotated key: the wrong key shows an error, a key of the same workspace updates and reloads."""
    api.keys = {NEW_KEY}
    result = await loaded.start_reauth_flow(hass)
    assert result["step_id"] == "reauth_confirm"
    assert result["description_placeholders"]["url"] == BASE
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_API_KEY: KEY})
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_API_KEY: NEW_KEY})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert loaded.data[CONF_API_KEY] == NEW_KEY
    await hass.async_block_till_done()


async def test_reauth_other_workspace(hass: HomeAssistant, entry: MockConfigEntry, api: FakePostDodo) -> None:
    """A key of another workspace is refused."""
    api.accounts = [{**ACCOUNTS[0], "id": "acct_otherworkspace1"}]
    result = await entry.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_API_KEY: KEY})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_workspace"


async def test_reconfigure(hass: HomeAssistant, loaded: MockConfigEntry, aioclient_mock: AiohttpClientMocker,
                           api: FakePostDodo) -> None:
    """A new address of the same server: checked, stored, reloaded; an empty key keeps the old one."""
    new_base = "http://postdodo.lan:8080"
    moved = FakePostDodo(aioclient_mock, base=new_base)
    aioclient_mock.get("http://nothing.lan:1/v1/accounts", exc=ClientConnectionError("refused"))
    result = await loaded.start_reconfigure_flow(hass)
    assert result["step_id"] == "reconfigure"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_URL: "http://nothing.lan:1"})
    assert result["errors"] == {"base": "cannot_connect"}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_URL: new_base})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert loaded.data[CONF_URL] == new_base
    assert loaded.data[CONF_API_KEY] == KEY
    assert loaded.title == "PostDodo sandbox (postdodo.lan:8080)"
    await hass.async_block_till_done()
    assert moved.webhooks  # the reloaded entry registered its webhook with the server at the new address


async def test_reconfigure_other_workspace(hass: HomeAssistant, entry: MockConfigEntry,
                                           aioclient_mock: AiohttpClientMocker) -> None:
    """Pointing an entry at another workspace is refused."""
    other = FakePostDodo(aioclient_mock, base="http://other.lan")
    other.accounts = [{**ACCOUNTS[1], "id": "acct_otherworkspace2"}]
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_URL: "http://other.lan", CONF_API_KEY: KEY})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_workspace"


def test_translations_cover_flow_errors() -> None:
    """Every error and abort reason the flow can produce has a message."""
    from pathlib import Path

    strings = json.loads((Path(__file__).parents[1] / "custom_components/postdodo/strings.json").read_text())
    errors = set(strings["config"]["error"])
    assert {"invalid_auth", "cannot_connect", "not_postdodo", "unknown", "invalid_url", "no_accounts"} <= errors
    aborts = set(strings["config"]["abort"])
    assert {"already_configured", "reauth_successful", "reconfigure_successful", "wrong_workspace"} <= aborts
