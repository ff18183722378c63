"""What every platform adapter offers the delivery loop."""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from typing import Protocol

from handlers.core.effects import Answer, OpenRoom
from handlers.text.markup import Message
from storage.models import Room

log = logging.getLogger(__name__)


class RetryLater(Exception):
    """The platform asked us to wait (429, 5xx, retry_after); the effect stays queued."""

    def __init__(self, reason: str, after: float | None = None, progress: dict | None = None):
        super().__init__(reason)
        self.after = after
        self.progress = progress or {}  # room fields already created (channel, topic, card…): kept so a retry never repeats them


_RESUMING: ContextVar[dict | None] = ContextVar("resuming", default=None)


@contextmanager
def resuming(progress: dict):
    """Deliver an effect knowing what its earlier attempts did (`RetryLater.progress` kept on its outbox row)."""
    token = _RESUMING.set(progress)
    try:
        yield
    finally:
        _RESUMING.reset(token)


def resumed() -> dict:
    """What earlier attempts of the effect being delivered did (empty on a first attempt)."""
    return _RESUMING.get() or {}


class Turn:
    """An outbox batch's turn (bot/outbox/lanes.py): held while a row is sent and its fate written, so one row at a time is
    in flight and a crash repeats at most that one send."""

    def __init__(self, halting: Callable[[], bool] = lambda: False) -> None:
        self._lock: asyncio.Lock = asyncio.Lock()
        self._holder: asyncio.Task | None = None
        self.untouched = False  # nothing of the holder's row was sent yet: it may still wait aside
        self.stopped = False  # a row of the batch failed (the database away): no other row may reach the platform now
        self.halting = halting  # SIGTERM: a row waiting aside is handed back rather than sent
        # Whether the holder's row is still this worker's to send, asked after a wait aside (its lease may have run out
        # meanwhile, or the command's own sender taken it up): None, nothing to ask.
        self.recheck: Callable[[], Awaitable[bool]] | None = None

    @property
    def over(self) -> bool:
        """Whether a row that waited aside must not be sent now (the batch failed, or the worker is stopping)."""
        return self.stopped or self.halting()

    def held(self) -> bool:
        """Whether the running task holds the turn."""
        return self._holder is not None and self._holder is asyncio.current_task()

    async def take(self, recheck: Callable[[], Awaitable[bool]] | None = None) -> None:
        """Wait for the turn, then hold it for a row of which nothing was sent yet (`recheck`: see __init__)."""
        await self._lock.acquire()
        self._holder = asyncio.current_task()
        self.untouched, self.recheck = True, recheck

    def give(self) -> None:
        """Hand the turn on, if the running task holds it (one cancelled while taking it back never did)."""
        if self.held():
            self._holder = None
            self._lock.release()


TURN: ContextVar[Turn | None] = ContextVar("turn", default=None)  # the batch's turn; none outside a batch (an answer, a question)


def may_wait_aside() -> bool:
    """Whether a wait now may hand the batch's turn on: in a batch, before anything of the row being delivered was sent."""
    turn = TURN.get()
    return turn is not None and turn.held() and turn.untouched


def batch_over() -> bool:
    """Whether the batch of the row being delivered has failed or is stopping: a wait aside may end now."""
    turn = TURN.get()
    return turn is not None and turn.over


def touched() -> None:
    """Say that the row being delivered is about to reach the platform: from now on it keeps the turn until it is done."""
    turn = TURN.get()
    if turn is not None and turn.held():
        turn.untouched = False


@asynccontextmanager
async def waiting_aside():
    """Wait (a channel's pace, a group's budget) without holding the batch's turn, so the other lanes send meanwhile; only
    before anything of the row was sent (`touched`), and never while holding another lock a lane may need (a deadlock):
    the turn is what keeps a crash from repeating more than one send."""
    turn = TURN.get()
    if turn is None or not may_wait_aside():
        yield False
        return
    recheck = turn.recheck
    turn.give()
    try:
        yield True
    except Exception:
        await turn.take(recheck)  # the row ends with this error, its fate written under the turn as any row's
        raise
    except BaseException:  # cancelled: the row ends here, without the turn (its task is going)
        raise
    await turn.take(recheck)  # still nothing of this row sent: another wait may go aside too
    if turn.over:  # a failed batch: sent now, its fate could not be written, and it would go out twice; or SIGTERM
        raise Stopped("the delivery stopped while this effect waited")
    if recheck is not None and not await recheck():
        raise Lost("the effect became another sender's while it waited")


ASIDE_STEP = 0.1  # seconds: how often a row waiting aside looks whether its batch failed or is stopping


async def wait_until(left: Callable[[], float], sleep: Callable[[float], Awaitable[object]]) -> None:
    """Sleep until `left()` seconds are none (a pace, a rate limit): aside when the row may (the other lanes send
    meanwhile), then in short steps, so a failed or stopping batch ends it at once (and `waiting_aside` raises Stopped)."""
    async with waiting_aside() as aside:
        while (remaining := left()) > 0 and not (aside and batch_over()):
            await sleep(min(remaining, ASIDE_STEP) if aside else remaining)


class Lost(Exception):
    """The row being delivered became another sender's while it waited aside: not sent, and its fate is theirs to write."""


class Throttled(RetryLater):
    """The platform asked every call to wait longer than is waited in one (a long rate limit): the effect goes back to the
    outbox until then, and no attempt is counted, since it was never tried."""


class Stopped(RetryLater):
    """An effect that waited aside while its batch stopped (the database away, SIGTERM): not sent, no failed attempt."""

    def __init__(self, reason: str):
        super().__init__(reason, after=0)  # due again at once: another worker (or this one, later) takes it without waiting


class Undeliverable(Exception):
    """The platform refused for good (unknown channel, no rights); retrying cannot help."""


class Adapter(Protocol):
    """A platform: one method per type of effect (bot/outbox/effects.py calls them), each turning it into API calls and
    returning the ids it created. Each platform does every effect its own way (Telegram: a forum topic for a room, a
    mention for an invitation), so the domain never asks what a platform can do."""

    platform: str

    async def open_room(self, room: Room, effect: OpenRoom, card: Message) -> dict: ...

    async def post(self, room: Room | None, to: str | None, message: Message) -> dict: ...

    async def edit_card(self, room: Room, card: Message) -> dict: ...

    async def invite(self, room: Room, users: list[str]) -> dict: ...

    async def dm(self, to: str, message: Message) -> dict: ...

    async def pin(self, room: Room, message_id: str | None, message: Message) -> dict: ...  # post and pin, or edit in place

    # The approved text exactly as given: no markup, and no escaping a reader would see.
    async def publish(self, to: str, text: str) -> dict: ...

    # Edit a message that was posted with `post(None, to, …)`.
    async def edit_message(self, to: str, message_id: str, message: Message) -> dict: ...

    # The answer to a command by the route its front named; only platforms whose front queues Answer effects (Slack).
    async def answer(self, effect: Answer) -> dict: ...


async def pin_soon(pin, chat, message_id: str, tries: int = 5) -> None:
    """Pin a message just posted, waiting out flood control a little; never post it again for a failed pin."""
    for attempt in range(tries):
        try:
            await pin(chat, message_id)
            return
        except Undeliverable as refusal:  # the message is out; a retry would post it again
            log.warning("message %s stays unpinned: %s", message_id, refusal)
            return
        except RetryLater as wait:
            if attempt == tries - 1:
                log.warning("message %s stays unpinned: %s", message_id, wait)
                return
            await asyncio.sleep(min(wait.after or 1.0, 5.0))
