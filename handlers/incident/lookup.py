"""Which incident a command is about: the one it names (`#12`), or the one whose room it was typed in."""

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any, cast

from sqlalchemy import Select, bindparam, true
from sqlalchemy import select as sql_select
from sqlalchemy.engine import Row
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.sql.visitors import ExternallyTraversible, replacement_traverse
from sqlmodel import Session, col, select

from config.model import OPEN_PHASES
from handlers.core.errors import Refusal
from handlers.core.ports import Command
from handlers.text.i18n import _
from handlers.text.markup import Message, fmt, lines
from storage.models import Incident, Room
from storage.rows import attached, columns_of


def incident_for(session: Session, command: Command, target: int | None) -> Incident | None:
    """The incident named (`target`, refused when there is none) or, without one, the incident of the room the command
    was typed in (None in a direct chat or a room of no incident)."""
    if target is not None:
        incident = session.get(Incident, target)
        if incident is None:
            raise Refusal(fmt(_("There is no incident #{id}. Type `/crisis list` for the open incidents."), id=target))
        return incident
    room = command.room
    if room is None or room.direct:
        return None
    session.flush()  # as the ORM's autoflush would: a room this transaction added is found (a Core statement does not flush)
    row = session.connection().execute(_room_incident_query(room.thread_id is not None), _in_room_params(room)).first()
    return None if row is None else attached(session, Incident, row)


def incident_reading(
    session: Session, command: Command, target: int | None, reads, now: datetime
) -> tuple[Incident | None, Sequence[Row] | None]:
    """incident_for, with the rows of `reads` (a statement on the parameters `incident` and `now`: a verb's reads) read
    in the same statement when the incident is found by its room, on PostgreSQL: one round trip less for the verb. None
    for the rows when they were not read (the incident named, no verb reads, SQLite): the verb reads them itself."""
    room = command.room
    # On SQLite a statement is no round trip, and the joined one costs it more than the two (~30 µs a status).
    if reads is None or target is not None or room is None or room.direct or session.get_bind().dialect.name == "sqlite":
        return incident_for(session, command, target), None
    session.flush()  # as the ORM's autoflush would (see incident_for)
    rows = session.connection().execute(_read_along(reads, room.thread_id is not None), {**_in_room_params(room), "now": now}).all()
    if not rows:
        return None, None
    width = len(rows[0]) - len(columns_of(Incident))  # the verb's columns first, so its rows read as its own statement's
    incident = attached(session, Incident, rows[0][width:])
    if len(rows) == 1 and all(value is None for value in rows[0][:width]):  # the outer join's empty side: perhaps no row
        return incident, None  # the verb reads them itself: its statement alone says whether it has a row of nulls
    return incident, rows


@cache
def _read_along(reads, in_thread: bool):
    """The room's incident and the rows of `reads` in one statement, built once per verb: `reads`'s parameter `incident`
    becomes the room's incident, found by a subquery on the room (the database runs it once)."""
    room_incident = _first_room(sql_select(col(Room.incident_id)), in_thread).scalar_subquery()

    def by_room(element: ExternallyTraversible, **_kw: Any) -> ExternallyTraversible | None:
        return room_incident if isinstance(element, BindParameter) and element.key == "incident" else None

    statement: Select = reads()
    along = cast(Select, replacement_traverse(statement, {}, by_room)).subquery()
    # outer: the incident is found even when the verb's statement has no row
    return (
        sql_select(*along.c, *columns_of(Incident)).select_from(Incident).outerjoin(along, true()).where(col(Incident.id) == room_incident)
    )


def _in_room_params(room) -> dict:
    """The parameters of _in_room's conditions for the room a command was typed in."""
    return {"platform": room.platform, "external_id": room.external_id, "thread": room.thread_id}


def _in_room(in_thread: bool) -> tuple:
    """The conditions of the room a command was typed in, on the parameters `platform`, `external_id` and `thread`."""
    # A group's main chat is not any of its topics: match the thread exactly, None included.
    thread = col(Room.thread_id) == bindparam("thread") if in_thread else col(Room.thread_id).is_(None)
    return col(Room.platform) == bindparam("platform"), col(Room.external_id) == bindparam("external_id"), thread


@cache
def _room_incident_query(in_thread: bool):
    """The incident of a room (its columns, for storage.rows.attached), in one Core query built once: every command typed
    in a room asks it."""
    return _first_room(sql_select(*columns_of(Incident)).join(Room, col(Room.incident_id) == col(Incident.id)), in_thread)


def _first_room(query: Select, in_thread: bool) -> Select:
    """`query` on the room a command was typed in: the first such room, should two ever match (nothing forbids it), so
    that every verb, and the card read with the incident, find the same incident."""
    return query.where(*_in_room(in_thread)).order_by(col(Room.id)).limit(1)


def not_an_incident_room(session: Session, spec) -> Message:
    """The refusal of a verb that needs an incident, typed outside any incident room: how to name one, and the open ones."""
    open_ids = session.exec(
        select(Incident.id).where(col(Incident.phase).in_(OPEN_PHASES)).order_by(col(Incident.id).desc()).limit(5)
    ).all()
    example = f"#{open_ids[0]}" if open_ids else "#1"
    listing = ", ".join(f"#{i}" for i in open_ids) or _("none")
    return lines(
        fmt(_("This is not an incident room: name the incident first, e.g. `/crisis {example} {verb}`."), example=example, verb=spec.name),
        fmt(_("Open incidents: {listing}"), listing=listing),
    )
