"""`postdodo serve` as a user runs it: the key file appears beside the database; a wrong or lost key stops the start."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

from tests.support.server import free_port, start_server


def serve_once(workdir: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run `postdodo serve` expecting it to refuse to start (it would otherwise run until the timeout)."""
    return subprocess.run([sys.executable, "-m", "postdodo_connect", "serve", "--port", str(free_port())],
                          cwd=workdir, env=env, capture_output=True, text=True, timeout=60)


def test_a_changed_or_lost_key_is_refused_at_start_and_the_right_one_starts(tmp_path: Path) -> None:
    server = start_server(tmp_path, extra_env={"POSTDODO_WEBHOOK_ALLOW_PRIVATE": "1"})
    try:
        hook = server.session().post(f"{server.url}/v1/webhooks", json={"url": "http://127.0.0.1:9/hook"})
        assert hook.status_code == 201  # a sealed webhook secret is now in the database
    finally:
        server.stop()
    key_file = tmp_path / "postdodo.db.key"
    key = key_file.read_text().strip()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600 and len(key) >= 32
    assert key not in "".join(server.output)

    changed = serve_once(tmp_path, server.env | {"POSTDODO_SECRET_KEY": "not-the-key-of-this-database-0123"})
    assert changed.returncode == 2
    assert "the secret key (POSTDODO_SECRET_KEY) is not the key this database was sealed with" in changed.stderr
    assert "not-the-key-of-this-database" not in changed.stdout + changed.stderr

    key_file.rename(tmp_path / "backup.key")
    lost = serve_once(tmp_path, server.env)
    assert lost.returncode == 2
    assert "postdodo.db.key is missing" in lost.stderr
    assert not key_file.exists()

    (tmp_path / "backup.key").rename(key_file)
    again = start_server(tmp_path, extra_env={"POSTDODO_WEBHOOK_ALLOW_PRIVATE": "1"})
    try:
        assert again.session(server.key).get(f"{again.url}/v1/webhooks").json()["data"][0]["id"] == hook.json()["id"]
    finally:
        again.stop()
