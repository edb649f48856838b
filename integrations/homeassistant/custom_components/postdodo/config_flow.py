"""Config flow: server URL and API key, checked by listing the workspace's accounts; reauth and reconfigure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import voluptuous as vol
from homeassistant.components import webhook
from homeassistant.config_entries import ConfigEntry, ConfigFlow, ConfigFlowResult
from homeassistant.const import CONF_API_KEY, CONF_URL, CONF_WEBHOOK_ID
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.selector import TextSelector, TextSelectorConfig, TextSelectorType
from pydantic import ValidationError

from ._postdodo_client import (
    Account,
    APIConnectionError,
    APIError,
    AsyncClient,
    AuthenticationError,
    ConfigurationError,
    MethodNotAllowedError,
    NotFoundError,
)
from .const import API_TIMEOUT, DOMAIN, LOGGER, USER_AGENT
from .coordinator import workspace_unique_id

URL_SELECTOR = TextSelector(TextSelectorConfig(type=TextSelectorType.URL))
KEY_SELECTOR = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))
USER_SCHEMA = vol.Schema({vol.Required(CONF_URL): URL_SELECTOR, vol.Required(CONF_API_KEY): KEY_SELECTOR})
REAUTH_SCHEMA = vol.Schema({vol.Required(CONF_API_KEY): KEY_SELECTOR})
RECONFIGURE_SCHEMA = vol.Schema({vol.Required(CONF_URL): URL_SELECTOR, vol.Optional(CONF_API_KEY): KEY_SELECTOR})


def normalize_url(url: str) -> str:
    """``https://host/v1/`` and ``https://host`` name the same API root."""
    return url.strip().rstrip("/").removesuffix("/v1")


async def _list_accounts(flow: ConfigFlow, url: str, api_key: str) -> list[Account]:
    """One authenticated call that only a PostDodo server answers correctly."""
    client = AsyncClient(api_key=api_key, base_url=url, timeout=API_TIMEOUT, max_retries=0,
                         session=async_get_clientsession(flow.hass), user_agent=USER_AGENT)
    return await client.accounts.list()


async def _validate(flow: ConfigFlow, url: str, api_key: str) -> tuple[list[Account], dict[str, str]]:
    """The workspace's accounts, or the form error to show."""
    try:
        accounts = await _list_accounts(flow, url, api_key.strip())
    except ConfigurationError:
        return [], {CONF_URL: "invalid_url"}
    except APIError as exc:
        if exc.code == "invalid_response" or isinstance(exc, NotFoundError | MethodNotAllowedError):
            # an HTML page, a bare status or a missing /v1/accounts route: something else lives there
            return [], {"base": "not_postdodo"}
        if isinstance(exc, AuthenticationError):
            return [], {"base": "invalid_auth"}
        return [], {"base": "cannot_connect"}
    except APIConnectionError:
        return [], {"base": "cannot_connect"}
    except ValidationError:
        return [], {"base": "not_postdodo"}  # JSON, but not PostDodo's account shape
    except Exception:
        LOGGER.exception("unexpected error while checking the PostDodo server")
        return [], {"base": "unknown"}
    if not accounts:
        return [], {"base": "no_accounts"}
    return accounts, {}


def _title(url: str, api_key: str) -> str:
    host = urlsplit(url).netloc or url
    return f"PostDodo sandbox ({host})" if api_key.startswith("pd_test_") else f"PostDodo ({host})"


class PostDodoConfigFlow(ConfigFlow, domain=DOMAIN):
    """Set up one PostDodo workspace."""

    VERSION = 1

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask for the server URL and an API key."""
        errors: dict[str, str] = {}
        if user_input is not None:
            url, api_key = normalize_url(user_input[CONF_URL]), user_input[CONF_API_KEY].strip()
            accounts, errors = await _validate(self, url, api_key)
            if not errors:
                await self.async_set_unique_id(workspace_unique_id(accounts))
                self._abort_if_unique_id_configured()
                if self._overlaps_existing_entry(accounts):
                    return self.async_abort(reason="already_configured")
                return self.async_create_entry(title=_title(url, api_key), data={
                    CONF_URL: url, CONF_API_KEY: api_key, CONF_WEBHOOK_ID: webhook.async_generate_id()})
        return self.async_show_form(step_id="user", errors=errors,
                                    data_schema=self.add_suggested_values_to_schema(USER_SCHEMA, user_input))

    def _overlaps_existing_entry(self, accounts: list[Account]) -> bool:
        """A second key of a configured workspace, whose oldest account has changed since."""
        ids = {a.id for a in accounts}
        return any(self._known_accounts(entry) & ids for entry in self._async_current_entries(include_ignore=False))

    def _known_accounts(self, entry: ConfigEntry) -> set[str]:
        """Accounts an entry is known to own: its unique id and its devices (one per account)."""
        registry = dr.async_get(self.hass)
        known = {ident for device in dr.async_entries_for_config_entry(registry, entry.entry_id)
                 for domain, ident in device.identifiers if domain == DOMAIN}
        return known | ({entry.unique_id} if entry.unique_id else set())

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """The API key stopped working (rotated or revoked)."""
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask for a new key of the same workspace."""
        entry = self._get_reauth_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            api_key = user_input[CONF_API_KEY].strip()
            accounts, errors = await _validate(self, entry.data[CONF_URL], api_key)
            if not errors:
                if not self._known_accounts(entry) & {a.id for a in accounts}:
                    return self.async_abort(reason="wrong_workspace")
                return self.async_update_reload_and_abort(entry, unique_id=workspace_unique_id(accounts),
                                                          data_updates={CONF_API_KEY: api_key})
        return self.async_show_form(step_id="reauth_confirm", data_schema=REAUTH_SCHEMA, errors=errors,
                                    description_placeholders={"title": entry.title, "url": entry.data[CONF_URL]})

    async def async_step_reconfigure(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Change the server URL (and optionally the key) of a configured workspace."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            url = normalize_url(user_input[CONF_URL])
            api_key = (user_input.get(CONF_API_KEY) or entry.data[CONF_API_KEY]).strip()
            accounts, errors = await _validate(self, url, api_key)
            if not errors:
                if not self._known_accounts(entry) & {a.id for a in accounts}:
                    return self.async_abort(reason="wrong_workspace")
                return self.async_update_reload_and_abort(
                    entry, unique_id=workspace_unique_id(accounts), title=_title(url, api_key),
                    data_updates={CONF_URL: url, CONF_API_KEY: api_key})
        suggested = user_input or {CONF_URL: entry.data[CONF_URL]}
        return self.async_show_form(step_id="reconfigure", errors=errors,
                                    data_schema=self.add_suggested_values_to_schema(
                                        RECONFIGURE_SCHEMA, {CONF_URL: suggested.get(CONF_URL)}))
