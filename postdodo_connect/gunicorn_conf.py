"""Gunicorn settings for the API and the receiver in scaled mode: metrics summed over every worker.

    gunicorn -c python:postdodo_connect.gunicorn_conf -w 4 'postdodo_connect.api:create_app()'
"""

from __future__ import annotations

from typing import Any

from .metrics import child_exit, prepare_multiprocess_dir

__all__ = ["child_exit", "on_starting", "worker_class"]

#: gunicorn's sync worker answering its own errors (request line or headers too large) with JSON;
#: `-k postdodo_connect.http_workers.ThreadWorker` for threads
worker_class = "postdodo_connect.http_workers.SyncWorker"


def on_starting(server: Any) -> None:
    """In the master, before any worker forks: the shared metrics directory.

    A configured PROMETHEUS_MULTIPROC_DIR is kept as it is: `postdodo engine` and `postdodo worker`
    on this machine may be writing to it too (empty it before starting them all, e.g. ExecStartPre).
    """
    prepare_multiprocess_dir(clean=False)
