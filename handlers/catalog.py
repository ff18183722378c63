"""The grammar's lists: the modules that answer verbs, in the order `help` shows them; what fires a scripted reminder."""

from functools import cache

from handlers import help
from handlers.core.verbs import Registry
from handlers.desk import claims, inquiries, stakeholders
from handlers.drills import drill, injects
from handlers.incident import checklist, declare, lifecycle, roles
from handlers.line import approvals, composing, publishing, reading
from handlers.nudges import snooze
from handlers.nudges.scripted import Deliver
from handlers.nudges.subjects import Aftermath, Inject, Subject
from handlers.review import lessons
from handlers.signals import followup, linking, reaction

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

# What fires each scripted reminder kind, by its subject: the feature that owns it. The app fills nudges.scripted with
# it at start (`scripted.fill(SCRIPTED)`), so firing imports neither a drill nor the reaction figures.
SCRIPTED: dict[type[Subject], Deliver] = {Inject: injects.deliver, Aftermath: followup.deliver}


@cache
def registry() -> Registry:
    """Every verb of the grammar, collected once from the modules above."""
    return Registry.collect(VERB_MODULES)
