"""Reading the line's versions (PRODUCT.md §4): a version's number as people type it, the current approved one, the
versions an incident has; no approving or reminding, so the desk and the card read the line without that machinery."""

import re

from sqlmodel import Session, col, select

from handlers.line.states import APPROVED, PENDING, SUPERSEDED
from storage.models import Statement

_VERSION = re.compile(r"^v?(\d+)$", re.IGNORECASE)
MAX_VERSION = 999_999  # beyond any real incident, and well inside the database's integers


def parse_version(word: str) -> int | None:
    """'v3', 'V3' or '3' → 3 (a number too large to exist → -1); anything else → None."""
    match = _VERSION.match(word) if word.isascii() else None
    if not match:
        return None
    number = int(match.group(1)[:12])
    return number if number <= MAX_VERSION else -1


def current_line(session: Session, incident_id: int) -> Statement | None:
    """The approved version of an incident's statement, if any (the database allows at most one)."""
    return session.exec(select(Statement).where(Statement.incident_id == incident_id, Statement.state == APPROVED)).first()


def ever_approved(session: Session, incident_id: int) -> bool:
    """Whether a version of the incident's statement has been approved (the current one or one it superseded)."""
    # A draft is superseded only by an approval, so a superseded version also means one was approved.
    query = select(Statement.id).where(Statement.incident_id == incident_id, col(Statement.state).in_((APPROVED, SUPERSEDED)))
    return session.exec(query.limit(1)).first() is not None


def versions(session: Session, incident_id: int, newest: int | None = None) -> list[Statement]:
    """An incident's versions, oldest first; only the newest few when asked."""
    query = select(Statement).where(Statement.incident_id == incident_id).order_by(col(Statement.version).desc())
    if newest:
        query = query.limit(newest)
    return list(reversed(session.exec(query).all()))


def find_version(session: Session, incident_id: int, version: int) -> Statement | None:
    """One version of an incident's statement."""
    return session.exec(select(Statement).where(Statement.incident_id == incident_id, Statement.version == version)).first()


def pending_versions(session: Session, incident_id: int) -> list[Statement]:
    """The versions waiting for approval, oldest first."""
    query = select(Statement).where(Statement.incident_id == incident_id, Statement.state == PENDING).order_by(col(Statement.version))
    return list(session.exec(query).all())
