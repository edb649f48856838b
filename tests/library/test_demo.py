"""`postdodo demo` as a newcomer runs it: a subprocess in an empty directory, with a timeout."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

PLATFORMS = {"instagram", "bluesky", "mastodon", "x"}


def redis_reachable(url: str) -> bool:
    try:
        from redis import Redis

        return bool(Redis.from_url(url, socket_connect_timeout=0.3, socket_timeout=0.5).ping())
    except Exception:
        return False


def run_demo(workdir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("POSTDODO_")}
    return subprocess.run([sys.executable, "-m", "postdodo_connect", "demo", "--dir", str(workdir / "demo")],
                          cwd=workdir, env=clean | env, capture_output=True, text=True, timeout=120)


def assert_tour(result: subprocess.CompletedProcess[str], mode: str) -> None:
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert mode in out
    confirmed = dict(re.findall(r"^\s+confirmed\s+(\w+)\s+(https://\S+)$", out, re.M))
    assert set(confirmed) == PLATFORMS
    events = re.findall(r"^\s+event\s+post\.published (evt_\w+) for (\w+) arrived at the receiver \((\S+)\)$",
                        out, re.M)
    assert {platform for _, platform, _ in events} == PLATFORMS
    assert {platform: link for _, platform, link in events} == confirmed  # each event carries its permalink
    assert "done: 4/4 targets confirmed, 0 failed, 4 post.published events received" in out


@pytest.mark.slow
def test_demo_inline_receiver(tmp_path: Path) -> None:
    result = run_demo(tmp_path, POSTDODO_RECEIVER_REDIS_URL="redis://127.0.0.1:1/0")
    assert_tour(result, "inline jobs (no Redis reachable)")


@pytest.mark.slow
def test_demo_on_redis_with_an_in_process_worker(tmp_path: Path, redis_url: str) -> None:
    if not redis_reachable(redis_url):
        pytest.skip(f"no Redis at {redis_url}")
    result = run_demo(tmp_path, POSTDODO_RECEIVER_REDIS_URL=redis_url)
    assert_tour(result, "in-process RQ worker")


def test_demo_refuses_a_used_directory(tmp_path: Path) -> None:
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "postdodo-demo.db").write_text("")
    result = run_demo(tmp_path)
    assert result.returncode == 1 and "empty directory" in result.stderr


def fail(event: dict[str, object]) -> None:
    """An RQ job that fails (for the purge test)."""
    raise RuntimeError("no")


def test_purge_removes_the_queue_and_every_job(redis_url: str) -> None:
    from redis import Redis
    from rq import Queue, SimpleWorker
    from rq.serializers import JSONSerializer

    from postdodo_connect.cli.demo import purge

    if not redis_reachable(redis_url):
        pytest.skip(f"no Redis at {redis_url}")
    connection = Redis.from_url(redis_url)
    name = "postdodo-demo-purgetest"
    before = set(connection.keys("rq:*"))
    queue = Queue(name, connection=connection, serializer=JSONSerializer)
    queue.enqueue("postdodo_connect.cli.demo:on_published", {"id": "evt_1"}, result_ttl=600)
    queue.enqueue(f"{__name__}:fail", {"id": "evt_2"}, failure_ttl=600)
    SimpleWorker([queue], connection=connection, serializer=JSONSerializer).work(burst=True)
    queue.enqueue("postdodo_connect.cli.demo:on_published", {"id": "evt_3"})  # still waiting at the timeout
    assert {k for k in connection.keys("rq:*") if name.encode() in k}  # finished, failed, queued: all there
    purge(connection, name)
    left = set(connection.keys("rq:*")) - before
    assert not {k for k in left if not k.startswith(b"rq:worker")}, left  # nothing but the worker's own record
    connection.close()


@pytest.mark.slow
def test_demo_timing_out_leaves_nothing_in_redis(tmp_path: Path, redis_url: str) -> None:
    from redis import Redis

    if not redis_reachable(redis_url):
        pytest.skip(f"no Redis at {redis_url}")
    connection = Redis.from_url(redis_url)
    result = subprocess.run([sys.executable, "-m", "postdodo_connect", "demo", "--dir", str(tmp_path / "demo"),
                             "--timeout", "1"], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                            env={k: v for k, v in os.environ.items() if not k.startswith("POSTDODO_")}
                            | {"POSTDODO_RECEIVER_REDIS_URL": redis_url})
    assert "in-process RQ worker" in result.stdout, result.stdout + result.stderr
    queue_name = re.search(r"worker on (postdodo-demo-\w+)", result.stdout)
    assert queue_name is not None
    assert connection.keys(f"*{queue_name.group(1)}*") == []
    connection.close()
