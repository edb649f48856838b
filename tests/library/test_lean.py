"""The lean install: the library and the CLI's client commands load no server code; server commands on an install
without the extras say which extra to add, in one line."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from postdodo_connect.extras import OPTIONAL_MODULES
from tests.support.server import Server

ROOT = str(Path(__file__).resolve().parents[2])

# the third-party modules the bare install must never import (the [server], [receiver] and [postgres] extras)
FORBIDDEN = OPTIONAL_MODULES | {"psycopg", "jinja2", "click"}
SERVER_PACKAGES = ("api", "engine", "storage", "platforms")
LIBRARY = ("postdodo_connect", "postdodo_connect.client", "postdodo_connect.signing", "postdodo_connect.models",
           "postdodo_connect.errors", "postdodo_connect.automation", "postdodo_connect.automation.export")


def loaded_after(code: str) -> set[str]:
    """Modules a fresh interpreter holds after running ``code`` (SystemExit from argparse's --help is fine)."""
    probe = (f"import json, sys\ntry:\n{textwrap.indent(code, '    ')}\nexcept SystemExit:\n    pass\n"
             "print('\\nMODULES ' + json.dumps(sorted(sys.modules)))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return set(json.loads(result.stdout.rsplit("MODULES ", 1)[1]))


def heavy(modules: set[str]) -> list[str]:
    """The server-side modules among ``modules``: third-party extras and our API, engine, storage, platforms."""
    ours = [m for m in modules for p in SERVER_PACKAGES
            if m == f"postdodo_connect.{p}" or m.startswith(f"postdodo_connect.{p}.")]
    return sorted({m.partition(".")[0] for m in modules} & FORBIDDEN) + sorted(ours)


def test_library_imports_no_server_dependency() -> None:
    modules = loaded_after(f"import {', '.join(LIBRARY)}\n"
                           "postdodo_connect.Client('pd_test_x', base_url='http://127.0.0.1:9')")
    assert set(LIBRARY) <= modules
    assert heavy(modules) == []


@pytest.mark.parametrize("argv", [["--help"], ["posts", "--help"], ["posts", "create", "--help"],
                                  ["accounts", "list", "--help"], ["webhooks", "--help"], ["serve", "--help"]])
def test_cli_parser_imports_no_server_dependency(argv: list[str]) -> None:
    assert heavy(loaded_after(f"from postdodo_connect.cli import main\nmain({argv!r})")) == []


def test_client_commands_talk_to_the_api_without_server_code(live_server: Server) -> None:
    connection = ["--base-url", live_server.url, "--api-key", live_server.key or ""]
    code = textwrap.dedent(f"""
        import io, contextlib
        from postdodo_connect.cli import main
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            assert main(["accounts", "list", "--json", *{connection!r}]) == 0
            accounts = json.loads(out.getvalue())
            out.seek(0); out.truncate()
            bluesky = next(a["id"] for a in accounts if a["platform"] == "bluesky")  # text only is fine there
            argv = ["posts", "create", "--caption", "lean", "--account", bluesky, "--json"]
            assert main([*argv, *{connection!r}]) == 0
            post = json.loads(out.getvalue())
            assert main(["posts", "get", post["id"], *{connection!r}]) == 0
            assert main(["posts", "list", *{connection!r}]) == 0
            assert main(["webhooks", "list", *{connection!r}]) == 0
        assert post["id"] in out.getvalue() and post["caption"] == "lean"
    """)
    modules = loaded_after(code)
    assert "postdodo_connect.cli.posts" in modules
    assert heavy(modules) == []


BLOCKER = """
import importlib.abc, sys
BLOCKED = set(sys.argv[1].split(","))

class Missing(importlib.abc.MetaPathFinder):
    '''Behaves as an install without these distributions: importing them fails as a missing module does.'''

    def find_spec(self, name, path, target=None):
        if any(name == b or name.startswith(b + ".") for b in BLOCKED):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, Missing())
sys.argv = sys.argv[2:]
module, _, function = sys.argv[0].partition(":")
sys.exit(getattr(__import__(module, fromlist=[function]), function)(sys.argv[1:]))
"""


def run_without(blocked: set[str], entry: str, *argv: str, env: dict[str, str] | None = None,
                ) -> subprocess.CompletedProcess[str]:
    """Run a console-script entry point (module:function) as if ``blocked`` modules were not installed."""
    return subprocess.run([sys.executable, "-c", BLOCKER, ",".join(sorted(blocked)), entry, *argv],
                          capture_output=True, text=True, timeout=60, env=env)


@pytest.mark.parametrize("argv", [["serve"], ["engine"], ["worker"], ["keys", "list"], ["demo"]])
def test_server_command_without_the_server_extra_says_what_to_install(argv: list[str]) -> None:
    result = run_without(set(FORBIDDEN), "postdodo_connect.cli:main", *argv)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]  # one line
    assert f"`postdodo {argv[0]}`" in result.stderr and "pip install 'postdodo-connect[server]'" in result.stderr


def test_postgres_url_without_the_driver_says_what_to_install() -> None:
    env = {"PATH": "/usr/bin:/bin", "POSTDODO_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:9/none",
           "PYTHONPATH": ROOT}
    result = run_without({"psycopg"}, "postdodo_connect.cli:main", "keys", "list", env=env)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "pip install 'postdodo-connect[postgres]'" in result.stderr


@pytest.mark.parametrize("argv", [["serve"], ["worker"], ["check"]])
def test_receiver_without_the_receiver_extra_says_what_to_install(argv: list[str]) -> None:
    env = {"PATH": "/usr/bin:/bin", "POSTDODO_RECEIVER_SECRETS": "whsec_" + "A" * 44, "PYTHONPATH": ROOT}
    result = run_without(set(FORBIDDEN), "receiver.cli:main", *argv, env=env)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert "pip install 'postdodo-connect[receiver]'" in result.stderr


def test_an_unrelated_missing_module_is_not_hidden() -> None:
    """Only the extras' modules get the install hint: a missing module of ours is a bug and keeps its traceback."""
    result = run_without({"postdodo_connect.storage"}, "postdodo_connect.cli:main", "keys", "list")
    assert result.returncode == 1 and "Traceback" in result.stderr and "pip install" not in result.stderr
