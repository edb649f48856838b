"""Settings and routes: every mistake is a ConfigurationError at create_app, with a clear message."""

from __future__ import annotations

import pytest

from postdodo_connect.errors import ConfigurationError
from receiver import create_app
from receiver.config import load_settings
from receiver.routes import DEFAULT_QUEUE, parse_routes
from tests.receiver.helpers import OTHER_SECRET, SECRET


def test_defaults_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_settings(environ={"POSTDODO_RECEIVER_SECRETS": f"{SECRET} {OTHER_SECRET}"})
    assert settings.secrets == (SECRET, OTHER_SECRET)
    assert settings.redis_url == "redis://127.0.0.1:6379/0"
    assert (settings.tolerance, settings.max_body, settings.path, settings.queue) == (
        300, 256 * 1024, "/webhooks/postdodo", "redis")
    env = {
        "POSTDODO_RECEIVER_SECRETS": SECRET,
        "POSTDODO_RECEIVER_REDIS_URL": "redis://redis.internal:6380/2",
        "POSTDODO_RECEIVER_TOLERANCE": "120",
        "POSTDODO_RECEIVER_MAX_BODY": "65536",
        "POSTDODO_RECEIVER_PATH": "/hooks",
        "POSTDODO_RECEIVER_QUEUE": "inline",
        "POSTDODO_RECEIVER_ROUTES": "post.failed=receiver.jobs:log_event@alerts",
    }
    settings = load_settings(environ=env)
    assert (settings.redis_url, settings.tolerance, settings.max_body, settings.path, settings.queue) == (
        "redis://redis.internal:6380/2", 120, 65536, "/hooks", "inline")
    # create_app reads os.environ; test_config wins over it
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    app = create_app({"tolerance": 60})
    state = app.extensions["postdodo_receiver"]
    assert state.settings.tolerance == 60 and state.settings.path == "/hooks"
    assert set(state.routes) == {"post.published", "post.failed"}


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"secrets": ""}, "no webhook secret"),
        ({"secrets": "whsec_AA"}, "SECRETS entry 1"),
        ({"secrets": f"{SECRET} whsec_not-base64"}, "SECRETS entry 2"),
        ({"tolerance": "soon"}, "'tolerance' is invalid"),
        ({"tolerance": 0}, "must be positive"),
        ({"max_body": -1}, "must be positive"),
        ({"queue": "kafka"}, "QUEUE must be one of"),
        ({"path": "webhooks"}, "must start with '/'"),
        ({"tolerence": 10}, "unknown receiver setting(s): tolerence"),
        ({"job_retries": 3, "job_retry_intervals": ""}, "at least one retry interval"),
    ],
)
def test_bad_settings(config: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigurationError) as exc_info:
        create_app({"secrets": SECRET, **config})
    assert message in str(exc_info.value)


def test_secret_never_appears_in_the_error() -> None:
    with pytest.raises(ConfigurationError) as exc_info:
        create_app({"secrets": "whsec_c2hvcnQ="})
    assert "c2hvcnQ" not in str(exc_info.value)


def test_route_syntax_and_defaults() -> None:
    routes = parse_routes(
        "post.published=tests.receiver.jobs:record@default,\n"
        " post.failed = tests.receiver.jobs:alert @ alerts ,, account.disconnected=tests.receiver.jobs:record"
    )
    assert routes["post.published"].queue == "default"
    assert routes["post.published"].func_path == "tests.receiver.jobs.record"
    assert routes["post.failed"].queue == "alerts"
    assert routes["account.disconnected"].queue == DEFAULT_QUEUE
    default = parse_routes("")["post.published"]
    assert (default.target, default.queue) == ("receiver.jobs:log_event", DEFAULT_QUEUE)


@pytest.mark.parametrize(
    ("routes", "message"),
    [
        ("post.failed=no_such_module_xyz:job", "route post.failed: cannot import module 'no_such_module_xyz'"),
        ("post.failed=tests.receiver.jobs:missing", "route post.failed: job target 'tests.receiver.jobs:missing'"),
        ("post.failed=tests.receiver.jobs:not_callable", "is not callable"),
        ("post.failed=tests.receiver.jobs.record", "must look like package.module:function"),
        ("post.failed", "must look like event.type="),
        ("=tests.receiver.jobs:record", "must look like event.type="),
        ("post failed=tests.receiver.jobs:record", "is not an event type"),
        ("post.failed=tests.receiver.jobs:record@bad queue", "queue name"),
        ("post.failed=tests.receiver.jobs:record,post.failed=tests.receiver.jobs:alert", "routed twice"),
    ],
)
def test_bad_routes_fail_at_startup(routes: str, message: str) -> None:
    with pytest.raises(ConfigurationError) as exc_info:
        create_app({"secrets": SECRET, "routes": routes})
    assert message in str(exc_info.value)


def test_receiver_does_not_import_the_service() -> None:
    import subprocess
    import sys
    from pathlib import Path

    service = ("api", "engine", "storage", "platforms", "cli", "config")
    code = "\n".join([
        "import sys, receiver, receiver.cli, receiver.jobs",
        f"receiver.create_app({{'secrets': {SECRET!r}, 'queue': 'inline'}})",
        f"bad = [m for m in sys.modules if m.split('.')[0] == 'postdodo_connect' and m.split('.')[1:2] in"
        f" [[s] for s in {service!r}]]",
        "assert not bad, bad",
    ])
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
