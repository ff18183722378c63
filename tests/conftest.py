"""Shared fixtures: a fresh database, the starter team, a fake clock and a fake chat."""

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import inspect, text
from sqlmodel import SQLModel, select

from config.model import Config
from handlers.core.context import Deps
from handlers.core.effects import Effect
from handlers.core.ports import Command, FakeClock, Reply, RoomRef, UserRef
from handlers.router import dispatch
from handlers.text.markup import Message
from storage.db import make_engine, session
from storage.models import Outbox, ProcessedEvent, Room
from tests.templates import copy_of_starter, migrated_schema_into, migrated_sqlite

# Processes a test starts keep off the fixed internal port (several run at once); a test that needs it names its own.
os.environ.setdefault("ONEVOICE_ADMIN_PORT", "0")
POSTGRES_URL = os.environ.get("ONEVOICE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def postgres_engine_or_skip():
    """An engine on a private schema of the test PostgreSQL, or skip saying why (fail in CI)."""
    schema = f"ov_{uuid.uuid4().hex[:10]}"
    base = make_engine(POSTGRES_URL)
    try:
        with base.connect() as connection:
            connection.execute(text(f"CREATE SCHEMA {schema}"))
            connection.commit()
    except Exception as error:  # noqa: BLE001
        if os.environ.get("ONEVOICE_REQUIRE_POSTGRES"):
            pytest.fail(f"PostgreSQL is required here but unreachable at {POSTGRES_URL}: {error}")
        pytest.skip(f"no PostgreSQL at {POSTGRES_URL} on this machine: {error.__class__.__name__}")
    engine = make_engine(POSTGRES_URL, connect_args={"options": f"-csearch_path={schema}"})
    return base, engine, schema


def seeded(url: str) -> str:
    """The URL itself; an SQLite file it names that does not exist yet is first made a copy of the migrated template
    (the bot's own migration at start then finds nothing to do instead of building every table)."""
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        migrated_sqlite(Path(url.removeprefix("sqlite:///"))).dispose()
    return url


@contextmanager
def private_schema() -> Iterator:
    """A migrated private schema of the test PostgreSQL (skip or fail as above): (engine, URL for other processes).
    Dropped on exit."""
    base, engine, schema = postgres_engine_or_skip()
    try:
        migrated_schema_into(engine)
        yield engine, f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        engine.dispose()
        with base.connect() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
            connection.commit()
        base.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_engine(request, tmp_path) -> Iterator:
    """A migrated, empty database: SQLite and PostgreSQL both."""
    if request.param == "sqlite":
        engine = migrated_sqlite(tmp_path / "test.db")
        yield engine
        engine.dispose()
        return
    with private_schema() as (engine, _url):
        yield engine


@pytest.fixture
def engine(tmp_path):
    """A migrated SQLite database in a temporary folder."""
    engine = migrated_sqlite(tmp_path / "test.db")
    yield engine
    engine.dispose()


@pytest.fixture
def config() -> Config:
    """The shipped starter config: alice, bob, carol, dave, erin (parsed once, a deep copy per test)."""
    return copy_of_starter()


@pytest.fixture
def clock() -> FakeClock:
    """A clock that moves only when told."""
    return FakeClock()


class Chat:
    """A fake chat on the console platform: type as anyone, read state and the outbox."""

    def __init__(self, engine, config: Config, clock: FakeClock):
        from bot.app import sync_handles

        self.engine, self.config, self.clock = engine, config, clock
        self.deps = Deps(config, clock, ["console"])
        sync_handles(engine, config, "console")
        self._event = 0

    def say(self, who: str, line: str, room: str | None = "lobby", event_id: str | None = None) -> Reply:
        """Type a command (text after `/crisis`) as a team member, in a room."""
        ref = RoomRef("console", room) if room else None
        with session(self.engine) as db:
            return dispatch(db, self.deps, Command(UserRef("console", who), line, ref, event_id))

    def room_of(self, incident_id: int) -> str:
        """The console room name of an incident."""
        with session(self.engine) as db:
            room = db.exec(select(Room).where(Room.incident_id == incident_id)).one()
            room.external_id = room.external_id or room.name  # as the console adapter would on delivery
            db.add(room)
            db.commit()
            return room.name

    def declare(self, who: str = "alice", line: str = "declare product-quality sev2 Battery overheating") -> tuple[int, str]:
        """Declare an incident and return its id and room."""
        reply = self.say(who, line)
        assert reply.ok, reply.message.plain()
        return reply.incident_id, self.room_of(reply.incident_id)

    def fire(self, worker: str = "test-worker") -> list[tuple[str, Message]]:
        """Fire every nudge due on the fake clock, as the scheduler would; return (to, message) for each DM or post it queued."""
        from handlers.nudges import firing

        before = {row.id for row in self.outbox()}
        while True:
            with session(self.engine) as db:
                claimed = firing.claim(db, self.clock.now(), worker)
            for nudge_id in claimed:
                with session(self.engine) as db:
                    firing.fire(db, self.deps, nudge_id, worker)
            if not claimed:
                break
        return [
            (getattr(effect, "to", None) or f"#room{row.incident_id}", effect.message)
            for row, effect in self.queued()
            if row.id not in before and hasattr(effect, "message")
        ]

    def outbox(self) -> list[Outbox]:
        """Every effect queued so far."""
        with session(self.engine) as db:
            return list(db.exec(select(Outbox).order_by(Outbox.id)))

    def queued(self) -> list[tuple[Outbox, Effect]]:
        """Every effect queued so far, read from its row as the delivery reads it, with the row."""
        from bot.outbox.effects import DELIVERIES, read

        return [(row, read(row, DELIVERIES)) for row in self.outbox()]

    def effects(self, kind: type[Effect] = Effect) -> list:
        """Every effect of one type (all when none is named) queued so far, typed."""
        return [effect for _row, effect in self.queued() if isinstance(effect, kind)]

    def posts(self) -> list[str]:
        """The plain text of every queued effect that carries a message (posts, DMs, answers...)."""
        return [effect.message.plain() for effect in self.effects() if hasattr(effect, "message")]

    def snapshot(self) -> dict:
        """Every row of every table except the dedup log: to prove a refusal changed nothing."""
        tables = {}
        with self.engine.connect() as connection:
            for table in SQLModel.metadata.sorted_tables:
                if table.name == ProcessedEvent.__tablename__:
                    continue
                rows = connection.execute(table.select().order_by(*table.primary_key.columns)).all()
                tables[table.name] = [tuple(row) for row in rows]
        return tables


@pytest.fixture
def chat(engine, config, clock) -> Chat:
    """A fake chat on a fresh SQLite database."""
    return Chat(engine, config, clock)


def table_names(engine) -> set[str]:
    """The tables that exist in a database."""
    return set(inspect(engine).get_table_names())
