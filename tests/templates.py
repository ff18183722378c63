"""What every test would otherwise redo: the starter config parsed once, a database migrated once (copied per test)."""

import atexit
import shutil
import tempfile
from pathlib import Path

from sqlalchemy import Engine, event

from config.load import load_config
from config.model import Config
from storage.db import make_engine, upgrade

_STARTER: list[Config] = []
_SQLITE_TEMPLATE: list[Path] = []
_POSTGRES_MIGRATION: list[tuple[str, object]] = []  # the SQL Alembic ran on the first private schema, in order


def copy_of_starter() -> Config:
    """The shipped starter config, parsed once per test process; each caller gets its own deep copy to change."""
    if not _STARTER:
        _STARTER.append(load_config(None))
    return _STARTER[0].model_copy(deep=True)


def migrated_sqlite(path: Path) -> Engine:
    """An engine on a migrated SQLite database at `path`: a copy of the one file this process migrated with Alembic."""
    if not _SQLITE_TEMPLATE:
        folder = Path(tempfile.mkdtemp(prefix="onevoice-template-"))
        atexit.register(shutil.rmtree, folder, True)
        template = folder / "migrated.db"
        engine = make_engine(f"sqlite:///{template}")
        upgrade(engine)
        engine.dispose()  # the last connection closing folds the write-ahead log into the file: the file alone is the database
        assert not template.with_name("migrated.db-wal").exists()
        _SQLITE_TEMPLATE.append(template)
    shutil.copyfile(_SQLITE_TEMPLATE[0], path)
    return make_engine(f"sqlite:///{path}")


def migrated_schema_into(engine: Engine) -> None:
    """Migrate the empty PostgreSQL schema `engine` is on: the first time with Alembic (its SQL recorded), then by
    replaying that SQL, which leaves the same tables, indexes and version row in half the time."""
    if _POSTGRES_MIGRATION:
        with engine.connect() as connection:
            for statement, parameters in _POSTGRES_MIGRATION:
                connection.exec_driver_sql(statement, parameters or ())
            connection.commit()
        return
    recorded: list[tuple[str, object]] = []

    def record(_connection, _cursor, statement, parameters, _context, _many) -> None:
        recorded.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        upgrade(engine)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    _POSTGRES_MIGRATION.extend(recorded)
