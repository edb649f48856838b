"""Event entities per account: published, failed and completed, pushed by PostDodo webhooks."""

from __future__ import annotations

from typing import Any

from homeassistant.components.event import EventEntity, EventEntityDescription
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from ._postdodo_client import Account
from .const import EVENT_TYPES, signal_event, signal_push
from .coordinator import PostDodoConfigEntry, PostDodoCoordinator, PostSequences, event_sequence
from .entity import PostDodoAccountEntity, new_accounts

# nothing is polled: events arrive by push
PARALLEL_UPDATES = 0

POST_EVENTS = EventEntityDescription(key="post_events", translation_key="post_events", event_types=EVENT_TYPES)
_ATTRIBUTES = ("post_id", "platform", "status", "permalink", "event_id", "sequence")


async def async_setup_entry(hass: HomeAssistant, entry: PostDodoConfigEntry,
                            async_add_entities: AddConfigEntryEntitiesCallback) -> None:
    """Add one event entity per account, and for accounts connected later."""
    coordinator = entry.runtime_data.coordinator
    known: set[str] = set()

    @callback
    def add_new() -> None:
        async_add_entities(PostDodoPostEvents(coordinator, account, POST_EVENTS)
                           for account in new_accounts(coordinator, known))

    add_new()
    entry.async_on_unload(coordinator.async_add_listener(add_new))


class PostDodoPostEvents(PostDodoAccountEntity, EventEntity):
    """Fires when one of the account's posts is published, fails, or (with its siblings) completes.

    Deliveries can arrive out of order; an event older (by ``data.sequence``) than one already shown for the
    same post is dropped, so the entity never ends on ``published`` after ``completed``.
    """

    def __init__(self, coordinator: PostDodoCoordinator, account: Account, description: EventEntityDescription) -> None:
        super().__init__(coordinator, account, description)
        self._sequences = PostSequences()

    async def async_added_to_hass(self) -> None:
        """Listen to this entry's deliveries and to push going up or down."""
        await super().async_added_to_hass()
        entry_id = self.coordinator.config_entry.entry_id
        self.async_on_remove(async_dispatcher_connect(self.hass, signal_event(entry_id), self._on_event))
        self.async_on_remove(async_dispatcher_connect(self.hass, signal_push(entry_id), self.async_write_ha_state))

    @property
    def available(self) -> bool:
        """Unavailable while PostDodo cannot push to Home Assistant: no event would ever fire."""
        return self.coordinator.config_entry.runtime_data.push.active and self.account is not None

    @callback
    def _on_event(self, event: str, payload: dict[str, Any]) -> None:
        event_type = event.removeprefix("post.")
        if event_type == "completed":
            mine = [t for t in payload.get("targets") or [] if t.get("account_id") == self.account_id]
            if not mine:
                return
            attributes = {**mine[0], "post_id": payload.get("post_id"), "post_status": payload.get("status"),
                          "event_id": payload.get("event_id"), "sequence": payload.get("sequence")}
            attributes.pop("account_id", None)
        elif payload.get("account_id") == self.account_id:
            attributes = {k: payload.get(k) for k in _ATTRIBUTES}
            error = payload.get("error")
            if isinstance(error, dict):
                attributes["error"] = error.get("message")
                attributes["error_code"] = error.get("code")
        else:
            return
        if not self._sequences.is_newer(str(payload.get("post_id")), event_sequence(payload)):
            return
        self._trigger_event(event_type, attributes)
        self.async_write_ha_state()
