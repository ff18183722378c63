"""The outbox worker: claim effects, call the platform, mark them sent; never lose one."""

import asyncio
import logging
import uuid
from datetime import timedelta

from sqlalchemy import Engine
from sqlmodel import select

from bot import logs
from bot.adapter import Adapter, RetryLater, Undeliverable, resuming
from bot.leases import LEASE, Leases
from bot.report import deliver_report
from handlers import publishing
from handlers.cards import render_card
from handlers.context import Deps
from handlers.i18n import speaking
from handlers.line import render_pinned
from handlers.markup import Message, text
from handlers.ports import EffectKind
from storage.db import session as new_session
from storage.models import Incident, Outbox, PersonHandle, Room

log = logging.getLogger(__name__)

REFRESHES = (EffectKind.REFRESH_CARD, EffectKind.REFRESH_LINE)  # re-rendered at delivery, so only the last one matters
MAX_BACKOFF = 300.0


class Deliverer:
    """Delivers one platform's outbox rows in order, per incident, each under this worker's lease."""

    def __init__(
        self,
        engine: Engine,
        deps: Deps,
        adapter: Adapter,
        batch: int = 50,
        worker: str | None = None,
        metrics=None,
        lease: timedelta = LEASE,
    ):
        self.engine, self.deps, self.adapter, self.batch = engine, deps, adapter, batch
        self.worker = worker or f"deliverer:{uuid.uuid4().hex[:12]}"
        self.metrics = metrics
        self.stopping = False  # set on SIGTERM: the batch stops after the effect being sent, the rest is handed back
        self.leases = Leases(engine, deps.clock, adapter.platform, self.worker, batch, lease)

    def release(self) -> int:
        """Hand back every row this worker leases (shutdown), so another replica delivers it without waiting."""
        return self.leases.release()

    async def deliver_pending(self) -> int:
        """Deliver everything due now; return how many effects were sent."""
        sent = 0
        while not self.stopping and (ids := self.leases.claim()):
            heartbeat = asyncio.create_task(self._heartbeat(ids))
            try:
                sent += await self._deliver_batch(ids)
            finally:
                heartbeat.cancel()
            if len(ids) < self.batch:
                break
        return sent

    async def _heartbeat(self, ids: list[int]) -> None:
        """Keep this worker's leases alive while it delivers (a long Retry-After wait must not let another replica in)."""
        while True:
            await asyncio.sleep(self.leases.heartbeat)
            try:
                await asyncio.to_thread(self.leases.renew, ids)
            except Exception:  # the database is away: the per-row check before each send still guards
                log.warning("could not renew delivery leases", exc_info=True)

    async def _deliver_batch(self, ids: list[int]) -> int:
        blocked: set[int | None] = set()
        sent = 0
        with new_session(self.engine) as session:
            rows = [session.get(Outbox, i) for i in ids]
            session.commit()  # no transaction stays open while the platform is called
            last_refresh = {(r.kind, r.incident_id): r.id for r in rows if r.kind in REFRESHES}
            for row in rows:
                if self.stopping or (row.incident_id in blocked and row.incident_id is not None):
                    row.lease_until, row.lease_owner = None, None  # keep the incident's order: wait for the failed one
                elif not self.leases.hold(session, row):
                    continue
                elif row.kind in REFRESHES and last_refresh[(row.kind, row.incident_id)] != row.id:
                    self._mark_sent(row, {"coalesced": True})  # a later edit in this batch shows the same state
                else:
                    with logs.about(row.incident_id):
                        if await self._deliver_one(session, row):
                            sent += 1
                        elif row.state == "pending":
                            blocked.add(row.incident_id)
                session.add(row)
                session.commit()
        return sent

    def _mark_sent(self, row: Outbox, result: dict) -> None:
        row.state, row.sent_at, row.result, row.lease_until, row.lease_owner = "sent", self.deps.clock.now(), result, None, None

    async def _deliver_one(self, session, row: Outbox) -> bool:
        try:
            with resuming(row.result.get("resume", {})):
                result = await self._call(session, row, _Outside(self.adapter, session))
        except RetryLater as wait:
            self._keep_progress(session, row, wait.progress)
            self._defer(row, wait)
            return False
        except Undeliverable as refusal:
            row.attempts += 1
            row.state, row.lease_until, row.lease_owner, row.error = "failed", None, None, str(refusal)[:500]
            if row.kind == EffectKind.PUBLISH:
                with speaking(self.deps.config.language):
                    publishing.mark_failed(session, row.payload["publication_id"], str(refusal), self.deps.clock.now())
            log.error("outbox %s (%s) cannot be delivered: %s", row.id, row.kind, refusal)
            return False
        except Exception as error:  # a bug or a network fault must not drop the effect
            log.exception("delivery of outbox %s failed; will retry", row.id)
            self._defer(row, RetryLater(type(error).__name__))
            return False
        self._mark_sent(row, result or {})
        if self.metrics is not None:
            waited = (row.sent_at - row.created_at).total_seconds()
            self.metrics.delivery_latency.labels(row.platform, row.kind).observe(max(0.0, waited))
        return True

    def _wait_for_room(self, session, row: Outbox) -> None:
        """The room is still being opened (wait), or opening it failed for good (nothing to post into)."""
        opening = session.exec(
            select(Outbox.state).where(
                Outbox.incident_id == row.incident_id, Outbox.platform == row.platform, Outbox.kind == EffectKind.OPEN_ROOM
            )
        ).first()
        if opening == "pending":
            raise RetryLater("the incident room is still being opened", after=2)
        raise Undeliverable("the incident has no room on this platform (opening it failed)")

    def _keep_progress(self, session, row: Outbox, progress: dict) -> None:
        """A multi-step effect stopped halfway: note on the room what exists, so the retry carries on from there."""
        room = self._room(session, row) if set(progress) - {"pieces"} else None
        for name in ("external_id", "thread_id", "card_message_id", "line_message_id"):
            if room is not None and progress.get(name):
                setattr(room, name, str(progress[name]))
        if room is not None:
            session.add(room)
        if progress.get("pieces"):
            row.result = {"resume": {"pieces": progress["pieces"]}}  # a split message: the retry sends only what is missing

    def _defer(self, row: Outbox, wait: RetryLater) -> None:
        row.attempts += 1
        delay = wait.after if wait.after is not None else min(MAX_BACKOFF, 2.0 ** min(row.attempts, 8))
        row.next_attempt_at = self.deps.clock.now() + timedelta(seconds=delay)
        row.lease_until, row.lease_owner, row.error = None, None, str(wait)[:500]
        log.warning("delivery of outbox %s deferred %.1fs: %s", row.id, delay, wait)

    async def _call(self, session, row: Outbox, adapter: Adapter) -> dict:
        payload = row.payload
        message = Message.from_json(payload["message"]) if "message" in payload else None
        if row.kind == EffectKind.ANSWER:  # issue 14 (Slack): a command's answer, by the platform's reply channel; no room
            return await adapter.answer(payload, message)
        room = self._room(session, row)
        roomless = (
            row.kind != EffectKind.OPEN_ROOM
            and not payload.get("to")
            and row.kind not in (EffectKind.DM, EffectKind.PUBLISH, EffectKind.EDIT)
        )
        if roomless and (room is None or room.external_id is None):
            self._wait_for_room(session, row)
        if row.kind == EffectKind.DM:
            try:
                return await adapter.dm(payload["to"], message)
            except Undeliverable:
                if room is None:
                    raise
                # Not reachable privately (on Telegram, someone who never started the bot): say it in the incident room.
                return await adapter.post(room, None, text(f"{self._name_of(session, payload['to'])}: ") + message)
        if row.kind == EffectKind.POST:
            return await adapter.post(None if payload.get("to") else room, payload.get("to"), message)
        if row.kind == EffectKind.INVITE:
            return await adapter.invite(room, payload["users"])
        if row.kind == EffectKind.PUBLISH:
            return await self._publish(session, payload, adapter)
        if row.kind == EffectKind.EDIT:
            return await self._edit(session, payload, message, adapter)
        if row.kind == EffectKind.REPORT:  # the review's files are written on this side; the room is told where
            return await adapter.post(
                room, None, deliver_report(session, self.deps.config, self.engine, row.incident_id, self.deps.clock.now(), message)
            )
        if row.kind == EffectKind.REFRESH_LINE:
            with speaking(self.deps.config.language):
                line = render_pinned(session, self.deps.config, session.get(Incident, row.incident_id))
            result = await adapter.pin(room, room.line_message_id, line)
            room.line_message_id = result.get("message_id") or room.line_message_id
            session.add(room)
            return result
        card = self._card(session, row.incident_id)
        if row.kind == EffectKind.OPEN_ROOM:
            result = await adapter.open_room(room, payload, card)
            room.external_id = result.get("external_id")
            room.thread_id = result.get("thread_id")
            room.card_message_id = result.get("card_message_id")
            session.add(room)
            return result
        if row.kind == EffectKind.REFRESH_CARD:
            return await adapter.edit_card(room, card)
        raise Undeliverable(f"unknown effect kind {row.kind!r}")

    async def _publish(self, session, payload: dict, adapter: Adapter) -> dict:
        """Send the approved text read from the database now, so a version superseded meanwhile never goes out."""
        with speaking(self.deps.config.language):
            text = publishing.text_to_publish(session, payload["publication_id"], self.deps.clock.now())
        if text is None:
            return {"cancelled": True}
        result = await adapter.publish(payload["to"], text)
        publishing.mark_sent(session, payload["publication_id"], result or {}, self.deps.clock.now())
        return result

    async def _edit(self, session, payload: dict, message: Message, adapter: Adapter) -> dict:
        """Edit what an earlier post delivered; wait while that post is itself still on its way."""
        posted = session.get(Outbox, payload["ref"])
        if posted is None or posted.state == "failed":
            return {"skipped": "nothing to edit"}
        if posted.state != "sent":
            raise RetryLater("the message to edit is not posted yet", after=2)
        where = posted.result.get("channel") or posted.payload.get("to")
        return await adapter.edit_message(where, posted.result.get("message_id"), message)

    def _name_of(self, session, handle: str) -> str:
        key = session.exec(
            select(PersonHandle.person).where(PersonHandle.platform == self.adapter.platform, PersonHandle.external_id == handle)
        ).first()
        person = self.deps.config.team.people.get(key) if key else None
        return person.name if person else handle

    def _room(self, session, row: Outbox) -> Room | None:
        if row.incident_id is None:
            return None
        return session.exec(select(Room).where(Room.incident_id == row.incident_id, Room.platform == row.platform)).first()

    def _card(self, session, incident_id: int) -> Message:
        with speaking(self.deps.config.language):
            return render_card(session, self.deps.config, session.get(Incident, incident_id), self.deps.clock.now())


class _Outside:
    """The adapter, called with no database transaction open: SQLite's write lock (and a PostgreSQL snapshot) is never held
    while a platform answers slowly."""

    def __init__(self, adapter: Adapter, session):
        self.adapter, self.session = adapter, session

    def __getattr__(self, name: str):
        method = getattr(self.adapter, name)

        async def call(*args, **kwargs):
            self.session.commit()
            return await method(*args, **kwargs)

        return call if callable(method) else method
