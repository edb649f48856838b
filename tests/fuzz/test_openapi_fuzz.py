"""schemathesis over the served OpenAPI document: no server error and no answer the document does not describe.

Bounded: FUZZ_EXAMPLES cases per operation and generation mode (schema-valid and schema-invalid), on SQLite and
PostgreSQL. POSTDODO_FUZZ_EXAMPLES raises it for a longer local run.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from postdodo_connect.api.openapi import document
from tests.support.factory import Api, make_api

FUZZ_EXAMPLES = int(os.environ.get("POSTDODO_FUZZ_EXAMPLES", "40"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          negative_data_rejection]


@pytest.fixture(params=["sqlite", "postgresql"])
def served(request: pytest.FixtureRequest, tmp_path: Path, pg_url: str) -> tuple[Api, str]:
    """The API with one workspace holding an account, a post and a webhook endpoint, and its key."""
    url = f"sqlite:///{tmp_path / 'fuzz.db'}" if request.param == "sqlite" else pg_url
    api = make_api(url, rate_limit="1000000/minute", rate_limit_anonymous="1000000/minute")
    api.app.config["WEBHOOK_RESOLVER"] = lambda host, port: ["93.184.216.34"]  # a public address, no DNS
    key = api.new_key("fuzz")
    account = api.sandbox_account(key)
    assert api.call("POST", "/v1/posts", key, json={"caption": "seed", "account_ids": [account["id"]],
                                                     "scheduled_at": "2999-01-01T00:00:00Z"}).status_code == 201
    assert api.call("POST", "/v1/webhooks", key, json={"url": "https://hooks.example.com/in"}).status_code == 201
    return api, key


# the document GET /v1/openapi.json serves (tests/api/test_openapi.py checks that it is); each case is sent
# to the app of its database (`from_fixture` would load it per test, but breaks on pytest 9)
schema = schemathesis.openapi.from_dict(document())


@schema.parametrize()
@settings(max_examples=FUZZ_EXAMPLES, deadline=None, derandomize=True, database=None,
          phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
def test_no_server_error_and_no_undocumented_answer(case: Any, served: tuple[Api, str]) -> None:
    api, key = served
    checks = CHECKS
    if case.operation.path == "/v1/posts/validate":
        # a dry run answers 200 with `valid: false` and a rule id per problem: platform options are checked
        # by those rules (`x.options.reply_settings`), so a bad option is refused in the body, not by status
        checks = [check for check in CHECKS if check is not negative_data_rejection]
    case.call_and_validate(app=api.app, headers={"Authorization": f"Bearer {key}"}, checks=checks)


def test_the_fuzzed_document_is_the_served_one(tmp_path: Path) -> None:
    api = make_api(f"sqlite:///{tmp_path / 'doc.db'}")
    assert api.call("GET", "/v1/openapi.json").get_json() == schema.raw_schema
