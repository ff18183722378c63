"""Column types shared by the tables."""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, TypeDecorator
from sqlmodel import Field


class UTCDateTime(TypeDecorator):
    """Store aware datetimes as naive UTC and read them back aware, on any database."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; OneVoice stores UTC only")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def utc_field(**kwargs: Any) -> Any:
    """A column of aware UTC datetimes."""
    return Field(sa_type=UTCDateTime, **kwargs)


def json_field() -> Any:
    """A JSON object column, empty by default."""
    return Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
