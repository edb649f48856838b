"""Diagnostics: the entry, push state and the data the entities show, without secrets."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_API_KEY, CONF_WEBHOOK_ID
from homeassistant.core import HomeAssistant

from .const import CONF_ENDPOINT_SECRET, CONF_ENDPOINT_URL
from .coordinator import PostDodoConfigEntry

# the webhook id and URL are bearer secrets too: whoever knows them can post to the webhook
TO_REDACT = {CONF_API_KEY, CONF_ENDPOINT_SECRET, CONF_WEBHOOK_ID, CONF_ENDPOINT_URL}


async def async_get_config_entry_diagnostics(hass: HomeAssistant, entry: PostDodoConfigEntry) -> dict[str, Any]:
    """What support needs to see, with the key and secrets redacted."""
    data = entry.runtime_data
    coordinator = data.coordinator
    return {
        "entry": {"title": entry.title, "unique_id": entry.unique_id,
                  "data": async_redact_data(dict(entry.data), TO_REDACT)},
        "push": {"active": data.push.active, "local_only": data.push.local, "error": data.push.error},
        "coordinator": {"last_update_success": coordinator.last_update_success,
                        "update_interval": str(coordinator.update_interval)},
        "accounts": [a.model_dump(mode="json") for a in coordinator.data.accounts.values()],
        "last_posts": {account_id: asdict(last) for account_id, last in coordinator.data.last_posts.items()},
    }
