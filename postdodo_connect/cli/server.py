"""`postdodo serve` on gunicorn: HTTP worker processes, one supervised engine process, one start-up announcement.

    postdodo serve (gunicorn arbiter: no threads, forks only HTTP workers)
    ├── worker 1..N   gthread: `--threads` requests at a time each, keep-alive; the app built after the fork
    └── engine        `postdodo engine`, a fresh interpreter (exec, not fork): scheduler, reaper, publish pool;
                      woken by the workers through engine/wake.py, restarted if it dies

The engine never lives in a process that forks (a fork while its threads hold locks would copy the locks held),
and never in the workers (one engine, not N). Hooks for other subsystems go in `Application.hooks`.
"""

from __future__ import annotations

import errno
import logging
import math
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.arbiter import Arbiter
from gunicorn.errors import HaltServer

from .. import metrics

log = logging.getLogger("postdodo.serve")
ENGINE_RESTARTS = 5  # deaths within RESTART_WINDOW before serve gives up and exits non-zero
RESTART_WINDOW = 60.0


@dataclass(frozen=True)
class Options:
    """How `postdodo serve` runs gunicorn."""

    host: str
    port: int
    workers: int
    threads: int
    backlog: int
    keepalive: float
    graceful_timeout: float
    engine: bool
    #: called once by the parent with the bound port, after every worker (and the engine) is ready
    announce: Callable[[int], None]


def default_workers() -> int:
    """One HTTP worker per CPU this process may use, at least 2, at most 8."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on every POSIX system
        cpus = os.cpu_count() or 1
    return max(2, min(cpus, 8))


class Application(BaseApplication):  # type: ignore[misc]
    """gunicorn embedded through its application API, configured from `Options`."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.ready_r, self.ready_w = os.pipe()  # workers and the engine write one byte each when ready
        os.set_blocking(self.ready_r, False)
        super().__init__(prog="postdodo serve")

    def hooks(self) -> dict[str, Callable[..., None]]:
        """gunicorn server hooks: the ready pipe, Ctrl-C in workers, a dead worker's metrics files."""
        def post_fork(arbiter: ServeArbiter, _worker: Any) -> None:
            os.close(self.ready_r)  # only the parent reads the ready pipe
            if arbiter.engine and arbiter.engine.proc and arbiter.engine.proc.stdin:
                # only the parent holds the engine's stdin, so the engine sees EOF as soon as the parent dies
                arbiter.engine.proc.stdin.close()

        def post_worker_init(worker: Any) -> None:
            # Ctrl-C reaches every process of the group: a worker finishes its requests as on SIGTERM
            signal.signal(signal.SIGINT, worker.handle_exit)
            os.write(self.ready_w, b"w")

        return {"post_fork": post_fork, "post_worker_init": post_worker_init, "child_exit": metrics.child_exit}

    def load_config(self) -> None:
        """Options into gunicorn's settings; nothing is read from gunicorn.conf.py or GUNICORN_CMD_ARGS."""
        opts = self.options
        host = f"[{opts.host}]" if ":" in opts.host else opts.host
        settings: dict[str, Any] = {
            "bind": [f"{host}:{opts.port}"], "workers": opts.workers, "worker_class": "postdodo_connect.http_workers.ThreadWorker",
            "threads": opts.threads, "backlog": opts.backlog, "keepalive": math.ceil(opts.keepalive),
            "graceful_timeout": math.ceil(opts.graceful_timeout), "timeout": max(30, math.ceil(opts.graceful_timeout)),
            "proc_name": "postdodo", "loglevel": "warning", "accesslog": None, "errorlog": "-",
            "control_socket_disable": True,  # gunicorn's control server is a thread in the forking parent
            **self.hooks(),
        }
        for name, value in settings.items():
            if name in self.cfg.settings:  # (older gunicorn releases lack some settings)
                self.cfg.set(name, value)

    def load(self) -> Any:
        """The WSGI app, built in each worker after the fork: no connection or thread crosses it."""
        from ..api import create_app

        return create_app()

    def run(self) -> None:
        """Run the arbiter until SIGTERM/SIGINT; exits the process."""
        ServeArbiter(self).run()


