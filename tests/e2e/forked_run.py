"""Real `onevoice run` processes forked from one that has already imported the bot: a (re)start costs a fork, not the
2-3 s of CPU (11-19 s of wall time on a loaded machine) that importing the bot again costs a fresh interpreter.

Used by tests/e2e/replicas.py and tests/e2e/telegram_intake.py, whose crash tests restart replicas dozens of times.
`python -m tests.e2e.forked_run` is the fork server: it imports what `onevoice run` imports, then reads one JSON request
a line on stdin (argv, environment, folder, log file) and forks a child that sets that environment and folder, points
stdout and stderr at the log and runs `bot.cli.main(argv)`, exactly as `python -m bot.cli run` would. The server reaps
its children and reports each exit code; `Forked` gives the test the parts of `subprocess.Popen` it uses. Each child is
an ordinary OS process with its own pid, sockets and memory: SIGKILL and SIGTERM reach it as they reach a fresh one.
"""

from __future__ import annotations

import atexit
import importlib
import json
import os
import select
import signal
import subprocess
import sys
import threading
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


class Forked:
    """One forked `onevoice` process, seen through the `subprocess.Popen` methods the tests use."""

    def __init__(self, server: ForkServer, pid: int):
        self.server, self.pid = server, pid

    @property
    def returncode(self) -> int | None:
        return self.server.codes.get(self.pid)

    def poll(self) -> int | None:
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        with self.server.changed:
            if not self.server.changed.wait_for(lambda: self.pid in self.server.codes, timeout):
                raise subprocess.TimeoutExpired(f"onevoice (pid {self.pid})", timeout)
        return self.server.codes[self.pid]

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:  # as Popen: never signal a pid already reaped (it may be someone else's by now)
            os.kill(self.pid, sig)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


class ForkServer:
    """The test side: starts the server once per test process, asks it for children, learns their exit codes."""

    def __init__(self) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.e2e.forked_run"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=ROOT, env=env
        )
        self.codes: dict[int, int] = {}
        self.changed = threading.Condition()
        self.started: list[int] = []
        self.asking = threading.Lock()
        self.ready = False
        threading.Thread(target=self._read, daemon=True, name="fork server").start()
        with self.changed:
            if not self.changed.wait_for(lambda: self.ready or self.process.poll() is not None, 180):
                raise AssertionError("the fork server never became ready")
        assert self.ready, f"the fork server exited with {self.process.poll()}"

    def _read(self) -> None:
        for line in self.process.stdout:
            word, *numbers = line.decode().split()
            with self.changed:
                if word == "ready":
                    self.ready = True
                elif word == "pid":
                    self.started.append(int(numbers[0]))
                elif word == "exit":
                    self.codes[int(numbers[0])] = int(numbers[1])
                self.changed.notify_all()

    def spawn(self, argv: list[str], env: dict[str, str], cwd: Path, log: Path) -> Forked:
        """A child running `onevoice <argv>` in `cwd` with exactly `env`, its output appended to `log`."""
        request = {"argv": argv, "env": env, "cwd": str(cwd), "log": str(log)}
        with self.asking:
            with self.changed:
                known = len(self.started)
            self.process.stdin.write(json.dumps(request).encode() + b"\n")
            self.process.stdin.flush()
            with self.changed:
                assert self.changed.wait_for(lambda: len(self.started) > known, 60), "the fork server did not fork"
                return Forked(self, self.started[known])

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.close()  # end of input: the server exits (its children, if any, are the tests' to stop)
            self.process.wait(10)


_server: ForkServer | None = None


def spawn(argv: list[str], env: dict[str, str], cwd: Path, log: Path) -> Forked:
    """Start `onevoice <argv>` as a forked child of this test process's fork server (started on first use)."""
    global _server
    if _server is None or _server.process.poll() is not None:
        _server = ForkServer()
        atexit.register(_server.close)
    return _server.spawn(argv, env, cwd, log)


# ---- the server side


def _child(request: dict) -> None:
    """In the forked child: become `onevoice <argv>` in the requested folder and environment, and never return."""
    code = 1
    try:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.close(log)
        os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        sys.argv = [str(ROOT / "bot" / "cli.py"), *request["argv"]]
        from bot.cli import main

        code = main(request["argv"])
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else 1
    except BaseException:  # noqa: BLE001  (what a fresh interpreter would print before exiting 1)
        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001, S110  (the log went away: nothing more to say)
                pass
        os._exit(code)


def _serve() -> None:
    """Import what `onevoice run` imports, then fork a child per request line and report each child's exit code."""
    import bot.app  # noqa: F401  (each import here is one a child no longer pays for)
    import bot.cli  # noqa: F401
    import bot.logs  # noqa: F401
    import bot.run  # noqa: F401
    import bot.slack.delivery  # noqa: F401
    import bot.slack.front  # noqa: F401
    import bot.telegram.delivery  # noqa: F401
    import bot.telegram.front  # noqa: F401
    import bot.telegram.poller  # noqa: F401
    import storage.db  # noqa: F401

    for name in (  # what a child imported still, once serving: PostgreSQL's driver, the scheduler's triggers, uvicorn's parts
        "psycopg",
        "apscheduler.triggers.date",
        "apscheduler.triggers.interval",
        "slack_bolt.listener_matcher.async_builtins",
        "uvicorn.lifespan.off",
        "uvicorn.lifespan.on",
        "uvicorn.protocols.websockets.auto",
    ):
        importlib.import_module(name)
    from config.load import STARTER, load_config

    load_config(str(STARTER))  # once, so that what parsing a team file compiles and caches is in every child already

    assert threading.active_count() == 1, threading.enumerate()  # a fork copies only the calling thread
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    os.write(1, b"ready\n")
    pending = b""
    while True:
        readable, _, _ = select.select([0, wake_r], [], [])
        if wake_r in readable:
            os.read(wake_r, 4096)
        _reap()
        if 0 not in readable:
            continue
        chunk = os.read(0, 65536)
        if not chunk:
            return  # the test process closed our input or died
        pending += chunk
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            pid = os.fork()
            if pid == 0:
                os.close(wake_r)
                os.close(wake_w)
                _child(json.loads(line))
            os.write(1, f"pid {pid}\n".encode())


def _reap() -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        os.write(1, f"exit {pid} {os.waitstatus_to_exitcode(status)}\n".encode())


if __name__ == "__main__":
    _serve()
