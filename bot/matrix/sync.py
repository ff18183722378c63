"""The Matrix sync loop: each batch's events decided in order, then its `next_batch` stored, so a restart resumes there.

A token is stored only once every event before it is decided and committed: a crash in between leaves the old token,
the batch comes again, and the event ids already recorded (the router's dedup keys) spare a double. A timeline the
server cut short (`limited`, after a long stop) is filled in from /messages back to where that sync began, so nothing is lost.
The first start of a bot account (no stored token) skips the backlog: commands typed before the bot ever ran are old.
"""

import asyncio
import logging
import random
from datetime import UTC, datetime

from nio import AsyncClient, MessageDirection, SyncResponse

from bot.matrix.client import call, failure
from bot.matrix.front import MatrixFront
from bot.outbox.adapter import RetryLater, Undeliverable
from bot.outbox.unsettled import CommitUnknown
from handlers.router import UNREACHABLE
from storage.db import session, store_or_update
from storage.models import MatrixSync

log = logging.getLogger(__name__)

TIMELINE_LIMIT = 50  # events per room in one batch; beyond it the gap is paged in from /messages
GAP_PAGES = 20  # pages of 100 fetched to fill one gap, at most (2,000 events)
ATTEMPTS = 3  # an event whose handling raised is tried this often, then skipped (logged): one bad event cannot stall the rest
# except a command whose fate nobody can tell yet (the database is away): skipped, it would be lost without a word, so it
# is tried until the database answers (the front answers it once that lasts too long: bot/outbox/unsure.py, UNSURE_FOR)
BACKOFF_FIRST, BACKOFF_MAX = 1.0, 30.0
FILTER = {
    "room": {
        "timeline": {"limit": TIMELINE_LIMIT, "types": ["m.room.message"]},
        "state": {"lazy_load_members": True, "types": ["m.room.member"]},
        "ephemeral": {"not_types": ["*"]},
        "account_data": {"not_types": ["*"]},
    },
    "presence": {"not_types": ["*"]},
    "account_data": {"not_types": ["*"]},
}


