"""Tests for the SSRF guard: address classes, URL parsing, pinned connections, capped reads."""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests
import responses
import urllib3.util.connection

from postdodo_connect import netguard
from postdodo_connect.errors import UnsafeURLError
from postdodo_connect.netguard import (
    CheckedURL,
    URLPolicy,
    check_url,
    is_public_address,
    policy_from_env,
    read_capped,
    safe_request,
)

PUBLIC_V4 = "93.184.216.34"


class FakeDNS:
    """Injected resolver: a fixed table, or a sequence of answers per host (rebinding)."""

    def __init__(self, table: dict[str, list[str] | list[list[str]]]) -> None:
        self.table = table
        self.calls: list[tuple[str, int]] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.calls.append((host, port))
        if host not in self.table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        answers = self.table[host]
        if answers and isinstance(answers[0], list):
            # One answer per call; the last one repeats, like a rebinding DNS server.
            index = min(len([c for c in self.calls if c[0] == host]) - 1, len(answers) - 1)
            return list(answers[index])
        return list(answers)  # type: ignore[arg-type]


DNS = FakeDNS({"example.test": [PUBLIC_V4], "v6.test": ["2606:4700:4700::1111"]})

# One row per address class that must be refused, with the reason word the message names.
NON_PUBLIC = [
    ("127.0.0.1", "loopback"),
    ("127.255.255.254", "loopback"),
    ("::1", "loopback"),
    ("10.1.2.3", "private"),
    ("172.16.5.4", "private"),
    ("172.31.255.255", "private"),
    ("192.168.1.1", "private"),
    ("fc00::1", "private"),
    ("fd12:3456::1", "private"),
    ("169.254.1.1", "metadata"),  # the whole IPv4 link-local block counts as metadata
    ("fe80::1", "link-local"),
    ("100.64.0.1", "CGNAT"),
    ("100.127.255.254", "CGNAT"),
    ("224.0.0.1", "multicast"),
    ("239.255.255.250", "multicast"),
    ("ff02::1", "multicast"),
    ("240.0.0.1", "reserved"),
    ("0.0.0.0", "this network"),
    ("0.1.2.3", "this network"),
    ("::", "unspecified"),
    ("255.255.255.255", "broadcast"),
    ("198.18.0.1", "benchmark"),
    ("198.19.255.1", "benchmark"),
    ("192.0.2.1", "documentation"),
    ("198.51.100.7", "documentation"),
    ("203.0.113.9", "documentation"),
    ("2001:db8::1", "documentation"),
    ("192.0.0.8", "IETF"),
    ("::ffff:127.0.0.1", "loopback, embedded in IPv6"),
    ("::ffff:10.0.0.1", "private, embedded in IPv6"),
    ("64:ff9b::7f00:1", "loopback, embedded in IPv6"),
    ("64:ff9b::c0a8:101", "private, embedded in IPv6"),
    ("2002:7f00:1::1", "loopback, embedded in IPv6"),
    ("2002:c0a8:101::", "private, embedded in IPv6"),
    ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "Teredo"),
    ("100::1", "discard"),
    ("169.254.169.254", "metadata"),
    ("fd00:ec2::254", "metadata"),
    ("100.100.100.200", "metadata"),
    ("::ffff:169.254.169.254", "metadata"),
    ("64:ff9b::a9fe:a9fe", "metadata"),
]
PUBLIC = [PUBLIC_V4, "8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "::ffff:93.184.216.34",
          "64:ff9b::5db8:d822", "2002:5db8:d822::1"]


def _literal(address: str) -> str:
    """An http URL whose host is ``address`` as a literal."""
    return f"http://[{address}]/" if ":" in address else f"http://{address}/"


