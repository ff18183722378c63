"""The in-process scheduler: APScheduler wakes the bot at the next due nudge and on a safety tick.

Nothing about a nudge lives here: the database rows are the truth, so a restart
loses nothing and several processes can share the work.
"""

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.app import OneVoice
from bot.outbox import mail, retention
from handlers.router import UNREACHABLE, outage
from handlers.text.i18n import speaking

log = logging.getLogger(__name__)

SAFETY_TICK = 15  # seconds (default of ONEVOICE_TICK_SECONDS): catches nudges added by another replica
PRUNE_EVERY = 3600  # seconds between two prunings of old processed-event keys and delivered outbox rows
SETTLE_EVERY = 60  # seconds between two sweeps for e-mail publications left waiting by two workers finishing at once
# Seconds at least between a run and the wake-up for the next nudge: reminders falling due every few ms are fired a
# handful per run instead of one, as each run also reads what is due next and claims deliveries (a dozen statements).
GATHER = 0.05


class NudgeScheduler:
    """Runs `fire_due` then delivery when a nudge falls due, never twice at once."""

    def __init__(
        self, bot: OneVoice, tick_seconds: float | None = None, prune_seconds: float = PRUNE_EVERY, settle_seconds: float = SETTLE_EVERY
    ):
        self.bot, self.prune_seconds, self.settle_seconds = bot, prune_seconds, settle_seconds
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        settings = getattr(bot, "settings", None)  # ONEVOICE_TICK_SECONDS; a stand-in bot of a test has no settings
        self.tick_seconds = tick_seconds or (settings.tick_seconds if settings is not None else SAFETY_TICK)
        self._lock = asyncio.Lock()
        self._again = False
        self._pokes: set[asyncio.Task] = set()
        self._tick: asyncio.Task | None = None  # the firing and delivery in progress, cut short if shutdown runs out of time

    def start(self) -> None:
        """Start ticking and wake at the next due nudge (run `run` once first for what fell due while down)."""
        self.scheduler.add_job(self.run, "interval", seconds=self.tick_seconds, id="tick", coalesce=True, max_instances=1)
        self.scheduler.add_job(self.prune, "interval", seconds=self.prune_seconds, id="prune", coalesce=True, max_instances=1)
        self.scheduler.add_job(self.settle, "interval", seconds=self.settle_seconds, id="settle", coalesce=True, max_instances=1)
        self.scheduler.start()
        self.poke()

    def wake_at(self, moment: datetime) -> None:
        """Run once at a real-clock moment (replacing an earlier wake-up; it may start while a run finishes)."""
        self.scheduler.add_job(
            self.run, "date", run_date=moment, id="wake", replace_existing=True, misfire_grace_time=None, max_instances=2
        )

    def kick(self) -> None:
        """Work was decided: deliver (and fire) now, without waiting for the tick."""
        if self.scheduler.running:
            self.wake_at(datetime.now(UTC))

    def poke(self) -> None:
        """Something changed: wake at the next due nudge (looked up off the event loop)."""
        try:
            task = asyncio.get_running_loop().create_task(self._rewake_or_wait())
        except RuntimeError:  # no loop running here: look it up now
            self._wake_for(self.bot.next_due())
            return
        self._pokes.add(task)  # kept until done: a task nobody references may be collected midway
        task.add_done_callback(self._pokes.discard)

    async def rewake(self) -> None:
        """Set the wake-up for the next due nudge or delivery, reading the database in a worker thread."""
        self._wake_for(await asyncio.to_thread(self.bot.next_due))

    async def _rewake_or_wait(self) -> None:
        try:
            await self.rewake()
        except UNREACHABLE as error:  # the safety tick sets the wake-up once the database is back
            log.warning("database unreachable; the next wake-up is the safety tick: %s", outage(error))

    def _wake_for(self, due: datetime | None) -> None:
        if due is None:
            return
        delay = max(timedelta(seconds=GATHER), due - self.bot.deps.clock.now())  # the bot's clock may be offset from the real one
        self.wake_at(datetime.now(UTC) + delay)

    async def prune(self) -> int:
        """Delete processed-event keys and delivered outbox rows past the retention age, in small batches off the loop."""
        before = self.bot.deps.clock.now() - timedelta(days=self.bot.settings.retention_days)
        try:
            return await asyncio.to_thread(retention.prune, self.bot.engine, before, stop=lambda: self.bot.stopping)
        except UNREACHABLE as error:
            log.warning("database unreachable; pruning waits for the next round: %s", outage(error))
        except Exception:  # the next round tries again
            log.exception("pruning old rows failed")
        return 0

    async def settle(self) -> int:
        """Settle the e-mail publications left waiting after their last e-mails, off the loop; a summary it queued goes out."""
        now, language = self.bot.deps.clock.now(), self.bot.config.language
        try:
            settled = await asyncio.to_thread(mail.settle_waiting, self.bot.engine, now, language, stop=lambda: self.bot.stopping)
        except UNREACHABLE as error:
            log.warning("database unreachable; settling publications waits for the next round: %s", outage(error))
            return 0
        except Exception:  # the next round tries again
            log.exception("settling e-mail publications failed")
            return 0
        if settled:
            self.kick()
        return settled

    async def run(self) -> None:
        """Fire due nudges and deliver, again while something fell due meanwhile; then set the next wake-up."""
        if self._lock.locked():
            self._again = True  # the run in progress makes one more pass instead
            return
        async with self._lock:  # the wake-up is set inside it too: shutdown waits for it, a kick meanwhile runs once more
            self._again = True
            while self._again and not self.bot.stopping:
                while self._again and not self.bot.stopping:
                    self._again = False
                    await self._tick_once()
                if not self.bot.stopping:
                    await self._rewake_or_wait()

    async def _tick_once(self) -> None:
        self._tick = asyncio.create_task(self._one_tick())
        try:
            await self._tick
        except asyncio.CancelledError:
            if not self._tick.cancelled():
                raise  # we were cancelled ourselves, not just the tick
            log.warning("delivery in progress cut short by shutdown; its leases are handed back")
        finally:
            self._tick = None

    async def _one_tick(self) -> None:
        try:
            with speaking(self.bot.config.language):
                await self.bot.tick()
        except UNREACHABLE as error:  # an outage: one line a tick, the rows wait in the database
            log.warning("database unreachable; nudges and deliveries wait for the next tick: %s", outage(error))
        except Exception:  # the next tick tries again; the rows are still there
            log.exception("firing nudges failed")

    async def stop(self, grace: float = 5.0) -> None:
        """Take no more work; let the run in progress finish within `grace` seconds, else cut it short; then hand back every
        lease this worker holds so another replica carries on at once (a killed process's leases simply expire)."""
        self.bot.stop_taking_work()
        if self.scheduler.running:
            self.scheduler.pause()
        try:
            await asyncio.wait_for(self._lock.acquire(), grace)
            self._lock.release()
        except TimeoutError:
            if self._tick is not None:
                self._tick.cancel()
            async with self._lock:  # the run notices and lets go
                pass
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        try:
            released = await asyncio.to_thread(self.bot.release_leases)
        except Exception:  # noqa: BLE001  (the database is away: the short leases expire by themselves)
            log.warning("could not hand back leases at shutdown", exc_info=True)
            return
        if released:
            log.warning("handed back %d leased outbox rows and nudges for another replica", released)
