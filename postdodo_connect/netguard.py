"""SSRF guard for outgoing HTTP requests to user-supplied URLs (webhooks, media downloads)."""

from __future__ import annotations

import ipaddress
import os
import re
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests.cookies import extract_cookies_to_jar
from requests.hooks import dispatch_hook

from postdodo_connect.errors import UnsafeURLError

__all__ = ["CheckedURL", "Resolver", "URLPolicy", "check_url", "is_public_address",
           "policy_from_env", "read_capped", "safe_request"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]

_DEFAULT_PORTS = {"http": 80, "https": 443}
_N = ipaddress.ip_network

# Cloud metadata endpoints; refused even with allow_private because they hand out credentials.
# The whole IPv4 link-local block is included: AWS, GCP, Azure, ECS and OpenStack all live there.
_METADATA_NETS = [_N("169.254.0.0/16"), _N("100.100.100.200/32"), _N("192.0.0.192/32"),
                  _N("fd00:ec2::254/128")]
_METADATA_NAMES = frozenset({"metadata.google.internal", "metadata.goog", "metadata",
                             "instance-data", "instance-data.ec2.internal"})

# Explicit lists rather than only `is_global`, whose answers differ between Python releases.
_V4_BLOCKS = [(_N(net), label) for net, label in [
    ("0.0.0.0/8", "'this network'"), ("10.0.0.0/8", "private"), ("100.64.0.0/10", "CGNAT"),
    ("127.0.0.0/8", "loopback"), ("169.254.0.0/16", "link-local"), ("172.16.0.0/12", "private"),
    ("192.0.0.0/24", "IETF special-purpose"), ("192.0.2.0/24", "documentation"),
    ("192.88.99.0/24", "6to4 relay"), ("192.168.0.0/16", "private"), ("198.18.0.0/15", "benchmark"),
    ("198.51.100.0/24", "documentation"), ("203.0.113.0/24", "documentation"),
    ("224.0.0.0/4", "multicast"), ("255.255.255.255/32", "broadcast"), ("240.0.0.0/4", "reserved")]]
_V6_BLOCKS = [(_N(net), label) for net, label in [
    ("::/128", "unspecified"), ("::1/128", "loopback"), ("::/96", "IPv4-compatible"),
    ("64:ff9b:1::/48", "local-use NAT64"), ("100::/64", "discard-only"), ("2001::/32", "Teredo"),
    ("2001::/23", "IETF special-purpose"), ("2001:db8::/32", "documentation"),
    ("3fff::/20", "documentation"), ("5f00::/16", "SRv6 SID"), ("fc00::/7", "private (ULA)"),
    ("fe80::/10", "link-local"), ("fec0::/10", "site-local"), ("ff00::/8", "multicast")]]
_GLOBAL_UNICAST_V6 = _N("2000::/3")
_NAT64 = _N("64:ff9b::/96")
_LABEL_RE = re.compile(r"[a-z0-9_-]{1,63}")
_PIN_ATTR = "_postdodo_netguard_pin"


@dataclass(frozen=True)
class URLPolicy:
    """Which non-public targets are tolerated; metadata endpoints never are."""

    allow_private: bool = False
    allowed_hosts: frozenset[str] = frozenset()


@dataclass(frozen=True)
class CheckedURL:
    """A URL that passed the guard, with the one address the connection must go to."""

    url: str
    scheme: str
    host: str
    port: int
    address: str


def _embedded_v4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address carried inside an IPv4-mapped, NAT64 or 6to4 IPv6 address."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip.sixtofour


def _is_metadata(ip: IPAddress) -> bool:
    """True for cloud metadata addresses, also when wrapped in an IPv6 form."""
    inner = _embedded_v4(ip) or ip
    return any(inner in net for net in _METADATA_NETS)


def _refusal_reason(ip: IPAddress) -> str | None:
    """Why an address is not public, or None if it is."""
    inner = _embedded_v4(ip)
    if inner is not None:
        # The tunnel or translator would deliver the packet to the embedded IPv4 address.
        reason = _refusal_reason(inner)
        return f"{reason}, embedded in IPv6" if reason else None
    blocks = _V4_BLOCKS if ip.version == 4 else _V6_BLOCKS
    for net, label in blocks:
        if ip in net:
            return label
    if ip.version == 6 and ip not in _GLOBAL_UNICAST_V6:
        return "reserved"
    # Belt and braces: the stdlib's registry view catches anything the tables above miss.
    flags = (ip.is_loopback, ip.is_private, ip.is_link_local, ip.is_multicast, ip.is_reserved)
    return "non-global" if any(flags) or ip.is_unspecified or not ip.is_global else None


