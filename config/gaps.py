"""What a valid config lacks to work where it runs: warnings, each with its line, that never stop a start."""

from dataclasses import dataclass

from config.errors import N_, ConfigError, ConfigProblem, line_of, read_yaml
from config.model import Config

PLATFORMS = ("slack", "telegram", "console")


@dataclass
class Surroundings:
    """What the running process has: the platforms connected, a public address, signals turned on."""

    connected: frozenset[str]
    public_url: str | None = None
    signals: bool = False


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
    if around.signals and config.triage_room is None:
        template = N_("signals are accepted but posted nowhere: add a `triage_room:` for the platform you run on")
        found.append(ConfigProblem.told(filename, None, "triage_room", template))
    return found
