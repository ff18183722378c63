"""What each kind of effect does on a platform: a table from effect kind to a small handler.

Adding a kind is one registration: `@effect(EffectKind.X)` above an `async def` taking the `Delivery`. Database work
goes through `await delivery.db(fn)`, which runs it off the event loop and commits, so no transaction is open while the
platform is called.
"""

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlmodel import Session, select

from bot.outbox.adapter import Adapter, RetryLater, Undeliverable
from bot.web.report_files import deliver_report
from handlers.core.context import Deps
from handlers.core.ports import EffectKind
from handlers.incident.card import render_card
from handlers.line import publishing
from handlers.line.reading import render_pinned
from handlers.text.i18n import speaking
from handlers.text.markup import Message, text
from storage.models import Incident, Outbox, PersonHandle, Room


class Waiting(RetryLater):
    """An effect waits for another one of its incident (the room being opened, the post it edits): not a failed attempt."""

    def __init__(self, reason: str):
        super().__init__(reason, after=2)


class Roomless(Undeliverable):
    """Opening the incident's room failed for good: its effects have nowhere to go (that failure is reported once)."""


class Delivery:
    """One outbox row being delivered: the platform, the row, and database steps run off the event loop."""

    def __init__(self, session: Session, deps: Deps, adapter: Adapter, engine, row: Outbox):
        self.session, self.deps, self.adapter, self.engine, self.row = session, deps, adapter, engine, row
        self.payload = row.payload
        self.message = Message.from_json(row.payload["message"]) if "message" in row.payload else None
        self.room: Room | None = None

    async def db(self, step: Callable[[Session], object]):
        """Run `step(session)` in a worker thread and commit: the loop never waits on the database's lock."""
        return await asyncio.to_thread(self._in_transaction, step)

    def _in_transaction(self, step):
        with speaking(self.deps.config.language):
            result = step(self.session)
        self.session.commit()
        return result

    def incident(self, session: Session) -> Incident:
        return session.get(Incident, self.row.incident_id)

    def card(self, session: Session) -> Message:
        return render_card(session, self.deps.config, self.incident(session), self.deps.clock.now())


@dataclass(frozen=True)
class Effect:
    """A registered handler and whether it speaks into the incident room (and so waits for it to be opened)."""

    run: Callable[[Delivery], Awaitable[dict]]
    in_room: bool


EFFECTS: dict[str, Effect] = {}


def effect(kind: EffectKind | str, in_room: bool = True):
    """Register the handler of one effect kind."""

    def register(run: Callable[[Delivery], Awaitable[dict]]):
        EFFECTS[str(kind)] = Effect(run, in_room)
        return run

    return register


async def run(delivery: Delivery) -> dict:
    """Deliver one row with its kind's handler, once its room exists if it needs one."""
    handler = EFFECTS.get(delivery.row.kind)
    if handler is None:
        raise Undeliverable(f"unknown effect kind {delivery.row.kind!r}")
    delivery.room = await delivery.db(lambda s: _room(s, delivery.row))
    if handler.in_room and not delivery.payload.get("to") and (delivery.room is None or delivery.room.external_id is None):
        await delivery.db(lambda s: _wait_for_room(s, delivery.row))
    return await handler.run(delivery)


@effect(EffectKind.OPEN_ROOM, in_room=False)
async def open_room(d: Delivery) -> dict:
    result = await d.adapter.open_room(d.room, d.payload, await d.db(d.card))
    d.room.external_id, d.room.thread_id = result.get("external_id"), result.get("thread_id")
    d.room.card_message_id = result.get("card_message_id")
    await d.db(lambda s: s.add(d.room))
    return result


@effect(EffectKind.POST)
async def post(d: Delivery) -> dict:
    return await d.adapter.post(None if d.payload.get("to") else d.room, d.payload.get("to"), d.message)


@effect(EffectKind.INVITE)
async def invite(d: Delivery) -> dict:
    return await d.adapter.invite(d.room, d.payload["users"])


