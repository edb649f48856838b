"""API throughput under gunicorn (2 sync workers) as a ratio of a bare Flask JSON endpoint, same run.

Run: ``python tests/bench/bench_api.py [--seconds 5]``. Goals: create post ≥ 0.5×, GET post ≥ 0.7×.
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=5)
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
    with gunicorn("tests.bench.bare_app:app", env) as bare:
        load(bare + "/bare", seconds=1)  # warm-up
        bare_post = load(bare + "/bare", method="POST", body=body, seconds=args.seconds)
        bare_get = load(bare + "/bare", seconds=args.seconds)
    with gunicorn("postdodo_connect.api:create_app()", env) as url:
        load(url + f"/v1/posts/{post_id}", headers=auth, seconds=1)
        create = load(url + "/v1/posts", method="POST", body=body, headers=auth, seconds=args.seconds)
        get = load(url + f"/v1/posts/{post_id}", headers=auth, seconds=args.seconds)
    print(f"bare POST {bare_post:8.0f} req/s   create post {create:8.0f} req/s   ratio {create / bare_post:.2f}x (goal >= 0.5x)")
    print(f"bare GET  {bare_get:8.0f} req/s   get post    {get:8.0f} req/s   ratio {get / bare_get:.2f}x (goal >= 0.7x)")


if __name__ == "__main__":
    main()
