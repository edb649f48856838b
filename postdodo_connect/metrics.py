"""Prometheus plumbing shared by the service and the receiver: the multiprocess directory and the exposition.

prometheus_client decides between in-memory values and per-process files when it is first imported, from
``PROMETHEUS_MULTIPROC_DIR``. So nothing here imports it at module level: a parent calls
`prepare_multiprocess_dir()` before it forks workers, and every metric is built on first use, in the child.
"""

from __future__ import annotations

import atexit
import functools
import glob
import os
import shutil
import tempfile
import threading
from collections.abc import Callable
from typing import Any, TypeVar

ENV = "PROMETHEUS_MULTIPROC_DIR"
T = TypeVar("T")


def built_once(build: Callable[[], T]) -> Callable[[], T]:
    """`build` runs once per process, also when threads race to the first call.

    (functools.cache lets two threads build at once, and registering a metric twice raises
    DuplicateTimeseries: a 500 for one of the first requests a threaded worker serves.)
    """
    lock = threading.Lock()
    built: list[T] = []

    @functools.wraps(build)
    def get() -> T:
        if not built:
            with lock:
                if not built:
                    built.append(build())
        return built[0]

    return get


def prepare_multiprocess_dir(*, clean: bool = True) -> str:
    """Make sure the processes forked after this call share one metrics directory; returns its path.

    With no ``PROMETHEUS_MULTIPROC_DIR`` a private directory is made (and removed at exit); with one, it is
    created if missing and, when `clean`, emptied of the files of an earlier run. Only the process that owns
    the directory (the one that forks the others) should clean it.
    """
    path = os.environ.get(ENV)
    if not path:
        path = tempfile.mkdtemp(prefix="postdodo-metrics-")
        owner = os.getpid()
        # forked children run atexit handlers too (gunicorn workers exit through sys.exit): only the maker removes
        atexit.register(_remove_if_owner, path, owner)
        os.environ[ENV] = path
        return path
    os.makedirs(path, exist_ok=True)
    if clean:
        for stale in glob.glob(os.path.join(path, "*.db")):
            os.remove(stale)
    return path


def _remove_if_owner(path: str, owner: int) -> None:
    if os.getpid() == owner:
        shutil.rmtree(path, ignore_errors=True)


def client() -> Any:
    """The prometheus_client module, imported on first use; `_created` series off (they are noise to alerts)."""
    import prometheus_client

    prometheus_client.disable_created_metrics()  # type: ignore[no-untyped-call]
    return prometheus_client


def multiprocess() -> bool:
    """True when this process writes its metrics to the shared directory."""
    return bool(os.environ.get(ENV))


def child_exit(server: Any, worker: Any) -> None:
    """Gunicorn's ``child_exit`` hook: drop the live gauges of a worker that is gone."""
    if multiprocess():
        from prometheus_client import multiprocess as mp

        mp.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]


def exposition(*collectors: Any) -> tuple[bytes, str]:
    """The text exposition of every process's metrics (or this one's), plus scrape-time `collectors`."""
    from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest

    if multiprocess():
        from prometheus_client import multiprocess as mp

        registry = CollectorRegistry()
        mp.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry = CollectorRegistry()
        registry.register(_Forward(REGISTRY))
    for collector in collectors:
        registry.register(collector)
    return generate_latest(registry), CONTENT_TYPE_LATEST


class _Forward:
    """The default registry's metrics inside a scrape's own registry (which also holds scrape-time collectors)."""

    def __init__(self, source: Any) -> None:
        self.source = source

    def collect(self) -> Any:
        """Everything the source registry holds."""
        return self.source.collect()
