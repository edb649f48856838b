"""API throughput under gunicorn (2 sync workers) against two baselines measured in the same run.

Run: ``python tests/bench/bench_api.py [--seconds 5] [--rounds 1]``.
Baselines: the same work written by hand in plain Flask + stdlib sqlite3 (tests/bench/handwritten_app.py, same
SQLite file, same gunicorn settings; goal create and GET each >= 0.8x), and a bare Flask JSON endpoint
(tests/bench/bare_app.py). Each round measures every app again, so the ratios of one round share the box's mood.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.bench.harness import ROOT, gunicorn, load  # noqa: E402
from tests.support.factory import SECRET, make_api  # noqa: E402


def measure(app: str, env: dict[str, str], create_url: str, get_url: str, auth: dict[str, str], body: dict,
            seconds: int) -> tuple[float, float]:
    """(create req/s, GET req/s) of one app under gunicorn."""
    with gunicorn(app, env) as url:
        load(url + get_url, headers=auth, seconds=1)  # warm-up: imports, connections, compiled statements
        create = load(url + create_url, method="POST", body=body, headers=auth, seconds=seconds)
        get = load(url + get_url, headers=auth, seconds=seconds)
    return create, get


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp())
    db_url = f"sqlite:///{workdir / 'bench.db'}"
    api = make_api(db_url)
    key = api.new_key("bench")
    accounts = [api.sandbox_account(key, p)["id"] for p in ("bluesky", "mastodon")]
    body = {"caption": "Benchmark post with a link https://example.com and an emoji 🎉", "account_ids": accounts,
            "scheduled_at": "2099-01-01T00:00:00Z"}
    post_id = api.call("POST", "/v1/posts", key, json=body).get_json()["id"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("POSTDODO_")}
    env |= {"POSTDODO_DATABASE_URL": db_url, "POSTDODO_SECRET_KEY": SECRET, "POSTDODO_RATE_LIMIT": "100000000/minute",
            "PYTHONPATH": str(ROOT)}
    auth = {"Authorization": f"Bearer {key}"}
    get_url = f"/v1/posts/{post_id}"
    for n in range(1, args.rounds + 1):
        bare = measure("tests.bench.bare_app:app", env, "/bare", "/bare", {}, body, args.seconds)
        hand = measure("tests.bench.handwritten_app:app", env, "/v1/posts", get_url, auth, body, args.seconds)
        ours = measure("postdodo_connect.api:create_app()", env, "/v1/posts", get_url, auth, body, args.seconds)
        print(f"round {n}: req/s create: ours {ours[0]:6.0f}  hand-written {hand[0]:6.0f}  bare POST {bare[0]:6.0f}"
              f"   GET: ours {ours[1]:6.0f}  hand-written {hand[1]:6.0f}  bare GET {bare[1]:6.0f}")
        print(f"round {n}: create / hand-written {ours[0] / hand[0]:.2f}x   GET / hand-written {ours[1] / hand[1]:.2f}x"
              f"   (goal >= 0.8x each)")
        print(f"round {n}: create / bare POST {ours[0] / bare[0]:.2f}x   GET / bare GET {ours[1] / bare[1]:.2f}x",
              flush=True)


if __name__ == "__main__":
    main()
