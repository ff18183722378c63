"""Queries on who holds which role in an incident."""

from functools import cache

from sqlalchemy import and_, bindparam
from sqlmodel import Session, col, select

from storage.models import RoleAssignment


def current_holders(session: Session, incident_id: int) -> dict[str, RoleAssignment]:
    """The current assignment of each filled role."""
    rows = session.exec(_holders_query(), params={"incident": incident_id})
    return {row.role: row for row in rows}


@cache
def _holders_query():
    """Built once: every permission check asks it."""
    return select(RoleAssignment).where(holding())


def holding():
    """The condition of an assignment held now in the incident given as the parameter `incident` (the card joins it to
    its counts, to read both in one statement)."""
    return and_(RoleAssignment.incident_id == bindparam("incident"), col(RoleAssignment.ended_at).is_(None))


def roles_held(session: Session, incident_id: int, person: str) -> set[str]:
    """The roles a person holds now in an incident."""
    return set(session.exec(_roles_held_query(), params={"incident": incident_id, "person": person}))


@cache
def _roles_held_query():
    """Built once: every command of a verb for participants or roles asks it before its handler runs."""
    return select(RoleAssignment.role).where(holding(), RoleAssignment.person == bindparam("person"))
