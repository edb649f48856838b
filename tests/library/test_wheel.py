"""The built wheel: it carries every file of the packages, its bare install (no extras) brings no server
dependency, and the client from that install creates and reads a post on a running `postdodo serve`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

from tests.support.server import Server

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("postdodo_connect", "receiver")
SERVER_DISTRIBUTIONS = {"flask", "sqlalchemy", "rq", "gunicorn", "redis", "cryptography", "limits", "regex",
                        "werkzeug", "alembic", "prometheus-client", "psycopg"}


def package_files() -> list[str]:
    """Every file of the packages in this checkout, as wheel paths (byte code aside)."""
    return sorted(path.relative_to(ROOT).as_posix() for package in PACKAGES for path in (ROOT / package).rglob("*")
                  if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel of this checkout, built from a copy (a build in place leaves a build/ tree that later builds reuse)."""
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    for package in PACKAGES:
        shutil.copytree(ROOT / package, source / package, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", str(out),
                    str(source)], check=True, capture_output=True, text=True, timeout=600)
    (built,) = out.glob("postdodo_connect-*.whl")
    return built


def test_wheel_carries_every_file_of_the_packages(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "postdodo_connect/py.typed" in names
    assert [name for name in package_files() if name not in names] == []


def test_wheel_requires_only_the_client_dependencies(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        (metadata_name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        metadata = Parser().parsestr(archive.read(metadata_name).decode())
    requires = metadata.get_all("Requires-Dist") or []
    bare = {req.split(";")[0].split("[")[0].split(">")[0].split("=")[0].strip().lower()
            for req in requires if "extra ==" not in req}
    assert bare == {"pydantic", "requests"}
    assert {"server", "receiver", "postgres", "dev"} <= set(metadata.get_all("Provides-Extra") or [])


def run(venv: Path, *argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """A program of ``venv``, away from the checkout (cwd and PYTHONPATH would shadow the installed package)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "POSTDODO_", "VIRTUAL_ENV"))}
    return subprocess.run([str(venv / "bin" / argv[0]), *argv[1:]], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)


CLIENT_SCRIPT = """
import json, sys
import postdodo_connect
from postdodo_connect import Client, automation, signing

url, key = sys.argv[1:]
with Client(key, base_url=url) as client:
    bluesky = next(a.id for a in client.accounts.list() if a.platform == "bluesky")
    created = client.posts.create("from a bare install", [bluesky])
    again = client.posts.get(created.id)
print(json.dumps({"id": again.id, "caption": again.caption, "accounts": [t.account_id for t in again.targets],
                  "module": postdodo_connect.__file__, "actions": len(automation.ACTIONS)}))
"""


def test_bare_install_uses_the_client_without_server_dependencies(wheel: Path, live_server: Server,
                                                                  tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    # this interpreter's pip installs into the new venv (pip's cache keeps the two base dependencies local)
    subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "--quiet",
                    str(wheel)], check=True, capture_output=True, text=True, timeout=600)

    listing = run(venv, "python", "-c", "import importlib.metadata as m, json; "
                  "print(json.dumps(sorted(d.metadata['Name'].lower() for d in m.distributions())))", cwd=tmp_path)
    installed = set(json.loads(listing.stdout))
    assert "postdodo-connect" in installed and {"pydantic", "requests"} <= installed
    assert installed & SERVER_DISTRIBUTIONS == set()

    used = run(venv, "python", "-c", CLIENT_SCRIPT, live_server.url, live_server.key or "", cwd=tmp_path)
    assert used.returncode == 0, used.stderr
    post = json.loads(used.stdout)
    assert Path(post["module"]).is_relative_to(venv)
    assert post["caption"] == "from a bare install" and len(post["accounts"]) == 1 and post["actions"] > 0

    shown = run(venv, "postdodo", "posts", "get", post["id"], "--json", "--base-url", live_server.url,
                "--api-key", live_server.key or "", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["id"] == post["id"]

    for argv, extra in ((("postdodo", "serve"), "server"), (("postdodo", "keys", "list"), "server"),
                        (("postdodo-receiver", "serve"), "receiver")):
        refused = run(venv, *argv, cwd=tmp_path)
        assert refused.returncode == 2 and "Traceback" not in refused.stderr, refused.stderr
        (line,) = refused.stderr.strip().splitlines()
        assert line.endswith(f"pip install 'postdodo-connect[{extra}]'"), line
