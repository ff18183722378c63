"""Queries on who holds which role in an incident."""

from sqlmodel import Session, select

from storage.models import RoleAssignment


def current_holders(session: Session, incident_id: int) -> dict[str, RoleAssignment]:
    """The current assignment of each filled role."""
    rows = session.exec(select(RoleAssignment).where(RoleAssignment.incident_id == incident_id, RoleAssignment.ended_at.is_(None)))
    return {row.role: row for row in rows}


def roles_held(session: Session, incident_id: int, person: str) -> set[str]:
    """The roles a person holds now in an incident."""
    rows = session.exec(
        select(RoleAssignment.role).where(
            RoleAssignment.incident_id == incident_id,
            RoleAssignment.person == person,
            RoleAssignment.ended_at.is_(None),
        )
    )
    return set(rows)
