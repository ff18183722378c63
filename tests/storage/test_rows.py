"""storage.rows.attached: a row read by a Core statement behaves as the object the ORM would have loaded (SQLite and
PostgreSQL), so the router can read a room's incident without the ORM's per-query work."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import select as sql_select
from sqlmodel import select

from storage.db import session
from storage.models import Incident
from storage.rows import attached, columns_of

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def _declared(engine, title: str = "Checkout failing") -> int:
    """A detected sev2 incident, committed; its id."""
    with session(engine) as db:
        incident = Incident(
            title=title,
            slug="checkout-failing",
            playbook="outage",
            severity="sev2",
            phase="detected",
            declared_by="alice",
            declared_at=NOW,
            phase_changed_at=NOW,
            next_update_at=NOW + timedelta(minutes=30),
        )
        db.add(incident)
        db.commit()
        return incident.id


def _row(db, incident_id: int):
    return db.connection().execute(sql_select(*columns_of(Incident)).where(Incident.id == incident_id)).one()


def test_an_attached_row_reads_as_the_orm_reads_it(any_engine):
    incident_id = _declared(any_engine)
    with session(any_engine) as db:
        loaded = db.exec(select(Incident).where(Incident.id == incident_id)).one().model_dump()
    with session(any_engine) as db:
        found = attached(db, Incident, _row(db, incident_id))
        assert found.model_dump() == loaded
        assert found.next_update_at == NOW + timedelta(minutes=30) and found.declared_at.tzinfo is not None
        assert found not in db.new and found not in db.dirty  # nothing to write merely for reading it


def test_a_change_to_an_attached_incident_is_committed(any_engine):
    incident_id = _declared(any_engine)
    with session(any_engine) as db:
        found = attached(db, Incident, _row(db, incident_id))
        found.severity, found.phase = "sev1", "contained"
        db.commit()
    with session(any_engine) as db:
        again = db.get(Incident, incident_id)
        assert (again.severity, again.phase, again.title) == ("sev1", "contained", "Checkout failing")


def test_the_session_keeps_one_object_per_incident(any_engine):
    incident_id = _declared(any_engine)
    with session(any_engine) as db:
        first = attached(db, Incident, _row(db, incident_id))
        first.title = "changed, not yet flushed"
        assert attached(db, Incident, _row(db, incident_id)) is first  # the object held, its pending change kept
        assert db.get(Incident, incident_id) is first
    with session(any_engine) as db:
        got = db.get(Incident, incident_id)
        assert attached(db, Incident, _row(db, incident_id)) is got
