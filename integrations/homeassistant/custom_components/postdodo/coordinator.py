"""The data of one PostDodo workspace: its accounts and the latest post of each, polled and pushed."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from pydantic import ValidationError

from postdodo_connect import Account, APIConnectionError, APIError, AuthenticationError, Client, Post

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


@dataclass
class PostDodoData:
    """What the entities show: accounts by id and each account's latest post."""

    accounts: dict[str, Account] = field(default_factory=dict)
    last_posts: dict[str, LastPost] = field(default_factory=dict)


@dataclass
class PostDodoRuntimeData:
    """What a loaded entry keeps in ``entry.runtime_data``."""

    client: Client
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

    def __init__(self, hass: HomeAssistant, entry: PostDodoConfigEntry, client: Client) -> None:
        super().__init__(hass, LOGGER, config_entry=entry, name=DOMAIN, update_interval=POLL_INTERVAL_NO_PUSH)
        self.client = client
        # account id -> (monotonic time, value) of the latest push, so a poll that started earlier
        # cannot overwrite it with older news
        self._pushed: dict[str, tuple[float, LastPost]] = {}

    def _fetch(self) -> tuple[list[Account], list[Post]]:
        """Runs in the executor: the client is blocking."""
        return self.client.accounts.list(), list(self.client.posts.list(limit=RECENT_POSTS))

    async def _async_update_data(self) -> PostDodoData:
        started = time.monotonic()
        try:
            accounts, posts = await self.hass.async_add_executor_job(self._fetch)
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
            error = target.error.message if target.error else None
            self.async_set_last(target.account_id, LastPost(post.id, target.status, target.platform,
                                                            target.permalink, error))

    @callback
    def async_apply_event(self, event: str, data: dict[str, Any]) -> None:
        """A verified webhook delivery updates the accounts it names."""
        post_id = str(data.get("post_id") or "")
        if not post_id:
            return
        if event == "post.completed":
            targets = [t for t in data.get("targets") or [] if isinstance(t, dict)]
        else:
            targets = [data]
        for target in targets:
            account_id, status = target.get("account_id"), target.get("status")
            if not isinstance(account_id, str) or not isinstance(status, str):
                continue
            previous = self.data.last_posts.get(account_id) if self.data else None
            error = target.get("error")
            message = error.get("message") if isinstance(error, dict) else None
            last = LastPost(post_id, status, str(target.get("platform") or ""), target.get("permalink"), message)
            if previous is not None and previous.post_id == post_id:
                # post.completed repeats targets without their error: keep what post.failed said
                last = replace(last, error=last.error or previous.error,
                               permalink=last.permalink or previous.permalink)
                if last == previous:
                    continue
            self.async_set_last(account_id, last)
