"""The outbox worker: claim effects, call the platform, mark them sent; retry with backoff, give up after a cap and say so."""

import asyncio
import logging
import random
import time
import uuid
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine

from bot import logs
from bot.outbox import effects
from bot.outbox.adapter import TURN, Adapter, Lost, RetryLater, Stopped, Throttled, Undeliverable, resuming
from bot.outbox.backoff import ATTEMPTS, FIRST_WAIT, GIVE_UP_AFTER, growth
from bot.outbox.effects import DELIVERIES, Delivery, Handler, Roomless, Waiting
from bot.outbox.lanes import deliver_side_by_side
from bot.outbox.leases import LEASE, Leases, claimed_rows
from bot.outbox.notices import tell_given_up
from bot.web.report_files import reports_dir
from handlers.core.context import Deps
from handlers.core.effects import Effect, OpenRoom, Publish, RefreshCard, RefreshLine, Webhook
from handlers.line import outcomes
from storage.db import session as new_session
from storage.models import Outbox

log = logging.getLogger(__name__)

REFRESHES = (RefreshCard.kind, RefreshLine.kind)  # re-rendered at delivery, so only the last one matters
MARK_RETRY = 1.0  # seconds between two tries to mark sent answers sent while the database is away


class Deliverer:
    """Delivers one platform's outbox rows under this worker's leases: in order within each lane, one row at a time."""

    def __init__(
        self,
        engine: Engine,
        deps: Deps,
        adapter: Adapter,
        batch: int = 50,
        worker: str | None = None,
        metrics=None,
        lease: timedelta = LEASE,
        attempts: int = ATTEMPTS,
        give_up_after: float = GIVE_UP_AFTER,
        first_wait: float = FIRST_WAIT,
        deliveries: dict[type[Effect], Handler] = DELIVERIES,
        reports: Path | None = None,
    ):
        self.engine, self.deps, self.adapter, self.batch = engine, deps, adapter, batch
        # Where review reports are written: the app passes its folder; a bare worker uses the default beside the
        # database, never the environment read at delivery time.
        self.reports = reports or reports_dir(engine)
        self.deliveries = deliveries  # effect type -> its delivery: the kinds this worker reads from the outbox
        self.worker = worker or f"deliverer:{uuid.uuid4().hex[:12]}"
        self.metrics = metrics
        self.stopping = False  # set on SIGTERM: the batch stops after the effect being sent, the rest is handed back
        self.leases = Leases(engine, deps.clock, adapter.platform, self.worker, batch, lease)
        self.attempts = max(1, attempts)
        self.told = False
        self.first_wait, self.growth = first_wait, growth(self.attempts - 1, give_up_after, first_wait)
        self._holding: set[int] = set()  # held answers being sent right now
        self._batching: set[int] = set()  # rows a batch is delivering right now (one may be waiting aside)
        self._marks: dict[int, tuple] = {}  # held answers sent, not yet marked sent: row id -> (sent at, result)
        self._marking: asyncio.Task | None = None
        self._marking_lock = asyncio.Lock()

    def release(self) -> int:
        """Hand back every row this worker leases (shutdown), so another replica delivers it without waiting; a held answer
        already sent is marked sent first, and one being sent right now stays this worker's (never sent by two)."""
        try:
            self.write_marks()
        except Exception:  # their leases run out; until then nobody sends them again
            log.warning("could not mark sent answers as sent before stopping", exc_info=True)
        return self.leases.release(keep=set(self._holding) | set(self._marks))

    async def deliver_pending(self) -> int:
        """Deliver everything due now; return how many effects were sent."""
        await self.settle()
        sent = 0
        while not self.stopping and (ids := await asyncio.to_thread(self.leases.claim)):
            heartbeat = asyncio.create_task(self._heartbeat(ids))
            try:
                sent += await self._deliver_batch(ids)
            finally:
                heartbeat.cancel()
            if len(ids) < self.batch and not self.told:
                break
            self.told = False  # a notice of a given-up effect was queued meanwhile: it goes out in this pass too
        return sent

    async def deliver_held(self, row: Outbox) -> bool:
        """Send a row this worker has held since it was written (a command's answer, leased in the command's transaction):
        no claim and no pass over the outbox. A failure is retried or given up like any row's; after a crash the lease
        runs out and any worker delivers it."""
        if row.id in self._batching:
            return False  # this worker's own batch took it up (its lease had run out) and is sending it: sent once, by it
        self._holding.add(row.id)
        heartbeat = asyncio.create_task(self._heartbeat([row.id]))
        try:
            with new_session(self.engine) as session:
                session.add(row)
                # Checked and renewed right before the send, as for every row: a lease that ran out meanwhile (a slow
                # commit, a shutdown that released it) may be another worker's now, and one answer is sent once. A lease
                # written moments ago with most of its time left needs no check: nobody else may take it before it ends.
                if not self._fresh(row) and not await asyncio.to_thread(self.leases.hold, session, row):
                    return False
                with logs.about(row.incident_id):
                    sent = await self._deliver_one(session, row)
                if sent and not self.stopping:  # marked sent just after, off the update's path (its lease keeps it ours)
                    self._marks[row.id] = (row.sent_at, row.result)
                    if self._marking is None or self._marking.done():
                        self._marking = asyncio.create_task(self._mark_soon())
                else:
                    await asyncio.to_thread(_save, session, row)
        finally:
            heartbeat.cancel()
            self._holding.discard(row.id)
        return sent

    def _fresh(self, row: Outbox) -> bool:
        """Whether this worker holds the row under a lease with more than half its length left (by this worker's clock)."""
        left = row.lease_until - self.deps.clock.now() if row.lease_until is not None else timedelta(0)
        return not self.stopping and row.lease_owner == self.worker and left > self.leases.lease / 2

    async def settle(self) -> bool:
        """Try once to mark the held answers sent that went out (written just after each send, off its path); whether
        none is left waiting."""
        async with self._marking_lock:  # one write at a time: a second caller finds the marks written by the first
            if not self._marks:
                return True
            try:
                await asyncio.to_thread(self.write_marks)
            except Exception as error:  # the database is away: tried again, while the rows' leases keep other workers off them
                log.warning("could not mark %d sent answers as sent: %s", len(self._marks), str(error).split("\n", 1)[0])
            return not self._marks

    async def _mark_soon(self) -> None:
        """Retry the marks until written, renewing their leases meanwhile: while this worker lives, another one never
        takes an answer it sent (a lease that ran out while the database was away: see Leases.takeover)."""
        renewed = time.monotonic()
        while not await self.settle() and not self.stopping:
            if time.monotonic() - renewed >= self.leases.heartbeat:
                renewed = time.monotonic()
                try:
                    await asyncio.to_thread(self.leases.renew, list(self._marks))
                except Exception as error:  # the database is away: the mark is retried, and the takeover waits for it
                    log.warning("could not renew the leases of sent answers: %s", str(error).split("\n", 1)[0])
            await asyncio.sleep(MARK_RETRY)

    def write_marks(self) -> int:
        """Mark the sent held answers sent, all in one transaction; how many were written."""
        marks = dict(self._marks)
        if not marks:
            return 0
        self.leases.mark_sent(marks)
        for row_id in marks:
            self._marks.pop(row_id, None)
        return len(marks)

    async def _heartbeat(self, ids: list[int]) -> None:
        """Keep this worker's leases alive while it delivers (a long Retry-After wait must not let another replica in)."""
        while True:
            await asyncio.sleep(self.leases.heartbeat)
            try:
                await asyncio.to_thread(self.leases.renew, ids)
            except Exception:  # the database is away: the per-row check before each send still guards
                log.warning("could not renew delivery leases", exc_info=True)

    async def _deliver_batch(self, ids: list[int]) -> int:
        """Deliver the claimed rows lane by lane, a row waiting for its platform letting the others go (bot/outbox/lanes.py)."""
        with new_session(self.engine) as session:
            rows = await asyncio.to_thread(claimed_rows, session, ids)
        held_back: set[tuple] = set()  # (incident, lane) behind a row that waits; (incident, None): its room is not open
        last_refresh = {(r.kind, r.incident_id): r.id for r in rows if r.kind in REFRESHES}

        async def step(session, row: Outbox) -> int:
            return await self._deliver_row(session, row, held_back, last_refresh)

        return await deliver_side_by_side(self.engine, rows, step, halting=lambda: self.stopping)

    async def _deliver_row(self, session, row: Outbox, held_back: set[tuple], last_refresh: dict) -> int:
        """Send one claimed row unless it waits behind another, and write its fate; 1 if it was sent."""
        sent = 0
        behind = row.incident_id is not None and ({(row.incident_id, row.lane), (row.incident_id, None)} & held_back)
        if self.stopping or behind:
            row.lease_until, row.lease_owner = None, None  # keep the lane's order: wait for the one in front
        elif row.id in self._holding:
            return 0  # being sent right now by deliver_held (its lease ran out meanwhile): sent once, by it
        elif row.id in self._marks:  # sent already, its mark still waiting: written here, never sent again
            self._mark_sent(row, self._marks[row.id][1])
        elif not self._fresh(row) and not await asyncio.to_thread(self.leases.hold, session, row):
            return 0  # lost to another worker (one this worker claimed moments ago is still its own: not checked)
        elif row.kind in REFRESHES and last_refresh[(row.kind, row.incident_id)] != row.id:
            self._mark_sent(row, {"coalesced": True})  # a later edit in this batch shows the same state
        else:
            if (turn := TURN.get()) is not None:  # asked after a wait aside: is the row still this batch's to send?
                turn.recheck = lambda: self._still_ours(session, row)
            self._batching.add(row.id)
            try:
                with logs.about(row.incident_id):
                    if await self._deliver_one(session, row):
                        sent = 1
                    elif row.state == "pending":
                        held_back.add((row.incident_id, None if row.kind == OpenRoom.kind else row.lane))
            except Lost:
                return 0  # it waited aside and became another sender's: theirs to send and to record
            finally:
                self._batching.discard(row.id)
        # each row's fate written before the batch's next send (the turn): a crash then repeats at most the one in flight
        await asyncio.to_thread(_save, session, row)
        return sent

    async def _still_ours(self, session, row: Outbox) -> bool:
        """After a wait aside: the row is neither being sent as a held answer nor lost with its lease (checked, renewed)."""
        return row.id not in self._holding and await asyncio.to_thread(self.leases.hold, session, row)

    def _mark_sent(self, row: Outbox, result: dict) -> None:
        row.state, row.sent_at, row.result, row.lease_until, row.lease_owner = "sent", self.deps.clock.now(), result, None, None

    async def _deliver_one(self, session, row: Outbox) -> bool:
        delivery = Delivery(session, self.deps, self.adapter, self.engine, row, self.reports)
        try:
            with resuming((row.result or {}).get("resume", {})):  # a split message: the retry sends only what is missing
                result = await effects.run(delivery, self.deliveries)
        except (Waiting, Stopped, Throttled) as wait:
            self._defer(row, wait, counted=False)
            return False
        except RetryLater as wait:
            progress = wait.progress
            if set(progress) - {"pieces"} and delivery.room is not None:
                await delivery.keep_progress(progress)
            if progress.get("pieces"):
                row.result = {"resume": {"pieces": progress["pieces"]}}
            await self._retry_or_give_up(delivery, wait)
            return False
        except Undeliverable as refusal:
            row.attempts += 1
            await self._give_up(delivery, str(refusal), tell=not isinstance(refusal, Roomless))
            return False
        except Lost:
            raise  # not this worker's any more: nothing of its fate to write here
        except Exception as error:  # a bug or a network fault must not drop the effect
            log.exception("delivery of outbox %s failed", row.id)
            await self._retry_or_give_up(delivery, RetryLater(f"{type(error).__name__}: {error}"))
            return False
        self._mark_sent(row, result or {})
        if self.metrics is not None:
            waited = (row.sent_at - row.created_at).total_seconds()
            self.metrics.delivery_latency.labels(row.platform, row.kind).observe(max(0.0, waited))
        return True

    async def _retry_or_give_up(self, delivery: Delivery, wait: RetryLater) -> None:
        delivery.row.attempts += 1
        if delivery.row.attempts >= self.attempts:
            await self._give_up(delivery, str(wait))
        else:
            self._defer(delivery.row, wait, counted=True)

    def _defer(self, row: Outbox, wait: RetryLater, counted: bool) -> None:
        """Try again later: when the platform said, else after a growing wait with jitter (replicas do not retry in step)."""
        backoff = self.first_wait * self.growth ** (max(row.attempts, 1) - 1) * random.uniform(0.5, 1.5)
        delay = wait.after if wait.after is not None else backoff
        row.next_attempt_at = self.deps.clock.now() + timedelta(seconds=delay)
        row.lease_until, row.lease_owner = None, None
        if counted:
            row.error = str(wait)[:500]
            log.warning("delivery of outbox %s (attempt %d of %d) deferred %.1fs: %s", row.id, row.attempts, self.attempts, delay, wait)

    async def _give_up(self, delivery: Delivery, reason: str, tell: bool = True) -> None:
        """Mark the effect failed for good; a publication is marked failed too, and the room hears what did not go out."""
        row = delivery.row
        row.state, row.lease_until, row.lease_owner, row.error = "failed", None, None, reason[:500]
        log.error("outbox %s (%s) given up after %d attempts: %s", row.id, row.kind, row.attempts, reason)

        handler = self.deliveries.get(type(delivery.effect)) if delivery.effect is not None else None

        def record(session) -> None:
            if isinstance(delivery.effect, Publish | Webhook):  # the domain tells the room itself, with the target's name
                outcomes.mark_failed(session, delivery.effect.publication_id, reason, self.deps.clock.now())
                self.told = True
            elif handler is not None and handler.given_up is not None:  # the effect's own words (an e-mail: which address)
                self.told = handler.given_up(session, self.deps, row, delivery.effect, reason) or self.told
            elif tell:
                self.told = tell_given_up(session, self.deps, row, delivery.effect, reason) or self.told

        await delivery.db(record)


def _save(session, row: Outbox) -> None:
    session.add(row)
    session.commit()
