"""One webhook delivery attempt per job: sign, POST to the checked address, log it, schedule the next."""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from http.cookiejar import DefaultCookiePolicy
from typing import Any

import requests
from sqlalchemy import select

from .. import __version__, netguard, signing
from ..errors import UnsafeURLError
from ..httpdate import parse_retry_after
from ..redact import url_origin
from ..storage import Database, Vault
from ..storage import webhooks as store
from ..storage.events import envelope
from ..storage.schema import deliveries, events
from .metrics import observe_delivery
from .retry import RetryPolicy

log = logging.getLogger("postdodo.deliveries")

USER_AGENT = f"PostDodo-Webhooks/{__version__}"
BODY_KEPT = 64 * 1024  # bytes of a receiver's answer kept in the attempt log
CONNECT_TIMEOUT = 5.0
OVERLOAD_FLOOR = 60.0  # 429s and timeouts wait at least a minute: the receiver is struggling
MAX_RETRY_AFTER = 86_400.0  # a Retry-After is honoured up to the schedule's longest step
STEP_BACK = 0.25  # seconds a crowded endpoint's extra delivery waits before it is claimed again
OVERLOADED = frozenset({"timeout", "connect_timeout"})


@dataclass
class Outcome:
    """What one HTTP attempt produced."""

    status_code: int | None = None
    latency_ms: int = 0
    error: str | None = None
    body: str | None = None
    retry_after: float | None = None

    @property
    def ok(self) -> bool:
        """2xx is the only success; a redirect is a failure because it is never followed."""
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def error_class(self) -> str | None:
        """The short, stable failure class stored in the attempt log."""
        if self.ok:
            return None
        return self.error or f"http_{self.status_code}"


def private_session() -> requests.Session:
    """A session that keeps no cookies and reads no ~/.netrc: nothing leaks from one endpoint to another."""
    session = requests.Session()
    session.trust_env = False
    session.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
    session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    return session


