"""What each type of effect does on a platform: a table from the effect's dataclass to a small handler.

Adding a type is one row in DELIVERIES and an `async def` taking the `Delivery`, which calls one adapter method. Database
work goes through `await delivery.db(fn)`, which runs it off the event loop and commits, so no transaction is open while
the platform is called.
"""

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session, select

from bot.outbox.adapter import Adapter, RetryLater, Undeliverable
from bot.outbox.mail import message_id_of
from bot.outbox.webhook import delivery_id_of
from bot.web.report_files import deliver_report
from handlers.core.context import Deps
from handlers.core.effects import DM, Answer, Edit, Effect, Invite, Mail, OpenRoom, Post, Publish, RefreshCard, RefreshLine, Report, Webhook
from handlers.desk import deadlines
from handlers.incident.card import render_card
from handlers.line import outcomes, outlets
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
    """One outbox row being delivered: the platform, the row, its effect, and database steps run off the event loop."""

    def __init__(self, session: Session, deps: Deps, adapter: Adapter, engine, row: Outbox, reports: Path):
        self.session, self.deps, self.adapter, self.engine, self.row = session, deps, adapter, engine, row
        self.reports = reports  # where a REPORT effect writes its files: the folder the app was given
        self.effect: Effect | None = None  # read from the row by `run`
        self.room: Room | None = None

    async def db(self, step: Callable[[Session], object]):
        """Run `step(session)` in a worker thread and commit: the loop never waits on the database's lock."""
        return await asyncio.to_thread(self._in_transaction, step)

    def _in_transaction(self, step):
        with speaking(self.deps.config.language):
            result = step(self.session)
        self.session.commit()
        return result

    async def keep_progress(self, progress: dict) -> None:
        """A multi-step effect stopped halfway: note on its room what exists, so the retry carries on from there."""

        def note(session: Session) -> None:
            for name in ("external_id", "thread_id", "card_message_id", "line_message_id"):
                if progress.get(name):
                    setattr(self.room, name, str(progress[name]))
            session.add(self.room)

        await self.db(note)

    def incident(self, session: Session) -> Incident:
        return session.get(Incident, self.row.incident_id)

    def card(self, session: Session) -> Message:
        return render_card(session, self.deps.config, self.incident(session), self.deps.clock.now())


@dataclass(frozen=True)
class Handler:
    """How one type of effect is delivered, and whether it speaks into the incident room (and so waits for it)."""

    run: Callable[[Delivery], Awaitable[dict]]
    in_room: bool = True
    reads_room: bool = True  # False: it never looks at the incident's room, which is then not read before it runs
    # Told instead of the generic notice when the effect is given up: (session, deps, row, effect, reason) → told anyone.
    given_up: Callable[[Session, Deps, Outbox, Effect, str], bool] | None = None


def read(row: Outbox, table: dict[type[Effect], Handler]) -> Effect:
    """The typed effect an outbox row holds, by its kind; a kind or a payload no type reads is undeliverable."""
    kinds = {effect.kind: effect for effect in table}
    if row.kind not in kinds:
        raise Undeliverable(f"unknown effect kind {row.kind!r}")
    try:
        return kinds[row.kind].from_payload(row.payload or {})
    except (KeyError, TypeError, ValueError, AttributeError) as broken:  # a field missing, or not of its type
        raise Undeliverable(f"unreadable {row.kind} effect: {broken}") from None


async def run(delivery: Delivery, table: dict[type[Effect], Handler] | None = None) -> dict:
    """Deliver one row with its type's handler, once its room exists if it needs one."""
    table = DELIVERIES if table is None else table
    delivery.effect = effect = read(delivery.row, table)
    handler = table[type(effect)]
    # No trip off the loop for an effect of no incident (a command's answer), nor for one that does not go to the room
    # (a DM reads the room itself only when the person cannot be reached privately).
    if handler.reads_room and delivery.row.incident_id is not None:
        delivery.room = await delivery.db(lambda s: _room(s, delivery.row))
    if handler.in_room and not getattr(effect, "to", None) and (delivery.room is None or delivery.room.external_id is None):
        await delivery.db(lambda s: _wait_for_room(s, delivery.row))
    return await handler.run(delivery)


