"""The PostDodo integration: post to social accounts from automations, and react to what got published."""

from __future__ import annotations

from homeassistant.const import CONF_API_KEY, CONF_URL, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.device_registry import DeviceEntry
from homeassistant.helpers.typing import ConfigType

from ._postdodo_client import AsyncClient
from .const import API_TIMEOUT, CONF_ENDPOINT_ID, DOMAIN, USER_AGENT
from .coordinator import PostDodoConfigEntry, PostDodoCoordinator, PostDodoRuntimeData
from .push import PostDodoPush, async_delete_endpoint
from .services import async_setup_services

PLATFORMS: list[Platform] = [Platform.EVENT, Platform.SENSOR]
CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the actions once; they find their entry from the call."""
    async_setup_services(hass)
    return True


def _client(hass: HomeAssistant, entry: PostDodoConfigEntry) -> AsyncClient:
    """The entry's client on Home Assistant's shared aiohttp session."""
    return AsyncClient(api_key=entry.data[CONF_API_KEY], base_url=entry.data[CONF_URL], timeout=API_TIMEOUT,
                       session=async_get_clientsession(hass), max_retries=2, max_retry_wait=10.0,
                       user_agent=USER_AGENT)


async def async_setup_entry(hass: HomeAssistant, entry: PostDodoConfigEntry) -> bool:
    """Check the key by a first refresh, then start push and the entity platforms."""
    client = _client(hass, entry)
    coordinator = PostDodoCoordinator(hass, entry, client)
    # a rejected key raises ConfigEntryAuthFailed (reauth), anything else ConfigEntryNotReady (retry)
    await coordinator.async_config_entry_first_refresh()
    push = PostDodoPush(hass, entry, client, coordinator)
    entry.runtime_data = PostDodoRuntimeData(client=client, coordinator=coordinator, push=push)
    await push.async_start()
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    return True


async def async_unload_entry(hass: HomeAssistant, entry: PostDodoConfigEntry) -> bool:
    """Unload the platforms; the local webhook goes with the entry's unload callbacks."""
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    if unloaded:
        # A reload keeps the PostDodo endpoint (same URL, same secret, no lost deliveries); a disabled
        # entry drops it, since an unregistered Home Assistant webhook answers 200 and events would vanish.
        await entry.runtime_data.push.async_stop(delete_endpoint=entry.disabled_by is not None)
    return unloaded


async def async_remove_entry(hass: HomeAssistant, entry: PostDodoConfigEntry) -> None:
    """Delete the PostDodo webhook endpoint of a removed entry."""
    endpoint_id = entry.data.get(CONF_ENDPOINT_ID)
    if not endpoint_id:
        return
    await async_delete_endpoint(_client(hass, entry), endpoint_id)


async def async_remove_config_entry_device(hass: HomeAssistant, entry: PostDodoConfigEntry,
                                           device: DeviceEntry) -> bool:
    """Let the user delete the device of an account that PostDodo no longer has."""
    accounts = entry.runtime_data.coordinator.data.accounts
    return not any(domain == DOMAIN and ident in accounts for domain, ident in device.identifiers)
