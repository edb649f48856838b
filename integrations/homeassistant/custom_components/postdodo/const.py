"""Constants of the PostDodo integration."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Final

from ._postdodo_client import __version__ as CLIENT_VERSION

DOMAIN: Final = "postdodo"
LOGGER = logging.getLogger(__package__)

# entry.data keys besides CONF_URL, CONF_API_KEY and CONF_WEBHOOK_ID
CONF_ENDPOINT_ID: Final = "endpoint_id"  # the PostDodo webhook endpoint (wh_...) that calls us
CONF_ENDPOINT_SECRET: Final = "endpoint_secret"  # its whsec_ secret, shown by PostDodo once
CONF_ENDPOINT_URL: Final = "endpoint_url"  # the URL it was registered with, to notice when it changes

ATTR_CONFIG_ENTRY_ID: Final = "config_entry_id"

# the deliveries we subscribe to, and the bus event each one becomes
WEBHOOK_EVENTS: Final = ("post.published", "post.failed", "post.completed")
BUS_EVENTS: Final = {name: f"{DOMAIN}_{name.replace('.', '_')}" for name in WEBHOOK_EVENTS}
# event entity types: the part after "post."
EVENT_TYPES: Final = [name.removeprefix("post.") for name in WEBHOOK_EVENTS]

TARGET_STATUSES: Final = ["scheduled", "publishing", "confirmed", "retrying", "failed", "canceled", "unpublishing",
                           "unpublished"]
ACCOUNT_STATUSES: Final = ["active", "expired", "disconnected"]

# Pushes keep entities current; polling is the fallback (and catches what webhooks do not carry).
POLL_INTERVAL_PUSH: Final = timedelta(minutes=5)
POLL_INTERVAL_NO_PUSH: Final = timedelta(minutes=2)
RECENT_POSTS: Final = 50  # posts read per poll to find each account's latest one
SEEN_EVENTS: Final = 1024  # event ids remembered to drop redeliveries

API_TIMEOUT: Final = 15.0
USER_AGENT: Final = f"postdodo-connect/{CLIENT_VERSION} (Home Assistant integration)"


def signal_event(entry_id: str) -> str:
    """Dispatcher signal carrying each verified delivery of one entry."""
    return f"{DOMAIN}_{entry_id}_event"


def signal_push(entry_id: str) -> str:
    """Dispatcher signal sent when push delivery starts or stops working."""
    return f"{DOMAIN}_{entry_id}_push"
