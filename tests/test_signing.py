"""Tests for postdodo_connect.signing: golden vectors, library cross-checks, every failure."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import standardwebhooks
from werkzeug.datastructures import Headers

from postdodo_connect import signing
from postdodo_connect.errors import ConfigurationError, SignatureError
from postdodo_connect.signing import Verified

VECTORS_PATH = Path(__file__).parent / "data" / "signing_vectors.json"
VECTORS: list[dict[str, Any]] = json.loads(VECTORS_PATH.read_text(encoding="utf-8"))

SECRET = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
OTHER = "whsec_ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1+f4CBgoOEhYaHiImKi4yNjo+QkZKTlJWWl5iZmpucnZ6foKGiow=="
NOW = 1_732_780_800
BODY = b'{"event":"post.published","id":"evt_1","data":{"post_id":"post_1"}}'


def headers_for(
    secrets: list[str] | None = None, event_id: str = "evt_1", timestamp: int = NOW, body: bytes = BODY
) -> dict[str, str]:
    """Branded headers only, as a plain dict."""
    full = signing.delivery_headers(secrets or [SECRET], event_id, timestamp, body)
    return {k: v for k, v in full.items() if k.startswith("X-")}


def reason_of(exc_info: pytest.ExceptionInfo[SignatureError]) -> str:
    """The reason attribute of a raised SignatureError."""
    return exc_info.value.reason  # type: ignore[attr-defined, no-any-return]


# --- golden vectors -------------------------------------------------------------------------


def test_vectors_file_is_a_list_of_complete_objects() -> None:
    assert len(VECTORS) >= 3
    for vector in VECTORS:
        assert {"secret", "id", "timestamp", "body", "signature"} <= set(vector)


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_golden_vector_sign(vector: dict[str, Any]) -> None:
    body = vector["body"].encode("utf-8")
    assert signing.sign(vector["secret"], vector["id"], vector["timestamp"], body) == vector["signature"]


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_golden_vector_verify(vector: dict[str, Any]) -> None:
    headers = {
        "webhook-id": vector["id"],
        "webhook-timestamp": str(vector["timestamp"]),
        "webhook-signature": vector["signature"],
    }
    result = signing.verify(vector["secret"], headers, vector["body"].encode(), now=vector["timestamp"])
    assert result == Verified(vector["id"], vector["timestamp"])
    # str bodies are accepted too
    assert signing.verify(vector["secret"], headers, vector["body"], now=vector["timestamp"]).event_id == vector["id"]


# --- secrets --------------------------------------------------------------------------------


def test_generate_secret_shape_and_uniqueness() -> None:
    first, second = signing.generate_secret(), signing.generate_secret()
    assert first.startswith("whsec_") and first != second
    assert len(signing.decode_secret(first)) == 32


def test_decode_secret_with_and_without_prefix_and_whitespace() -> None:
    key = bytes(range(32))
    assert signing.decode_secret(SECRET) == key
    assert signing.decode_secret(SECRET.removeprefix("whsec_")) == key
    assert signing.decode_secret(f"  {SECRET}\n") == key


@pytest.mark.parametrize(
    "bad",
    [
        "whsec_AA",  # 1 byte: the standardwebhooks library accepts this
        "whsec_" + base64.b64encode(b"x" * 23).decode(),
        "whsec_" + base64.b64encode(b"x" * 65).decode(),
        "whsec_not base64!!",
        "v1,whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",  # signature pasted as secret
        "",
    ],
)
def test_decode_secret_refuses_bad_secrets(bad: str) -> None:
    with pytest.raises(ConfigurationError):
        signing.decode_secret(bad)


def test_error_message_never_contains_the_secret() -> None:
    with pytest.raises(ConfigurationError) as exc_info:
        signing.decode_secret("whsec_c2VjcmV0")
    assert "c2VjcmV0" not in str(exc_info.value)


def test_short_secret_refused_by_sign_and_verify() -> None:
    with pytest.raises(ConfigurationError):
        signing.sign("whsec_AA", "evt_1", NOW, BODY)
    with pytest.raises(ConfigurationError):
        signing.verify("whsec_AA", headers_for(), BODY, now=NOW)


def test_verify_with_no_secrets_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError):
        signing.verify([], headers_for(), BODY, now=NOW)


# --- headers --------------------------------------------------------------------------------


def test_delivery_headers_carry_both_name_sets() -> None:
    headers = signing.delivery_headers([SECRET], "evt_1", NOW, BODY)
    assert set(headers) == {
        "X-PostDodo-Id",
        "X-PostDodo-Timestamp",
        "X-PostDodo-Signature",
        "webhook-id",
        "webhook-timestamp",
        "webhook-signature",
    }
    assert headers["X-PostDodo-Id"] == headers["webhook-id"] == "evt_1"
    assert headers["X-PostDodo-Timestamp"] == headers["webhook-timestamp"] == str(NOW)
    assert headers["X-PostDodo-Signature"] == headers["webhook-signature"] == signing.sign(SECRET, "evt_1", NOW, BODY)


def test_signature_header_one_per_secret() -> None:
    header = signing.signature_header([SECRET, OTHER], "evt_1", NOW, BODY)
    assert header.split(" ") == [signing.sign(SECRET, "evt_1", NOW, BODY), signing.sign(OTHER, "evt_1", NOW, BODY)]


def test_verify_reads_branded_standard_and_any_case() -> None:
    full = signing.delivery_headers([SECRET], "evt_1", NOW, BODY)
    standard = {k: v for k, v in full.items() if k.startswith("webhook-")}
    upper = {k.upper(): v for k, v in full.items() if k.startswith("X-")}
    for headers in (full, standard, upper, Headers(list(standard.items())), Headers(list(upper.items()))):
        assert signing.verify(SECRET, headers, BODY, now=NOW) == Verified("evt_1", NOW)  # type: ignore[arg-type]


# --- cross-check with the standardwebhooks library ----------------------------------------


def test_our_signature_verifies_with_standardwebhooks() -> None:
    now = int(time.time())
    headers = signing.delivery_headers([SECRET], "evt_cross", now, BODY)
    payload = standardwebhooks.Webhook(SECRET).verify(BODY, headers)
    assert payload["event"] == "post.published"


def test_standardwebhooks_signature_verifies_with_ours() -> None:
    now = int(time.time())
    theirs = standardwebhooks.Webhook(SECRET).sign("msg_theirs", datetime.fromtimestamp(now, tz=UTC), BODY.decode())
    headers = {"webhook-id": "msg_theirs", "webhook-timestamp": str(now), "webhook-signature": theirs}
    assert signing.verify(SECRET, headers, BODY) == Verified("msg_theirs", now)


# --- rotation -------------------------------------------------------------------------------


def test_rotation_second_signature_matches() -> None:
    headers = headers_for([OTHER, SECRET])
    assert signing.verify(SECRET, headers, BODY, now=NOW).event_id == "evt_1"


def test_rotation_list_of_two_secrets() -> None:
    headers = headers_for([OTHER])
    assert signing.verify([SECRET, OTHER], headers, BODY, now=NOW).event_id == "evt_1"


def test_unknown_versions_are_ignored() -> None:
    headers = headers_for()
    headers["X-PostDodo-Signature"] = "v1a,c29tZXRoaW5n v2,xyz " + headers["X-PostDodo-Signature"]
    assert signing.verify(SECRET, headers, BODY, now=NOW).timestamp == NOW


# --- failures -------------------------------------------------------------------------------


def test_bad_signature() -> None:
    headers = headers_for()
    with pytest.raises(SignatureError) as exc_info:
        signing.verify(SECRET, headers, BODY + b" ", now=NOW)
    assert reason_of(exc_info) == "bad_signature"


def test_wrong_secret() -> None:
    with pytest.raises(SignatureError) as exc_info:
        signing.verify(OTHER, headers_for(), BODY, now=NOW)
    assert reason_of(exc_info) == "bad_signature"


def test_tampered_id_or_timestamp() -> None:
    for name, value in (("X-PostDodo-Id", "evt_2"), ("X-PostDodo-Timestamp", str(NOW + 1))):
        headers = headers_for()
        headers[name] = value
        with pytest.raises(SignatureError) as exc_info:
            signing.verify(SECRET, headers, BODY, now=NOW)
        assert reason_of(exc_info) == "bad_signature"


def test_only_unknown_versions_is_a_bad_signature() -> None:
    headers = headers_for()
    headers["X-PostDodo-Signature"] = "v1a,c29tZXRoaW5n"
    with pytest.raises(SignatureError) as exc_info:
        signing.verify(SECRET, headers, BODY, now=NOW)
    assert reason_of(exc_info) == "bad_signature"


def test_stale_and_future_are_distinct() -> None:
    headers = headers_for()
    with pytest.raises(SignatureError) as stale:
        signing.verify(SECRET, headers, BODY, now=NOW + 301)
    with pytest.raises(SignatureError) as future:
        signing.verify(SECRET, headers, BODY, now=NOW - 301)
    assert (reason_of(stale), reason_of(future)) == ("stale", "future")
    # exactly at the tolerance both ways is still accepted
    assert signing.verify(SECRET, headers, BODY, now=NOW + 300).timestamp == NOW
    assert signing.verify(SECRET, headers, BODY, now=NOW - 300).timestamp == NOW


def test_tolerance_is_configurable() -> None:
    headers = headers_for()
    assert signing.verify(SECRET, headers, BODY, now=NOW + 3000, tolerance=3600).event_id == "evt_1"
    with pytest.raises(SignatureError):
        signing.verify(SECRET, headers, BODY, now=NOW + 11, tolerance=10)


@pytest.mark.parametrize("missing", ["X-PostDodo-Id", "X-PostDodo-Timestamp", "X-PostDodo-Signature"])
def test_missing_each_branded_header(missing: str) -> None:
    headers = headers_for()
    del headers[missing]
    with pytest.raises(SignatureError) as exc_info:
        signing.verify(SECRET, headers, BODY, now=NOW)
    assert reason_of(exc_info) == "missing_header"


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_missing_each_standard_header(missing: str) -> None:
    full = signing.delivery_headers([SECRET], "evt_1", NOW, BODY)
    headers = {k: v for k, v in full.items() if k.startswith("webhook-") and k != missing}
    with pytest.raises(SignatureError) as exc_info:
        signing.verify(SECRET, headers, BODY, now=NOW)
    assert reason_of(exc_info) == "missing_header"


def test_no_headers_and_empty_header() -> None:
    with pytest.raises(SignatureError) as exc_info:
        signing.verify(SECRET, {}, BODY, now=NOW)
    assert reason_of(exc_info) == "missing_header"
    headers = headers_for()
    headers["X-PostDodo-Signature"] = "   "
    with pytest.raises(SignatureError) as exc_info:
        signing.verify(SECRET, headers, BODY, now=NOW)
    assert reason_of(exc_info) == "missing_header"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("X-PostDodo-Timestamp", "abc"),
        ("X-PostDodo-Timestamp", "1732780800.5"),
        ("X-PostDodo-Timestamp", "-1732780800"),
        ("X-PostDodo-Timestamp", "+1732780800"),
        ("X-PostDodo-Timestamp", "1_732_780_800"),
        ("X-PostDodo-Timestamp", "١٧٣٢٧٨٠٨٠٠"),  # non-ASCII digits that int() would accept
        ("X-PostDodo-Timestamp", "9" * 40),
        ("X-PostDodo-Signature", "garbage"),
        ("X-PostDodo-Signature", "v1,"),
        ("X-PostDodo-Signature", ",abc"),
        ("X-PostDodo-Signature", "v1,!!!"),
        ("X-PostDodo-Signature", "v1,abc"),  # bad padding
        ("X-PostDodo-Signature", "v1a,abc v1,xx,yy"),
        ("X-PostDodo-Signature", "v1,c2ln\u00e9"),  # non-ASCII
        ("X-PostDodo-Id", "evt_\u00e9"),
        ("X-PostDodo-Id", "evt\x00"),
        ("X-PostDodo-Id", "e" * 300),
    ],
)
def test_malformed_headers(name: str, value: str) -> None:
    headers = headers_for()
    headers[name] = value
    with pytest.raises(SignatureError) as exc_info:
        signing.verify(SECRET, headers, BODY, now=NOW)
    assert reason_of(exc_info) == "malformed_header"


def test_non_utf8_body() -> None:
    body = b'{"event":"post.published","x":"\xff\xfe"}'
    headers = headers_for(body=body)
    with pytest.raises(SignatureError) as exc_info:
        signing.verify(SECRET, headers, body, now=NOW)
    assert reason_of(exc_info) == "bad_signature"


def test_fuzzed_headers_only_raise_signature_error() -> None:
    # Deterministic fuzz: nothing but SignatureError may escape, whatever the header holds.
    import random

    rng = random.Random(1234)
    alphabet = "v1a,= +/\t\x7fé0123456789abcXYZ!-_."
    good = headers_for()
    for _ in range(2000):
        headers = dict(good)
        name = rng.choice(list(headers))
        headers[name] = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        try:
            signing.verify(SECRET, headers, BODY, now=NOW)
        except SignatureError as exc:
            assert exc.reason in {"missing_header", "malformed_header", "bad_signature", "stale", "future"}  # type: ignore[attr-defined]


def test_public_api() -> None:
    assert sorted(signing.__all__) == signing.__all__
    assert set(signing.__all__) == {
        "Verified",
        "decode_secret",
        "delivery_headers",
        "generate_secret",
        "sign",
        "signature_header",
        "verify",
    }
