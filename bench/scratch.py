"""A throwaway PostgreSQL schema for one bench run: made before, dropped after, whatever the run did."""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text


@contextmanager
def scratch_schema(database_url: str, prefix: str = "bench") -> Iterator[str]:
    """The URL of a new schema of that PostgreSQL database, on the search path; the schema is dropped afterwards."""
    schema, base = f"{prefix}_{uuid.uuid4().hex[:12]}", create_engine(database_url)
    with base.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield f"{database_url}{'&' if '?' in database_url else '?'}options=-csearch_path%3D{schema}"
    finally:
        with base.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        base.dispose()
