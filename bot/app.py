"""The composition root: settings → engine → team → domain → adapters."""

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from sqlalchemy import case, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import delete, func, select

from bot import logs
from bot.metrics import Metrics, outcome_of, verb_of
from bot.outbox.adapter import Adapter
from bot.outbox.worker import Deliverer
from bot.web.report_files import reports_dir
from config.load import load_config
from config.model import Config
from config.settings import Settings
from handlers.catalog import SCRIPTED
from handlers.core.context import Deps, handle_of
from handlers.core.errors import Refusal
from handlers.core.ports import Clock, Command, OffsetClock, Reply, SystemClock
from handlers.nudges import firing, scripted
from handlers.router import REHEARSAL, UNREACHABLE, AnswerRoute, database_unreachable, dispatch, outage, vet_command
from handlers.text.i18n import speaking
from storage.db import make_engine, session, upgrade
from storage.models import LearnedName, Nudge, Outbox, PersonHandle

log = logging.getLogger(__name__)

FIRE_BATCH = 50  # nudges decided before what they said is delivered


class OneVoice:
    """One running bot: its database, its team, and the platforms it speaks on."""

    def __init__(self, settings: Settings, config: Config | None = None, clock: Clock | None = None, migrate: bool = True):
        self.settings = settings
        self.config = config or load_config(settings.config_path)
        self.engine = make_engine(settings.database_url)
        if migrate:
            upgrade(self.engine)
        clock = clock or (OffsetClock(settings.clock_start) if settings.clock_start else SystemClock())
        self.deps = Deps(self.config, clock, public_url=settings.public_url)
        scripted.fill(SCRIPTED)  # what fires a drill's injects and the reaction follow-ups, handed to firing here
        self.deliverers: dict[str, Deliverer] = {}
        self.worker = f"{socket.gethostname()[:20]}:{os.getpid()}:{uuid.uuid4().hex[:6]}"  # whose lease a claim is
        self.metrics = Metrics(self.engine)
        self.stopping = False  # SIGTERM: claim no more work, hand back what is held
        self.lease = timedelta(seconds=settings.lease_seconds)
        self.reports = reports_dir(self.engine, settings)  # where review reports are written

    def attach(self, adapter: Adapter, channel: bool = False) -> None:
        """Speak on a platform: its handles are synced and its outbox gets a worker. A channel (mail, webhook) only gets
        the worker: it has no rooms and no people."""
        if channel:
            self.deps.channels.add(adapter.platform)
        elif adapter.platform not in self.deps.platforms:
            self.deps.platforms.append(adapter.platform)
        self.deliverers[adapter.platform] = Deliverer(
            self.engine,
            self.deps,
            adapter,
            worker=self.worker,
            metrics=self.metrics,
            lease=self.lease,
            attempts=self.settings.delivery_attempts,
            give_up_after=self.settings.delivery_give_up_seconds,
            first_wait=self.settings.delivery_first_wait_seconds,
            reports=self.reports,
        )
        if not channel:
            sync_handles(self.engine, self.config, adapter.platform)

    def handle(self, command: Command, answer: AnswerRoute | None = None) -> Reply:
        """Run one command to completion (decided and committed, not yet delivered); `answer` routes a reply to send later."""
        try:
            with session(self.engine) as db:
                reply = dispatch(db, self.deps, command, answer)
        except UNREACHABLE as error:  # before the command's transaction began (or while ending it): nothing was written
            log.warning("database unreachable: %s", outage(error))
            with speaking(self.config.language):
                reply = database_unreachable()
        self.metrics.command(command, reply)
        with logs.about(reply.incident_id):
            log.info("command %s by %s:%s: %s", verb_of(command.text), command.user.platform, command.user.external_id, outcome_of(reply))
        return reply

    def refusal_before_asking(self, command: Command) -> Reply | None:
        """Whether the presser of a button may run its command at all, before a form asks them for its words (None: yes)."""
        with speaking(self.config.language):
            try:
                with session(self.engine) as db:
                    vet_command(db, self.deps, command, REHEARSAL)
            except Refusal as refusal:
                return Reply(refusal.message, ok=False)
            except UNREACHABLE:
                return database_unreachable()
        return None

    def fire_due(self) -> int:
        """Fire every nudge due now, each exactly once across replicas; return how many spoke."""
        fired, more = 0, True
        while more and not self.stopping:
            spoke, more = self.fire_batch()
            fired += spoke
        return fired

    def fire_batch(self) -> tuple[int, bool]:
        """Fire one batch of the nudges due now in one transaction; return how many spoke and whether more may be due."""
        with session(self.engine) as db:
            try:
                spoke, locked = self._fire_locked(db, careful=False)
            except UNREACHABLE:
                raise
            except Exception:  # one reminder failed: the batch again, each in a savepoint, so that only it waits
                db.rollback()
                spoke, locked = self._fire_carefully(db)
        for kind in spoke:
            self.metrics.nudges.labels(kind).inc()
        return len(spoke), locked == FIRE_BATCH

    def _fire_locked(self, db, careful: bool) -> tuple[list[str], int]:
        """A batch of due nudges fired and committed at once (firing.fire_batch), each in a savepoint if `careful`."""

        def one(nudge: Nudge, incident, dms: list[dict]) -> bool:
            with logs.about(nudge.incident_id):
                return self._fire_alone(db, nudge, incident) if careful else firing.fire_locked(db, self.deps, nudge, incident, dms)

        return firing.fire_batch(db, self.deps, FIRE_BATCH, one, lambda: self.stopping)

    def _fire_carefully(self, db) -> tuple[list[str], int]:
        """The batch one savepoint a reminder; if even that fails (its commit, say), it is leased before the error is
        raised, so that it waits before it is tried again."""
        try:
            return self._fire_locked(db, careful=True)
        except UNREACHABLE:
            raise
        except Exception:
            db.rollback()
            firing.claim(db, self.deps.clock.now(), self.worker, limit=FIRE_BATCH, lease=self.lease)
            raise

    def _fire_alone(self, db, nudge: Nudge, incident) -> bool:
        """Fire one nudge of a batch in a savepoint; one that fails is leased to this worker, so it is tried again when the
        lease ends while the rest of the batch goes out."""
        mine: list[dict] = []
        try:
            with db.begin_nested():
                said = firing.fire_locked(db, self.deps, nudge, incident, mine)
                firing.write_dms(db, mine)  # in its savepoint too: a DM refused by the database fails this nudge alone
        except UNREACHABLE:
            raise
        except Exception:
            log.exception("firing nudge %s failed; tried again in %s", nudge.id, self.lease)
            nudge.lease_until, nudge.lease_owner = self.deps.clock.now() + self.lease, self.worker
            return False
        return said

    async def tick(self) -> int:
        """Fire what is due a batch at a time, delivering what each batch said while the next one is decided (so the first
        reminders wait neither for the last to be decided nor for their delivery), then what another replica queued or a
        retry now due; return how many spoke."""
        fired, deciding = 0, None if self.stopping else asyncio.ensure_future(asyncio.to_thread(self.fire_batch))
        try:
            while deciding is not None:
                spoke, more = await deciding
                fired += spoke
                # Deciding waits on its own connection in a worker thread, delivery on its own threads: each waits on
                # the database while the other works, instead of one after the other.
                deciding = asyncio.ensure_future(asyncio.to_thread(self.fire_batch)) if more and not self.stopping else None
                await self.deliver()
        finally:
            if deciding is not None:  # delivery failed or was cut short: the batch still commits whole in its thread
                deciding.add_done_callback(_log_failure)
        return fired

    def next_due(self):
        """When the next nudge or deferred delivery is due, on the bot's clock."""
        with session(self.engine) as db:
            # a row leased by another (perhaps dead) worker is due when its lease ends, not before: no busy waking meanwhile
            free_at = case((Outbox.lease_until > Outbox.next_attempt_at, Outbox.lease_until), else_=Outbox.next_attempt_at)
            on = (Outbox.platform.in_(list(self.deliverers)),) if self.deliverers else ()  # read through the pending index
            pending = (*on, Outbox.state == "pending")
            free = select(Outbox.next_attempt_at).where(*pending, Outbox.lease_until.is_(None))
            leased = select(func.min(free_at)).where(*pending, Outbox.lease_until.is_not(None))
            moments = [firing.next_due(db), db.exec(free.order_by(Outbox.next_attempt_at).limit(1)).first(), db.exec(leased).one()]
        found = [moment for moment in moments if moment is not None]
        return min(found) if found else None

    async def deliver(self) -> int:
        """Deliver whatever the outbox holds for every attached platform."""
        sent = 0
        # Mail and webhooks first: what they could not deliver is told in the chat rooms in this same pass.
        for deliverer in sorted(self.deliverers.values(), key=lambda d: d.adapter.platform not in self.deps.channels):
            if not self.stopping:
                sent += await deliverer.deliver_pending()
        return sent

    def stop_taking_work(self) -> None:
        """SIGTERM: claim nothing more; a delivery in progress stops after the effect it is sending."""
        self.stopping = True
        for deliverer in self.deliverers.values():
            deliverer.stopping = True

    def release_leases(self) -> int:
        """Hand back every nudge and outbox lease this worker holds, so another replica takes them at once; return how many."""
        released = sum(deliverer.release() for deliverer in self.deliverers.values())
        with session(self.engine) as db:
            result = db.exec(
                update(Nudge)
                .where(Nudge.lease_owner == self.worker, Nudge.state.in_(firing.ACTIVE))
                .values(lease_until=None, lease_owner=None)
            )
            db.commit()
        return released + result.rowcount


