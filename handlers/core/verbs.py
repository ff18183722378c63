"""The verb registry: each verb's name, aliases, usage, who may use it, and its handler."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from handlers.text.formatting import role_name
from handlers.text.i18n import _

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
    # A statement of the rows the handler reads, on the parameters `incident` and `now`: the router reads them in the
    # incident's own statement when it finds the incident by its room (Context.read_along), one round trip less.
    reads: Callable[[], Any] | None = None

    def usage_line(self) -> str:
        """The exact usage, as typed."""
        return f"/crisis {self.name} {_(self.usage)}".rstrip()


@dataclass(frozen=True)
class Registry:
    """Every verb by name, and the verb each typed word (name or alias) means."""

    verbs: dict[str, Verb]
    aliases: dict[str, str]

    @classmethod
    def collect(cls, modules: Iterable[ModuleType]) -> "Registry":
        """Gather the handlers marked with @verb in the given modules, in their order."""
        verbs: dict[str, Verb] = {}
        aliases: dict[str, str] = {}
        for module in modules:
            for value in vars(module).values():
                spec = getattr(value, "verb", None)
                if isinstance(spec, Verb) and spec.handler is value and spec.name not in verbs:
                    verbs[spec.name] = spec
                    aliases.update(dict.fromkeys((spec.name, *spec.aliases), spec.name))
        return cls(verbs, aliases)


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
    reads: Callable[[], Any] | None = None,
) -> Callable:
    """Mark a handler as the verb `name` (with its aliases); handlers/catalog.py lists the modules that hold verbs."""

    def register(handler: Callable) -> Callable:
        handler.verb = Verb(name, aliases, usage, summary, who, needs_incident, handler, changes, who_label, after_close, reads)  # type: ignore[attr-defined]
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
    return ", ".join(role_name(config, r) for r in spec.who)