async def open_room(d: Delivery) -> dict:
    result = await d.adapter.open_room(d.room, d.effect, await d.db(d.card))
    d.room.external_id, d.room.thread_id = result.get("external_id"), result.get("thread_id")
    d.room.card_message_id = result.get("card_message_id")
    await d.db(lambda s: s.add(d.room))
    return result


async def post(d: Delivery) -> dict:
    return await d.adapter.post(None if d.effect.to else d.room, d.effect.to, d.effect.message)


async def invite(d: Delivery) -> dict:
    return await d.adapter.invite(d.room, list(d.effect.users))


async def dm(d: Delivery) -> dict:
    try:
        return await d.adapter.dm(d.effect.to, d.effect.message)
    except Undeliverable:
        d.room = await d.db(lambda s: _room(s, d.row))
        if d.room is None or d.room.external_id is None:
            raise
        # Not reachable privately (on Telegram, someone who never started the bot): say it in the incident room.
        name = await d.db(lambda s: _name_of(s, d.deps, d.adapter.platform, d.effect.to))
        return await d.adapter.post(d.room, None, text(f"{name}: ") + d.effect.message)


async def refresh_card(d: Delivery) -> dict:
    result = await d.adapter.edit_card(d.room, await d.db(d.card))
    if result.get("message_id") and result["message_id"] != d.room.card_message_id:  # the old card was gone: a fresh one
        d.room.card_message_id = result["message_id"]
        await d.db(lambda s: s.add(d.room))
    return result


async def refresh_line(d: Delivery) -> dict:
    line = await d.db(lambda s: render_pinned(s, d.deps.config, d.incident(s)))
    result = await d.adapter.pin(d.room, d.room.line_message_id, line)
    d.room.line_message_id = result.get("message_id") or d.room.line_message_id
    await d.db(lambda s: s.add(d.room))
    return result


async def report(d: Delivery) -> dict:
    """The review's files are written on this side; the room is told where."""
    now = d.deps.clock.now()
    told = await d.db(lambda s: deliver_report(s, d.deps.config, d.row.incident_id, now, d.effect.message, d.reports))
    return await d.adapter.post(d.room, None, told)


async def publish(d: Delivery) -> dict:
    """Send the approved text read from the database now, so a version superseded meanwhile never goes out."""
    now, publication = d.deps.clock.now(), d.effect.publication_id
    approved = await d.db(lambda s: outcomes.text_to_publish(s, d.deps.config, publication, now))
    if approved is None:
        return {"cancelled": True}
    result = await d.adapter.publish(d.effect.to, approved)
    await d.db(lambda s: outcomes.mark_sent(s, publication, result or {}, now))
    return result


async def answer(d: Delivery) -> dict:
    """A command's answer, by the platform's own reply channel (Slack's response_url works where the bot is no member)."""
    return await d.adapter.answer(d.effect)


async def edit(d: Delivery) -> dict:
    """Edit what an earlier post delivered; wait while that post is itself still on its way."""
    posted = await d.db(lambda s: s.get(Outbox, d.effect.ref))
    if posted is None or posted.state == "failed":
        return {"skipped": "nothing to edit"}
    if posted.state != "sent":
        raise Waiting("the message to edit is not posted yet")
    where = posted.result.get("channel") or getattr(read(posted, DELIVERIES), "to", None)  # the room it was posted to
    return await d.adapter.edit_message(where, posted.result.get("message_id"), d.effect.message)


