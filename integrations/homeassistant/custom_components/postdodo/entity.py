"""The base of every PostDodo entity: one device per connected social account."""

from __future__ import annotations

from homeassistant.const import CONF_URL
from homeassistant.core import callback
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from ._postdodo_client import Account
from .const import DOMAIN
from .coordinator import PostDodoCoordinator


class PostDodoAccountEntity(CoordinatorEntity[PostDodoCoordinator]):
    """An entity of one connected account (a service device)."""

    _attr_has_entity_name = True

    def __init__(self, coordinator: PostDodoCoordinator, account: Account, description: EntityDescription) -> None:
        super().__init__(coordinator)
        self.entity_description = description
        self.account_id = account.id
        self._attr_unique_id = f"{account.id}_{description.key}"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, account.id)},
            name=f"{account.display_name or account.handle} ({account.platform})",
            manufacturer="PostDodo",
            model=f"{account.platform} {account.mode} account",
            entry_type=DeviceEntryType.SERVICE,
            configuration_url=coordinator.config_entry.data[CONF_URL],
        )

    @property
    def account(self) -> Account | None:
        """The account as of the last refresh (None once it was removed from PostDodo)."""
        return self.coordinator.data.accounts.get(self.account_id)

    @property
    def available(self) -> bool:
        """Unavailable when PostDodo cannot be reached or the account is gone."""
        return super().available and self.account is not None


@callback
def new_accounts(coordinator: PostDodoCoordinator, known: set[str]) -> list[Account]:
    """Accounts that appeared since the last look (dynamic devices); records them in ``known``."""
    fresh = [a for a in coordinator.data.accounts.values() if a.id not in known]
    known.update(a.id for a in fresh)
    return fresh
