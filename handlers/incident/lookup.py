"""Which incident a command is about: the one it names (`#12`), or the one whose room it was typed in."""

from functools import cache

from sqlalchemy import bindparam
from sqlalchemy import select as sql_select
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
    params = {"platform": room.platform, "external_id": room.external_id, "thread": room.thread_id}
    session.flush()  # as the ORM's autoflush would: a room this transaction added is found (a Core statement does not flush)
    row = session.connection().execute(_room_incident_query(room.thread_id is not None), params).first()
    return None if row is None else attached(session, Incident, row)


@cache
def _room_incident_query(in_thread: bool):
    """The incident of a room (its columns, for storage.rows.attached), in one Core query built once: every command typed
    in a room asks it."""
    query = sql_select(*columns_of(Incident)).join(Room, col(Room.incident_id) == col(Incident.id))
    query = query.where(col(Room.platform) == bindparam("platform"), col(Room.external_id) == bindparam("external_id"))
    # A group's main chat is not any of its topics: match the thread exactly, None included.
    return query.where(col(Room.thread_id) == bindparam("thread") if in_thread else col(Room.thread_id).is_(None))


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
