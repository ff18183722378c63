"""Running the real `onevoice` process as a user would."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from config.load import STARTER


class Onevoice:
    """The `onevoice` command on its own database and config in a temporary folder."""

    def __init__(self, folder: Path, language: str = "en"):
        self.folder = folder
        self.config = folder / "onevoice.yaml"
        self.config.write_text(STARTER.read_text(encoding="utf-8").replace("language: en", f"language: {language}"), encoding="utf-8")
        self.env = {**os.environ, "ONEVOICE_CONFIG": str(self.config), "ONEVOICE_DATABASE_URL": f"sqlite:///{folder / 'onevoice.db'}"}

    def run(self, *args: str, stdin: str = "", timeout: float = 60) -> subprocess.CompletedProcess:
        """Run `onevoice ARGS` with stdin, as a script would."""
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


@pytest.fixture
def onevoice(tmp_path) -> Onevoice:
    """The onevoice process on a fresh folder, speaking English."""
    return Onevoice(tmp_path)
