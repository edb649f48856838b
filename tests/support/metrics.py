"""Read a Prometheus text exposition the way a scraper does."""

from __future__ import annotations

from typing import Any

from prometheus_client.parser import text_string_to_metric_families


def sample(text: str, name: str, **labels: str) -> float:
    """The sum of the samples `name` whose labels include `labels`; 0 when none (a counter not yet bumped)."""
    found = 0.0
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                found += s.value
    return found


def label_values(text: str, name: str, label: str) -> set[str]:
    """Every value `label` takes on the samples of `name`."""
    return {s.labels[label] for family in text_string_to_metric_families(text) for s in family.samples
            if s.name == name and label in s.labels}


def scrape(client: Any) -> str:
    """GET /metrics through a Flask test client, checked as a scraper would."""
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain")
    return str(response.get_data(as_text=True))
