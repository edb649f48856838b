"""Safe forms of URLs for logs and messages: no passwords, no webhook paths (stdlib only)."""

from __future__ import annotations

from urllib.parse import urlsplit

__all__ = ["HIDDEN", "redact_url", "url_origin"]

HIDDEN = "***"
# query parameters that carry credentials in database and Redis URLs (libpq, redis-py)
_SECRET_PARAMS = frozenset({"password", "passwd", "pwd", "pass", "secret", "token", "sslpassword"})


def redact_url(url: str) -> str:
    """A database or Redis URL with its password (in the user info or the query) replaced by ***."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return HIDDEN if "@" in url else url
    cut = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    authority, tail = rest[:cut], rest[cut:]
    if "@" in authority:
        userinfo, _, hostport = authority.rpartition("@")
        user, colon, _password = userinfo.partition(":")
        if colon:  # a user name alone is no secret (postgresql://postgres@host)
            authority = f"{user}:{HIDDEN}@{hostport}"
    path, question, query = tail.partition("?")
    if question:
        query, hash_, fragment = query.partition("#")
        query = "&".join(_hide_param(pair) for pair in query.split("&")) + hash_ + fragment
    return f"{scheme}://{authority}{path}{question}{query}"


def _hide_param(pair: str) -> str:
    """One `name=value` of a query, its value hidden when the name says it is a credential."""
    name, equals, _value = pair.partition("=")
    return f"{name}={HIDDEN}" if equals and name.lower() in _SECRET_PARAMS else pair


def url_origin(url: str) -> str:
    """Scheme, host and port only: what a log may say about a webhook URL (its path may be a credential)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        port = parts.port
    except ValueError:
        return _scheme_only(url)
    if not parts.scheme or not host:
        return _scheme_only(url)
    shown = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{shown}" + (f":{port}" if port is not None else "")


def _scheme_only(url: str) -> str:
    """What is left to show of a URL that does not parse."""
    scheme, sep, _ = url.partition("://")
    return f"{scheme}://{HIDDEN}" if sep and scheme.isascii() and scheme.isalnum() else HIDDEN