class MatrixSyncer:
    """One task calling /sync, deciding each event it brings in order, then storing the token past them."""

    def __init__(self, client: AsyncClient, front: MatrixFront, engine, timeout_ms: int = 30000):
        self.client, self.front, self.engine, self.timeout_ms = client, front, engine, timeout_ms
        self.token: str | None = None  # the stored next_batch: every event before it is decided
        # where the next /sync starts: every event before it decided by this process; ahead of the token when the database
        # was away as that was stored, so commands typed meanwhile are still read (the token is stored with a later batch)
        self.since: str | None = None
        self._stopping = asyncio.Event()
        self._fetching: asyncio.Task | None = None
        self._task: asyncio.Task | None = None
        self._attempts: dict[str, int] = {}
        self._delay = BACKOFF_FIRST

    async def start(self) -> None:
        """Resume from the stored token (or take the present as the start), then sync in the background."""
        self.token = await asyncio.to_thread(load_token, self.engine, self.client.user_id)
        if self.token is None:
            first = await self._sync(timeout=0)  # raises if the homeserver refuses: `onevoice run` says so at start
            await self._invitations(first)
            await self._store(first.next_batch)
            log.info("first Matrix sync: the backlog before now is skipped")
        self.since = self.token
        self._task = asyncio.create_task(self._run(), name="matrix-sync")

    async def stop(self) -> None:
        """Stop fetching at once; the event being decided finishes (its batch's token is stored only if all were)."""
        self._stopping.set()
        if self._fetching is not None:
            self._fetching.cancel()
        if self._task is not None:
            await self._task

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                await self._round()
            except (RetryLater, Undeliverable) as problem:
                await self._pause(problem.after if isinstance(problem, RetryLater) and problem.after else self._backoff(), str(problem))
            except Exception:  # noqa: BLE001  (syncing must go on: a dead loop would take no command at all)
                log.exception("Matrix sync failed")
                await self._pause(self._backoff(), "sync failed")

    async def _round(self) -> None:
        """One /sync, its events decided room by room in order, its invitations answered, then its token stored."""
        self._fetching = asyncio.create_task(self._sync(self.timeout_ms, self.since))
        try:
            batch = await self._fetching
        except asyncio.CancelledError:
            if self._stopping.is_set():
                return
            raise
        finally:
            self._fetching = None
        timelines: list[tuple[str, list[dict]]] = []
        for room_id, joined in batch.rooms.join.items():
            events = [e.source for e in joined.timeline.events]
            if joined.timeline.limited and joined.timeline.prev_batch and self.since:
                events = await self._gap(room_id, joined.timeline.prev_batch) + events
            timelines.append((room_id, events))
            for event in events:  # all seen now: the first one the database cannot settle holds back the rest, unread
                self.front.seen(room_id, event)
        for room_id, events in timelines:
            for event in events:
                if self._stopping.is_set() or not await self._decide(room_id, event):
                    return  # the token stays: the batch comes again (from this event on, the rest deduplicated)
        await self._invitations(batch)
        self.since = batch.next_batch
        await self._store(batch.next_batch)
        self._delay = BACKOFF_FIRST  # only a batch decided whole ends a run of failures: a failing event's waits grow

    async def _sync(self, timeout: int, since: str | None = None) -> SyncResponse:
        response = await self.client.sync(timeout=timeout, since=since, sync_filter=FILTER)
        if not isinstance(response, SyncResponse):
            raise failure("sync", response)
        return response

    async def _gap(self, room_id: str, prev_batch: str) -> list[dict]:
        """The events the server left out of a limited timeline: from its start back to where this sync began, oldest first."""
        found: list[dict] = []
        start: str | None = prev_batch
        for _page in range(GAP_PAGES):
            try:
                page = await call(self.client, "room_messages", room_id, start, self.since, MessageDirection.back, 100)
            except Undeliverable as refusal:  # the server will not page back: what it gave is decided, the loop goes on
                log.warning("Matrix room %s: the events before this batch could not be fetched (%s)", room_id, refusal)
                break
            found += [e.source for e in page.chunk]
            if not page.chunk or not page.end or page.end == start:
                break
            start = page.end
        else:
            log.warning("Matrix room %s: more than %d events missed; the oldest are skipped", room_id, GAP_PAGES * 100)
        return [e for e in reversed(found) if e.get("type") == "m.room.message"]

    async def _decide(self, room_id: str, event: dict) -> bool:
        """Handle one event; False to sync this batch again (it raised, and has attempts left)."""
        event_id = str(event.get("event_id"))
        try:
            await self.front.on_event(room_id, event)
        except (CommitUnknown, *UNREACHABLE) as away:  # the database, not the event: wait for it, never skip the event
            await self._pause(self._backoff(), f"the database cannot say what became of event {event_id} ({type(away).__name__})")
            return False
        except Exception:  # noqa: BLE001  (its batch is fetched again; a third failure skips it)
            attempts = self._attempts[event_id] = self._attempts.get(event_id, 0) + 1
            log.exception("Matrix event %s failed (attempt %d of %d)", event_id, attempts, ATTEMPTS)
            if attempts < ATTEMPTS:
                await self._pause(self._backoff(), "an event could not be handled")
                return False
            log.error("Matrix event %s failed %d times; skipped", event_id, attempts)
        self._attempts.pop(event_id, None)
        return True

    async def _invitations(self, batch: SyncResponse) -> None:
        for room_id, invited in batch.rooms.invite.items():
            await self.front.on_invite(room_id, [_stripped(e) for e in invited.invite_state])

    async def _store(self, token: str) -> None:
        await asyncio.to_thread(store_token, self.engine, self.client.user_id, token)
        self.token = token

    def _backoff(self) -> float:
        """Exponential, with jitter, capped."""
        delay, self._delay = self._delay, min(self._delay * 2, BACKOFF_MAX)
        return delay * random.uniform(0.5, 1.0)

    async def _pause(self, seconds: float, why: str) -> None:
        log.warning("%s; syncing again in %.1f s", why, seconds)
        try:
            await asyncio.wait_for(self._stopping.wait(), seconds)
        except TimeoutError:
            pass


def _stripped(event) -> dict:
    """An invitation's state event as a dict (nio keeps its content beside the source it trims)."""
    source = dict(getattr(event, "source", None) or {})
    content = getattr(event, "content", None)
    if isinstance(content, dict):
        source["content"] = content
    return source


def load_token(engine, account: str) -> str | None:
    """The stored next_batch of a bot account, if it ever synced."""
    with session(engine) as db:
        row = db.get(MatrixSync, account)
        return row.next_batch if row else None


def store_token(engine, account: str, token: str) -> None:
    """Store where the next sync resumes (every event before it is decided)."""
    store_or_update(engine, MatrixSync, account, {"account": account, "next_batch": token, "at": datetime.now(UTC)})
