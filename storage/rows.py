"""ORM objects for rows a Core statement read: the hot path reads a row without the ORM's per-query work."""

from collections.abc import Sequence
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import inspect
from sqlalchemy.orm import Mapper, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.elements import KeyedColumnElement
from sqlmodel import Session, SQLModel

Model = TypeVar("Model", bound=SQLModel)


def attached(session: Session, model: type[Model], row: Sequence[Any]) -> Model:
    """The object of `row` (every column of `model`'s table, in the table's order), in the session as if the ORM had
    loaded it: the object the session already holds for that key (what of it had expired read from the row, its unflushed
    changes kept), else a new one whose changes flush like any other's."""
    # An ORM select costs about three times the same Core select plus this, and every command typed in a room reads its
    # incident while the person waits.
    mapper, names, key_at = _shape(model)
    held = session.identity_map.get(mapper.identity_key_from_primary_key(tuple(row[i] for i in key_at)))
    if held is not None:
        stale = inspect(held).expired_attributes  # filled from this row, as the ORM's select would: no later SELECT
        for name, value in zip(names, row, strict=True):
            if name in stale:
                set_committed_value(held, name, value)
        return held
    found = mapper.class_manager.new_instance()  # as the ORM builds a loaded object: no __init__, no validation
    found.__dict__.update(zip(names, row, strict=True))
    make_transient_to_detached(found)  # its values become its committed state, its primary key its identity
    session.add(found)  # detached → persistent: in the identity map, neither new nor dirty
    return found


def columns_of(model: type[SQLModel]) -> tuple[KeyedColumnElement, ...]:
    """Every column of the model's table, in the order `attached` reads them."""
    return tuple(_shape(model)[0].local_table.columns)


@cache
def _shape(model: type[SQLModel]) -> tuple[Mapper, tuple[str, ...], tuple[int, ...]]:
    """The model's mapper, its columns' names in the table's order, and where its primary key sits among them."""
    mapper = inspect(model)
    names = tuple(column.key for column in mapper.local_table.columns)
    return mapper, names, tuple(names.index(column.key) for column in mapper.primary_key)
