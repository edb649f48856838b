"""The data of one PostDodo workspace: its accounts and the latest post of each, polled and pushed."""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from pydantic import ValidationError

from ._postdodo_client import Account, APIConnectionError, APIError, AsyncClient, AuthenticationError, Post
from .const import DOMAIN, LOGGER, POLL_INTERVAL_NO_PUSH, RECENT_POSTS

if TYPE_CHECKING:
    from .push import PostDodoPush

type PostDodoConfigEntry = ConfigEntry[PostDodoRuntimeData]


@dataclass(frozen=True)
class LastPost:
    """An account's most recent post, seen through that account's target."""

    post_id: str
    status: str  # the target's status: scheduled, publishing, confirmed, retrying, failed, canceled
    platform: str
    permalink: str | None = None
    error: str | None = None
    sequence: int | None = None  # data.sequence of the event this came from; None when read from the API


def event_sequence(data: dict[str, Any]) -> int | None:
    """The ``data.sequence`` of a delivery (its place among its post's events), when the server sent one."""
    value = data.get("sequence")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class PostSequences:
    """The highest sequence applied per post, for the last ``size`` posts: tells late, older news apart."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._applied: OrderedDict[str, int] = OrderedDict()

    def is_newer(self, post_id: str, sequence: int | None) -> bool:
        """Whether an event of ``post_id`` should be applied; records it when so (no sequence: always)."""
        if sequence is None:
            return True
        applied = self._applied.get(post_id)
        if applied is not None and sequence <= applied:
            return False
        self._applied[post_id] = sequence
        self._applied.move_to_end(post_id)
        while len(self._applied) > self.size:
            self._applied.popitem(last=False)
        return True


@dataclass
class PostDodoData:
    """What the entities show: accounts by id and each account's latest post."""

    accounts: dict[str, Account] = field(default_factory=dict)
    last_posts: dict[str, LastPost] = field(default_factory=dict)


@dataclass
class PostDodoRuntimeData:
    """What a loaded entry keeps in ``entry.runtime_data``."""

    client: AsyncClient
    coordinator: PostDodoCoordinator
    push: PostDodoPush


def workspace_unique_id(accounts: list[Account]) -> str | None:
    """The id of the workspace's oldest account: the API exposes no workspace id, and account ids never
    move between workspaces, so this names the workspace until that account is removed."""
    if not accounts:
        return None
    oldest: Account = min(accounts, key=lambda a: (a.created_at is None, a.created_at or datetime.min, a.id))
    account_id: str = oldest.id
    return account_id


def latest_by_account(posts: list[Post]) -> dict[str, LastPost]:
    """Each account's target in the most recently changed post that has one."""
    best: dict[str, tuple[datetime, LastPost]] = {}
    for post in posts:
        changed = post.updated_at or post.created_at
        for target in post.targets:
            current = best.get(target.account_id)
            if current is None or changed > current[0]:
                error = target.error.message if target.error else None
                best[target.account_id] = (changed, LastPost(post.id, target.status, target.platform,
                                                             target.permalink, error))
    return {account_id: last for account_id, (_, last) in best.items()}


class PostDodoCoordinator(DataUpdateCoordinator[PostDodoData]):
    """Polls accounts and recent posts; webhook pushes and action results update it in between."""

    config_entry: PostDodoConfigEntry

    def __init__(self, hass: HomeAssistant, entry: PostDodoConfigEntry, client: AsyncClient) -> None:
        super().__init__(hass, LOGGER, config_entry=entry, name=DOMAIN, update_interval=POLL_INTERVAL_NO_PUSH)
        self.client = client
        # account id -> (monotonic time, value) of the latest push, so a poll that started earlier
        # cannot overwrite it with older news
        self._pushed: dict[str, tuple[float, LastPost]] = {}

    async def _async_update_data(self) -> PostDodoData:
        started = time.monotonic()
        try:
            accounts = await self.client.accounts.list()
            posts = [post async for post in self.client.posts.list(limit=RECENT_POSTS)]
        except AuthenticationError as exc:
            raise ConfigEntryAuthFailed(translation_domain=DOMAIN, translation_key="invalid_auth") from exc
        except (APIConnectionError, APIError, ValidationError) as exc:
            raise UpdateFailed(translation_domain=DOMAIN, translation_key="update_failed",
                               translation_placeholders={"error": str(exc)}) from exc
        last = latest_by_account(posts)
        for account_id, (pushed_at, pushed) in self._pushed.items():
            if pushed_at >= started:
                last[account_id] = pushed
        self._pushed = {k: v for k, v in self._pushed.items() if v[0] >= started}
        data = PostDodoData(accounts={a.id: a for a in accounts}, last_posts=last)
        self._track_workspace(accounts)
        return data

    @callback
    def _track_workspace(self, accounts: list[Account]) -> None:
        """Keep the entry's unique id on a live account and drop devices of removed accounts."""
        entry = self.config_entry
        unique_id = workspace_unique_id(accounts)
        ids = {a.id for a in accounts}
        if unique_id and entry.unique_id not in ids:
            self.hass.config_entries.async_update_entry(entry, unique_id=unique_id)
        registry = dr.async_get(self.hass)
        for device in dr.async_entries_for_config_entry(registry, entry.entry_id):
            mine = {ident for domain, ident in device.identifiers if domain == DOMAIN}
            if mine and not mine & ids:
                LOGGER.debug("account %s is gone from PostDodo; removing its device", ", ".join(mine))
                registry.async_update_device(device.id, remove_config_entry_id=entry.entry_id)

    @callback
    def async_set_last(self, account_id: str, last: LastPost) -> None:
        """Record news about one account's latest post (from a push or an action) and notify entities."""
        self._pushed[account_id] = (time.monotonic(), last)
        if self.data is not None:
            self.data.last_posts[account_id] = last
            self.async_update_listeners()

    @callback
    def async_apply_post(self, post: Post) -> None:
        """A post just created, fetched or canceled becomes each of its accounts' latest post."""
        for target in post.targets:
            previous = self.data.last_posts.get(target.account_id) if self.data else None
            if previous is not None and previous.post_id == post.id and previous.sequence is not None:
                continue  # a webhook about this post already arrived: it is newer than this answer
            error = target.error.message if target.error else None
            self.async_set_last(target.account_id, LastPost(post.id, target.status, target.platform,
                                                            target.permalink, error))

    @callback
    def async_apply_event(self, event: str, data: dict[str, Any]) -> None:
        """A verified webhook delivery updates the accounts it names, in the post's sequence order."""
        post_id = str(data.get("post_id") or "")
        if not post_id:
            return
        sequence = event_sequence(data)
        if event == "post.completed":
            targets = [t for t in data.get("targets") or [] if isinstance(t, dict)]
        else:
            targets = [data]
        for target in targets:
            account_id, status = target.get("account_id"), target.get("status")
            if not isinstance(account_id, str) or not isinstance(status, str):
                continue
            previous = self.data.last_posts.get(account_id) if self.data else None
            if (previous is not None and previous.post_id == post_id and previous.sequence is not None
                    and (sequence is None or sequence <= previous.sequence)):
                continue  # arrived after a newer event of the same post (e.g. published after completed)
            error = target.get("error")
            message = error.get("message") if isinstance(error, dict) else None
            last = LastPost(post_id, status, str(target.get("platform") or ""), target.get("permalink"), message,
                            sequence)
            if previous is not None and previous.post_id == post_id:
                # post.completed repeats targets without their error: keep what post.failed said
                last = replace(last, error=last.error or previous.error,
                               permalink=last.permalink or previous.permalink)
                if last == previous:
                    continue
            self.async_set_last(account_id, last)
