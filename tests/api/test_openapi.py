"""The OpenAPI document is valid 3.1 and lists every route."""

from __future__ import annotations

import re

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
        if rule.endpoint in ("static", "posts.validate_other_methods"):  # (that one answers 405 to all)
            continue
        if rule.endpoint.startswith("dashboard."):  # the dashboard's HTML pages are no part of the API
            continue
        path = re.sub(r"<[^>]+>", "{id}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert method.lower() in doc["paths"].get(path, {}), f"{method} {path} missing from OpenAPI"


def test_parameters_are_as_exact_as_the_views(api: Api) -> None:
    doc = api.call("GET", "/v1/openapi.json").get_json()
    params = {p["name"]: p["schema"] for p in doc["paths"]["/v1/posts"]["get"]["parameters"]}
    assert (params["limit"]["minimum"], params["limit"]["maximum"]) == (1, 100)
    assert "published" in params["status"]["enum"]
    create = doc["paths"]["/v1/posts"]["post"]
    key = next(p["schema"] for p in create["parameters"] if p["name"] == "Idempotency-Key")
    assert (key["minLength"], key["maxLength"]) == (1, 255) and key["pattern"]
    schemas = doc["components"]["schemas"]
    assert "bluesky" in schemas["AccountCreate"]["properties"]["platform"]["enum"]
    url = schemas["Media"]["properties"]["url"]
    assert url["pattern"].startswith("^[Hh][Tt][Tt][Pp]") and (url["minLength"], url["maxLength"]) == (10, 2048)
    assert schemas["PostCreate"]["properties"]["caption"]["pattern"]
    assert set(doc["paths"]["/v1/posts/validate"]) == {"post"}


def test_validate_allows_only_post(api: Api) -> None:
    key = api.new_key("main")
    options = api.call("OPTIONS", "/v1/posts/validate", key)
    assert set(options.headers["Allow"].split(", ")) == {"OPTIONS", "POST"}
    for method in ("GET", "DELETE"):
        response = api.call(method, "/v1/posts/validate", key)
        assert response.status_code == 405
        assert response.get_json()["error"]["code"] == "method_not_allowed"
        assert set(response.headers["Allow"].split(", ")) == {"OPTIONS", "POST"}


def test_limit_takes_ascii_digits_from_1_to_100(api: Api) -> None:
    key = api.new_key("main")
    for good in ("1", "100", "020"):
        assert api.call("GET", f"/v1/posts?limit={good}", key).status_code == 200
    for bad in ("0", "101", "-1", "+5", "1_0", "%205", "\u0665", "1e1", ""):
        response = api.call("GET", f"/v1/posts?limit={bad}", key)
        assert response.status_code == 400, bad
        assert response.get_json()["error"]["param"] == "limit"


def test_unknown_query_parameters_are_refused(api: Api) -> None:
    key = api.new_key("main")
    for path in ("/v1/posts?stauts=failed", "/v1/events?limit=5&postid=p", "/v1/posts?=x"):
        response = api.call("GET", path, key)
        assert response.status_code == 400, path
        assert "unknown query parameter" in response.get_json()["error"]["message"]
    assert api.call("GET", "/v1/posts?status=&cursor=&account_id=", key).status_code == 200  # empty: no filter