async def mail(d: Delivery) -> dict:
    """One e-mail on the "mail" channel; one queued for a publication goes only while its version is the line."""
    if not hasattr(d.adapter, "send_mail"):
        raise Undeliverable(f"e-mail is sent on the mail channel, not on {d.adapter.platform}")
    now, publication = d.deps.clock.now(), outlets.publication_of(d.row)
    if publication is not None and await d.db(lambda s: outcomes.text_to_publish(s, d.deps.config, publication, now)) is None:
        return {"cancelled": True, "publication": publication}
    version = d.effect.statement_id
    if version is not None and await d.db(lambda s: outcomes.owes_countersignature(s, d.deps.config, version)):
        raise Undeliverable("its version now needs a countersignature; send it again once it is countersigned")
    message_id = message_id_of(d.row.id, d.row.created_at, d.adapter.sender)
    result = await d.adapter.send_mail(d.effect, message_id, d.row.created_at)
    if publication is None:
        return result
    await d.db(lambda s: outlets.settle(s, publication, now, {d.row.id: "sent"}))
    return {**result, "publication": publication}  # the row stays linked to its publication once delivered


def mail_given_up(session: Session, deps: Deps, row: Outbox, effect: Effect, reason: str) -> bool:
    mailed = effect if isinstance(effect, Mail) else None
    told = outlets.mail_not_delivered(session, deps.config, deps.platforms, row, mailed, reason, deps.clock.now())
    deadlines.mail_refused(session, deps.config, row.id, deps.clock.now())  # a list it was to tell is untold again
    return told


async def webhook(d: Delivery) -> dict:
    """The signed POST of a publication, built from the database now (a version superseded meanwhile never goes out)."""
    if not hasattr(d.adapter, "post_webhook"):
        raise Undeliverable(f"webhooks are sent on the webhook channel, not on {d.adapter.platform}")
    now, publication = d.deps.clock.now(), d.effect.publication_id
    if await d.db(lambda s: outcomes.text_to_publish(s, d.deps.config, publication, now)) is None:
        return {"cancelled": True}
    body = await d.db(lambda s: outlets.webhook_body(s, d.deps.config, publication, d.adapter.page_base))
    result = await d.adapter.post_webhook(d.effect.to, body, d.effect.secret_env, delivery_id_of(d.row.id, d.row.created_at))
    await d.db(lambda s: outcomes.mark_sent(s, publication, result, now))
    return result


# Every type of effect the domain queues, and its delivery. Effects that do not wait for the incident room either
# make it (OpenRoom) or go to a person or a channel outside it.
DELIVERIES: dict[type[Effect], Handler] = {
    OpenRoom: Handler(open_room, in_room=False),
    Post: Handler(post),
    RefreshCard: Handler(refresh_card),
    Invite: Handler(invite),
    DM: Handler(dm, in_room=False, reads_room=False),
    RefreshLine: Handler(refresh_line),
    Publish: Handler(publish, in_room=False, reads_room=False),
    Edit: Handler(edit, in_room=False, reads_room=False),
    Report: Handler(report),
    Answer: Handler(answer, in_room=False, reads_room=False),
    Mail: Handler(mail, in_room=False, reads_room=False, given_up=mail_given_up),
    Webhook: Handler(webhook, in_room=False, reads_room=False),
}


def _room(session: Session, row: Outbox) -> Room | None:
    if row.incident_id is None:
        return None
    return session.exec(select(Room).where(Room.incident_id == row.incident_id, Room.platform == row.platform)).first()


def _wait_for_room(session: Session, row: Outbox) -> None:
    """The room is still being opened (wait), or opening it failed for good (nothing to post into)."""
    opening = session.exec(
        select(Outbox.state).where(Outbox.incident_id == row.incident_id, Outbox.platform == row.platform, Outbox.kind == OpenRoom.kind)
    ).first()
    if opening == "pending":
        raise Waiting("the incident room is still being opened")
    raise Roomless("the incident has no room on this platform (opening it failed)")


def _name_of(session: Session, deps: Deps, platform: str, handle: str) -> str:
    key = session.exec(select(PersonHandle.person).where(PersonHandle.platform == platform, PersonHandle.external_id == handle)).first()
    person = deps.config.team.people.get(key) if key else None
    return person.name if person else handle
