"""What fires a scripted reminder (a drill's inject, a reaction follow-up): a table the composition fills, by subject type."""

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sqlmodel import Session

from handlers.core.context import Deps
from handlers.nudges.subjects import Subject
from storage.models import Incident

Deliver = Callable[[Session, Deps, Incident, Any, datetime], None]
# Filled by the app at start (bot/app.py, from handlers/catalog.py's SCRIPTED): firing reaches the features that own
# the scripted kinds without importing them, so naming a reminder does not pull in a drill or the reaction figures.
DELIVER: dict[type[Subject], Deliver] = {}


def fill(table: Mapping[type[Subject], Deliver]) -> None:
    """Take the features' deliverers (the same table every time: filling twice changes nothing)."""
    DELIVER.update(table)


def deliver(session: Session, deps: Deps, incident: Incident, subject: Subject, now: datetime) -> None:
    """Run what the subject's feature does when its scripted reminder falls due."""
    found = DELIVER.get(type(subject))
    if found is None:
        raise LookupError(f"nothing delivers a scripted {type(subject).__name__}: the app fills nudges.scripted at start")
    found(session, deps, incident, subject, now)
