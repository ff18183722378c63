"""Telegram long polling that confirms an update only once it is decided.

`getUpdates(offset)` confirms every update below `offset` for good. PTB's Updater moves the offset past an update as
soon as it has fetched it, so a crash while the update is handled loses it. Here the offset moves past an update only
after its handling has committed, updates are handled one at a time in order, and a crash leaves Telegram to hand the
undecided ones out again (their dedup keys spare a double).
"""

import asyncio
import logging
import random

from telegram.error import Conflict, Forbidden, InvalidToken, RetryAfter, TelegramError
from telegram.ext import Application

from bot.outbox.unsettled import CommitUnknown
from bot.telegram.updates import update_failures, updates_seen

log = logging.getLogger(__name__)

POLL_SECONDS = 10  # how long one getUpdates waits for news (Telegram allows up to 50)
BACKOFF_FIRST, BACKOFF_MAX = 1.0, 30.0
ATTEMPTS = 3  # an update whose handling raised is tried this often, then skipped (logged), so one bad update cannot stall the rest
# except a command whose commit nobody can check yet (the database is away): skipped, it would be lost without a word, so
# it is tried until the database answers (the front answers it once that lasts too long: unsure.UNSURE_FOR)


class TelegramPoller:
    """One task calling getUpdates, handling each update to completion, then confirming it with the next call."""

    def __init__(self, application: Application, poll_seconds: float = POLL_SECONDS):
        self.application, self.poll_seconds = application, poll_seconds
        self.offset: int | None = None  # the first update not yet decided (None: whatever Telegram holds)
        self._confirmed: int | None = None  # the offset Telegram was last given
        self._stopping = asyncio.Event()
        self._fetching: asyncio.Task | None = None
        self._task: asyncio.Task | None = None
        self._attempts: dict[int, int] = {}
        self._delay = BACKOFF_FIRST

    async def start(self) -> None:
        """Start polling in the background."""
        self._task = asyncio.create_task(self._poll(), name="telegram-poller")

    async def stop(self) -> None:
        """Stop fetching at once, let the update being handled finish, and confirm what was decided."""
        self._stopping.set()
        if self._fetching is not None:
            self._fetching.cancel()  # a long poll in progress: nothing was handed out to us yet that we would lose
        if self._task is not None:
            await self._task
        await self._confirm()

    async def _poll(self) -> None:
        while not self._stopping.is_set():
            try:
                await self._round()
            except Exception:  # noqa: BLE001  (polling must go on: a dead poller would take no command at all)
                log.exception("Telegram polling failed")
                await self._pause(self._backoff(), "polling failed")

    async def _round(self) -> None:
        """One getUpdates, then each update it handed out decided in order."""
        updates = await self._fetch()
        if updates is None:
            return
        updates_seen(self.application, updates)  # all seen now: one the database cannot settle holds back the rest, unread
        for update in updates:
            if self._stopping.is_set():
                break  # not decided: Telegram hands it out again after the restart
            if self.offset is not None and update.update_id < self.offset:
                continue
            if not await self._decide(update):
                tries = self._attempts.get(update.update_id, 1)
                delay = min(BACKOFF_FIRST * 2 ** (tries - 1), BACKOFF_MAX) * random.uniform(0.5, 1.0)
                await self._pause(delay, f"update {update.update_id} could not be handled ({tries} tries)")
                break  # fetched again from this update on: nothing after it is confirmed before it
            self.offset = update.update_id + 1

    async def _fetch(self) -> list | None:
        """One getUpdates (confirming everything below the offset); None after an error, once its backoff is over."""
        bot = self.application.bot
        self._fetching = asyncio.create_task(
            bot.get_updates(offset=self.offset, timeout=self.poll_seconds, read_timeout=self.poll_seconds + 10)
        )
        try:
            updates = await self._fetching
        except asyncio.CancelledError:
            if self._stopping.is_set():
                return None
            raise
        except RetryAfter as error:
            await self._pause(_seconds(error.retry_after), "Telegram asked to slow down (429)")
            return None
        except Conflict as error:  # 409: a webhook is set, or another process polls with this token
            await self._pause(self._backoff(), f"getUpdates refused: {error.message}", level=logging.ERROR)
            return None
        except (InvalidToken, Forbidden) as error:
            await self._pause(BACKOFF_MAX, f"getUpdates refused: {error.message}", level=logging.ERROR)
            return None
        except TelegramError as error:  # network errors and timeouts, 5xx
            await self._pause(self._backoff(), f"getUpdates failed: {error.message}")
            return None
        finally:
            self._fetching = None
        self._confirmed = self.offset
        self._delay = BACKOFF_FIRST
        return updates

    async def _decide(self, update) -> bool:
        """Handle one update; False to fetch it again (it raised, and has attempts left, or its commit is unknown)."""
        failures = await update_failures(self.application, update)
        if not failures:
            self._attempts.pop(update.update_id, None)
            return True
        attempts = self._attempts[update.update_id] = self._attempts.get(update.update_id, 0) + 1
        if attempts < ATTEMPTS or all(isinstance(failure, CommitUnknown) for failure in failures):
            return False
        log.error("Telegram update %s failed %d times; skipped", update.update_id, attempts)
        self._attempts.pop(update.update_id, None)
        return True

    async def _confirm(self) -> None:
        """Tell Telegram what was decided since the last call (on stop), without waiting for news."""
        if self.offset is None or self.offset == self._confirmed:
            return
        try:
            await self.application.bot.get_updates(offset=self.offset, timeout=0, limit=1, read_timeout=5)
            self._confirmed = self.offset
        except TelegramError as error:  # it is handed out again after the restart, and its dedup key spares a double
            log.info("could not confirm Telegram updates before stopping: %s", error.message)

    def _backoff(self) -> float:
        """Exponential, with jitter, capped."""
        delay, self._delay = self._delay, min(self._delay * 2, BACKOFF_MAX)
        return delay * random.uniform(0.5, 1.0)

    async def _pause(self, seconds: float, why: str, level: int = logging.WARNING) -> None:
        log.log(level, "%s; polling again in %.1f s", why, seconds)
        try:
            await asyncio.wait_for(self._stopping.wait(), seconds)
        except TimeoutError:
            pass


def _seconds(retry_after) -> float:
    """RetryAfter.retry_after is a timedelta with PTB_TIMEDELTA set, else seconds."""
    return float(retry_after.total_seconds() if hasattr(retry_after, "total_seconds") else retry_after)
