"""Types are checked with the suite: mypy, configured in pyproject.toml, finds no error in handlers/, storage/ and config/."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _mypy(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "MYPYPATH": str(ROOT)}  # a file outside the clone imports its packages as they are here
    return subprocess.run([sys.executable, "-m", "mypy", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


def test_mypy_finds_no_error_in_the_domain_storage_and_config():
    done = _mypy()  # the packages and the options are pyproject.toml's [tool.mypy]
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("Success: no issues found"), done.stdout


def test_a_verb_that_asks_whether_its_incident_is_missing_is_an_error(tmp_path):
    # ctx.incident is the incident a verb works on; a verb that may run without one reads ctx.found. A check for None
    # on ctx.incident raises at runtime where no incident is named (it never answers None), so the type check refuses it.
    verb = tmp_path / "verb.py"
    verb.write_text("from handlers.core.context import Context\n\n\ndef verb(ctx: Context) -> bool:\n    return ctx.incident is None\n")
    done = _mypy(str(verb))
    assert done.returncode == 1 and "Non-overlapping identity check" in done.stdout, done.stdout + done.stderr
    verb.write_text(verb.read_text().replace("ctx.incident", "ctx.found"))
    assert _mypy(str(verb)).returncode == 0
