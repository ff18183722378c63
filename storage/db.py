"""Engine and sessions: SQLite (WAL, busy timeout) or PostgreSQL by URL."""

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Engine, create_engine, event
from sqlmodel import Session

MIGRATIONS = Path(__file__).parent / "migrations"
CONNECT_TIMEOUT = 5  # seconds to reach PostgreSQL before a command is answered "try again"


def make_engine(url: str, **kwargs) -> Engine:
    """Create an engine; SQLite gets WAL and a busy timeout so writers wait instead of failing."""
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
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine) -> None:
    """Apply every pending migration."""
    command.upgrade(alembic_config(engine), "head")


def session(engine: Engine) -> Session:
    """A new session whose objects stay readable after commit."""
    return Session(engine, expire_on_commit=False)
