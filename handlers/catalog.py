"""The grammar's verbs, listed explicitly: each module that answers verbs, in the order `help` shows them."""

from functools import cache

from handlers import help
from handlers.core.verbs import Registry
from handlers.desk import claims, inquiries, stakeholders
from handlers.drills import drill, injects
from handlers.incident import checklist, declare, lifecycle, roles
from handlers.line import approvals, composing, publishing, reading
from handlers.nudges import snooze
from handlers.review import lessons
from handlers.signals import linking, reaction

# To add a verb: write its handler with @verb in the module of its concern; list that module here if it is new.
VERB_MODULES = (
    declare,
    roles,
    lifecycle,
    checklist,
    approvals,
    reading,
    composing,
    publishing,
    snooze,
    lessons,
    drill,
    injects,
    claims,
    stakeholders,
    inquiries,
    reaction,
    linking,
    help,
)


@cache
def registry() -> Registry:
    """Every verb of the grammar, collected once from the modules above."""
    return Registry.collect(VERB_MODULES)
