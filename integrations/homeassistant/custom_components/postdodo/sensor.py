"""Sensors per account: the status of its latest post, and the account's own connection status."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from homeassistant.components.sensor import SensorDeviceClass, SensorEntity, SensorEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import ACCOUNT_STATUSES, TARGET_STATUSES
from .coordinator import PostDodoConfigEntry
from .entity import PostDodoAccountEntity, new_accounts

# the coordinator does all I/O
PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class PostDodoSensorDescription(SensorEntityDescription):
    """A sensor of one account: how to read its state and attributes."""

    value_fn: Callable[[PostDodoAccountSensor], str | None]
    attributes_fn: Callable[[PostDodoAccountSensor], dict[str, Any] | None] = lambda _: None


def _last_post_attributes(sensor: PostDodoAccountSensor) -> dict[str, Any]:
    last = sensor.coordinator.data.last_posts.get(sensor.account_id)
    account = sensor.account
    return {
        "post_id": last.post_id if last else None,
        "permalink": last.permalink if last else None,
        "error": last.error if last else None,
        "platform": account.platform if account else None,
        "handle": account.handle if account else None,
        "account_id": sensor.account_id,
    }


SENSORS: tuple[PostDodoSensorDescription, ...] = (
    PostDodoSensorDescription(
        key="last_post",
        translation_key="last_post",
        device_class=SensorDeviceClass.ENUM,
        options=TARGET_STATUSES,
        value_fn=lambda s: (last.status if (last := s.coordinator.data.last_posts.get(s.account_id)) else None),
        attributes_fn=_last_post_attributes,
    ),
    PostDodoSensorDescription(
        key="account_status",
        translation_key="account_status",
        device_class=SensorDeviceClass.ENUM,
        options=ACCOUNT_STATUSES,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda s: s.account.status if s.account else None,
    ),
)


async def async_setup_entry(hass: HomeAssistant, entry: PostDodoConfigEntry,
                            async_add_entities: AddConfigEntryEntitiesCallback) -> None:
    """Add the sensors of every account, and of accounts connected later."""
    coordinator = entry.runtime_data.coordinator
    known: set[str] = set()

    @callback
    def add_new() -> None:
        async_add_entities(PostDodoAccountSensor(coordinator, account, description)
                           for account in new_accounts(coordinator, known) for description in SENSORS)

    add_new()
    entry.async_on_unload(coordinator.async_add_listener(add_new))


class PostDodoAccountSensor(PostDodoAccountEntity, SensorEntity):
    """One sensor of one account."""

    entity_description: PostDodoSensorDescription

    @property
    def native_value(self) -> str | None:
        """The status (an option of the enum)."""
        return self.entity_description.value_fn(self)

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Permalink, post id, platform and handle for the latest post."""
        return self.entity_description.attributes_fn(self)