def is_public_address(address: str) -> bool:
    """True if ``address`` is an IP address that may be contacted without any exemption."""
    try:
        ip = ipaddress.ip_address(address.strip("[]"))
    except ValueError:
        return False
    return not _is_metadata(ip) and _refusal_reason(ip) is None


def _default_resolver(host: str, port: int) -> list[str]:
    """Resolve with the system resolver, TCP only."""
    return [str(i[4][0]) for i in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


def _parse_host(host: str, bracketed: bool) -> IPAddress | None:
    """The IP literal that ``host`` denotes (any IPv4 spelling), or None for a hostname."""
    if bracketed:
        if "%" in host:
            raise UnsafeURLError("refused URL: IPv6 zone identifiers are not allowed")
        try:
            return ipaddress.IPv6Address(host)
        except ValueError:
            raise UnsafeURLError("refused URL: malformed IPv6 literal") from None
    if re.fullmatch(r"[0-9a-fx.]+", host):
        try:
            # inet_aton accepts the same decimal/octal/hex/short forms as the C resolver.
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            if re.fullmatch(r"[0-9.]+", host):
                raise UnsafeURLError("refused URL: malformed IPv4 literal") from None
    return None


def check_url(
    url: str, policy: URLPolicy = URLPolicy(), resolver: Resolver | None = None, *, resolve: bool = True
) -> CheckedURL:
    """Validate ``url`` and pick the single address to connect to, or raise UnsafeURLError.

    With ``resolve=False`` a host name is not looked up (its ``address`` is ""): every syntax rule and the
    policy for IP literals and metadata names still apply; the addresses are checked when connecting.
    """
    if any(ch <= " " or ch in "\\\x7f" for ch in url):
        # Parsers disagree on these; refusing them removes any parser-differential trick.
        raise UnsafeURLError("refused URL: whitespace, control characters or backslashes")
    try:
        parts = urlsplit(url)
        raw_host, raw_port = parts.hostname, parts.port
    except ValueError:
        raise UnsafeURLError("refused URL: malformed host or port") from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        shown = scheme or "(none)"
        raise UnsafeURLError(f"refused URL: scheme {shown!r} is not allowed (http/https only)")
    if "@" in parts.netloc:
        raise UnsafeURLError("refused URL: user info (credentials) in the URL is not allowed")
    if not raw_host:
        raise UnsafeURLError("refused URL: no host")
    port = _DEFAULT_PORTS[scheme] if raw_port is None else raw_port
    if not 0 < port < 65536:
        raise UnsafeURLError("refused URL: invalid port")
    bracketed = parts.netloc.startswith("[")
    host = raw_host if bracketed else raw_host.removesuffix(".")
    ip = _parse_host(host, bracketed)
    if ip is None:
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise UnsafeURLError("refused URL: invalid host name") from None
        if len(host) > 253 or not all(_LABEL_RE.fullmatch(label) for label in host.split(".")):
            raise UnsafeURLError("refused URL: invalid host name")
        if host in _METADATA_NAMES:
            raise UnsafeURLError(f"refused URL: host {host!r} is a cloud metadata endpoint")
    else:
        host = str(ip)

    allowed = {h.lower().removesuffix(".") for h in policy.allowed_hosts}
    hostport = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    exempt = policy.allow_private or host in allowed or hostport in allowed
    if ip is not None:
        addresses = [ip]
    elif not resolve:
        addresses = []
    else:
        try:
            answers = (resolver or _default_resolver)(host, port)
            addresses = list(dict.fromkeys(ipaddress.ip_address(a) for a in answers))
        except (OSError, UnicodeError, ValueError):
            addresses = []
        if not addresses:
            raise UnsafeURLError(f"refused URL: cannot resolve host {host!r}")
    for addr in addresses:
        # Every answer is checked: a mixed answer could otherwise be used on a later connect.
        if _is_metadata(addr):
            raise UnsafeURLError(f"refused URL: host {host!r} points at a cloud metadata address")
        reason = _refusal_reason(addr)
        if reason and not exempt:
            # The category is named but the resolved address is not, so this is no DNS oracle.
            # the server's operator can allow it: say how, since a local test receiver is the usual cause
            raise UnsafeURLError(f"refused URL: host {host!r} points to a non-public address ({reason}); "
                                 f"the server allows such hosts with POSTDODO_WEBHOOK_ALLOW_PRIVATE=1 or "
                                 f"POSTDODO_WEBHOOK_ALLOWED_HOSTS={hostport}")
    if ip is not None and not bracketed and host != raw_host.removesuffix("."):
        # Odd spellings (2130706433, 0x7f.1) are read differently by other parsers and proxies.
        raise UnsafeURLError("refused URL: IPv4 address not in dotted-decimal form")
    return CheckedURL(url=url, scheme=scheme, host=host, port=port, address=str(addresses[0]) if addresses else "")


class _PinnedAdapter(HTTPAdapter):
    """Transport adapter that connects to the request's checked address, never re-resolving."""

    def build_connection_pool_key_attributes(
        self, request: requests.PreparedRequest, verify: Any, cert: Any = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Point the pool at the pinned IP while TLS still verifies the original host name."""
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(
            request, verify, cert
        )
        pin = getattr(request, _PIN_ATTR, None)
        if not isinstance(pin, CheckedURL):
            raise UnsafeURLError("refused to send: request was not checked by the SSRF guard")
        host_params.update(scheme=pin.scheme, host=pin.address, port=pin.port)
        if pin.scheme == "https":
            # Used for SNI and certificate matching; also part of urllib3's pool key, so pools
            # are keyed by (scheme, address, port, host name) and reuse stays safe.
            pool_kwargs["server_hostname"] = pin.host
        return host_params, pool_kwargs


# One shared adapter: urllib3 pools are thread-safe and keep connections alive between deliveries.
# pool_maxsize covers the busiest case: every delivery worker on one endpoint host
_ADAPTER = _PinnedAdapter(pool_connections=64, pool_maxsize=32, max_retries=0)


def safe_request(
    session: requests.Session,
    method: str,
    url: str,
    *,
    policy: URLPolicy = URLPolicy(),
    resolver: Resolver | None = None,
    timeout: float | tuple[float, float] = (5, 15),
    **kwargs: Any,
) -> requests.Response:
    """Check ``url`` and send one request to the checked address; redirects are never followed."""
    checked = check_url(url, policy, resolver)
    if kwargs.pop("allow_redirects", False):
        raise ValueError("safe_request never follows redirects")
    if kwargs.pop("proxies", None):
        raise ValueError("safe_request connects straight to the checked address; no proxies")
    stream: bool = kwargs.pop("stream", False)
    verify = kwargs.pop("verify", None)
    verify = session.verify if verify is None else verify
    if verify is True and session.trust_env:
        verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
    cert = kwargs.pop("cert", None) or session.cert
    # The session still contributes headers, auth, cookies and hooks; only transport is ours.
    prep = session.prepare_request(requests.Request(method=method.upper(), url=url, **kwargs))
    # The Host header the server would have seen without pinning (urllib3 would send the IP).
    host = f"[{checked.host}]" if ":" in checked.host else checked.host
    default_port = checked.port == _DEFAULT_PORTS[checked.scheme]
    prep.headers["Host"] = host if default_port else f"{host}:{checked.port}"
    setattr(prep, _PIN_ATTR, checked)
    send_kwargs: dict[str, Any] = {"stream": stream, "timeout": timeout, "verify": verify,
                                   "cert": cert, "proxies": {}}
    start = time.perf_counter()
    response = _ADAPTER.send(prep, **send_kwargs)
    response.elapsed = timedelta(seconds=time.perf_counter() - start)
    response = dispatch_hook("response", prep.hooks, response, **send_kwargs)
    if response.raw is not None:
        extract_cookies_to_jar(session.cookies, prep, response.raw)
    if not stream:
        _ = response.content  # load the body now, as Session.send does
    return response


def read_capped(response: requests.Response, limit: int) -> tuple[bytes, bool]:
    """Read at most ``limit`` bytes of the body; returns (data, truncated)."""
    if limit < 0:
        raise ValueError("limit must be >= 0")
    buf = bytearray()
    # One byte past the limit tells "exactly limit bytes" apart from "more than limit".
    for chunk in response.iter_content(chunk_size=min(65536, limit + 1)):
        buf += chunk
        if len(buf) > limit:
            # Stop reading here so a huge or endless body can't exhaust memory or time.
            response.close()
            return bytes(buf[:limit]), True
    return bytes(buf), False


def policy_from_env(environ: Mapping[str, str] = os.environ) -> URLPolicy:
    """Policy from POSTDODO_WEBHOOK_ALLOW_PRIVATE and POSTDODO_WEBHOOK_ALLOWED_HOSTS."""
    flag = environ.get("POSTDODO_WEBHOOK_ALLOW_PRIVATE", "").strip().lower()
    allow = flag in {"1", "true", "yes"}
    raw = environ.get("POSTDODO_WEBHOOK_ALLOWED_HOSTS", "")
    hosts = frozenset(h.lower() for h in re.split(r"[\s,]+", raw) if h)
    return URLPolicy(allow_private=allow, allowed_hosts=hosts)
