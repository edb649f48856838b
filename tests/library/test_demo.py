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
