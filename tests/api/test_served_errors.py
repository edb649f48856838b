"""Requests gunicorn refuses before the app sees them are still answered with the JSON error body."""

from __future__ import annotations

import socket

import requests

from tests.support.server import Server


def assert_json_error(response: requests.Response, status: int, code: str) -> None:
    assert response.status_code == status
    assert response.headers["Content-Type"] == "application/json"
    assert "<html" not in response.text
    error = response.json()["error"]
    assert (error["code"], error["request_id"]) == (code, None)
    assert error["message"]


def test_a_too_long_url_is_a_json_414(live_server: Server) -> None:
    response = live_server.session().get(f"{live_server.url}/v1/posts", params={"account_id": "a" * 5000}, timeout=5)
    assert_json_error(response, 414, "uri_too_long")
    assert "aaaa" not in response.text  # the refused request is not echoed


def test_too_many_or_too_large_headers_are_a_json_431(live_server: Server) -> None:
    for headers in ({f"X-Filler-{n}": "x" for n in range(150)}, {"X-Big": "x" * 9000}):
        response = live_server.session().get(f"{live_server.url}/v1/posts", headers=headers, timeout=5)
        assert_json_error(response, 431, "request_header_fields_too_large")
        assert live_server.key and live_server.key not in response.text


def test_a_malformed_request_line_is_a_json_400(live_server: Server) -> None:
    host, port = live_server.url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(b"GET /v1/posts HTTP/9.x\r\nHost: x\r\n\r\n")
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 ")
    assert b"Content-Type: application/json" in head
    assert b'"code": "invalid_request"' in body


def test_the_app_still_answers_normal_requests(live_server: Server) -> None:
    assert live_server.session().get(f"{live_server.url}/v1/posts", timeout=5).status_code == 200
