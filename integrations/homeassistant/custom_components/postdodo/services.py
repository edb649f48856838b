"""The postdodo.* actions, registered once for the integration (not per entry)."""

from __future__ import annotations

from collections.abc import Awaitable
from functools import partial
from typing import Any

import voluptuous as vol
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse, SupportsResponse, callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.util import dt as dt_util

from ._postdodo_client import (
    Account,
    APIConnectionError,
    APIError,
    AuthenticationError,
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    Post,
    RateLimitError,
)
from ._postdodo_client.client._calls import media_with_alt, new_idempotency_key, post_body
from .const import ATTR_CONFIG_ENTRY_ID, DOMAIN
from .coordinator import PostDodoConfigEntry

SERVICE_CREATE_POST = "create_post"
SERVICE_CANCEL_POST = "cancel_post"
SERVICE_GET_POST = "get_post"
SERVICE_LIST_ACCOUNTS = "list_accounts"

ATTR_CAPTION = "caption"
ATTR_ACCOUNT_IDS = "account_ids"
ATTR_SCHEDULED_AT = "scheduled_at"
ATTR_MEDIA = "media"
ATTR_MEDIA_ALT = "media_alt"
ATTR_PLATFORM_CAPTIONS = "platform_captions"
ATTR_FIRST_COMMENT = "first_comment"
ATTR_THREAD = "thread"
ATTR_IDEMPOTENCY_KEY = "idempotency_key"
ATTR_POST_ID = "post_id"

# services.yaml asks for the entry in the UI; in YAML it may be left out when only one entry is loaded
_ENTRY: dict[vol.Marker, Any] = {vol.Optional(ATTR_CONFIG_ENTRY_ID): cv.string}


def _texts(keep_places: bool) -> Any:
    """Texts (alt texts, thread items) from a list, or from one string with a text per line: they hold commas."""

    def validate(value: Any) -> list[str]:
        if value is None or value == "":
            return []
        items = value.splitlines() if isinstance(value, str) else [
            "" if v is None else cv.string(v) for v in cv.ensure_list(value)]
        texts = [item.strip() for item in items]
        if not keep_places:
            return [text for text in texts if text]
        while texts and not texts[-1]:  # an empty alt text keeps its media item's place, a trailing one is nothing
            texts.pop()
        return texts

    return validate


def _platform_captions(value: Any) -> dict[str, str]:
    """platform: caption pairs, platform names in lower case; empty captions left out (the API checks the names)."""
    pairs = vol.Schema({cv.string: vol.Any(None, cv.string)})(value)
    return {name.strip().lower(): text for name, text in pairs.items() if text and text.strip() and name.strip()}


