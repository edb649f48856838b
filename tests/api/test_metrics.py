"""GET /metrics counts requests by route template and status, as a Prometheus server scrapes it."""

from __future__ import annotations

from pathlib import Path

from tests.support.factory import Api, make_api
from tests.support.metrics import label_values, sample, scrape


def test_requests_are_counted_by_route_template_not_raw_path(api: Api, key: str) -> None:
    before = scrape(api.client())
    for post_id in ("post_aaa", "post_bbb", "post_ccc"):
        assert api.call("GET", f"/v1/posts/{post_id}", key).status_code == 404
    api.call("GET", "/no/such/route/post_secret")
    api.call("BREW", "/v1/posts/post_aaa", key)  # an invented verb must not mint series either
    after = scrape(api.client())

    def delta(**labels: str) -> float:
        return sample(after, "postdodo_http_requests_total", **labels) - sample(
            before, "postdodo_http_requests_total", **labels)

    assert delta(method="GET", route="/v1/posts/<post_id>", status="404") == 3
    assert delta(method="GET", route="<unmatched>", status="404") == 1
    routes = label_values(after, "postdodo_http_requests_total", "route")
    assert not any("post_aaa" in r or "post_secret" in r for r in routes)
    assert "BREW" not in label_values(after, "postdodo_http_requests_total", "method")
    assert delta(method="other", route="<unmatched>", status="405") == 1
    assert sample(after, "postdodo_http_request_duration_seconds_count", route="/v1/posts/<post_id>") >= 3


def test_a_refused_request_is_counted_with_its_status(api: Api) -> None:
    before = sample(scrape(api.client()), "postdodo_http_requests_total", route="/v1/accounts", status="401")
    assert api.call("GET", "/v1/accounts", "pd_test_wrong").status_code == 401
    after = sample(scrape(api.client()), "postdodo_http_requests_total", route="/v1/accounts", status="401")
    assert after == before + 1


def test_metrics_needs_no_key_and_is_never_rate_limited(tmp_path: Path) -> None:
    api = make_api(f"sqlite:///{tmp_path}/limited.db", rate_limit="1/minute")
    for _ in range(3):
        response = api.call("GET", "/metrics")
        assert response.status_code == 200 and "RateLimit-Remaining" not in response.headers