def learn_alias(engine, platform: str, external_id: str, alias: str, keys: Iterable[str] = (), now: datetime | None = None) -> None:
    """Remember the user name a member writes under (a Telegram @username), so mentions by that name resolve — kept in
    the database for every replica and restart. A changed name replaces the old one; a name that is another member's
    key is never learned, since `@key` must always name that member."""
    name = alias.lower()
    with session(engine) as db:
        person = db.exec(
            select(PersonHandle.person).where(PersonHandle.platform == platform, PersonHandle.external_id == external_id)
        ).first()
        if person is None:
            return
        mine = db.exec(select(LearnedName).where(LearnedName.platform == platform, LearnedName.external_id == external_id)).first()
        if mine is not None and mine.name == name and mine.person == person:
            return
        db.exec(delete(LearnedName).where(LearnedName.platform == platform, LearnedName.external_id == external_id))
        db.exec(delete(LearnedName).where(LearnedName.platform == platform, LearnedName.name == name))  # a name moves with its owner
        if name in {key.lower() for key in keys if key != person}:
            log.warning(
                "the %s user name @%s of %s is another member's key; it is not learned (@%s names that member)",
                platform,
                alias,
                person,
                name,
            )
        else:
            db.add(LearnedName(platform=platform, name=name, external_id=external_id, person=person, learned_at=now or datetime.now(UTC)))
        try:
            db.commit()
        except IntegrityError:
            db.rollback()  # learned by another replica at the same moment