CREATE_POST_SCHEMA = vol.Schema({
    **_ENTRY,
    vol.Required(ATTR_CAPTION): cv.string,
    vol.Required(ATTR_ACCOUNT_IDS): vol.All(cv.ensure_list_csv, [cv.string], vol.Length(min=1)),
    vol.Optional(ATTR_SCHEDULED_AT): cv.datetime,
    vol.Optional(ATTR_MEDIA): vol.All(cv.ensure_list, [cv.url]),
    vol.Optional(ATTR_MEDIA_ALT): _texts(keep_places=True),
    vol.Optional(ATTR_PLATFORM_CAPTIONS): _platform_captions,
    vol.Optional(ATTR_FIRST_COMMENT): cv.string,
    vol.Optional(ATTR_THREAD): _texts(keep_places=False),
    vol.Optional(ATTR_IDEMPOTENCY_KEY): cv.string,
})
POST_ID_SCHEMA = vol.Schema({**_ENTRY, vol.Required(ATTR_POST_ID): cv.string})
ENTRY_SCHEMA = vol.Schema(_ENTRY)


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the actions of the integration."""
    hass.services.async_register(DOMAIN, SERVICE_CREATE_POST, partial(_create_post, hass), schema=CREATE_POST_SCHEMA,
                                 supports_response=SupportsResponse.OPTIONAL)
    hass.services.async_register(DOMAIN, SERVICE_CANCEL_POST, partial(_cancel_post, hass), schema=POST_ID_SCHEMA,
                                 supports_response=SupportsResponse.OPTIONAL)
    hass.services.async_register(DOMAIN, SERVICE_GET_POST, partial(_get_post, hass), schema=POST_ID_SCHEMA,
                                 supports_response=SupportsResponse.ONLY)
    hass.services.async_register(DOMAIN, SERVICE_LIST_ACCOUNTS, partial(_list_accounts, hass), schema=ENTRY_SCHEMA,
                                 supports_response=SupportsResponse.ONLY)


def _invalid(key: str, **placeholders: str) -> ServiceValidationError:
    return ServiceValidationError(translation_domain=DOMAIN, translation_key=key,
                                  translation_placeholders=placeholders or None)


def _failed(key: str, **placeholders: str) -> HomeAssistantError:
    return HomeAssistantError(translation_domain=DOMAIN, translation_key=key,
                              translation_placeholders=placeholders or None)


@callback
def _get_entry(hass: HomeAssistant, call: ServiceCall) -> PostDodoConfigEntry:
    """The loaded entry the call names, or the only loaded one."""
    entry_id: str | None = call.data.get(ATTR_CONFIG_ENTRY_ID)
    if entry_id is None:
        loaded = hass.config_entries.async_loaded_entries(DOMAIN)
        if len(loaded) != 1:
            raise _invalid("config_entry_required", count=str(len(loaded)))
        return loaded[0]
    entry = hass.config_entries.async_get_entry(entry_id)
    if entry is None or entry.domain != DOMAIN:
        raise _invalid("config_entry_not_found", entry_id=entry_id)
    if entry.state is not ConfigEntryState.LOADED:
        raise _invalid("config_entry_not_loaded", title=entry.title)
    return entry


def _describe(exc: APIError) -> str:
    """One line per problem the API listed (its message only sums them up), else the message itself."""
    problems: list[str] = []
    for detail in exc.details:
        where = detail.get("platform") or detail.get("field")
        text = str(detail.get("message") or detail.get("rule") or "")
        line = f"{where}: {text}" if where and text else text or str(where or "")
        if line and line not in problems:
            problems.append(line)
    return "; ".join(problems) or exc.message


async def _api[T](hass: HomeAssistant, entry: PostDodoConfigEntry, call: Awaitable[T]) -> T:
    """Await one client call; API errors become translated HA errors."""
    try:
        return await call
    except AuthenticationError as exc:
        entry.async_start_reauth(hass)
        raise _failed("invalid_auth") from exc
    except InvalidRequestError as exc:
        raise _invalid("invalid_request", message=_describe(exc)) from exc
    except NotFoundError as exc:
        raise _invalid("not_found", message=exc.message) from exc
    except ConflictError as exc:
        raise _invalid("conflict", message=exc.message) from exc
    except RateLimitError as exc:
        raise _failed("rate_limited", retry_after=f"{exc.retry_after or 60:.0f}") from exc
    except APIConnectionError as exc:
        raise _failed("cannot_connect", error=str(exc)) from exc
    except APIError as exc:
        raise _failed("api_error", message=exc.message, status=str(exc.status)) from exc


def _match(accounts: list[Account], wanted: str) -> list[Account]:
    """Accounts named by ``acct_…``, ``platform:handle`` or ``handle`` (an @ and letter case don't matter)."""
    text = wanted.strip()
    if text.startswith("acct_"):
        return [a for a in accounts if a.id == text]
    platform, sep, handle = text.rpartition(":")
    handle = handle.strip().removeprefix("@").lower()
    return [a for a in accounts if a.handle.removeprefix("@").lower() == handle
            and (not sep or a.platform.lower() == platform.strip().lower())]


async def _resolve_accounts(hass: HomeAssistant, entry: PostDodoConfigEntry, names: list[str]) -> list[str]:
    """Account ids for the names given; reads the account list again once if a name is unknown."""
    accounts = list(entry.runtime_data.coordinator.data.accounts.values())
    refreshed = False
    ids: list[str] = []
    for name in names:
        found = _match(accounts, name)
        if not found and not refreshed:
            accounts = await _api(hass, entry, entry.runtime_data.client.accounts.list())  # connected since the last poll?
            refreshed = True
            found = _match(accounts, name)
        if not found:
            raise _invalid("unknown_account", account=name,
                           known=", ".join(f"{a.platform}:{a.handle}" for a in accounts) or "-")
        if len(found) > 1:
            raise _invalid("ambiguous_account", account=name,
                           choices=", ".join(f"{a.platform}:{a.handle}" for a in found))
        if found[0].id not in ids:
            ids.append(found[0].id)
    return ids


def _post_response(post: Post) -> dict[str, Any]:
    response: dict[str, Any] = post.model_dump(mode="json")
    return response


async def _create_post(hass: HomeAssistant, call: ServiceCall) -> ServiceResponse:
    entry = _get_entry(hass, call)
    account_ids = await _resolve_accounts(hass, entry, call.data[ATTR_ACCOUNT_IDS])
    scheduled_at = call.data.get(ATTR_SCHEDULED_AT)
    if scheduled_at is not None:
        # a naive time (the UI's datetime selector) is meant in Home Assistant's time zone
        scheduled_at = dt_util.as_utc(scheduled_at)
        if scheduled_at <= dt_util.utcnow():
            raise _invalid("scheduled_in_past", scheduled_at=dt_util.as_local(scheduled_at).isoformat())
    media: list[str] = call.data.get(ATTR_MEDIA) or []
    alts: list[str] = call.data.get(ATTR_MEDIA_ALT) or []
    if len(alts) > len(media):
        raise _invalid("too_many_alt_texts", alts=str(len(alts)), media=str(len(media)))
    first_comment = (call.data.get(ATTR_FIRST_COMMENT) or "").strip() or None
    body = post_body(call.data[ATTR_CAPTION], account_ids, scheduled_at, media_with_alt(media, alts),
                     platforms={p: {"caption": text} for p, text in call.data.get(ATTR_PLATFORM_CAPTIONS, {}).items()}
                     or None, first_comment=first_comment)
    if thread := call.data.get(ATTR_THREAD):
        body["thread"] = [{"caption": text} for text in thread]
    # the body as built (thread included), sent like posts.create sends it: always with an Idempotency-Key
    answer = await _api(hass, entry, entry.runtime_data.client.request(
        "POST", "/v1/posts", json=body, idempotency_key=call.data.get(ATTR_IDEMPOTENCY_KEY) or new_idempotency_key()))
    post = Post.model_validate(answer)
    entry.runtime_data.coordinator.async_apply_post(post)
    return _post_response(post)


async def _cancel_post(hass: HomeAssistant, call: ServiceCall) -> ServiceResponse:
    entry = _get_entry(hass, call)
    post = await _api(hass, entry, entry.runtime_data.client.posts.cancel(call.data[ATTR_POST_ID]))
    entry.runtime_data.coordinator.async_apply_post(post)
    return _post_response(post)


async def _get_post(hass: HomeAssistant, call: ServiceCall) -> ServiceResponse:
    entry = _get_entry(hass, call)
    post = await _api(hass, entry, entry.runtime_data.client.posts.get(call.data[ATTR_POST_ID]))
    return _post_response(post)


async def _list_accounts(hass: HomeAssistant, call: ServiceCall) -> ServiceResponse:
    entry = _get_entry(hass, call)
    accounts = await _api(hass, entry, entry.runtime_data.client.accounts.list())
    return {"accounts": [a.model_dump(mode="json") for a in accounts]}
