"""Push: a Home Assistant webhook, the PostDodo endpoint that calls it, and the verified handler."""

from __future__ import annotations

import ipaddress
import json
from collections import OrderedDict
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

from aiohttp.web import Request, Response
from homeassistant.components import webhook
from homeassistant.const import CONF_URL, CONF_WEBHOOK_ID
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.network import NoURLAvailableError

from ._postdodo_client import (
    APIConnectionError,
    APIError,
    AsyncClient,
    InvalidRequestError,
    NotFoundError,
    PostDodoError,
    SignatureError,
    verify,
)
from .const import (
    BUS_EVENTS,
    CONF_ENDPOINT_ID,
    CONF_ENDPOINT_SECRET,
    CONF_ENDPOINT_URL,
    DOMAIN,
    LOGGER,
    POLL_INTERVAL_NO_PUSH,
    POLL_INTERVAL_PUSH,
    SEEN_EVENTS,
    WEBHOOK_EVENTS,
    signal_event,
    signal_push,
)
from .coordinator import PostDodoConfigEntry, PostDodoCoordinator

ISSUE_NO_URL = "webhook_url_unavailable"
ISSUE_REFUSED = "webhook_refused"
_LOCAL_SUFFIXES = (".local", ".lan", ".home", ".internal", ".localdomain", ".home.arpa")


def server_is_local(base_url: str) -> bool:
    """Whether the PostDodo server looks like it lives on this network (an IP literal or LAN-style name).

    Decided from the URL alone, without DNS: a private address, ``localhost``, a single-label name
    (a Docker or compose service) or a LAN suffix.
    """
    host = (urlsplit(base_url).hostname or "").rstrip(".").lower()
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host == "localhost" or "." not in host or host.endswith(_LOCAL_SUFFIXES)
    return not address.is_global