def sync_handles(engine, config: Config, platform: str) -> None:
    """Make the handle table match the team model for one platform; learned user names stay while their owner's id does."""
    wanted = {}
    for person in config.team.people.values():
        handle = handle_of(person, platform)
        if handle:
            wanted[handle] = person.key
    with session(engine) as db:
        existing = {h.external_id: h for h in db.exec(select(PersonHandle).where(PersonHandle.platform == platform))}
        for external_id, row in existing.items():
            if wanted.get(external_id) != row.person:
                db.exec(delete(PersonHandle).where(PersonHandle.id == row.id))
        for external_id, person in wanted.items():
            if external_id not in existing or existing[external_id].person != person:
                db.add(PersonHandle(person=person, platform=platform, external_id=external_id))
        # Not flushed by the query below: a replica syncing at the same moment must meet our inserts at the commit, where
        # the IntegrityError is expected, not inside this read.
        with db.no_autoflush:
            learned_names = list(db.exec(select(LearnedName).where(LearnedName.platform == platform)))
        for learned in learned_names:
            if wanted.get(learned.external_id) != learned.person:  # the member left, or their id changed: the name is not theirs
                db.delete(learned)
        try:
            db.commit()
        except IntegrityError:
            db.rollback()  # another replica synced the same handles at the same moment
            log.info("handles for %s were synced concurrently", platform)


def _log_failure(batch: asyncio.Future) -> None:
    """Log how a batch nobody awaits any more failed: a database away in a line (the scheduler says so already), anything
    else with its traceback."""
    if batch.cancelled() or (error := batch.exception()) is None:
        return
    if isinstance(error, UNREACHABLE):
        log.warning("firing a batch of reminders met an unreachable database: %s", outage(error))
    else:
        log.error("firing a batch of reminders failed", exc_info=error)
