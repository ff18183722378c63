"""The verb registry: each verb's name, aliases, usage, who may use it, and its handler."""

from collections.abc import Callable
from dataclasses import dataclass

from handlers.i18n import _

ANYONE = "anyone"
PARTICIPANT = "participant"


@dataclass(frozen=True)
class Verb:
    """One command of the grammar (PRODUCT.md §3)."""

    name: str
    aliases: tuple[str, ...]
    usage: str  # arguments, e.g. "<role> @person"
    summary: str  # untranslated; translated when shown
    who: tuple[str, ...]  # role keys, or ANYONE / PARTICIPANT
    needs_incident: bool
    handler: Callable
    changes: bool = True  # False for read-only verbs, allowed on closed incidents
    who_label: str = ""  # untranslated; says who may when the rule lives in the handler
    after_close: bool = False  # changes allowed on a closed incident too (follow-up actions)

    def usage_line(self) -> str:
        """The exact usage, as typed."""
        return f"/crisis {self.name} {_(self.usage)}".rstrip()


VERBS: dict[str, Verb] = {}
ALIASES: dict[str, str] = {}


def verb(
    name: str,
    *aliases: str,
    usage: str = "",
    summary: str,
    who: tuple[str, ...] = (ANYONE,),
    needs_incident: bool = True,
    changes: bool = True,
    who_label: str = "",
    after_close: bool = False,
) -> Callable:
    """Register a handler under a verb and its aliases."""

    def register(handler: Callable) -> Callable:
        VERBS[name] = Verb(name, aliases, usage, summary, who, needs_incident, handler, changes, who_label, after_close)
        for key in (name, *aliases):
            ALIASES[key] = name
        return handler

    return register


def who_text(spec: Verb, config) -> str:
    """Who may use a verb, in words."""
    if spec.who_label:
        return _(spec.who_label)
    if ANYONE in spec.who:
        return _("anyone on the team")
    if PARTICIPANT in spec.who:
        return _("participants of the incident (role holders and the declarer)")
    roles = config.team.roles
    return ", ".join(roles[r].title.get(config.language) if r in roles else r for r in spec.who)
