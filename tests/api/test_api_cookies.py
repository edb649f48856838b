"""The API is authenticated by key alone: the dashboard's session cookie is neither read nor written on /v1."""

from __future__ import annotations

from tests.support.factory import Api


def test_an_api_answer_never_refreshes_the_dashboard_cookie_a_browser_sent(api: Api, key: str) -> None:
    app = api.app
    signer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    client = api.client()
    client.set_cookie("postdodo_session", signer.dumps({"csrf": "token", "_permanent": True}))
    answer = client.get("/v1/accounts", headers={"Authorization": f"Bearer {key}"})
    assert answer.status_code == 200
    assert "Set-Cookie" not in answer.headers
    assert "Cookie" not in answer.headers.get("Vary", "")  # a cache may share an API answer between browsers
    page = client.get("/login")  # the dashboard still reads the same cookie, and refreshes it
    assert page.status_code == 200 and "postdodo_session=" in page.headers["Set-Cookie"]
