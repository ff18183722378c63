"""Types are checked with the suite: mypy, configured in pyproject.toml, finds no error in handlers/, storage/ and config/."""

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# ctx.incident is the incident a verb works on; a verb that may run without one reads ctx.found. A check for None on
# ctx.incident raises at runtime where no incident is named (it never answers None), so the type check refuses it.
VERB = "from handlers.core.context import Context\n\n\ndef verb(ctx: Context) -> bool:\n    return ctx.{} is None\n"


@pytest.fixture(scope="module")
def checked(tmp_path_factory) -> tuple[subprocess.CompletedProcess, Path, Path]:
    """One mypy run (a cold one takes seconds) over pyproject's files and two verbs: one asking whether ctx.incident is
    None, one asking it of ctx.found; the run and the two verbs."""
    folder = tmp_path_factory.mktemp("verbs")
    wrong, right = folder / "verb_incident.py", folder / "verb_found.py"
    wrong.write_text(VERB.format("incident"))
    right.write_text(VERB.format("found"))
    files = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]["files"]  # as mypy with no argument
    env = {**os.environ, "MYPYPATH": str(ROOT)}  # a file outside the clone imports its packages as they are here
    done = subprocess.run(
        # a cache of its own, cold as in CI: a cache shared with an earlier run keeps the path its verbs had then, and reports
        # their errors under it
        [sys.executable, "-m", "mypy", "--cache-dir", str(folder / "cache"), *files, str(wrong), str(right)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    return done, wrong, right


def errors(done: subprocess.CompletedProcess) -> list[str]:
    return [line for line in done.stdout.splitlines() if ": error:" in line]


def test_mypy_finds_no_error_in_the_domain_storage_and_config(checked):
    done, wrong, _right = checked
    assert done.returncode == 1, done.stdout + done.stderr  # 1: errors found (the wrong verb's only, below); 2: mypy failed
    assert [line for line in errors(done) if not line.startswith(str(wrong))] == [], done.stdout + done.stderr
    assert re.fullmatch(r"Found 1 error in 1 file \(checked \d+ source files\)", done.stdout.splitlines()[-1]), done.stdout


def test_a_verb_that_asks_whether_its_incident_is_missing_is_an_error(checked):
    done, wrong, right = checked
    assert done.returncode == 1, done.stdout + done.stderr
    assert [line for line in errors(done) if line.startswith(str(wrong))], done.stdout
    assert all("Non-overlapping identity check" in line for line in errors(done) if line.startswith(str(wrong))), done.stdout
    assert not [line for line in errors(done) if line.startswith(str(right))], done.stdout
