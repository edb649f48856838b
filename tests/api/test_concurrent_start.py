"""Scaled mode's first start: eight API processes at once on one PostgreSQL, before and after `postdodo migrate`."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from sqlalchemy import inspect

from postdodo_connect.storage import Database, migrate
from tests.support.databases import scratch_database
from tests.support.server import free_port, wait_until

PROCESSES = 8
HEAD = migrate.head_revision()
BEHIND = f"error: database at revision none, this code needs {HEAD}: run `postdodo migrate`"


@contextmanager
def api_processes(url: str, logs: Path) -> Iterator[list[tuple[subprocess.Popen[bytes], int, Path]]]:
    """Eight `gunicorn 'postdodo_connect.api:create_app()'` started together, each on its own port."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("POSTDODO_")}
    env |= {"POSTDODO_DATABASE_URL": url, "POSTDODO_SECRET_KEY": "test-secret-key-0123456789"}
    started = []
    for i in range(PROCESSES):
        port, log = free_port(), logs / f"api-{i}.log"
        with log.open("wb") as out:
            started.append((subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-w", "1", "-b", f"127.0.0.1:{port}",
                 "postdodo_connect.api:create_app()"], env=env, stdout=out, stderr=subprocess.STDOUT), port, log))
    try:
        yield started
    finally:
        for process, _, _ in started:
            process.terminate()
        for process, _, _ in started:
            process.wait(timeout=60)


def healthy(port: int) -> bool:
    try:
        return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
    except requests.RequestException:
        return False


@pytest.mark.slow
def test_eight_api_processes_start_at_once_on_a_migrated_postgresql(pg_url: str, tmp_path: Path) -> None:
    with scratch_database(pg_url, "scaled") as url:
        db = Database(url)
        migrate.upgrade(db)
        db.dispose()
        with api_processes(url, tmp_path) as started:
            for process, port, log in started:
                wait_until(lambda p=port, proc=process: healthy(p) or proc.poll() is not None,  # type: ignore[misc]
                           timeout=120, interval=0.1, what=f"API process on {port}")
                assert process.poll() is None, log.read_text()
        for _, _, log in started:
            text = log.read_text()
            assert "Traceback" not in text and "Booting worker" in text, text


@pytest.mark.slow
def test_on_an_unmigrated_postgresql_they_all_refuse_with_one_line(pg_url: str, tmp_path: Path) -> None:
    with scratch_database(pg_url, "scaled") as url, api_processes(url, tmp_path) as started:
        codes = [process.wait(timeout=120) for process, _, _ in started]
        logs = [log.read_text() for _, _, log in started]
        db = Database(url)
        with db.read() as conn:
            assert inspect(conn).get_table_names() == []  # nobody ran DDL
        db.dispose()
    assert codes == [4] * PROCESSES, logs
    for text in logs:
        assert text.count(BEHIND) == 1 and "Traceback" not in text, text
