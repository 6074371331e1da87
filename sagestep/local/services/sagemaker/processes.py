"""The container processes and worker threads of the SageMaker emulation.

A training job runs ``<container command> train`` and an endpoint ``<container command> serve``; the command
is looked up by image URI (``python -m sagestep_training`` for images not listed). Each process runs in a
session of its own, so that stopping it also stops the processes it started, and inherits this process's
environment with ``PYTHONPATH`` extended by ``sys.path`` (the container package is found where this process
finds it). Worker threads (one per job or deployment) are counted as work in progress until they end.
"""

from __future__ import annotations

import contextlib
import http.client
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from sagestep.local.activity import Activity

LOG = logging.getLogger(__name__)

DEFAULT_CONTAINER_COMMAND: tuple[str, ...] = (sys.executable, "-m", "sagestep_training")


class Cancelled(Exception):
    """The emulator is shutting down, or the resource was deleted or updated again meanwhile."""


class ContainerProcesses:
    """Starts and stops container processes and worker threads; :meth:`shutdown` ends them all.

    :param lock: the emulation's lock (guards the sets of processes and threads).
    :param closing: set when the emulation shuts down; no process starts afterwards.
    :param commands: image URI -> argv prefix; read at every start, so changes apply to the next job.
    :param stop_grace_seconds: time between SIGTERM and SIGKILL.
    """

    def __init__(
        self,
        *,
        lock: threading.RLock,
        closing: threading.Event,
        activity: Activity,
        commands: dict[str, Sequence[str]],
        default_command: Sequence[str],
        container_env: Mapping[str, str],
        stop_grace_seconds: float,
    ) -> None:
        self._lock = lock
        self._closing = closing
        self._activity = activity
        self.commands = commands
        self.default_command = default_command
        self.container_env = container_env
        self.stop_grace_seconds = stop_grace_seconds
        self._processes: set[subprocess.Popen[Any]] = set()
        self._threads: set[threading.Thread] = set()

    def spawn(self, target: Callable[[], None], name: str) -> None:
        """Run ``target`` in a tracked daemon thread (counted by wait_idle)."""
        self._activity.begin()

        def run() -> None:
            try:
                target()
            except Exception:
                LOG.exception("SageMaker emulation worker %s crashed", name)
            finally:
                with self._lock:
                    self._threads.discard(threading.current_thread())
                self._activity.end()

        thread = threading.Thread(target=run, name=name, daemon=True)
        with self._lock:
            self._threads.add(thread)
        thread.start()

    def command(self, image: str, verb: str) -> list[str]:
        return [*self.commands.get(image, self.default_command), verb]

    def environment(self, extra: Mapping[str, str]) -> dict[str, str]:
        env = dict(os.environ)
        paths = [p for p in sys.path if p and os.path.isdir(p)]
        if env.get("PYTHONPATH"):
            paths.append(env["PYTHONPATH"])
        env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
        env["PYTHONUNBUFFERED"] = "1"
        env.update(self.container_env)
        env.update(extra)
        return env

    def start(self, argv: list[str], env: dict[str, str], cwd: Path, **kwargs: Any) -> subprocess.Popen[Any]:
        with self._lock:
            if self._closing.is_set():
                raise Cancelled("the emulator is shutting down")
            # A session of its own, so that stopping kills the container's children too.
            process: subprocess.Popen[Any] = subprocess.Popen(
                argv, env=env, cwd=cwd, start_new_session=True, stdin=subprocess.DEVNULL, **kwargs
            )
            self._processes.add(process)
        return process

    def forget(self, process: subprocess.Popen[Any]) -> None:
        """Stop tracking a process that has been waited for."""
        with self._lock:
            self._processes.discard(process)

    def terminate(self, process: subprocess.Popen[Any]) -> None:
        """SIGTERM the process group, SIGKILL after the grace period, reap."""
        for sig, wait in ((signal.SIGTERM, self.stop_grace_seconds), (signal.SIGKILL, 10.0)):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, sig)
            try:
                process.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                continue
        self.forget(process)

    def running(self) -> list[int]:
        """PIDs of the container processes still running."""
        with self._lock:
            return [p.pid for p in self._processes if p.poll() is None]

    def shutdown(self) -> None:
        """Terminate every process, wait for the workers, then terminate what they started meanwhile."""
        with self._lock:
            processes = list(self._processes)
            threads = list(self._threads)
        for process in processes:
            self.terminate(process)
        for thread in threads:
            thread.join(timeout=self.stop_grace_seconds + 5)
        with self._lock:
            leftovers = list(self._processes)
        for process in leftovers:
            self.terminate(process)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def ping(port: int) -> bool:
    """True if the model server on ``port`` answers ``GET /ping`` with 200."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        connection.request("GET", "/ping")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


def tail(path: Path, lines: int = 10) -> str:
    """The last lines of a log file ("" if it cannot be read)."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""
