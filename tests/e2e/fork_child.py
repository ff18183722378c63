"""The fork server of tests/e2e/forked_run.py, and what each child does to become `python -m bot.cli <argv>`.

A child inherits the server's memory: what it imported (the point), and whatever else the server did. So the server
does only imports and one config parse, and checks before it serves that nothing else carries over: one thread, no
open file, no log handler. It also builds the Chinese-name tagger (jieba's dictionaries, 1.6 s of CPU that a fresh
`onevoice run` spends before it serves): each child has it built. Each child
then sets what a new interpreter takes from its start: environment, folder, standard streams (files, and their encoding
and buffering under that environment), locale, time zone, signal handlers, and exits through the interpreter's own exit
(gc.freeze in bot.cli.main, non-daemon threads joined, atexit handlers, buffers flushed). What a fork cannot renew is
the string hash seed: every child shares the server's.
"""

from __future__ import annotations

import codecs
import contextlib
import fcntl
import importlib
import io
import json
import locale
import logging
import os
import select
import signal
import sys
import threading
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WRITE = os.O_WRONLY | os.O_CREAT


def become(request: dict) -> None:
    """In the forked child: become `python -m bot.cli <argv>` as the request says; exits (SystemExit) as that would."""
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    _standard_files(request)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    time.tzset()
    _locale()
    _standard_streams()
    sys.dont_write_bytecode = bool(os.environ.get("PYTHONDONTWRITEBYTECODE"))
    warnings._filters_mutated()  # noqa: SLF001  (a warning the server saw once is shown again, as in a new process)
    sys.path[0] = os.getcwd()  # `python -m` puts the current folder first
    sys.argv = [str(ROOT / "bot" / "cli.py"), *request["argv"]]
    from bot.cli import main

    sys.exit(main())  # main(None), as the script: gc.freeze before the interpreter's exit


def _standard_files(request: dict) -> None:
    """Descriptors 0, 1 and 2: output to `log` (appended) or to files; stdin a FIFO, a pipe holding `input`, or /dev/null."""
    if "log" in request:
        _onto(os.open(request["log"], WRITE | os.O_APPEND), 1, 2)
    else:
        _onto(os.open(request["stdout"], WRITE | os.O_TRUNC), 1)
        _onto(os.open(request["stderr"], WRITE | os.O_TRUNC), 2)
    if "stdin_path" in request:
        _onto(os.open(request["stdin_path"], os.O_RDONLY), 0)
        return
    data = request.get("input")
    if data is None:
        _onto(os.open(os.devnull, os.O_RDONLY), 0)
        return
    read, write = os.pipe()
    encoded = data.encode(locale.getpreferredencoding(False))  # as subprocess.run(text=True) encodes its input
    fcntl.fcntl(write, fcntl.F_SETPIPE_SZ, max(len(encoded), 4096))  # all of it fits: written now, the end seen after it
    os.write(write, encoded)
    os.close(write)
    _onto(read, 0)


def _onto(fd: int, *targets: int) -> None:
    for target in targets:
        os.dup2(fd, target)
    os.close(fd)


def _locale() -> None:
    """LC_CTYPE from the environment, as Python sets it at start; the C locale coerced to C.UTF-8 as Python does (PEP 538)."""
    try:
        chosen = locale.setlocale(locale.LC_CTYPE, "")
    except locale.Error:  # a locale this machine lacks: the C locale, then coerced
        chosen = locale.setlocale(locale.LC_CTYPE, "C")
    if chosen in ("C", "POSIX") and "LC_ALL" not in os.environ and os.environ.get("PYTHONCOERCECLOCALE") != "0":
        os.environ["LC_CTYPE"] = "C.UTF-8"
        locale.setlocale(locale.LC_CTYPE, "C.UTF-8")


def _standard_streams() -> None:
    """sys.stdin, stdout and stderr opened on 0, 1, 2 as a new interpreter opens them under this environment."""
    encoding, _, errors = os.environ.get("PYTHONIOENCODING", "").partition(":")
    encoding = codecs.lookup(encoding or ("utf-8" if sys.flags.utf8_mode else locale.getpreferredencoding(False))).name
    lenient = sys.flags.utf8_mode or locale.setlocale(locale.LC_CTYPE) in ("C", "POSIX", "C.UTF-8", "C.utf8", "UTF-8")
    errors = errors or ("surrogateescape" if lenient else "strict")
    unbuffered = bool(os.environ.get("PYTHONUNBUFFERED"))
    for name, fd in (("stdin", 0), ("stdout", 1), ("stderr", 2)):
        raw = io.FileIO(fd, "r" if fd == 0 else "w", closefd=False)
        raw.name = f"<{name}>"
        binary = raw if unbuffered and fd else (io.BufferedReader(raw) if fd == 0 else io.BufferedWriter(raw))
        stream = io.TextIOWrapper(
            binary,
            encoding=encoding,
            errors="backslashreplace" if fd == 2 else errors,
            line_buffering=fd == 2 or raw.isatty(),
            write_through=unbuffered,
        )
        setattr(sys, name, stream)
        setattr(sys, f"__{name}__", stream)


def serve() -> None:
    """Import what `onevoice` imports, then fork a child per request line and report each child's exit code."""
    import bot.app  # noqa: F401  (each import here is one a child no longer pays for)
    import bot.cli  # noqa: F401
    import bot.console.front  # noqa: F401
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
    from handlers.line import names

    starter = load_config(str(STARTER))  # once, so that what parsing a team file compiles and caches is in every child already
    names.warm(list(starter.vet.values()))  # the tagger, once for every child (the fresh_start tests build their own)
    _check_clean()
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    os.write(1, f"ready {hash('onevoice')}\n".encode())  # with the hash its children compute (their seed is its seed)
    pending, children = b"", set()
    while True:
        readable, _, _ = select.select([0, wake_r], [], [])
        if wake_r in readable:
            os.read(wake_r, 4096)
        children -= _reap()
        if 0 not in readable:
            continue
        chunk = os.read(0, 65536)
        if not chunk:  # the test process closed our input or died: no child outlives it (a failed test's, say)
            _end_children(children)
            return
        pending += chunk
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            pid = os.fork()
            if pid == 0:
                os.close(wake_r)
                os.close(wake_w)
                become(json.loads(line))
            children.add(pid)
            os.write(1, f"pid {pid}\n".encode())


def _check_clean() -> None:
    """What a child would inherit besides the imports: nothing (see the module's docstring)."""
    assert threading.active_count() == 1, threading.enumerate()  # a fork copies only the calling thread
    assert not logging.getLogger().handlers, logging.getLogger().handlers  # else the child's logging.basicConfig does nothing
    fds = {int(fd) for fd in os.listdir("/proc/self/fd")} - {0, 1, 2}
    open_ = {fd: os.readlink(f"/proc/self/fd/{fd}") for fd in fds if os.path.exists(f"/proc/self/fd/{fd}")}
    assert not open_, f"the fork server holds files a child would share: {open_}"  # a database, a socket, a log


def _reap() -> set[int]:
    """Report each child that exited (and let it go); which they were."""
    gone = set()
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return gone
        if pid == 0:
            return gone
        gone.add(pid)
        os.write(1, f"exit {pid} {os.waitstatus_to_exitcode(status)}\n".encode())


def _end_children(children: set[int]) -> None:
    """SIGTERM every child still running, then SIGKILL those still there after 5 s."""
    for sig, grace in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 0.0)):
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.monotonic() + grace
        while children and time.monotonic() < deadline:
            children -= _reap()
            time.sleep(0.05)
