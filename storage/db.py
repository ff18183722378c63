"""Engine and sessions: SQLite (WAL, busy timeout) or PostgreSQL by URL."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, OperationalError
from sqlmodel import Session, SQLModel

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

MIGRATIONS = Path(__file__).parent / "migrations"
# The newest migration's revision (tests/storage/test_migration_head.py holds it to Alembic's head): a database already
# there is not handed to Alembic, whose import and 17 migration scripts cost every start a second on a loaded machine.
HEAD = "0018"
CONNECT_TIMEOUT = 5  # seconds to reach PostgreSQL before a command is answered "try again"
# How people write a PostgreSQL URL → the driver that is installed (psycopg 3); SQLAlchemy's default would be psycopg2.
_POSTGRES = ("postgres://", "postgresql://", "postgres+psycopg://")
Row = TypeVar("Row", bound=SQLModel)


class DatabaseUnusable(Exception):
    """The database URL cannot work; `kind` says why (bad_url, unsupported, unreachable, no_database, sqlite_path, empty)."""

    def __init__(self, kind: str, **detail: str):
        super().__init__(f"{kind}: {detail}")
        self.kind, self.detail = kind, detail


def database_url(url: str) -> str:
    """The URL as SQLAlchemy needs it: postgres:// and postgresql:// use psycopg 3; anything but SQLite or PostgreSQL refused."""
    for prefix in _POSTGRES:
        if url.startswith(prefix):
            url = "postgresql+psycopg://" + url[len(prefix) :]
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseUnusable("bad_url", url=url[:80]) from None
    if parsed.get_backend_name() not in ("sqlite", "postgresql") or parsed.get_driver_name() not in ("pysqlite", "psycopg"):
        raise DatabaseUnusable("unsupported", scheme=url.split(":", 1)[0][:40])
    return url


def unusable(error: OperationalError, engine: Engine) -> DatabaseUnusable:
    """Why a first connection failed, in words a person acts on."""
    said, url = str(error.orig or error), engine.url
    if url.get_backend_name() == "sqlite":
        return DatabaseUnusable("sqlite_path", path=str(url.database), reason=said.split("\n")[0][:120])
    if "does not exist" in said and "database" in said:
        return DatabaseUnusable("no_database", database=str(url.database), host=f"{url.host}:{url.port or 5432}")
    return DatabaseUnusable(
        "unreachable", host=f"{url.host or 'localhost'}:{url.port or 5432}", reason=said.strip().split("\n")[0].rsplit(": ", 1)[-1][:120]
    )


def open_database(url: str, migrate: bool = True) -> Engine:
    """An engine whose database answers, migrated; with migrate=False (commands that only read) only an existing one."""
    engine = make_engine(url)
    if not migrate and engine.url.get_backend_name() == "sqlite" and not Path(engine.url.database or "").exists():
        raise DatabaseUnusable("empty", where=str(engine.url.database))
    try:
        if not migrate and not inspect(engine).has_table("alembic_version"):
            raise DatabaseUnusable("empty", where=engine.url.render_as_string(hide_password=True))
        upgrade(engine)  # an existing OneVoice database from an older version is brought up to date, never a new one made
    except OperationalError as error:
        raise unusable(error, engine) from None
    return engine


def make_engine(url: str, **kwargs) -> Engine:
    """Create an engine; SQLite gets WAL and a busy timeout so writers wait instead of failing."""
    url = database_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()
            dbapi_connection.isolation_level = None  # we begin transactions ourselves, below

        @event.listens_for(engine, "begin")
        def _one_writer_at_a_time(connection):
            # SQLite ignores SELECT … FOR UPDATE: taking the write lock up front makes each command's reads and
            # writes happen as one unit, so two approvals at the same moment see each other (and nothing fails midway).
            connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    # A connection checked out after an outage is tested first (pre-ping) and replaced if dead, so the bot recovers by
    # itself; an unreachable server fails a command within seconds instead of hanging it for the OS's TCP timeout.
    connect_args = kwargs.pop("connect_args", {})
    if "connect_timeout" not in url:
        connect_args = {"connect_timeout": CONNECT_TIMEOUT, **connect_args}
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args, **kwargs)


def alembic_config(engine: Engine) -> AlembicConfig:
    """An Alembic config that runs our migrations on this engine."""
    from alembic.config import Config as AlembicConfig

    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def at_head(engine: Engine) -> bool:
    """Whether the database's schema is the newest one (its version row is HEAD): one query, no Alembic."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return False
        return list(connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalars()) == [HEAD]


def upgrade(engine: Engine) -> None:
    """Apply every pending migration (none to apply: Alembic is not even loaded)."""
    if at_head(engine):
        return
    from alembic import command

    command.upgrade(alembic_config(engine), "head")


def session(engine: Engine) -> Session:
    """A new session whose objects stay readable after commit."""
    return Session(engine, expire_on_commit=False)


def in_index_order(db: Session, sorting: bool = False) -> None:
    """On PostgreSQL, plan the rest of this transaction without sorting, so `ORDER BY … LIMIT` reads an index from its start
    (sorting=True: with sorting again, for the statements after such a read)."""
    # A young table has no statistics: the planner then guesses a handful of due rows and sorts every one of them, a cost
    # that grows with the backlog (and with the dead row versions no vacuum has removed yet) just when the loop is behind.
    # It lasts to the transaction's end: a later query there (the delivery loop's outbox reads) plans without sorting too,
    # which costs them nothing, as each reads by an index or a handful of rows; a reminder's own reads (its rooms in order)
    # would read a whole table by its key instead of sorting a few rows, so firing sorts again after its batch is locked.
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text(f"SET LOCAL enable_sort = {'on' if sorting else 'off'}"))


def store_or_update(engine: Engine, model: type[Row], key: object, values: dict[str, Any], theirs_on_clash: bool = False) -> Row:
    """Insert a row by primary key, or update the stored one; when another process inserts the same key at that moment,
    update theirs (or keep it as they stored it: `theirs_on_clash`). The row as stored."""
    for attempt in range(2):
        with session(engine) as db:
            row = db.get(model, key)
            if row is not None and attempt and theirs_on_clash:
                return row
            if row is None:
                row = model(**values)
            else:
                for name, value in values.items():
                    setattr(row, name, value)
            db.add(row)
            try:
                db.commit()
                return row
            except IntegrityError:
                db.rollback()
                if attempt:  # the key was taken twice: not a race any more
                    raise
    raise AssertionError("unreachable")  # the loop returns or raises
