"""The multiprocess set-up a forking parent relies on: nothing picks prometheus_client's mode too early."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from postdodo_connect.metrics import ENV, prepare_multiprocess_dir

PROBE = """
import json, os, sys, tempfile
from postdodo_connect.api import create_app, Service
from postdodo_connect.config import Settings
from postdodo_connect.storage import Database, Vault
from receiver import create_app as create_receiver
url = f"sqlite:///{tempfile.mkdtemp()}/probe.db"
settings = Settings.from_env({}, database_url=url, secret_key="k" * 32)
app = create_app(service=Service(settings=settings, db=Database(url), vault=Vault("k" * 32)))
create_receiver({"secrets": "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", "queue": "inline"})
early = "prometheus_client" in sys.modules
from postdodo_connect.metrics import prepare_multiprocess_dir
folder = prepare_multiprocess_dir()  # what `serve` does after building the app, before forking
app.test_client().get("/healthz")
print(json.dumps({"early": early, "files": sorted(os.listdir(folder))}))
"""


def test_apps_are_built_before_the_metrics_mode_is_chosen() -> None:
    env = {k: v for k, v in os.environ.items() if k != ENV and not k.startswith("POSTDODO_")}
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=60, check=True)
    found = json.loads(out.stdout.strip().splitlines()[-1])
    assert found["early"] is False
    assert any(name.startswith("counter_") for name in found["files"])  # the request was counted in the directory


def test_a_configured_directory_is_created_and_emptied_only_when_asked(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "prom"
    monkeypatch.setenv(ENV, str(folder))
    assert prepare_multiprocess_dir() == str(folder) and folder.is_dir()
    (folder / "counter_123.db").write_bytes(b"old run")
    prepare_multiprocess_dir(clean=False)  # a neighbour (engine, worker) may be writing there
    assert (folder / "counter_123.db").exists()
    prepare_multiprocess_dir()
    assert not (folder / "counter_123.db").exists()


def test_metrics_built_by_racing_threads_are_registered_once() -> None:
    # a threaded worker's first requests race to build the metrics: a second registration would be a 500
    import threading

    from prometheus_client import CollectorRegistry, Counter

    from postdodo_connect.metrics import built_once

    registry = CollectorRegistry()

    @built_once
    def counter() -> Counter:
        return Counter("raced", "built by whichever thread comes first", registry=registry)

    start, got, errors = threading.Barrier(16), [], []

    def first_call() -> None:
        start.wait(timeout=10)
        try:
            got.append(counter())
        except Exception as exc:  # noqa: BLE001 - the failure this test is about
            errors.append(exc)

    threads = [threading.Thread(target=first_call) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert errors == [] and len(got) == 16 and len({id(c) for c in got}) == 1