@effect(EffectKind.DM, in_room=False)
async def dm(d: Delivery) -> dict:
    try:
        return await d.adapter.dm(d.payload["to"], d.message)
    except Undeliverable:
        if d.room is None or d.room.external_id is None:
            raise
        # Not reachable privately (on Telegram, someone who never started the bot): say it in the incident room.
        name = await d.db(lambda s: _name_of(s, d.deps, d.adapter.platform, d.payload["to"]))
        return await d.adapter.post(d.room, None, text(f"{name}: ") + d.message)


@effect(EffectKind.REFRESH_CARD)
async def refresh_card(d: Delivery) -> dict:
    result = await d.adapter.edit_card(d.room, await d.db(d.card))
    if result.get("message_id") and result["message_id"] != d.room.card_message_id:  # the old card was gone: a fresh one
        d.room.card_message_id = result["message_id"]
        await d.db(lambda s: s.add(d.room))
    return result


@effect(EffectKind.REFRESH_LINE)
async def refresh_line(d: Delivery) -> dict:
    line = await d.db(lambda s: render_pinned(s, d.deps.config, d.incident(s)))
    result = await d.adapter.pin(d.room, d.room.line_message_id, line)
    d.room.line_message_id = result.get("message_id") or d.room.line_message_id
    await d.db(lambda s: s.add(d.room))
    return result


@effect(EffectKind.REPORT)
async def report(d: Delivery) -> dict:
    """The review's files are written on this side; the room is told where."""
    now = d.deps.clock.now()
    told = await d.db(lambda s: deliver_report(s, d.deps.config, d.engine, d.row.incident_id, now, d.message))
    return await d.adapter.post(d.room, None, told)


@effect(EffectKind.PUBLISH, in_room=False)
async def publish(d: Delivery) -> dict:
    """Send the approved text read from the database now, so a version superseded meanwhile never goes out."""
    now, publication = d.deps.clock.now(), d.payload["publication_id"]
    approved = await d.db(lambda s: publishing.text_to_publish(s, publication, now))
    if approved is None:
        return {"cancelled": True}
    result = await d.adapter.publish(d.payload["to"], approved)
    await d.db(lambda s: publishing.mark_sent(s, publication, result or {}, now))
    return result


@effect(EffectKind.ANSWER, in_room=False)
async def answer(d: Delivery) -> dict:
    """A command's answer, by the platform's own reply channel (Slack's response_url works where the bot is no member)."""
    return await d.adapter.answer(d.payload, d.message)


@effect(EffectKind.EDIT, in_room=False)
async def edit(d: Delivery) -> dict:
    """Edit what an earlier post delivered; wait while that post is itself still on its way."""
    posted = await d.db(lambda s: s.get(Outbox, d.payload["ref"]))
    if posted is None or posted.state == "failed":
        return {"skipped": "nothing to edit"}
    if posted.state != "sent":
        raise Waiting("the message to edit is not posted yet")
    where = posted.result.get("channel") or posted.payload.get("to")
    return await d.adapter.edit_message(where, posted.result.get("message_id"), d.message)


def _room(session: Session, row: Outbox) -> Room | None:
    if row.incident_id is None:
        return None
    return session.exec(select(Room).where(Room.incident_id == row.incident_id, Room.platform == row.platform)).first()


def _wait_for_room(session: Session, row: Outbox) -> None:
    """The room is still being opened (wait), or opening it failed for good (nothing to post into)."""
    opening = session.exec(
        select(Outbox.state).where(
            Outbox.incident_id == row.incident_id, Outbox.platform == row.platform, Outbox.kind == EffectKind.OPEN_ROOM
        )
    ).first()
    if opening == "pending":
        raise Waiting("the incident room is still being opened")
    raise Roomless("the incident has no room on this platform (opening it failed)")


def _name_of(session: Session, deps: Deps, platform: str, handle: str) -> str:
    key = session.exec(select(PersonHandle.person).where(PersonHandle.platform == platform, PersonHandle.external_id == handle)).first()
    person = deps.config.team.people.get(key) if key else None
    return person.name if person else handle
