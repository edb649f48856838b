"""Platform adapters, registered by name; `get(name)` returns a ready adapter."""

from __future__ import annotations

import importlib
from functools import cache

from .base import Account, Media, Platform, Problem, Profile, Progress, Published, PublishRequest, ReplyTo

# name -> "module:Class"; modules load lazily so one broken adapter never stops the service
REGISTRY: dict[str, str] = {
    "bluesky": "bluesky:Bluesky",
    "mastodon": "mastodon:Mastodon",
    "x": "x:X",
    "instagram": "instagram:Instagram",
    "facebook": "facebook:Facebook",
    "threads": "threads:Threads",
    "linkedin": "linkedin:LinkedIn",
    "telegram": "telegram:Telegram",
    "discord": "discord:Discord",
    "slack": "slack:Slack",
    "pinterest": "pinterest:Pinterest",
    "tiktok": "tiktok:TikTok",
}

NAMES: tuple[str, ...] = tuple(sorted(REGISTRY))


@cache
def adapter_class(name: str) -> type[Platform]:
    """The adapter class registered under `name` (KeyError when unknown)."""
    module_name, _, class_name = REGISTRY[name].partition(":")
    module = importlib.import_module(f"{__name__}.{module_name}")
    cls: type[Platform] = getattr(module, class_name)
    return cls


def get(name: str) -> Platform:
    """A new adapter instance for platform `name`."""
    return adapter_class(name)()


def validate(platform: str, caption: str, media: list[Media]) -> list[Problem]:
    """Preflight one post against one platform's rules."""
    return adapter_class(platform)().validate(caption, media)


__all__ = ["NAMES", "REGISTRY", "Account", "Media", "Platform", "Problem", "Profile", "Progress", "PublishRequest", "Published", "ReplyTo", "adapter_class", "get", "validate"]
