"""The SSRF guard on webhook URLs: at registration, and again at connect time (DNS rebinding)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from .conftest import Env, Receiver, Reply

PUBLIC = "93.184.216.34"


class FakeDNS:
    """Answers from a table; `later` answers replace the table after the first lookup of a name."""

    def __init__(self, table: dict[str, list[str]], later: dict[str, list[str]] | None = None) -> None:
        self.table, self.later = table, later or {}
        self.lookups: list[str] = []

    def __call__(self, host: str, port: int) -> list[str]:
        seen = host in self.lookups
        self.lookups.append(host)
        answers = self.later.get(host) if seen and host in self.later else self.table.get(host)
        if answers is None:
            raise OSError(f"no such host {host}")
        return answers


DNS = {"hooks.example.com": [PUBLIC], "intranet.example.com": ["10.1.2.3"], "mixed.example.com": [PUBLIC, "10.0.0.9"],
       "loop.example.com": ["127.0.0.1"], "meta.example.com": ["169.254.169.254"], "v6meta.example.com": ["fd00:ec2::254"]}

REFUSED = [
    "http://127.0.0.1/hook", "http://[::1]/hook", "http://10.0.0.1/hook", "http://172.16.5.4/hook",
    "http://192.168.1.10/hook", "http://100.64.0.1/hook", "http://0.0.0.0/hook", "http://[fc00::1]/hook",
    "http://[fe80::1]/hook", "http://[::ffff:127.0.0.1]/hook", "http://2130706433/hook", "http://0x7f.0.0.1/hook",
    "http://169.254.169.254/latest/meta-data/", "http://metadata.google.internal/computeMetadata/v1/",
    "http://[fd00:ec2::254]/", "http://100.100.100.200/", "http://intranet.example.com/hook",
    "http://loop.example.com/hook", "http://mixed.example.com/hook", "http://meta.example.com/",
    "http://user:pass@hooks.example.com/hook", "ftp://hooks.example.com/hook", "file:///etc/passwd",
    "gopher://hooks.example.com/", "http://nowhere.example.com/hook",
]
METADATA = ["http://169.254.169.254/latest/meta-data/", "http://metadata.google.internal/", "http://[fd00:ec2::254]/",
            "http://meta.example.com/", "http://v6meta.example.com/", "http://[::ffff:169.254.169.254]/",
            "http://100.100.100.200/"]


@pytest.fixture
def strict(make_env: Callable[..., Env]) -> Env:
    """Private addresses refused, as in production."""
    return make_env(webhook_allow_private=False, resolver=FakeDNS(DNS))


@pytest.mark.parametrize("url", REFUSED)
def test_registration_refuses_non_public_urls(strict: Env, url: str) -> None:
    response = strict.call("POST", "/v1/webhooks", {"url": url})
    assert response.status_code == 400, url
    error = response.get_json()["error"]
    assert error["code"] == "url_not_allowed" and error["param"] == "url"
    assert "10.0.0.9" not in error["message"] and "10.1.2.3" not in error["message"]  # no DNS oracle
    assert strict.ok("GET", "/v1/webhooks")["data"] == []


def test_registration_accepts_public_urls(strict: Env) -> None:
    for url in ("https://hooks.example.com/hook", "http://hooks.example.com:8443/x?y=1", f"https://{PUBLIC}/"):
        assert strict.webhook(url)["url"] == url


@pytest.mark.parametrize("url", METADATA)
def test_metadata_is_refused_even_when_private_addresses_are_allowed(make_env: Callable[..., Env], url: str) -> None:
    env = make_env(webhook_allow_private=True, resolver=FakeDNS(DNS))
    response = env.call("POST", "/v1/webhooks", {"url": url})
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "url_not_allowed"


def test_allow_private_lets_local_receivers_register(make_env: Callable[..., Env]) -> None:
    env = make_env(webhook_allow_private=True, resolver=FakeDNS(DNS))
    for url in ("http://127.0.0.1:9000/hook", "http://intranet.example.com/hook", "http://[::1]:9000/"):
        assert env.webhook(url)["url"] == url


def test_the_allowlist_admits_only_the_named_hosts(make_env: Callable[..., Env]) -> None:
    env = make_env(webhook_allow_private=False, webhook_allowed_hosts=("intranet.example.com",),
                   resolver=FakeDNS(DNS))
    assert env.webhook("http://intranet.example.com/hook")["url"] == "http://intranet.example.com/hook"
    assert env.call("POST", "/v1/webhooks", {"url": "http://loop.example.com/hook"}).status_code == 400


def test_settings_come_from_the_environment() -> None:
    from postdodo_connect.config import Settings

    settings = Settings.from_env({"POSTDODO_WEBHOOK_ALLOW_PRIVATE": "1",
                                  "POSTDODO_WEBHOOK_ALLOWED_HOSTS": "a.internal, b.internal:8080"})
    assert settings.webhook_allow_private is True
    assert settings.webhook_allowed_hosts == ("a.internal", "b.internal:8080")


def rebinding_env(make_env: Callable[..., Env], receiver: Receiver, to: str = "127.0.0.1", **settings) -> tuple:
    """An endpoint whose name is public at registration and `to` at delivery time."""
    dns = FakeDNS({"rebind.example.com": [PUBLIC]}, later={"rebind.example.com": [to]})
    env = make_env(resolver=dns, **({"webhook_allow_private": False} | settings))
    endpoint = env.webhook(f"http://rebind.example.com:{receiver.port}/hook")
    return env, endpoint, dns


def test_rebinding_to_loopback_is_refused_at_connect_time(make_env: Callable[..., Env], receiver: Receiver) -> None:
    env, endpoint, dns = rebinding_env(make_env, receiver)
    env.emit()
    env.drain()
    assert dns.lookups == ["rebind.example.com", "rebind.example.com"]  # checked again when connecting
    assert receiver.hits == []  # nothing was sent
    [delivery] = env.ok("GET", f"/v1/webhooks/{endpoint['id']}/deliveries")["data"]
    [attempt] = delivery["log"]
    assert attempt["error"] == "url_refused" and attempt["status_code"] is None
    assert delivery["status"] == "pending"  # an ordinary failure: DNS may be fixed before the next attempt
    assert env.attempts(delivery["id"])[0]["response_body"] is None
    env.advance_to_next()
    assert receiver.hits == []


def test_rebinding_to_metadata_is_refused_even_with_private_allowed(make_env: Callable[..., Env],
                                                                    receiver: Receiver) -> None:
    env, endpoint, _ = rebinding_env(make_env, receiver, to="169.254.169.254", webhook_allow_private=True)
    env.emit()
    env.drain()
    assert env.attempts(env.delivery_rows()[0]["id"])[0]["error"] == "url_refused"


def test_test_events_pass_the_same_guard(make_env: Callable[..., Env], receiver: Receiver) -> None:
    env, endpoint, _ = rebinding_env(make_env, receiver)
    env.ok("POST", f"/v1/webhooks/{endpoint['id']}/test", status=202)
    env.drain()
    assert receiver.hits == []
    assert env.attempts(env.delivery_rows()[0]["id"])[0]["error"] == "url_refused"


def test_the_connection_goes_to_the_checked_address(make_env: Callable[..., Env], receiver: Receiver) -> None:
    # an allowlisted internal name: the socket goes to what the guard resolved, the Host header keeps the name
    dns = FakeDNS({"pinned.internal": ["127.0.0.1"]})
    env = make_env(webhook_allow_private=False, webhook_allowed_hosts=("pinned.internal",), resolver=dns)
    endpoint = env.webhook(f"http://pinned.internal:{receiver.port}/hook")
    env.emit()
    env.drain()
    [hit] = receiver.hits
    assert hit.headers["Host"] == f"pinned.internal:{receiver.port}"
    assert env.delivery_rows(endpoint["id"])[0]["status"] == "delivered"


def test_a_name_that_stops_resolving_is_a_dns_error_and_retried(make_env: Callable[..., Env],
                                                                  receiver: Receiver) -> None:
    dns = FakeDNS({"flaky.example.com": [PUBLIC]}, later={})
    env = make_env(webhook_allow_private=False, resolver=dns)
    env.webhook(f"http://flaky.example.com:{receiver.port}/hook")
    dns.table = {}
    env.emit()
    env.drain()
    row = env.delivery_rows()[0]
    assert env.attempts(row["id"])[0]["error"] == "dns_error" and row["status"] == "pending"


def test_a_redirect_to_metadata_is_never_followed(env: Env, receiver: Receiver) -> None:
    receiver.script = [Reply(302, {"Location": "http://169.254.169.254/latest/meta-data/"})]
    env.webhook(receiver.url)
    env.emit()
    env.drain()
    assert len(receiver.hits) == 1
    assert env.attempts(env.delivery_rows()[0]["id"])[0]["error"] == "http_302"


@pytest.mark.parametrize(("url", "hostport"), [("http://127.0.0.1:9000/hook", "127.0.0.1:9000"),
                                                ("http://[::1]/hook", "[::1]:80"),
                                                ("https://loop.example.com/hook", "loop.example.com:443")])
def test_a_private_url_refusal_says_how_the_server_allows_it(strict: Env, url: str, hostport: str) -> None:
    response = strict.call("POST", "/v1/webhooks", {"url": url})
    error = response.get_json()["error"]
    assert response.status_code == 400 and error["code"] == "url_not_allowed"
    assert "POSTDODO_WEBHOOK_ALLOW_PRIVATE=1" in error["message"]
    assert f"POSTDODO_WEBHOOK_ALLOWED_HOSTS={hostport}" in error["message"]


def test_a_metadata_refusal_offers_no_switch(strict: Env) -> None:
    message = strict.call("POST", "/v1/webhooks", {"url": "http://169.254.169.254/"}).get_json()["error"]["message"]
    assert "metadata" in message and "POSTDODO_WEBHOOK" not in message
