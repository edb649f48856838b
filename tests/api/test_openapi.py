"""The OpenAPI document is valid 3.1 and lists every route."""

from __future__ import annotations

from openapi_spec_validator import validate

from tests.support.factory import Api

ROUTES = {
    ("get", "/v1/accounts"), ("post", "/v1/accounts"), ("delete", "/v1/accounts/{id}"),
    ("post", "/v1/posts"), ("get", "/v1/posts"), ("get", "/v1/posts/{id}"), ("delete", "/v1/posts/{id}"),
    ("post", "/v1/posts/validate"), ("post", "/v1/webhooks"), ("get", "/v1/webhooks"),
    ("get", "/v1/webhooks/{id}"), ("delete", "/v1/webhooks/{id}"), ("post", "/v1/webhooks/{id}/rotate"),
    ("post", "/v1/webhooks/{id}/test"), ("get", "/v1/webhooks/{id}/deliveries"),
    ("post", "/v1/events/{id}/redeliver"), ("get", "/healthz"),
}


def test_document_is_valid_and_complete(api: Api) -> None:
    response = api.call("GET", "/v1/openapi.json")  # no key needed
    assert response.status_code == 200
    doc = response.get_json()
    validate(doc)
    assert doc["openapi"].startswith("3.1")
    listed = {(method, path) for path, ops in doc["paths"].items() for method in ops}
    assert ROUTES <= listed


def test_every_flask_route_is_documented(api: Api) -> None:
    doc = api.call("GET", "/v1/openapi.json").get_json()
    for rule in api.app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        path = rule.rule.replace("<post_id>", "{id}").replace("<account_id>", "{id}").replace(
            "<endpoint_id>", "{id}").replace("<event_id>", "{id}")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert method.lower() in doc["paths"].get(path, {}), f"{method} {path} missing from OpenAPI"