@pytest.mark.parametrize(("address", "reason"), NON_PUBLIC)
def test_non_public_address_refused_everywhere(address: str, reason: str) -> None:
    assert is_public_address(address) is False
    with pytest.raises(UnsafeURLError, match=reason):
        check_url(_literal(address), resolver=DNS)
    dns = FakeDNS({"evil.test": [address]})
    with pytest.raises(UnsafeURLError, match=reason) as info:
        check_url("https://evil.test/hook", resolver=dns)
    # The message names the host the user gave, never the address DNS returned.
    assert "evil.test" in str(info.value)
    if reason != "metadata":
        assert address not in str(info.value)


@pytest.mark.parametrize("address", PUBLIC)
def test_public_address_accepted(address: str) -> None:
    assert is_public_address(address) is True
    checked = check_url("https://pub.test/x", resolver=FakeDNS({"pub.test": [address]}))
    assert ipaddress.ip_address(checked.address) == ipaddress.ip_address(address)


def test_is_public_address_garbage() -> None:
    assert is_public_address("not-an-ip") is False
    assert is_public_address("") is False
    assert is_public_address("[2606:4700:4700::1111]") is True


def test_check_url_public_hostname() -> None:
    checked = check_url("https://Example.TEST./hooks?a=1", resolver=DNS)
    assert checked == CheckedURL("https://Example.TEST./hooks?a=1", "https", "example.test", 443,
                                 PUBLIC_V4)
    assert check_url("HTTP://example.test:8080/", resolver=DNS).port == 8080
    assert check_url("http://[2606:4700:4700::1111]:8443/").address == "2606:4700:4700::1111"
    assert check_url("http://v6.test/", resolver=DNS).address == "2606:4700:4700::1111"


@pytest.mark.parametrize("url", ["ftp://example.test/", "file:///etc/passwd",
                                 "gopher://example.test:70/_x", "javascript:alert(1)",
                                 "data:text/plain,hi", "//example.test/", "example.test"])
def test_scheme_refused(url: str) -> None:
    with pytest.raises(UnsafeURLError, match="scheme"):
        check_url(url, resolver=DNS)


@pytest.mark.parametrize("url", ["http://user:s3cret@example.test/", "http://user@example.test/",
                                 "https://:@example.test/", "http://example.test@127.0.0.1/"])
def test_userinfo_refused(url: str) -> None:
    with pytest.raises(UnsafeURLError, match="credentials") as info:
        check_url(url, resolver=DNS)
    assert "s3cret" not in str(info.value)


@pytest.mark.parametrize("url", ["http:///path", "https://:443/", "http://example.test:0/",
                                 "http://example.test:99999/", "http://example.test:abc/",
                                 "http://exa mple.test/", "http://example.test\\@1.2.3.4/",
                                 "http://a..b/", "http://bad_%41.test/", "http://1.2.3.4.5/",
                                 "http://[::1/", "http://[fe80::1%25eth0]/", "http://[zz::1]/"])
def test_malformed_refused(url: str) -> None:
    with pytest.raises(UnsafeURLError):
        check_url(url, resolver=DNS)


@pytest.mark.parametrize("host", ["2130706433", "0177.0.0.1", "0x7f.0.0.1", "0x7f000001", "127.1",
                                  "0x7f.1", "017700000001", "0", "0X7F.0.0.1"])
def test_odd_ipv4_encodings_refused(host: str) -> None:
    with pytest.raises(UnsafeURLError, match="loopback|this network"):
        check_url(f"http://{host}/", resolver=DNS)
    with pytest.raises(UnsafeURLError):
        # Even where private targets are allowed, ambiguous spellings are not.
        check_url(f"http://{host}/", URLPolicy(allow_private=True), resolver=DNS)


def test_odd_encoding_of_public_address_refused() -> None:
    # 0x5db8d822 == 93.184.216.34: public, but other parsers may read it differently.
    with pytest.raises(UnsafeURLError, match="dotted-decimal"):
        check_url("http://0x5db8d822/")
    assert check_url("http://93.184.216.34./").host == PUBLIC_V4  # FQDN dot is not odd
    with pytest.raises(UnsafeURLError, match="loopback"):
        check_url("http://127.0.0.1./")