class EngineProcess:
    """`postdodo engine` as a child process, started again if it dies."""

    def __init__(self, ready_fd: int, grace: float) -> None:
        self.ready_fd, self.grace = ready_fd, grace
        self.proc: subprocess.Popen[bytes] | None = None
        self.deaths: list[float] = []

    def start(self) -> None:
        """Spawn it: exec'd at once, so it starts with no lock held by another thread."""
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "postdodo_connect", "engine", "--graceful-timeout", str(self.grace),
             "--supervised", str(self.ready_fd)],
            stdin=subprocess.PIPE, pass_fds=(self.ready_fd,))  # its stdin closes when this process dies
        log.info("engine process %d started", self.proc.pid)

    def check(self) -> None:
        """Restart a dead engine; raise HaltServer when it keeps dying."""
        if self.proc is None or self.proc.poll() is None:
            return
        code, pid = self.proc.returncode, self.proc.pid
        self.proc = None
        now = time.monotonic()
        self.deaths = [t for t in self.deaths if now - t < RESTART_WINDOW] + [now]
        if len(self.deaths) >= ENGINE_RESTARTS:
            raise HaltServer(f"the engine died {len(self.deaths)} times in {RESTART_WINDOW:.0f}s (last exit {code})", 1)
        log.error("engine process %d exited with %s; starting a new one", pid, code)
        self.start()

    def terminate(self) -> None:
        """Ask it to stop: it stops claiming and hands back its leases."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()

    def wait(self) -> None:
        """Wait for it past its own grace period, then kill it (the reaper takes back what it held)."""
        if self.proc is None:
            return
        try:
            self.proc.wait(timeout=self.grace + 10)
        except subprocess.TimeoutExpired:
            log.error("engine process %d did not stop in time; killing it", self.proc.pid)
            self.proc.kill()
            self.proc.wait()
        if self.proc.returncode not in (0, -signal.SIGTERM):
            log.error("engine process %d exited with %s", self.proc.pid, self.proc.returncode)


class ServeArbiter(Arbiter):  # type: ignore[misc]
    """gunicorn's arbiter plus the engine process, a graceful SIGINT and the start-up announcement."""

    def __init__(self, app: Application) -> None:
        self.serve = app
        self.engine = EngineProcess(app.ready_w, app.options.graceful_timeout) if app.options.engine else None
        self.ready = {"w": 0, "e": 0}
        self.announced = False
        super().__init__(app)

    def start(self) -> None:
        """Bind and start as gunicorn does, then the engine."""
        super().start()
        if self.engine:
            self.engine.start()

    def wait_for_signals(self, timeout: float = 1.0) -> list[int]:
        """Look at the ready pipe often until the announcement is out."""
        return list(super().wait_for_signals(timeout if self.announced else 0.05))

    def manage_workers(self) -> None:
        """Keep the workers and the engine alive; announce once everything is ready."""
        super().manage_workers()
        if self.engine:
            self.engine.check()
        self._read_ready()
        if not self.announced and self.ready["w"] >= self.num_workers and (self.ready["e"] or not self.engine):
            self.announced = True
            self.serve.options.announce(int(self.LISTENERS[0].sock.getsockname()[1]))

    def _read_ready(self) -> None:
        try:
            data = os.read(self.serve.ready_r, 4096)
        except OSError as exc:
            if exc.errno != errno.EAGAIN:
                raise
            return
        for kind in self.ready:
            self.ready[kind] += data.count(kind.encode())

    def handle_chld(self, *args: Any) -> None:
        """Reap the engine first, so its exit status is ours and not an unknown child's."""
        if self.engine:
            self.engine.check()
        super().handle_chld(*args)  # (older gunicorn releases call this as the signal handler: sig, frame)

    handle_cld = handle_chld

    def handle_int(self) -> None:
        """SIGINT stops as gracefully as SIGTERM (gunicorn's default cuts requests off)."""
        raise StopIteration

    def stop(self, graceful: bool = True) -> None:
        """Workers finish their requests while the engine hands back its leases; both within the grace period."""
        engine, self.engine = self.engine, None  # no restart while stopping
        if engine:
            engine.terminate()
        super().stop(graceful)
        if engine:
            engine.wait()
