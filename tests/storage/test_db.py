"""The database on SQLite and PostgreSQL: migrations, constraints, UTC."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel, select

from storage.db import session
from storage.models import Incident, Outbox, RoleAssignment, Statement
from tests.conftest import table_names

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def _incident(db, declared_at: datetime = NOW) -> Incident:
    incident = Incident(
        title="t",
        slug="t",
        playbook="outage",
        severity="sev2",
        phase="detected",
        declared_by="alice",
        declared_at=declared_at,
        phase_changed_at=NOW,
    )
    db.add(incident)
    db.commit()
    return incident


def test_migrations_create_every_table_and_match_the_models(any_engine):
    assert {t.name for t in SQLModel.metadata.sorted_tables} <= table_names(any_engine)
    with any_engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert diff == [], "models changed without a migration"


def test_times_are_stored_as_utc_and_read_back_aware(any_engine):
    shanghai = timezone(timedelta(hours=8))
    with session(any_engine) as db:
        incident_id = _incident(db, datetime(2026, 3, 2, 9, 0, tzinfo=shanghai)).id
    with session(any_engine) as db:
        stored = db.get(Incident, incident_id).declared_at
    assert stored == NOW and stored.tzinfo is not None


def test_naive_datetimes_are_refused(any_engine):
    with session(any_engine) as db, pytest.raises(Exception, match="naive"):
        _incident(db, datetime(2026, 3, 2))


def test_one_current_holder_per_role_is_enforced_by_the_database(any_engine):
    with session(any_engine) as db:
        incident = _incident(db)
        db.add(RoleAssignment(incident_id=incident.id, role="legal", person="bob", assigned_by="alice", assigned_at=NOW, ended_at=NOW))
        db.add(RoleAssignment(incident_id=incident.id, role="legal", person="erin", assigned_by="alice", assigned_at=NOW))
        db.commit()  # an ended assignment and a current one may coexist
        db.add(RoleAssignment(incident_id=incident.id, role="legal", person="bob", assigned_by="alice", assigned_at=NOW))
        with pytest.raises(IntegrityError):
            db.commit()


def test_one_current_approved_line_per_incident_is_enforced_by_the_database(any_engine):
    with session(any_engine) as db:
        incident = _incident(db)

        def version(n: int, state: str) -> Statement:
            return Statement(incident_id=incident.id, version=n, text=f"v{n}", author="carol", created_at=NOW, state=state)

        db.add_all([version(1, "superseded"), version(2, "approved"), version(3, "pending")])
        db.commit()  # superseded and pending versions may sit beside the approved one
        db.add(version(4, "approved"))
        with pytest.raises(IntegrityError):
            db.commit()


def test_json_payloads_keep_unicode(any_engine):
    with session(any_engine) as db:
        db.add(
            Outbox(
                platform="console", kind="post", payload={"message": {"spans": [["", "声明 🔥 <b>&"]]}}, created_at=NOW, next_attempt_at=NOW
            )
        )
        db.commit()
    with session(any_engine) as db:
        row = db.exec(select(Outbox)).one()
    assert row.payload["message"]["spans"][0][1] == "声明 🔥 <b>&"


def test_sqlite_runs_in_wal_mode(engine):
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
