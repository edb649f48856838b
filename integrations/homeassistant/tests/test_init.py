"""Setup, unload, removal, push registration and the coordinator's bookkeeping."""

from __future__ import annotations

from datetime import timedelta

import pytest
from homeassistant.components import webhook
from homeassistant.config_entries import ConfigEntryDisabler, ConfigEntryState
from homeassistant.const import CONF_URL, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.core_config import async_process_ha_core_config
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker

from custom_components.postdodo.const import CONF_ENDPOINT_ID, CONF_ENDPOINT_SECRET, CONF_ENDPOINT_URL, DOMAIN
from custom_components.postdodo.push import server_is_local

from .conftest import WEBHOOK_ID
from .fake_api import ACCOUNTS, FakePostDodo

LAST_POST = "sensor.dodo_bakery_instagram_last_post"
EVENTS = "event.dodo_bakery_instagram_post_events"


async def poll(hass: HomeAssistant, minutes: int = 6) -> None:
    """Let the coordinator's next refresh (a background task) run to the end."""
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(minutes=minutes))
    await hass.async_block_till_done(wait_background_tasks=True)


def _registered(hass: HomeAssistant) -> bool:
    return WEBHOOK_ID in hass.data.get(webhook.DOMAIN, {})


async def test_setup_registers_push(hass: HomeAssistant, loaded: MockConfigEntry, api: FakePostDodo) -> None:
    """Setup makes one PostDodo endpoint calling the internal webhook URL, LAN only, and stores its secret."""
    assert loaded.state is ConfigEntryState.LOADED
    endpoint = api.endpoint
    assert endpoint["url"] == f"http://192.168.1.5:8123/api/webhook/{WEBHOOK_ID}"
    assert endpoint["events"] == ["post.completed", "post.failed", "post.published"]
    assert loaded.data[CONF_ENDPOINT_ID] == endpoint["id"]
    assert loaded.data[CONF_ENDPOINT_SECRET] == endpoint["secret"]
    assert hass.data[webhook.DOMAIN][WEBHOOK_ID]["local_only"] is True
    push = loaded.runtime_data.push
    assert push.active
    assert loaded.runtime_data.coordinator.update_interval == timedelta(minutes=5)
    assert hass.states.get(EVENTS).state != STATE_UNAVAILABLE


async def test_restart_reuses_endpoint(hass: HomeAssistant, loaded: MockConfigEntry, api: FakePostDodo) -> None:
    """A reload keeps the endpoint and its secret; a disabled endpoint is re-enabled."""
    endpoint_id, secret = loaded.data[CONF_ENDPOINT_ID], loaded.data[CONF_ENDPOINT_SECRET]
    api.webhooks[endpoint_id]["status"] = "disabled"
    assert await hass.config_entries.async_reload(loaded.entry_id)
    await hass.async_block_till_done()
    assert list(api.webhooks) == [endpoint_id]
    assert api.webhooks[endpoint_id]["status"] == "enabled"
    assert loaded.data[CONF_ENDPOINT_SECRET] == secret
    assert api.deleted_webhooks == []
    assert _registered(hass)


async def test_endpoint_recreated_when_gone_or_moved(hass: HomeAssistant, loaded: MockConfigEntry,
                                                     api: FakePostDodo) -> None:
    """A deleted endpoint is registered again; a changed Home Assistant URL replaces the old endpoint."""
    first = loaded.data[CONF_ENDPOINT_ID]
    api.webhooks.clear()
    assert await hass.config_entries.async_reload(loaded.entry_id)
    second = loaded.data[CONF_ENDPOINT_ID]
    assert second != first and list(api.webhooks) == [second]

    await async_process_ha_core_config(hass, {"internal_url": "http://10.0.0.9:8123"})
    assert await hass.config_entries.async_reload(loaded.entry_id)
    assert api.deleted_webhooks == [second]
    assert api.endpoint["url"].startswith("http://10.0.0.9:8123/api/webhook/")
    assert loaded.data[CONF_ENDPOINT_URL] == api.endpoint["url"]


async def test_endpoint_with_missing_events_is_replaced(hass: HomeAssistant, loaded: MockConfigEntry,
                                                        api: FakePostDodo) -> None:
    """An endpoint subscribed to fewer events than needed is replaced."""
    old = loaded.data[CONF_ENDPOINT_ID]
    api.webhooks[old]["events"] = ["post.published"]
    assert await hass.config_entries.async_reload(loaded.entry_id)
    assert api.deleted_webhooks == [old]
    assert loaded.data[CONF_ENDPOINT_ID] != old


