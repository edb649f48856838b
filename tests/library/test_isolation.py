"""The client and the receiver import nothing of the service; the public face is what __all__ says."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import pytest

import postdodo_connect

SERVICE = ("api", "engine", "storage", "platforms", "cli", "config", "netguard")
# the neutral modules the client and receiver may use; everything else of the package is the service
ALLOWED = {"postdodo_connect", "postdodo_connect.errors", "postdodo_connect.models", "postdodo_connect.signing",
           "postdodo_connect.models_base", "postdodo_connect.models_content",
           "postdodo_connect.httpdate", "postdodo_connect.redact", "postdodo_connect.metrics"}


def imported_after(code: str) -> list[str]:
    """Modules a fresh interpreter holds after running ``code``."""
    probe = code + "\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    return list(json.loads(result.stdout.strip().splitlines()[-1]))


def service_modules(modules: list[str]) -> list[str]:
    return [m for m in modules if any(m == f"postdodo_connect.{s}" or m.startswith(f"postdodo_connect.{s}.")
                                      for s in SERVICE)]


def test_client_imports_no_service_module() -> None:
    modules = imported_after("import postdodo_connect\nfrom postdodo_connect.client import Client\n"
                             "Client('pd_test_x', base_url='http://127.0.0.1:9')")
    assert service_modules(modules) == []
    ours = {m for m in modules if m.startswith("postdodo_connect")}
    assert ours - ALLOWED <= {m for m in ours if m.startswith("postdodo_connect.client")}
    assert "flask" not in modules and "sqlalchemy" not in modules


def test_receiver_imports_no_service_module() -> None:
    if importlib.util.find_spec("receiver") is None or importlib.util.find_spec("receiver.app") is None:
        pytest.skip("the receiver package is not importable yet (written by another helper)")
    modules = imported_after("import receiver, receiver.app, receiver.jobs, receiver.queue, receiver.routes\n"
                             "import receiver.cli")
    assert "receiver.app" in modules
    assert service_modules(modules) == []
    assert "sqlalchemy" not in modules


def test_automation_imports_no_service_module() -> None:
    modules = imported_after("import postdodo_connect.automation, postdodo_connect.automation.export")
    assert service_modules(modules) == []


def test_public_all_is_sorted_and_complete() -> None:
    names = postdodo_connect.__all__
    assert names == sorted(names) and len(set(names)) == len(names)
    for name in names:
        assert hasattr(postdodo_connect, name), name
    assert {"Client", "verify", "SignatureError", "WaitTimeout", "Post", "APIError", "RateLimitError"} <= set(names)
    assert postdodo_connect.__version__ == "0.1.0"
    from postdodo_connect import signing

    assert postdodo_connect.verify is signing.verify
