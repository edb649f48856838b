"""Whole flow as a user runs it: `postdodo serve` publishes a sandbox post and a local receiver gets it."""

from __future__ import annotations

import time

import pytest
from standardwebhooks.webhooks import Webhook

from postdodo_connect import signing
from tests.support.server import Server, wait_until

from .conftest import Receiver

pytestmark = pytest.mark.slow


def test_serve_delivers_post_published_to_a_local_receiver(live_server: Server, receiver: Receiver) -> None:
    http = live_server.session()
    api = live_server.url
    endpoint = http.post(f"{api}/v1/webhooks", json={"url": receiver.url, "events": ["post.published"]}).json()
    assert endpoint["secret"].startswith("whsec_")
    accounts = http.get(f"{api}/v1/accounts").json()["data"]
    bluesky = next(a for a in accounts if a["platform"] == "bluesky")
    post = http.post(f"{api}/v1/posts", json={"caption": "live webhook test", "account_ids": [bluesky["id"]]}).json()
    [hit] = receiver.wait_for(1, timeout=15)
    payload = hit.json()
    assert payload["event"] == "post.published"
    assert payload["data"]["post_id"] == post["id"] and payload["data"]["status"] == "confirmed"
    assert payload["data"]["permalink"].startswith("https://bsky.app/")
    assert signing.verify(endpoint["secret"], hit.headers, hit.body).event_id == payload["id"]
    standard = {k: v for k, v in hit.headers.items() if k.lower().startswith("webhook-")}
    assert Webhook(endpoint["secret"]).verify(hit.body, standard)["id"] == payload["id"]
    assert abs(int(hit.headers["X-PostDodo-Timestamp"]) - time.time()) < 60

    def delivered() -> list:
        data = http.get(f"{api}/v1/webhooks/{endpoint['id']}/deliveries").json()["data"]
        return data if data and data[0]["status"] == "delivered" else []

    [delivery] = wait_until(delivered, 10, what="the delivery log")
    assert delivery["event_id"] == payload["id"] and delivery["log"][0]["status_code"] == 200

    # test event and redelivery through the same running engine
    assert http.post(f"{api}/v1/webhooks/{endpoint['id']}/test").status_code == 202
    assert http.post(f"{api}/v1/events/{payload['id']}/redeliver").status_code == 202
    receiver.wait_for(3, timeout=15)
    kinds = sorted(h.json()["event"] for h in receiver.hits[1:])
    assert kinds == ["post.published", "webhook.test"]
    assert {h.json()["id"] for h in receiver.hits if h.json()["event"] == "post.published"} == {payload["id"]}
    http.delete(f"{api}/v1/webhooks/{endpoint['id']}")