class Deliverer:
    """Sends deliveries; the same code under threads and RQ workers."""

    def __init__(self, db: Database, vault: Vault, policy: RetryPolicy, url_policy: netguard.URLPolicy,
                 clock: Callable[[], datetime], *, timeout: float = 15.0, disable_after: float = 5 * 86400.0,
                 session: requests.Session | None = None, resolver: netguard.Resolver | None = None,
                 max_in_flight: int = 4) -> None:
        self.db, self.vault, self.policy, self.url_policy, self.clock = db, vault, policy, url_policy, clock
        self.timeout, self.disable_after = timeout, disable_after
        self.session = session or private_session()
        #: how the endpoint's host name is resolved at connect time (tests inject a fake)
        self.resolver = resolver
        #: in-flight deliveries one endpoint may hold while other endpoints have work (0: no limit)
        self.max_in_flight = max_in_flight

    def run(self, delivery_id: str, attempt: int) -> str:
        """Make attempt `attempt` of a delivery; returns the delivery's new status."""
        now = self.clock()
        with self.db.read() as conn:
            row = conn.execute(
                select(deliveries.c.id, deliveries.c.status, deliveries.c.attempts, deliveries.c.endpoint_id,
                       deliveries.c.created_at, deliveries.c.event_id, events.c.type,
                       events.c.created_at.label("event_created_at"), events.c.data)
                .join(events, events.c.id == deliveries.c.event_id).where(deliveries.c.id == delivery_id)
            ).first()
            if row is None or row.status != "delivering" or row.attempts != attempt:
                return "skipped"  # a stale job: canceled, or re-claimed after its lease ran out
            endpoint = store.load_endpoint(conn, row.endpoint_id)
            live = endpoint is not None and endpoint["status"] == "enabled" and endpoint["deleted_at"] is None
            crowded = live and self._crowded(conn, row, now)
        if endpoint is None or not live:
            with self.db.write() as conn:
                store.finish_delivery(conn, delivery_id, attempt, now, status="canceled", next_attempt_at=None)
            return "canceled"
        if crowded:
            with self.db.write() as conn:
                store.release_delivery(conn, delivery_id, attempt, now, now + timedelta(seconds=STEP_BACK))
            return "deferred"
        body = self.body(row)
        headers = self.headers(endpoint, row.event_id, now, body)
        outcome = self.post(endpoint["url"], body, headers, now)
        return self._record(row.id, endpoint["id"], attempt, outcome, now)

    @staticmethod
    def body(row: Any) -> bytes:
        """The envelope JSON, byte for byte what is signed and sent."""
        event = {"id": row.event_id, "type": row.type, "created_at": row.event_created_at, "data": row.data}
        return json.dumps(envelope(event), separators=(",", ":")).encode()

    def headers(self, endpoint: dict[str, Any], event_id: str, now: datetime, body: bytes) -> dict[str, str]:
        """Signature headers (branded and Standard Webhooks) for an attempt made at `now`."""
        headers = signing.delivery_headers(self.secrets(endpoint, now), event_id, int(now.timestamp()), body)
        return headers | {"Content-Type": "application/json", "User-Agent": USER_AGENT}

    def secrets(self, endpoint: dict[str, Any], now: datetime) -> list[str]:
        """The current secret, and the previous one while its rotation overlap lasts."""
        found = [self.vault.open(endpoint["secret"])]
        expires = endpoint["previous_expires_at"]
        if endpoint["previous_secret"] and expires is not None and expires > now:
            found.append(self.vault.open(endpoint["previous_secret"]))
        return found

    def post(self, url: str, body: bytes, headers: dict[str, str], now: datetime) -> Outcome:
        """One POST to the address the SSRF guard checked; never raises for network trouble."""
        out = Outcome()
        started = time.perf_counter()
        try:
            response = netguard.safe_request(self.session, "POST", url, policy=self.url_policy,
                                             resolver=self.resolver, data=body, headers=headers, stream=True,
                                             timeout=(min(CONNECT_TIMEOUT, self.timeout), self.timeout))
            with response:
                out.status_code = response.status_code
                out.retry_after = parse_retry_after(response.headers.get("Retry-After"), now)
                out.body = _read_body(response, BODY_KEPT, started + self.timeout)
        except UnsafeURLError as exc:
            # the reason stays in the server log: the attempt log must not map a tenant's network
            out.error = "dns_error" if "cannot resolve" in str(exc) else "url_refused"
            # scheme and host only: a webhook URL's path and query may be its credential (Zapier, Slack)
            log.warning("webhook delivery to %s refused: %s", url_origin(url), exc)
        except requests.ConnectTimeout:
            out.error = "connect_timeout"
        except requests.Timeout:
            out.error = "timeout"
        except requests.exceptions.SSLError:
            out.error = "tls_error"
        except requests.ConnectionError as exc:
            out.error = "connection_refused" if _caused_by(exc, ConnectionRefusedError) else "connection_error"
        except requests.RequestException as exc:
            out.error = f"request_error:{exc.__class__.__name__}"
        out.latency_ms = int((time.perf_counter() - started) * 1000)
        return out

    def _crowded(self, conn: Any, row: Any, now: datetime) -> bool:
        """True when this endpoint already holds its share of workers and other endpoints are waiting."""
        if self.max_in_flight <= 0:
            return False
        if store.busy_ahead(conn, row.endpoint_id, row.id, row.created_at) < self.max_in_flight:
            return False
        return store.others_waiting(conn, row.endpoint_id, now)

    def _record(self, delivery_id: str, endpoint_id: str, attempt: int, out: Outcome, started: datetime) -> str:
        """Log the attempt (at the time it started) and settle what happens next, in one transaction."""
        now = self.clock()  # retry delays count from the end of the attempt
        with self.db.write() as conn:
            store.record_attempt(conn, delivery_id, started, status_code=out.status_code, latency_ms=out.latency_ms,
                                 error=out.error_class, response_body=out.body)
            status, next_at = self._next(conn, endpoint_id, attempt, out, now)
            if not store.finish_delivery(conn, delivery_id, attempt, now, status=status, next_attempt_at=next_at,
                                         last_status_code=out.status_code):
                return "lost"
        observe_delivery(endpoint_id, out.ok)
        return status

    def _next(self, conn: Any, endpoint_id: str, attempt: int, out: Outcome,
              now: datetime) -> tuple[str, datetime | None]:
        """The delivery's next status and attempt time; disables the endpoint when it is gone or dead."""
        if out.ok:
            store.mark_healthy(conn, endpoint_id)
            return "delivered", None
        if out.status_code == 410:  # the receiver says this endpoint is gone for good
            self._disable(conn, endpoint_id, "the endpoint answered 410 Gone", now)
            return "failed", None
        failing_since = store.mark_failing(conn, endpoint_id, now)
        if (now - failing_since).total_seconds() >= self.disable_after:
            days = self.disable_after / 86400
            self._disable(conn, endpoint_id, f"every delivery failed for {days:g} days", now)
            return "failed", None
        overloaded = out.status_code == 429 or out.error in OVERLOADED
        hint = None if out.retry_after is None else min(out.retry_after, MAX_RETRY_AFTER)
        delay = self.policy.next_delay(attempt, hint, floor=OVERLOAD_FLOOR if overloaded else 0.0)
        if delay is None:
            return "failed", None
        return "pending", now + timedelta(seconds=delay)

    @staticmethod
    def _disable(conn: Any, endpoint_id: str, reason: str, now: datetime) -> None:
        if store.disable_endpoint(conn, endpoint_id, reason, now):
            log.warning("disabled webhook endpoint %s: %s", endpoint_id, reason)


def _read_body(response: requests.Response, limit: int, deadline: float) -> str:
    """Up to `limit` bytes of the answer, read until the attempt's deadline, as text."""
    buf = bytearray()
    try:
        for chunk in response.iter_content(chunk_size=16384):
            buf += chunk
            if len(buf) >= limit or time.perf_counter() > deadline:
                break
    except requests.RequestException:
        pass  # the status already arrived; a broken body does not change the outcome
    text = bytes(buf[:limit]).decode("utf-8", "replace")
    encoded = text.encode()
    # replacement characters take 3 bytes: cut again so the stored text stays within the limit
    return encoded[:limit].decode("utf-8", "ignore") if len(encoded) > limit else text


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    """True if `kind` is anywhere in the chain requests and urllib3 wrap around an error."""
    todo: list[Any] = [exc]
    seen: set[int] = set()
    while todo:
        item = todo.pop()
        if not isinstance(item, BaseException) or id(item) in seen:
            continue
        if isinstance(item, kind):
            return True
        seen.add(id(item))
        todo += [item.__cause__, item.__context__, getattr(item, "reason", None), *item.args]
    return False
