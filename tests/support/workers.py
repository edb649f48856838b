"""gunicorn worker classes for tests of http_workers.ThreadWorker's timing rules."""

from __future__ import annotations

from postdodo_connect.http_workers import ThreadWorker


class PatientWorker(ThreadWorker):
    """ThreadWorker whose requests wait for the running one however long it runs: turns with no timing in them."""

    run_wait = 60.0