@pytest.mark.parametrize("url", [
    "http://169.254.169.254/latest/meta-data/", "http://[fd00:ec2::254]/",
    "http://100.100.100.200/", "http://metadata.google.internal/computeMetadata/v1/",
    "http://METADATA.GOOGLE.INTERNAL./", "http://[::ffff:169.254.169.254]/",
    "http://[::ffff:a9fe:a9fe]/", "http://169.254.170.2/v2/credentials", "http://imds.test/"])
def test_metadata_refused_even_with_allow_private(url: str) -> None:
    policy = URLPolicy(allow_private=True,
                       allowed_hosts=frozenset({"imds.test", "169.254.169.254", "100.100.100.200"}))
    with pytest.raises(UnsafeURLError, match="metadata"):
        check_url(url, policy, resolver=FakeDNS({"imds.test": ["169.254.169.254"]}))


def test_allow_private_lets_private_through() -> None:
    policy = URLPolicy(allow_private=True)
    assert check_url("http://127.0.0.1:8000/", policy).address == "127.0.0.1"
    assert check_url("http://[::1]/", policy).address == "::1"
    dns = FakeDNS({"nas.lan": ["192.168.1.10"]})
    assert check_url("http://nas.lan/", policy, resolver=dns).address == "192.168.1.10"


def test_allowed_hosts_exempt_exactly_that_host() -> None:
    dns = FakeDNS({"hook.test": ["127.0.0.1"], "other.test": ["127.0.0.1"]})
    policy = URLPolicy(allowed_hosts=frozenset({"HOOK.test"}))
    assert check_url("http://hook.test:9000/", policy, resolver=dns).address == "127.0.0.1"
    with pytest.raises(UnsafeURLError, match="loopback"):
        check_url("http://other.test/", policy, resolver=dns)
    with pytest.raises(UnsafeURLError, match="loopback"):
        check_url("http://sub.hook.test/", policy, resolver=FakeDNS({"sub.hook.test": ["::1"]}))

    by_port = URLPolicy(allowed_hosts=frozenset({"hook.test:9000", "127.0.0.1", "[::1]:8080"}))
    assert check_url("http://hook.test:9000/", by_port, resolver=dns).port == 9000
    with pytest.raises(UnsafeURLError):
        check_url("http://hook.test:9001/", by_port, resolver=dns)
    assert check_url("http://127.0.0.1:5000/", by_port).address == "127.0.0.1"
    assert check_url("http://[::1]:8080/", by_port).address == "::1"
    with pytest.raises(UnsafeURLError):
        check_url("http://[::1]:8081/", by_port)


def test_any_non_public_answer_refuses() -> None:
    dns = FakeDNS({"mixed.test": [PUBLIC_V4, "10.0.0.1"], "two.test": ["8.8.8.8", PUBLIC_V4]})
    with pytest.raises(UnsafeURLError, match="private"):
        check_url("https://mixed.test/", resolver=dns)
    assert check_url("https://two.test/", resolver=dns).address == "8.8.8.8"


@pytest.mark.parametrize("answers", [[], ["not-an-ip"]])
def test_unresolvable(answers: list[str]) -> None:
    with pytest.raises(UnsafeURLError, match="cannot resolve"):
        check_url("https://nowhere.test/", resolver=DNS)
    with pytest.raises(UnsafeURLError, match="cannot resolve"):
        check_url("https://odd.test/", resolver=FakeDNS({"odd.test": answers}))


def test_default_resolver_uses_getaddrinfo(monkeypatch: pytest.MonkeyPatch) -> None:
    def fake_getaddrinfo(host: str, port: int, *args: object, **kwargs: object) -> list[Any]:
        assert (host, port) == ("example.test", 443)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (PUBLIC_V4, port)),
                (socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("2606:4700::1", port, 0, 0))]

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    assert check_url("https://example.test/").address == PUBLIC_V4


