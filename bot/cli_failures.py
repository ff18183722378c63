"""Startup failures as at most three lines naming the setting and what to do (exit code 2); tracebacks only with --debug."""

import os
from pathlib import Path

from config.errors import ConfigError
from handlers.text.i18n import _
from storage.db import DatabaseUnusable

CANNOT_START = 2  # a setting or a file must be fixed first (README: exit codes)
USE = "sqlite:///onevoice.db · postgresql://user@host/database"


class ConfigMissing(Exception):
    """The config file named by ONEVOICE_CONFIG (or on the command line) does not exist or cannot be read."""

    def __init__(self, path: Path, source: str, reason: str | None = None):
        super().__init__(f"{path}: {reason or 'missing'}")
        self.path, self.source, self.reason = path, source, reason


class DemoTeamRefused(Exception):
    """`run` found no team file and was not told to serve the shipped demo team."""


def language_of_environment() -> str:
    """The language of a failure told before the config is read: Chinese when the locale is Chinese."""
    locale = os.environ.get("LC_ALL") or os.environ.get("LC_MESSAGES") or os.environ.get("LANG") or ""
    return "zh" if locale.lower().startswith("zh") else "en"


def explain(error: BaseException) -> list[str] | None:
    """What a person must fix, in at most three lines; None when the error is not a known startup failure."""
    if isinstance(error, DatabaseUnusable):
        return _database(error)
    if isinstance(error, ConfigMissing):
        if error.reason is None:
            said = _("the config file {path} does not exist (named by {source}).").format(path=error.path, source=error.source)
            return [said, _("Fix the path, or write a starter file with `onevoice init`.")]
        said = _("cannot read the config file {path} ({reason}).").format(path=error.path, reason=error.reason)
        return [said, _("Make it a readable UTF-8 YAML file, or point ONEVOICE_CONFIG at another one.")]
    if isinstance(error, ConfigError):
        return config_lines(error)
    if isinstance(error, DemoTeamRefused):
        return [
            _("there is no onevoice.yaml here and ONEVOICE_CONFIG is not set: `run` would serve the shipped demo team."),
            _("Write your team's file with `onevoice init` (or set ONEVOICE_CONFIG);"),
            _("to serve the demo team anyway: `onevoice run --demo-team` or ONEVOICE_DEMO_TEAM=1."),
        ]
    return None


def config_lines(error: ConfigError) -> list[str]:
    """The first error of a config file as check-config shows it, and how many more there are."""
    problems = error.problems
    first = problems[0].said(_)
    if len(problems) == 1:
        return [first, _("Fix it, then start again (`onevoice check-config` checks the file).")]
    more = _("{n} errors in {file}; `onevoice check-config {file}` lists them all.")
    return [first, more.format(n=len(problems), file=problems[0].file)]


def _database(error: DatabaseUnusable) -> list[str]:
    detail = error.detail
    if error.kind == "bad_url":
        said = _("ONEVOICE_DATABASE_URL “{url}” is not a database URL.").format(**detail)
    elif error.kind == "unsupported":
        said = _("ONEVOICE_DATABASE_URL uses “{scheme}”; OneVoice stores its data in SQLite or PostgreSQL only.").format(**detail)
    elif error.kind == "unreachable":
        said = _("cannot reach the database at {host} ({reason}): is PostgreSQL running there?").format(**detail)
        return [said, _("Check the host and port in ONEVOICE_DATABASE_URL.")]
    elif error.kind == "no_database":
        said = _("there is no database “{database}” on {host}.").format(**detail)
        return [said, _("Create it (createdb {database}) or fix the name in ONEVOICE_DATABASE_URL.").format(**detail)]
    elif error.kind == "sqlite_path":
        said = _("cannot open the SQLite file {path} ({reason}).").format(**detail)
        return [said, _("Make sure its folder exists and is writable, or change ONEVOICE_DATABASE_URL.")]
    else:  # empty: a command that only reads found nothing, and creates nothing
        said = _("nothing is recorded at {where}: there is no OneVoice database there yet.").format(**detail)
        return [said, _("Set ONEVOICE_DATABASE_URL to the database `console` or `run` uses; this command creates nothing.")]
    return [said, _("Use one of: {forms}").format(forms=USE)]