async def test_unload_and_disable(hass: HomeAssistant, loaded: MockConfigEntry, api: FakePostDodo) -> None:
    """Unloading removes Home Assistant's webhook; disabling the entry also deletes the PostDodo endpoint."""
    endpoint_id = loaded.data[CONF_ENDPOINT_ID]
    assert await hass.config_entries.async_unload(loaded.entry_id)
    assert loaded.state is ConfigEntryState.NOT_LOADED
    assert not _registered(hass)
    assert endpoint_id in api.webhooks  # kept for the next load (same URL and secret)

    assert await hass.config_entries.async_setup(loaded.entry_id)
    assert await hass.config_entries.async_set_disabled_by(loaded.entry_id, ConfigEntryDisabler.USER)
    await hass.async_block_till_done()
    assert not _registered(hass)
    assert api.deleted_webhooks == [endpoint_id] and not api.webhooks
    assert CONF_ENDPOINT_ID not in loaded.data and CONF_ENDPOINT_SECRET not in loaded.data


async def test_remove_deletes_endpoint(hass: HomeAssistant, loaded: MockConfigEntry, api: FakePostDodo) -> None:
    """Removing the entry deletes both webhooks."""
    endpoint_id = loaded.data[CONF_ENDPOINT_ID]
    await hass.config_entries.async_remove(loaded.entry_id)
    await hass.async_block_till_done()
    assert api.deleted_webhooks == [endpoint_id]
    assert not _registered(hass)


async def test_remove_tolerates_api_failure(hass: HomeAssistant, loaded: MockConfigEntry, api: FakePostDodo,
                                            caplog: pytest.LogCaptureFixture) -> None:
    """A server that cannot be reached does not block removal; the failure is logged."""
    api.fail_with = 500
    await hass.config_entries.async_remove(loaded.entry_id)
    await hass.async_block_till_done()
    assert "could not delete PostDodo webhook endpoint" in caplog.text
    assert hass.config_entries.async_get_entry(loaded.entry_id) is None