def test_rebinding_check_url_uses_first_answer_and_safe_request_never_reresolves(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    dns = FakeDNS({"rebind.test": [[PUBLIC_V4], ["127.0.0.1"]]})
    connects: list[tuple[str, int]] = []

    def no_network(address: tuple[str, int], *args: object, **kwargs: object) -> socket.socket:
        connects.append(address)
        raise ConnectionRefusedError("test: no network")

    monkeypatch.setattr(urllib3.util.connection, "create_connection", no_network)
    with requests.Session() as session, pytest.raises(requests.ConnectionError):
        safe_request(session, "POST", "http://rebind.test/hook", resolver=dns, timeout=(1, 1))
    assert dns.calls == [("rebind.test", 80)]
    assert connects == [(PUBLIC_V4, 80)]
    with pytest.raises(UnsafeURLError, match="loopback"):
        check_url("http://rebind.test/", resolver=dns)  # the second answer is the rebound one


def test_https_pool_pins_address_and_keeps_sni_hostname() -> None:
    checked = check_url("https://example.test:8443/x", resolver=DNS)
    prep = requests.Request("GET", checked.url).prepare()
    setattr(prep, netguard._PIN_ATTR, checked)
    pool = netguard._ADAPTER.get_connection_with_tls_context(prep, True)
    assert (pool.scheme, pool.host, pool.port) == ("https", PUBLIC_V4, 8443)
    assert pool.conn_kw["server_hostname"] == "example.test"
    assert getattr(pool, "cert_reqs", None) == "CERT_REQUIRED"


def test_adapter_refuses_unchecked_request() -> None:
    prep = requests.Request("GET", "http://127.0.0.1/").prepare()
    with pytest.raises(UnsafeURLError, match="not checked"):
        netguard._ADAPTER.send(prep, timeout=1)


@responses.activate
def test_safe_request_headers_with_mocked_transport() -> None:
    responses.add(responses.POST, "https://example.test/hook", status=204)
    with requests.Session() as session:
        session.headers["User-Agent"] = "postdodo-test"
        resp = safe_request(session, "post", "https://example.test/hook", resolver=DNS,
                            json={"a": 1}, headers={"Host": "evil.internal"})
    assert resp.status_code == 204
    sent = responses.calls[0].request
    assert sent.headers["Host"] == "example.test"  # default port omitted, caller's Host replaced
    assert sent.headers["User-Agent"] == "postdodo-test"
    assert sent.url == "https://example.test/hook"


def test_safe_request_refuses_before_sending_and_bad_options() -> None:
    with requests.Session() as session:
        with pytest.raises(UnsafeURLError):
            safe_request(session, "GET", "http://169.254.169.254/")
        with pytest.raises(ValueError, match="redirects"):
            safe_request(session, "GET", "https://example.test/", resolver=DNS,
                         allow_redirects=True)
        with pytest.raises(ValueError, match="proxies"):
            safe_request(session, "GET", "https://example.test/", resolver=DNS,
                         proxies={"https": "http://proxy.test:3128"})


class _Handler(BaseHTTPRequestHandler):
    """Local test server: records requests; /redirect answers 302, /big sends 100 kB."""

    def do_GET(self) -> None:
        assert isinstance(self.server, _Server)
        self.server.seen.append((self.command, self.path, dict(self.headers)))
        if self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = b"x" * 100_000 if self.path == "/big" else b"ok"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Set-Cookie", "sid=1; Path=/")
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET

    def log_message(self, format: str, *args: object) -> None:
        """Keep test output quiet."""


class _Server(ThreadingHTTPServer):
    """ThreadingHTTPServer that keeps (method, path, headers) of each request."""

    seen: list[tuple[str, str, dict[str, str]]]


@pytest.fixture()
def server() -> Iterator[_Server]:
    httpd = _Server(("127.0.0.1", 0), _Handler)
    httpd.seen = []
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


@pytest.fixture()
def hook(server: _Server, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """hook.test -> 127.0.0.1 first, then a rebound answer; the system resolver must stay unused."""
    port = server.server_address[1]
    dns = FakeDNS({"hook.test": [["127.0.0.1"], ["169.254.169.254"]]})
    real = socket.getaddrinfo

    def guarded_getaddrinfo(host: str, *args: Any, **kwargs: Any) -> Any:
        assert host != "hook.test", "hook.test was resolved again"
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", guarded_getaddrinfo)
    policy = URLPolicy(allowed_hosts=frozenset({"hook.test"}))
    return {"base": f"http://hook.test:{port}", "port": port, "dns": dns, "policy": policy}


def test_real_server_reached_through_pinned_address(server: _Server,
                                                    hook: dict[str, Any]) -> None:
    with requests.Session() as session:
        resp = safe_request(session, "POST", hook["base"] + "/hook", policy=hook["policy"],
                            resolver=hook["dns"], timeout=(2, 5), data=b"{}")
        assert resp.status_code == 200 and resp.text == "ok"
        assert resp.url == hook["base"] + "/hook"
        assert session.cookies.get("sid") == "1"
    assert hook["dns"].calls == [("hook.test", hook["port"])]
    method, path, headers = server.seen[0]
    assert (method, path) == ("POST", "/hook")
    assert headers["Host"] == f"hook.test:{hook['port']}"
    # A second check now sees the rebound answer; the request above never did.
    with pytest.raises(UnsafeURLError, match="metadata"):
        check_url(hook["base"], hook["policy"], resolver=hook["dns"])


def test_redirect_is_returned_not_followed(server: _Server, hook: dict[str, Any]) -> None:
    with requests.Session() as session:
        resp = safe_request(session, "GET", hook["base"] + "/redirect", policy=hook["policy"],
                            resolver=FakeDNS({"hook.test": ["127.0.0.1"]}), timeout=(2, 5))
    assert resp.status_code == 302
    assert resp.headers["Location"].startswith("http://169.254.169.254/")
    assert resp.history == []
    assert [path for _, path, _ in server.seen] == ["/redirect"]


def test_read_capped_truncates(server: _Server, hook: dict[str, Any]) -> None:
    dns = FakeDNS({"hook.test": ["127.0.0.1"]})
    with requests.Session() as session:
        kwargs = {"policy": hook["policy"], "resolver": dns, "timeout": (2, 5), "stream": True}
        resp = safe_request(session, "GET", hook["base"] + "/big", **kwargs)
        assert read_capped(resp, 1000) == (b"x" * 1000, True)
        resp = safe_request(session, "GET", hook["base"] + "/big", **kwargs)
        assert read_capped(resp, 100_000) == (b"x" * 100_000, False)
        resp = safe_request(session, "GET", hook["base"] + "/big", **kwargs)
        assert read_capped(resp, 0) == (b"", True)
        kwargs["stream"] = False
        resp = safe_request(session, "GET", hook["base"] + "/hook", **kwargs)
        assert read_capped(resp, 1) == (b"o", True)
        assert read_capped(resp, 10) == (b"ok", False)
    with pytest.raises(ValueError):
        read_capped(resp, -1)


@pytest.mark.parametrize(("env", "expected"), [
    ({}, URLPolicy()),
    ({"POSTDODO_WEBHOOK_ALLOW_PRIVATE": "1"}, URLPolicy(allow_private=True)),
    ({"POSTDODO_WEBHOOK_ALLOW_PRIVATE": " TRUE "}, URLPolicy(allow_private=True)),
    ({"POSTDODO_WEBHOOK_ALLOW_PRIVATE": "yes"}, URLPolicy(allow_private=True)),
    ({"POSTDODO_WEBHOOK_ALLOW_PRIVATE": "0"}, URLPolicy()),
    ({"POSTDODO_WEBHOOK_ALLOW_PRIVATE": "on"}, URLPolicy()),
    ({"POSTDODO_WEBHOOK_ALLOWED_HOSTS": "hook.test, Local.Test:8080  10.0.0.5,,"},
     URLPolicy(allowed_hosts=frozenset({"hook.test", "local.test:8080", "10.0.0.5"}))),
])
def test_policy_from_env(env: dict[str, str], expected: URLPolicy) -> None:
    assert policy_from_env(env) == expected
