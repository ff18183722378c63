"""Running the real `onevoice` process as a user would, or its console in this process (the same code minus the start)."""

import asyncio
import io
import logging
import os
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from unittest import mock

import pytest

from config.load import STARTER, load_config
from tests.e2e import forked_run
from tests.e2e.run_process import fresh_start
from tests.templates import migrated_sqlite


def pytest_configure(config):
    config.addinivalue_line("markers", "fresh_start: start `onevoice` as a new interpreter (`python -m bot.cli`), not forked")


class Onevoice:
    """The `onevoice` command on its own database and config in a temporary folder."""

    def __init__(self, folder: Path, language: str = "en", fresh: bool = False):
        self.folder, self.fresh = folder, fresh  # fresh: each command a new interpreter; else forked (tests/e2e/forked_run.py)
        self.config = folder / "onevoice.yaml"
        self.config.write_text(STARTER.read_text(encoding="utf-8").replace("language: en", f"language: {language}"), encoding="utf-8")
        self.env = {**os.environ, "ONEVOICE_CONFIG": str(self.config), "ONEVOICE_DATABASE_URL": f"sqlite:///{folder / 'onevoice.db'}"}
        self._parsed = None  # the config, parsed on the first in-process console run (the file does not change)

    def run(self, *args: str, stdin: str = "", timeout: float = 60) -> subprocess.CompletedProcess:
        """Run `onevoice ARGS` with stdin, as a script would (a command that needs no terminal: see test_console_pty.py)."""
        if not self.fresh:
            return forked_run.run(list(args), self.env, self.folder, stdin, timeout)
        return subprocess.run(
            [sys.executable, "-m", "bot.cli", *args],
            input=stdin,
            capture_output=True,
            text=True,
            cwd=self.folder,
            env=self.env,
            timeout=timeout,
        )

    def console(self, lines: str, as_: str = "alice") -> str:
        """Type lines into `onevoice console --as NAME`; return what it printed."""
        done = self.run("console", "--as", as_, stdin=lines)
        assert done.returncode == 0, done.stderr
        assert "Traceback" not in done.stderr, done.stderr
        return done.stdout

    def type_in(self, lines: str, as_: str = "alice") -> str:
        """Type lines into the console as `onevoice console --as NAME` would run it, in this process: the same bot,
        console and scheduler on the same database and config, without the second or so a new Python process costs.
        What it printed; an error logged is a failure, as a traceback on the process's stderr is for `console`."""
        from bot.app import OneVoice
        from bot.console.front import run_console
        from config.settings import Settings

        database = self.folder / "onevoice.db"
        if not database.exists():
            migrated_sqlite(database).dispose()  # the migrated copy the process would have made itself
        if self._parsed is None:
            self._parsed = load_config(self.config)
        errors = _Errors()
        logging.getLogger().addHandler(errors)
        out = io.StringIO()
        try:
            with mock.patch.dict(os.environ, self.env, clear=True):
                # migrate=False: the database is the migrated copy made above, or one an earlier run migrated
                bot = OneVoice(Settings(), config=self._parsed.model_copy(deep=True), migrate=False)
                assert as_ in bot.config.team.people, as_
                try:
                    asyncio.run(run_console(bot, as_, stdin=io.StringIO(lines), out=out))
                finally:
                    bot.engine.dispose()
        finally:
            logging.getLogger().removeHandler(errors)
        assert not errors.records, [record.getMessage() for record in errors.records]
        return out.getvalue()

    def call(self, *args: str) -> subprocess.CompletedProcess:
        """Run `onevoice ARGS` in this process (its `main`, on this folder's config and database): exit code and output."""
        from bot import cli

        out, err = io.StringIO(), io.StringIO()
        with mock.patch.dict(os.environ, self.env, clear=True), redirect_stdout(out), redirect_stderr(err):
            try:
                code = cli.main(list(args))
            except SystemExit as exit_:  # argparse's own refusals exit
                code = exit_.code
        return subprocess.CompletedProcess(["onevoice", *args], code, out.getvalue(), err.getvalue())


class _Errors(logging.Handler):
    """ERROR records logged while the console ran."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def onevoice(request, tmp_path) -> Onevoice:
    """The onevoice process on a fresh folder, speaking English (a new interpreter if the test is marked `fresh_start`)."""
    return Onevoice(tmp_path, fresh=fresh_start(request))
