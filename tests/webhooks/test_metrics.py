"""Webhook deliveries on /metrics: attempts and failures per endpoint id, never its URL."""

from __future__ import annotations

from tests.support.metrics import sample, scrape
from tests.webhooks.conftest import Env, Receiver, Reply


def test_delivery_attempts_and_failures_per_endpoint_id(env: Env, receiver: Receiver) -> None:
    endpoint = env.webhook(receiver.url)
    receiver.script = [Reply(status=500)]  # the first attempt fails, the retry succeeds
    env.emit()
    env.drain()
    env.advance_to_next()
    assert env.delivery_rows(endpoint["id"])[0]["status"] == "delivered"
    text = scrape(env.app.test_client())
    assert sample(text, "postdodo_webhook_delivery_attempts_total", endpoint_id=endpoint["id"]) == 2
    assert sample(text, "postdodo_webhook_delivery_failures_total", endpoint_id=endpoint["id"]) == 1
    assert f":{receiver.port}" not in text and "/hook" not in text  # a hook URL is a credential: never a label
    assert sample(text, "postdodo_webhook_endpoints", status="enabled") == 1
