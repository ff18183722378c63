"""Real `onevoice` processes forked from one that has already imported the bot: a (re)start costs a fork, not the 2-3 s of
CPU (5-19 s of wall time on a loaded machine) that importing the bot again costs a fresh interpreter.

Every `onevoice run` of the end-to-end tests starts this way (tests/e2e/run_process.py, replicas.py, telegram_intake.py),
and so do the console commands that need no terminal (tests/e2e/conftest.py); a test marked `fresh_start` starts a new
interpreter instead, so that the script's own start stays proved for each mode. `python -m tests.e2e.forked_run` is the
fork server: it imports what `onevoice` imports, then reads one JSON request a line on stdin and forks a child that
becomes `python -m bot.cli <argv>` (tests/e2e/fork_child.py): that environment, folder, standard streams, locale and
exit. The server reaps its children and reports each exit code; `Forked` gives the test the parts of `subprocess.Popen`
it uses. Each child is an ordinary OS process with its own pid, sockets and memory: signals reach it as a fresh one's.
A child inherits its server's string hash seed, fixed when that interpreter started: a request whose environment sets
PYTHONHASHSEED goes to a server started with that seed (`replica_seed`), so replicas can order sets differently, as
separately started processes do.
"""

from __future__ import annotations

import atexit
import json
import locale
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import TextIO

ROOT = Path(__file__).resolve().parents[2]


class Forked:
    """One forked `onevoice` process, seen through the `subprocess.Popen` methods the tests use."""

    def __init__(self, server: ForkServer, pid: int):
        self.server, self.pid = server, pid
        self.stdin: TextIO | None = None  # with spawn_piped: the writing end of its stdin
        self._fifo: Path | None = None

    @property
    def returncode(self) -> int | None:
        return self.server.codes.get(self.pid)

    def poll(self) -> int | None:
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        with self.server.changed:
            if not self.server.changed.wait_for(lambda: self.pid in self.server.codes or self.server.gone, timeout):
                raise subprocess.TimeoutExpired(f"onevoice (pid {self.pid})", timeout or 0)
            if self.pid not in self.server.codes:
                raise AssertionError(f"the fork server died before onevoice (pid {self.pid}) exited")
        return self.server.codes[self.pid]

    def communicate(self, input: str = "", timeout: float | None = None) -> tuple[None, None]:  # noqa: A002
        """Write the input, close stdin (the end of input), wait for the exit (output went to the log)."""
        if self.stdin is not None:
            self.stdin.write(input)
            self.stdin.close()
        if self._fifo is not None:
            shutil.rmtree(self._fifo.parent, ignore_errors=True)
        self.wait(timeout)
        return None, None

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:  # as Popen: never signal a pid already reaped (it may be someone else's by now)
            os.kill(self.pid, sig)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


class ForkServer:
    """The test side: starts the server once per test process, asks it for children, learns their exit codes."""

    def __init__(self, seed: str | None = None) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        if seed is not None:
            env["PYTHONHASHSEED"] = seed
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.e2e.forked_run"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=ROOT, env=env
        )
        self.codes: dict[int, int] = {}
        self.changed = threading.Condition()
        self.started: list[int] = []
        self.asking = threading.Lock()
        self.ready = self.gone = False
        self.probe: int | None = None  # hash("onevoice") in this server, and so in each of its children
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
                    self.ready, self.probe = True, int(numbers[0])
                elif word == "pid":
                    self.started.append(int(numbers[0]))
                elif word == "exit":
                    self.codes[int(numbers[0])] = int(numbers[1])
                self.changed.notify_all()
        with self.changed:  # the server is gone: nobody will report an exit any more; waiting for one would never end
            self.gone = True
            self.changed.notify_all()

    def spawn(self, request: dict) -> Forked:
        """A child for the request (see fork_child.become); its pid once forked."""
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


_servers: dict[str | None, ForkServer] = {}  # by the hash seed their children get (None: the test process's own way)
_starting = threading.Lock()


def replica_seed(index: int) -> dict[str, str]:
    """The environment that gives replica `index` a string hash seed of its own: odd replicas fork from a server started
    with a fixed seed, even ones from the usual server (a random seed), so two neighbours never share one."""
    return {"PYTHONHASHSEED": "20261207"} if index % 2 else {}


def server_for(env: dict[str, str]) -> ForkServer:
    """The fork server whose children get the hash seed `env` asks for (started on first use)."""
    seed = env.get("PYTHONHASHSEED")
    with _starting:
        server = _servers.get(seed)
        if server is None or server.process.poll() is not None:
            server = _servers[seed] = ForkServer(seed)
            atexit.register(server.close)
    return server


def spawn(argv: list[str], env: dict[str, str], cwd: Path, log: Path | None = None, **streams: str) -> Forked:
    """Start `onevoice <argv>` in `cwd` with exactly `env`, forked from this test process's fork server (started on first
    use): its stdout and stderr appended to `log`, or `stdout=`/`stderr=` paths (truncated); its stdin `input=` text,
    or the FIFO at `stdin_path=` (spawn_piped), else /dev/null."""
    server = server_for(env)
    request = {"argv": argv, "env": env, "cwd": str(cwd), **streams}
    if log is not None:
        request["log"] = str(log)
    return server.spawn(request)


def spawn_piped(argv: list[str], env: dict[str, str], cwd: Path, log: Path) -> Forked:
    """As spawn, with `process.stdin` a text stream to the child's stdin, as `Popen(stdin=PIPE, text=True)` gives. The
    pipe is a FIFO this process opens for reading and writing (so neither end waits for the other to open it): closing
    it (communicate) is the end of the child's input."""
    fifo = Path(tempfile.mkdtemp(prefix="onevoice-stdin-")) / "stdin"
    os.mkfifo(fifo)
    writer = os.fdopen(os.open(fifo, os.O_RDWR), "w", encoding=locale.getpreferredencoding(False))
    process = spawn(argv, env, cwd, log, stdin_path=str(fifo))
    process.stdin, process._fifo = writer, fifo
    return process


def run(argv: list[str], env: dict[str, str], cwd: Path, input: str = "", timeout: float = 60) -> subprocess.CompletedProcess:  # noqa: A002
    """`subprocess.run([python, -m, bot.cli, *argv], input=…, capture_output=True, text=True, …)`, forked: its stdin a
    pipe holding `input` and then closed, its output read back as the text subprocess would decode."""
    folder = Path(tempfile.mkdtemp(prefix="onevoice-forked-"))  # not in cwd: a test may look at what a command left there
    try:
        out, err = folder / "stdout", folder / "stderr"
        process = spawn(argv, env, cwd, stdout=str(out), stderr=str(err), input=input)
        try:
            code = process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise subprocess.TimeoutExpired(["onevoice", *argv], timeout) from None
        encoding = locale.getpreferredencoding(False)  # what text=True decodes with
        said = [path.read_text(encoding=encoding) if path.exists() else "" for path in (out, err)]
        return subprocess.CompletedProcess(["onevoice", *argv], code, *said)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    from tests.e2e.fork_child import serve

    serve()