async def test_remove_without_endpoint(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """An entry that never registered an endpoint is removed without calling PostDodo."""
    await hass.config_entries.async_remove(entry.entry_id)
    assert hass.config_entries.async_get_entry(entry.entry_id) is None


async def test_setup_auth_failure_starts_reauth(hass: HomeAssistant, api: FakePostDodo,
                                                entry: MockConfigEntry) -> None:
    """A rejected key at setup asks the user for a new one."""
    api.keys = set()
    await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_ERROR
    flows = hass.config_entries.flow.async_progress()
    assert [f["context"]["source"] for f in flows] == ["reauth"]


async def test_setup_not_ready(hass: HomeAssistant, api: FakePostDodo, entry: MockConfigEntry) -> None:
    """A server error at setup retries later."""
    api.fail_with = 503
    await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_RETRY


async def test_refresh_auth_failure_starts_reauth(hass: HomeAssistant, loaded: MockConfigEntry, api: FakePostDodo) -> None:
    """A key rotated while running: the next poll fails and reauth starts; entities go unavailable."""
    api.keys = set()
    await poll(hass)
    assert hass.states.get(LAST_POST).state == STATE_UNAVAILABLE
    assert any(f["context"]["source"] == "reauth" for f in hass.config_entries.flow.async_progress())


async def test_push_refused_raises_issue_and_polls(hass: HomeAssistant, api: FakePostDodo, entry: MockConfigEntry,
                                                   issue_registry: ir.IssueRegistry) -> None:
    """A server refusing a LAN webhook URL: a repair issue, event entities unavailable, faster polling."""
    api.refuse_webhook_url = "url resolves to a private address"
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    issue = issue_registry.async_get_issue(DOMAIN, f"webhook_refused_{entry.entry_id}")
    assert issue is not None and "private" in issue.translation_placeholders["error"]
    assert not entry.runtime_data.push.active
    assert entry.runtime_data.coordinator.update_interval == timedelta(minutes=2)
    assert hass.states.get(EVENTS).state == STATE_UNAVAILABLE
    assert hass.states.get(LAST_POST).state != STATE_UNAVAILABLE

    api.refuse_webhook_url = None  # the operator set POSTDODO_WEBHOOK_ALLOW_PRIVATE=1
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert issue_registry.async_get_issue(DOMAIN, f"webhook_refused_{entry.entry_id}") is None
    assert hass.states.get(EVENTS).state != STATE_UNAVAILABLE


async def test_hosted_server_needs_external_url(hass: HomeAssistant, aioclient_mock: AiohttpClientMocker,
                                                issue_registry: ir.IssueRegistry) -> None:
    """A server on the internet gets the external URL, and the webhook accepts calls from anywhere;
    without an external URL there is a repair issue instead."""
    base = "https://api.postdodo.example"
    api = FakePostDodo(aioclient_mock, base=base)
    entry = MockConfigEntry(domain=DOMAIN, unique_id=ACCOUNTS[0]["id"], title="PostDodo",
                            data={CONF_URL: base, "api_key": "pd_test_goodkey", "webhook_id": WEBHOOK_ID})
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    assert api.endpoint["url"] == f"https://home.example.com/api/webhook/{WEBHOOK_ID}"
    assert hass.data[webhook.DOMAIN][WEBHOOK_ID]["local_only"] is False

    hass.config.external_url = None
    assert await hass.config_entries.async_reload(entry.entry_id)
    assert issue_registry.async_get_issue(DOMAIN, f"webhook_url_unavailable_{entry.entry_id}") is not None
    assert not entry.runtime_data.push.active


async def test_push_retried_after_transient_failure(hass: HomeAssistant, api: FakePostDodo,
                                                    entry: MockConfigEntry) -> None:
    """A registration that failed for a reason that may pass is tried again after the next good poll."""
    api.webhook_conflicts = 1
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    push = entry.runtime_data.push
    assert not push.active and "20 webhook endpoints" in push.error
    await poll(hass, minutes=3)
    assert push.active and api.webhooks


async def test_devices_follow_accounts(hass: HomeAssistant, loaded: MockConfigEntry, api: FakePostDodo,
                                       device_registry: dr.DeviceRegistry) -> None:
    """New accounts get devices and entities; removed accounts lose their device; the unique id moves on."""
    devices = dr.async_entries_for_config_entry(device_registry, loaded.entry_id)
    assert {next(iter(d.identifiers))[1] for d in devices} == {a["id"] for a in ACCOUNTS}
    device = device_registry.async_get_device(identifiers={(DOMAIN, ACCOUNTS[0]["id"])})
    assert device.entry_type is dr.DeviceEntryType.SERVICE
    assert device.name == "Dodo Bakery (instagram)"

    api.accounts.pop(0)
    api.accounts.append({**ACCOUNTS[0], "id": "acct_threads0000004", "platform": "threads", "handle": "dodo_t",
                         "display_name": "", "created_at": "2030-03-01T09:00:00Z"})
    await poll(hass)
    assert device_registry.async_get_device(identifiers={(DOMAIN, ACCOUNTS[0]["id"])}) is None
    assert device_registry.async_get_device(identifiers={(DOMAIN, "acct_threads0000004")}) is not None
    assert hass.states.get("sensor.dodo_t_threads_last_post") is not None
    assert loaded.unique_id == ACCOUNTS[1]["id"]


async def test_remove_stale_device_by_hand(hass: HomeAssistant, loaded: MockConfigEntry, api: FakePostDodo,
                                           device_registry: dr.DeviceRegistry) -> None:
    """The user may delete the device of an account PostDodo no longer has, not of a live one."""
    assert await async_setup_component(hass, "config", {})
    live = device_registry.async_get_device(identifiers={(DOMAIN, ACCOUNTS[0]["id"])})
    stale = device_registry.async_get_or_create(config_entry_id=loaded.entry_id,
                                                identifiers={(DOMAIN, "acct_gone00000000009")})
    from custom_components.postdodo import async_remove_config_entry_device

    assert await async_remove_config_entry_device(hass, loaded, stale) is True
    assert await async_remove_config_entry_device(hass, loaded, live) is False


@pytest.mark.parametrize(
    ("url", "local"),
    [
        ("http://127.0.0.1:8080", True),
        ("http://192.168.1.20:8080", True),
        ("http://[fd00::1]:8080", True),
        ("http://postdodo:8080", True),
        ("http://localhost:8080", True),
        ("http://nas.local:8080", True),
        ("http://pd.home.arpa", True),
        ("https://api.postdodo.example", False),
        ("https://8.8.8.8", False),
    ],
)
def test_server_is_local(url: str, local: bool) -> None:
    """LAN servers get a LAN-only webhook; anything else may call from the internet."""
    assert server_is_local(url) is local