class PostDodoPush:
    """Receives PostDodo deliveries for one entry and turns them into bus events and entity updates."""

    def __init__(self, hass: HomeAssistant, entry: PostDodoConfigEntry, client: AsyncClient,
                 coordinator: PostDodoCoordinator) -> None:
        self.hass = hass
        self.entry = entry
        self.client = client
        self.coordinator = coordinator
        self.webhook_id: str = entry.data[CONF_WEBHOOK_ID]
        self.local = server_is_local(entry.data[CONF_URL])
        self.active = False  # PostDodo knows our URL and we hold its secret
        self.url: str | None = None
        self.error: str | None = None  # why push is not active, for diagnostics
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._retry = False  # a transient failure: try registering again after the next good poll

    async def async_start(self) -> None:
        """Register the local webhook, then make sure PostDodo has an endpoint pointing at it."""
        # A server on the LAN only ever calls from the LAN, so the webhook refuses everything else;
        # a hosted server calls from the internet. Either way every delivery must carry a valid signature.
        webhook.async_register(self.hass, DOMAIN, self.entry.title, self.webhook_id, self.handle,
                               local_only=self.local)
        self.entry.async_on_unload(lambda: webhook.async_unregister(self.hass, self.webhook_id))
        self.entry.async_on_unload(self.coordinator.async_add_listener(self._retry_after_poll))
        await self.async_ensure_endpoint()

    def _webhook_url(self) -> str:
        """The URL PostDodo should call: the internal one for a LAN server, the external one otherwise."""
        if self.local:
            return webhook.async_generate_url(self.hass, self.webhook_id, prefer_external=False)
        return webhook.async_generate_url(self.hass, self.webhook_id, allow_internal=False, prefer_external=True)

    async def _sync_endpoint(self, url: str) -> tuple[str, str]:
        """Reuse the stored endpoint when it still points here, else create one; (id, secret)."""
        data = self.entry.data
        endpoint_id, secret = data.get(CONF_ENDPOINT_ID), data.get(CONF_ENDPOINT_SECRET)
        if endpoint_id and secret and data.get(CONF_ENDPOINT_URL) == url:
            try:
                endpoint = await self.client.webhooks.get(endpoint_id)
            except NotFoundError:
                LOGGER.info("PostDodo webhook endpoint %s is gone; registering a new one", endpoint_id)
            else:
                if set(endpoint.events) >= set(WEBHOOK_EVENTS):
                    if endpoint.status == "disabled":
                        # PostDodo disables endpoints after days of failed deliveries (HA was down)
                        await self.client.webhooks.enable(endpoint_id)
                    return endpoint_id, secret
                await self._delete_quietly(endpoint_id)
        elif endpoint_id:
            await self._delete_quietly(endpoint_id)  # our URL changed: the old endpoint would call nowhere
        endpoint = await self.client.webhooks.create(url, events=list(WEBHOOK_EVENTS),
                                                     description=f"Home Assistant ({self.entry.title})")
        if not endpoint.secret:
            raise APIError("the webhook endpoint was created without a secret", code="invalid_response")
        return endpoint.id, endpoint.secret

    async def _delete_quietly(self, endpoint_id: str) -> None:
        try:
            await self.client.webhooks.delete(endpoint_id)
        except NotFoundError:
            pass

    async def async_ensure_endpoint(self) -> None:
        """Make push work, or say in a repair issue why it cannot; polling covers the gap either way."""
        try:
            url = self._webhook_url()
        except NoURLAvailableError:
            self._set_inactive(ISSUE_NO_URL, "no Home Assistant URL reachable by the PostDodo server",
                               {"server": self.entry.data[CONF_URL]})
            return
        try:
            endpoint_id, secret = await self._sync_endpoint(url)
        except InvalidRequestError as exc:
            # typically url_not_allowed: a private address and a server without POSTDODO_WEBHOOK_ALLOW_PRIVATE
            self._set_inactive(ISSUE_REFUSED, exc.message, {"url": url, "error": exc.message})
            return
        except (APIConnectionError, APIError) as exc:
            # transient: retried after the next successful poll
            self._set_inactive(None, str(exc), {})
            return
        self.url, self.error = url, None
        if (self.entry.data.get(CONF_ENDPOINT_ID), self.entry.data.get(CONF_ENDPOINT_SECRET),
                self.entry.data.get(CONF_ENDPOINT_URL)) != (endpoint_id, secret, url):
            self.hass.config_entries.async_update_entry(self.entry, data={
                **self.entry.data, CONF_ENDPOINT_ID: endpoint_id, CONF_ENDPOINT_SECRET: secret, CONF_ENDPOINT_URL: url})
        for issue in (ISSUE_NO_URL, ISSUE_REFUSED):
            ir.async_delete_issue(self.hass, DOMAIN, f"{issue}_{self.entry.entry_id}")
        self._set_active(True)

    @callback
    def _set_inactive(self, issue: str | None, reason: str, placeholders: dict[str, str]) -> None:
        if self.error != reason:
            LOGGER.warning("PostDodo push is off for %s (polling instead): %s", self.entry.title, reason)
        self.error = reason
        if issue is not None:
            ir.async_create_issue(self.hass, DOMAIN, f"{issue}_{self.entry.entry_id}", is_fixable=False,
                                  severity=ir.IssueSeverity.WARNING, translation_key=issue,
                                  translation_placeholders={"title": self.entry.title, **placeholders})
        self._retry = issue is None
        self._set_active(False)

    @callback
    def _retry_after_poll(self) -> None:
        if self._retry and not self.active and self.coordinator.last_update_success:
            self._retry = False
            self.entry.async_create_background_task(self.hass, self.async_ensure_endpoint(), "postdodo push retry")

    @callback
    def _set_active(self, active: bool) -> None:
        self.active = active
        self.coordinator.update_interval = POLL_INTERVAL_PUSH if active else POLL_INTERVAL_NO_PUSH
        async_dispatcher_send(self.hass, signal_push(self.entry.entry_id))

    async def async_stop(self, delete_endpoint: bool) -> None:
        """Delete the PostDodo endpoint when nobody will listen (entry disabled)."""
        self._set_active(False)
        endpoint_id = self.entry.data.get(CONF_ENDPOINT_ID)
        if not delete_endpoint or not endpoint_id:
            return
        await async_delete_endpoint(self.client, endpoint_id)
        self.hass.config_entries.async_update_entry(self.entry, data={
            k: v for k, v in self.entry.data.items()
            if k not in (CONF_ENDPOINT_ID, CONF_ENDPOINT_SECRET, CONF_ENDPOINT_URL)})

    async def handle(self, hass: HomeAssistant, webhook_id: str, request: Request) -> Response:
        """One delivery: verify the raw body, drop repeats, fire the bus event, update entities."""
        body = await request.read()
        secret = self.entry.data.get(CONF_ENDPOINT_SECRET)
        if not secret:
            return Response(status=HTTPStatus.UNAUTHORIZED)
        try:
            verified = verify(secret, request.headers, body)
        except SignatureError as exc:
            LOGGER.debug("refused a PostDodo delivery from %s: %s (%s)", request.remote, exc, exc.reason)
            return Response(status=HTTPStatus.UNAUTHORIZED)
        try:
            envelope = json.loads(body)
            event, data = envelope["event"], envelope["data"]
            if not isinstance(event, str) or not isinstance(data, dict):
                raise TypeError(event)
        except (ValueError, KeyError, TypeError):
            return Response(status=HTTPStatus.BAD_REQUEST)
        if verified.event_id in self._seen:
            self._seen.move_to_end(verified.event_id)
            return Response(status=HTTPStatus.OK)  # a redelivery: acknowledged, not fired twice
        self._seen[verified.event_id] = None
        while len(self._seen) > SEEN_EVENTS:
            self._seen.popitem(last=False)
        if event in BUS_EVENTS:
            self.dispatch(event, data, verified.event_id)
        return Response(status=HTTPStatus.OK)

    @callback
    def dispatch(self, event: str, data: dict[str, Any], event_id: str) -> None:
        """Fan one verified event out to the bus, the coordinator and the event entities."""
        payload = {**data, "event_id": event_id, "config_entry_id": self.entry.entry_id}
        self.hass.bus.async_fire(BUS_EVENTS[event], payload)
        self.coordinator.async_apply_event(event, data)
        async_dispatcher_send(self.hass, signal_event(self.entry.entry_id), event, payload)


async def async_delete_endpoint(client: AsyncClient, endpoint_id: str) -> None:
    """Remove a PostDodo webhook endpoint; failures are logged, never raised (the entry goes anyway)."""
    try:
        await client.webhooks.delete(endpoint_id)
    except NotFoundError:
        pass
    except PostDodoError as exc:
        LOGGER.warning("could not delete PostDodo webhook endpoint %s: %s", endpoint_id, exc)
