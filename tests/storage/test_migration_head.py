"""storage.db.HEAD, which lets a database already migrated start without Alembic, is Alembic's head."""

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from storage.db import HEAD, alembic_config, at_head, make_engine, upgrade
from tests.templates import migrated_sqlite


def test_head_is_the_newest_migration():
    assert ScriptDirectory.from_config(alembic_config(make_engine("sqlite://"))).get_heads() == [HEAD]


def test_an_empty_database_is_migrated(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'new.db'}")
    assert not at_head(engine)
    upgrade(engine)
    assert at_head(engine) and inspect(engine).has_table("matrixsync")
    engine.dispose()


def test_a_database_one_migration_behind_is_brought_to_head(tmp_path):
    engine = migrated_sqlite(tmp_path / "behind.db")
    command.downgrade(alembic_config(engine), "-1")
    assert not at_head(engine) and version(engine) != HEAD
    upgrade(engine)
    assert at_head(engine) and version(engine) == HEAD
    engine.dispose()


def version(engine) -> str:
    with engine.connect() as connection:
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
