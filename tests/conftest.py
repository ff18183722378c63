"""Shared fixtures: a fresh database, the starter team, a fake clock and a fake chat."""

import atexit
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, event, inspect, text
from sqlmodel import SQLModel, select

from config.model import Config
from handlers.core.context import Deps
from handlers.core.effects import Effect
from handlers.core.ports import Command, FakeClock, Reply, RoomRef, UserRef
from handlers.router import dispatch
from handlers.text.markup import Message
from storage.db import HEAD, make_engine, session
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


_EMPTIED: list[str] = []  # private schemas of this process that a test used and emptied: the next one takes one


@contextmanager
def reused_schema() -> Iterator:
    """As private_schema, for tests whose every connection is in this process: a schema an earlier test used is emptied
    after it (rows deleted, sequences restarted: a few ms) and handed to the next, instead of one made and migrated per
    test (~0.5 s). One that cannot be emptied, or whose tables are not the models' (a test changed it), is dropped."""
    if _EMPTIED:
        schema = _EMPTIED.pop()
        engine = make_engine(POSTGRES_URL, connect_args={"options": f"-csearch_path={schema}"})
    else:
        base, engine, schema = postgres_engine_or_skip()
        base.dispose()
        migrated_schema_into(engine)
    try:
        yield engine, f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        engine.dispose()
        base = make_engine(POSTGRES_URL)
        try:
            if _emptied(base, schema):
                _EMPTIED.append(schema)
            else:
                with base.connect() as connection:
                    connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
                    connection.commit()
        finally:
            base.dispose()


def _emptied(base, schema: str) -> bool:
    """Delete every row but the migration version's and restart every sequence of `schema`, in one transaction; False
    (and nothing changed) when its tables are not exactly the models' or another connection still holds a lock there."""
    models = [table.name for table in reversed(SQLModel.metadata.sorted_tables)]  # children first
    with base.connect() as connection:
        kinds = connection.execute(
            text("SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = :s"),
            {"s": schema},
        ).all()
        locked = connection.execute(
            text(
                "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE n.nspname = :s AND l.pid <> pg_backend_pid()"
            ),
            {"s": schema},
        ).scalar()
        tables = {name for name, kind in kinds if kind in ("r", "p")}
        version = "alembic_version" in tables and connection.execute(text(f"SELECT version_num FROM {schema}.alembic_version")).scalar()
        if locked or tables != {*models, "alembic_version"} or version != HEAD:  # a test that migrated it elsewhere: dropped
            return False
        sequences = [name for name, kind in kinds if kind == "S"]
        statements = ["SET LOCAL lock_timeout = '5s'", *(f'DELETE FROM {schema}."{name}"' for name in models)]
        statements += [f'ALTER SEQUENCE {schema}."{name}" RESTART' for name in sequences]
        try:
            connection.exec_driver_sql("; ".join(statements))
            connection.commit()
        except Exception:  # noqa: BLE001  (the schema is dropped instead)
            connection.rollback()
            return False
    return True


@atexit.register
def _drop_emptied() -> None:
    """The emptied schemas are dropped when the test process ends."""
    if not _EMPTIED:
        return
    base = make_engine(POSTGRES_URL)
    with base.connect() as connection:
        for schema in _EMPTIED:
            connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        connection.commit()
    base.dispose()
    _EMPTIED.clear()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_engine(request, tmp_path) -> Iterator:
    """A migrated, empty database: SQLite and PostgreSQL both."""
    if request.param == "sqlite":
        engine = migrated_sqlite(tmp_path / "test.db")
        yield engine
        engine.dispose()
        return
    with reused_schema() as (engine, _url):
        yield engine


_SHARED: list[Engine] = []  # the one engine of the `engine` fixture in this process


@pytest.fixture
def engine(tmp_path):
    """A migrated SQLite database in a temporary folder, under one engine per process pointed at each test's file: a new
    engine compiles every SQL statement again, half the time of a short domain test."""
    path = tmp_path / "test.db"
    migrated_sqlite(path).dispose()
    if not _SHARED:
        _SHARED.append(make_engine(f"sqlite:///{path}"))

        @event.listens_for(_SHARED[0], "do_connect")
        def _at_this_tests_file(_dialect, _record, cargs, _cparams) -> None:
            cargs[0] = _SHARED[0].url.database  # the test's own file, whatever the engine was made on

    shared = _SHARED[0]
    shared.dispose()  # no connection to the last test's file is kept
    shared.url = shared.url.set(database=str(path))  # what the product reads (reports go beside the database)
    yield shared
    assert shared.pool.checkedout() == 0, "a connection outlived its test: it would write into the next test's database"
    shared.dispose()


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
        from handlers.catalog import SCRIPTED
        from handlers.nudges import scripted

        self.engine, self.config, self.clock = engine, config, clock
        self.deps = Deps(config, clock, ["console"])
        scripted.fill(SCRIPTED)  # as the app does at start: what fires a drill's injects and the reaction follow-ups
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

    def fire_due(self) -> None:
        """Fire every nudge due on the fake clock, a batch at a time, as the scheduler does (firing.fire_batch)."""
        from handlers.nudges import firing

        for _batch in range(1000):  # a nudge that stayed due after firing would loop forever: fail instead
            with session(self.engine) as db:
                _spoke, locked = firing.fire_batch(db, self.deps, 100)
            if not locked:
                return
        raise AssertionError("nudges are still due after 1,000 batches")

    def fire(self) -> list[tuple[str, Message]]:
        """Fire every nudge due on the fake clock, as the scheduler would; return (to, message) for each DM or post it queued."""
        before = {row.id for row in self.outbox()}
        self.fire_due()
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
