"""What a valid config lacks to work where it runs: warnings, each with its line, that never stop a start."""

import os
from collections.abc import Mapping
from dataclasses import dataclass

from config.errors import N_, ConfigError, ConfigProblem, line_of, read_yaml
from config.model import BroadcastTarget, Config

PLATFORMS = ("slack", "telegram", "console", "matrix")


@dataclass
class Surroundings:
    """What the running process has: the platforms connected, a public address, signals turned on."""

    connected: frozenset[str]
    public_url: str | None = None
    signals: bool = False
    smtp: bool = False  # ONEVOICE_SMTP_URL is set
    environment: Mapping[str, str] | None = None  # where secret_env names are looked up (the process's environment)


def gaps(config: Config, text: str, filename: str, around: Surroundings) -> list[ConfigProblem]:
    """Each missing piece: a page target without a public address, signals without a triage room, targets nowhere."""
    try:
        root, _data = read_yaml(text, filename)
    except ConfigError:
        root = None
    found = []
    for i, target in enumerate(config.broadcast):
        path = ("broadcast", i)
        if target.page and not around.public_url:
            template = N_("page target “{name}” has no public address: set ONEVOICE_PUBLIC_URL, or people get no link to the page")
            found.append(ConfigProblem.told(filename, line_of(root, path), f"broadcast.{i}", template, name=target.name))
        on = [p for p in PLATFORMS if getattr(target, p) is not None]
        if on and not target.manual and not target.page and not set(on) & around.connected:
            template = N_("target “{name}” is on {platforms}, not connected here: set its token, or mark the target `manual: true`")
            found.append(
                ConfigProblem.told(filename, line_of(root, path), f"broadcast.{i}", template, name=target.name, platforms="/".join(on))
            )
        found += _outside(target, around, filename, line_of(root, path), i)
    if around.signals and config.triage_room is None:
        template = N_("signals are accepted but posted nowhere: add a `triage_room:` for the platform you run on")
        found.append(ConfigProblem.told(filename, None, "triage_room", template))
    return found


def _outside(target: BroadcastTarget, around: Surroundings, filename: str, line: int | None, i: int) -> list[ConfigProblem]:
    """An e-mail target with no mail server, a webhook whose secret is not in the environment."""
    environment = os.environ if around.environment is None else around.environment
    if target.email and not around.smtp:
        template = N_("e-mail target “{name}” has no mail server: set ONEVOICE_SMTP_URL and ONEVOICE_MAIL_FROM, or nothing is sent to it")
        return [ConfigProblem.told(filename, line, f"broadcast.{i}", template, name=target.name)]
    if target.webhook and target.secret_env and not environment.get(target.secret_env):
        template = N_("webhook target “{name}” is signed with {variable}, which is not set: set it, or every delivery to it fails")
        return [ConfigProblem.told(filename, line, f"broadcast.{i}", template, name=target.name, variable=target.secret_env)]
    return []
