"""docs/deployment.md names the metrics the code exports, and its alert rules are valid rule files."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from prometheus_client.parser import text_string_to_metric_families

from postdodo_connect.api.metrics import http_metrics
from postdodo_connect.engine.metrics import EngineCollector, engine_metrics
from postdodo_connect.metrics import exposition
from postdodo_connect.storage import heartbeat
from tests.support.factory import Api

DOC = (Path(__file__).resolve().parents[2] / "docs" / "deployment.md").read_text()


def yaml_blocks() -> list[dict[str, object]]:
    return [yaml.safe_load(block) for block in re.findall(r"```yaml\n(.*?)```", DOC, re.S)]


def exported(api: Api, redis_url: str) -> set[str]:
    """Every metric name the service exports (counters with their _total), labelled ones included."""
    from redis import Redis

    http_metrics(), engine_metrics()
    with api.db.write() as conn:
        heartbeat.beat(conn, api.service.clock())
    text, _ = exposition(EngineCollector(api.db, api.service.clock, Redis.from_url(redis_url)))
    return {f.name + "_total" if f.type == "counter" else f.name
            for f in text_string_to_metric_families(text.decode()) if f.name.startswith("postdodo_")}


def test_the_metrics_table_lists_exactly_what_is_exported(api: Api, redis_url: str) -> None:
    table = set(re.findall(r"^\| `(postdodo_[a-z_]+)` \|", DOC, re.M))
    assert table == exported(api, redis_url)


def test_alert_rules_parse_and_use_documented_metrics() -> None:
    scrape, rules = yaml_blocks()
    assert scrape["scrape_configs"][0]["job_name"] == "postdodo"  # type: ignore[index]
    alerts = rules["groups"][0]["rules"]  # type: ignore[index]
    assert len(alerts) == 3 and all({"alert", "expr", "for"} <= set(rule) for rule in alerts)
    table = set(re.findall(r"^\| `(postdodo_[a-z_]+)` \|", DOC, re.M))
    for rule in alerts:
        used = set(re.findall(r"postdodo_[a-z_]+", rule["expr"]))
        assert used and used <= table, rule["alert"]
