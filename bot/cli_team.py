"""Which team a command runs on (ONEVOICE_CONFIG, ./onevoice.yaml, else the demo team), said aloud, and its warnings."""

import argparse
import sys
from pathlib import Path

from bot.cli_failures import ConfigMissing
from config.gaps import Surroundings, gaps
from config.load import STARTER, find_config, load_config, parse_config
from config.model import Config
from config.settings import Settings
from handlers.text.i18n import _, speaking


def team(args: argparse.Namespace, settings: Settings, given: str | None = None) -> tuple[Config, Path | None]:
    """The config a command runs on, found as documented; None as the path means the shipped demo team."""
    path = find_config(given, settings.config_path)
    if path is None:
        config = load_config(None)
    else:
        source = _("the command line") if given else ("ONEVOICE_CONFIG" if settings.config_path else "./onevoice.yaml")
        if not path.is_file():
            raise ConfigMissing(path, source, None if not path.exists() else _("not a file"))
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise ConfigMissing(path, source, getattr(error, "strerror", None) or type(error).__name__) from None
        config = parse_config(text, str(path))
    if path is not None:
        args.language = config.language  # later failures are told in the team's language
    return config, path


def told_team(config: Config, path: Path | None) -> None:
    """Say on stderr which team this is, so a file that was not read never goes unnoticed."""
    with speaking(config.language):
        if path is None:
            said = _("(no onevoice.yaml here and ONEVOICE_CONFIG is not set: this is the shipped demo team; `onevoice init` writes yours)")
        else:
            said = _("(team from {path}: {n} people)").format(path=path, n=len(config.team.people))
    print(said, file=sys.stderr)


def surroundings(settings: Settings) -> Surroundings:
    tokens = (("slack", settings.slack_bot_token), ("telegram", settings.telegram_bot_token), ("matrix", settings.matrix_homeserver))
    connected = {name for name, token in tokens if token}
    return Surroundings(frozenset(connected), settings.public_url, settings.signals_secret is not None, settings.smtp_url is not None)


def warnings(config: Config, path: Path | None, settings: Settings) -> list[str]:
    source = path or STARTER
    found = gaps(config, source.read_text(encoding="utf-8"), str(source), surroundings(settings))
    with speaking(config.language):
        return [_("warning: {problem}").format(problem=problem.said(_)) for problem in found]
