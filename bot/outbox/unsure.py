"""Commands whose fate nobody can tell yet, because the database cannot be reached: left unanswered and undecided (the
platform brings them again: Telegram's update is not acknowledged, Matrix's sync token stays) until it can be told, or
until UNSURE_FOR has passed; then the person is told nobody could tell, rather than nothing at all. Every platform's front
uses it (Telegram, Matrix); the text says `/crisis status`, which each platform's renderer writes as typed there."""

import asyncio
import logging
from collections import OrderedDict
from datetime import datetime, timedelta

from bot.outbox.unsettled import CommitUnknown, Unsettled
from handlers.core.ports import Clock, Reply
from handlers.text import markup
from handlers.text.i18n import _, speaking

log = logging.getLogger(__name__)

# How long such a command stays unanswered and undecided. A database restart fits within.
UNSURE_FOR = timedelta(minutes=2)
# Commands remembered, well above what one fetch brings (a Matrix batch with its gap: 2,000 events). Past it, a clock
# older than STALE goes first (a command the platform stopped bringing: one still brought is told after UNSURE_FOR and
# forgotten); then the newest: the commands queued first keep their clocks and are told first, room is made as they go.
KEPT = 20_000
STALE = UNSURE_FOR * 10


class UnsureCommits:
    """When this process first saw each command it has not decided yet, by event id: its UNSURE_FOR clock."""

    def __init__(self, clock: Clock, language: str) -> None:
        self.clock, self.language = clock, language
        self._first: OrderedDict[str, datetime] = OrderedDict()

    def seen(self, event_id: str) -> None:
        """A command fetched, not decided yet: its clock starts now if it has not already. A platform brings the commands
        queued behind an unsure one again and again without reaching them; each person must hear within UNSURE_FOR of
        typing, not UNSURE_FOR after everyone queued before them was told."""
        self._first.setdefault(event_id, self.clock.now())
        self._make_room()

    def forget(self, event_id: str) -> None:
        """A command decided (carried out, refused, told): its clock is no longer needed."""
        self._first.pop(event_id, None)

    async def settle(self, unsettled: Unsettled, event_id: str, reply: Reply, seen: list) -> Reply:
        """The command's one true answer once its unconfirmed commit is checked; CommitUnknown while it cannot be."""
        try:
            settled = await asyncio.to_thread(unsettled.settle, event_id, reply, seen)
        except CommitUnknown:
            return self._unknown(event_id)
        self.forget(event_id)
        return settled

    def unreachable(self, event_id: str) -> Reply:
        """A command that met an unreachable database: CommitUnknown while UNSURE_FOR lasts. "Nothing was changed" would
        be a guess: an earlier delivery of this very event may have committed in a process that then died (or in
        another replica), and only the database, away now, could say."""
        log.warning("the database is unreachable for %s; left undecided, to come again", event_id)
        return self._unknown(event_id)

    def _unknown(self, event_id: str) -> Reply:
        first = self._first.setdefault(event_id, self.clock.now())
        self._make_room()
        if self.clock.now() - first < UNSURE_FOR:
            raise CommitUnknown(event_id)
        self._first.pop(event_id, None)
        log.error("the fate of %s stayed unknown for %s; the person is told to check", event_id, UNSURE_FOR)
        with speaking(self.language):
            told = _(
                "I could not tell whether your command was recorded: the database cannot be reached. "
                "Check with /crisis status before repeating it."
            )
        return Reply(markup.text(told), ok=False, outcome="error", unreachable=True)  # each front says it privately where it can

    def _make_room(self) -> None:
        """Keep at most KEPT clocks: stale ones go first, then the newest."""
        while len(self._first) > KEPT and self.clock.now() - next(iter(self._first.values())) > STALE:
            self._first.popitem(last=False)
        while len(self._first) > KEPT:
            self._first.popitem(last=True)
