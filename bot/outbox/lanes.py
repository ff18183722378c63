"""A claimed batch in groups, one per lane of an incident (its room, each person's DMs, each broadcast target:
storage/lanes.py), each in claim order. One row at a time is sent and its fate written (the batch's turn), so a crash
repeats at most that one send; but a row that must wait before it is sent (a channel's pace, a group's budget: the
adapter waits `waiting_aside`) hands the turn on meanwhile, so one busy room delays only its own lane, not a DM or a
broadcast of the same incident, nor another incident."""

import asyncio
from collections.abc import Awaitable, Callable

from sqlalchemy import Engine
from sqlmodel import Session

from bot.outbox.adapter import TURN, Stopped, Turn
from handlers.core.effects import Edit, OpenRoom
from storage.db import session as new_session
from storage.models import Outbox

Step = Callable[[Session, Outbox], Awaitable[int]]  # deliver one row in this session: how many effects it sent


def groups_of(rows: list[Outbox]) -> list[list[Outbox]]:
    """The rows by incident and lane, each group in claim order. An incident whose room is being opened in this batch is
    one group, its opening first: every lane waits for the room. An edit whose post is in another group goes in that
    one, after it (sent side by side, it would only find the post not out yet and wait)."""
    opening = {row.incident_id for row in rows if row.kind == OpenRoom.kind}
    groups: dict[tuple, list[Outbox]] = {}
    home: dict[int, tuple] = {}  # row id -> the key of its group
    alias: dict[tuple, tuple] = {}  # a key whose first row is such an edit -> the group it joined, with what follows it
    for row in rows:
        key = ("incident", row.incident_id) if row.incident_id in opening else ("lane", row.incident_id, row.lane)
        ref = (row.payload or {}).get("ref") if row.kind == Edit.kind else None
        if key not in groups and key not in alias and ref in home and home[ref] != key:
            alias[key] = home[ref]
        key = alias.get(key, key)
        groups.setdefault(key, []).append(row)
        home[row.id] = key
    return list(groups.values())


async def deliver_side_by_side(engine: Engine, rows: list[Outbox], step: Step, halting: Callable[[], bool] = lambda: False) -> int:
    """Run `step` on every row, its group's rows one after another in one session of their own, one row of all at a time
    but for what waits aside; how many were sent. A group that fails (the database away) stops the others after the row
    each is sending, then the error is raised; `halting` (SIGTERM) hands back a row waiting aside instead of sending it."""
    turn = Turn(halting)

    async def deliver(group: list[Outbox]) -> int:
        TURN.set(turn)  # this task's own context: the adapters it calls hand the turn on while they wait
        sent = 0
        try:
            with new_session(engine) as session:  # a session is never shared by two tasks
                for row in group:
                    await turn.take()  # a new row: nothing of it sent yet
                    try:
                        if turn.stopped:
                            return sent  # the rest keep their leases until they run out, as after any failed batch
                        session.add(row)
                        sent += await step(session, row)
                    finally:
                        turn.give()
        except Exception:
            turn.stopped = True  # a row waiting aside is not sent either (waiting_aside raises Stopped)
            raise
        return sent

    results = await asyncio.gather(*(deliver(group) for group in groups_of(rows)), return_exceptions=True)
    if errors := [result for result in results if isinstance(result, BaseException)]:
        # the cause, not its echo (a Stopped reaches here only from a step that does not defer it as the worker does)
        raise next((error for error in errors if not isinstance(error, Stopped)), errors[0])
    return sum(result for result in results if isinstance(result, int))
