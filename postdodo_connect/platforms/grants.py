"""What the platforms' connect code shares: checking the granted scopes, the token fields credentials keep."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..errors import PlatformAuthError, PlatformRejected
from .oauth import Grant

__all__ = ["nothing_to_connect", "refused", "require_scopes", "token_fields"]


def require_scopes(label: str, grant: Grant, needed: Iterable[str]) -> None:
    """Refuse a grant without a scope posting needs (consent screens let people untick permissions)."""
    missing = [scope for scope in needed if scope not in grant.scopes]
    if missing:
        raise PlatformAuthError(f"{label} did not grant {', '.join(missing)}: connect again and allow every permission asked",
                                code="missing_scopes", platform_error={"missing_scopes": missing, "granted": list(grant.scopes)})


def refused(label: str, error: str, description: str = "") -> PlatformAuthError:
    """A token endpoint's refusal (bad or reused code, wrong redirect URI, bad client) in the error tree."""
    words = f"{description} ({error})" if description else error
    return PlatformAuthError(f"{label} refused the authorization: {words}", code="connect_failed",
                             platform_error={"error": error, "error_description": description})


def nothing_to_connect(label: str, what: str) -> PlatformRejected:
    """The grant is fine but reaches no publishable target (no Page, no board, no organization)."""
    return PlatformRejected(f"{label}: {what}", code="no_targets")


def token_fields(grant: Grant) -> dict[str, Any]:
    """The refresh token and expiry (epoch) a grant carries, for the credentials; absent when not given."""
    fields: dict[str, Any] = {}
    if grant.refresh_token:
        fields["refresh_token"] = grant.refresh_token
    if grant.expires_at is not None:
        fields["expires_at"] = int(grant.expires_at)
    return fields
