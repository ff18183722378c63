"""Typed commands whose commit was not confirmed (the connection dropped on it): answered only once it is known whether
the commit landed, so a person never reads "nothing was changed" and then the command's own answer. Every platform whose
front writes held answers uses it (Telegram, Matrix); it reads only the outbox and the dedup keys."""

import logging
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import col, select

from handlers.core.effects import Answer
from handlers.core.ports import Reply
from handlers.router import UNREACHABLE
from storage.db import session
from storage.models import Outbox, ProcessedEvent

log = logging.getLogger(__name__)

KEPT = 1000  # commands remembered as unsettled, oldest forgotten first (a platform redelivers an event for hours at most)


class CommitUnknown(Exception):
    """Nobody can tell yet whether a command's commit landed: its event stays unacknowledged, so the platform brings it again."""


@dataclass(frozen=True)
class Landed:
    """Whether a command's transaction committed, and its held answer still pending under this worker's lease (if any)."""

    committed: bool
    answer: Outbox | None


def landed(engine: Engine, platform: str, event_id: str, worker: str, untils: list[datetime]) -> Landed:
    """Read whether the command committed (its dedup key exists) and which of its held answers is still this worker's."""
    with session(engine) as db:
        if db.get(ProcessedEvent, event_id) is None:
            return Landed(False, None)
        # the answer written with it: leased to this worker until the moment the route chose (unique to that command)
        answer = db.exec(
            select(Outbox).where(
                Outbox.platform == platform,
                Outbox.kind == Answer.kind,
                Outbox.state == "pending",
                Outbox.lease_owner == worker,
                col(Outbox.lease_until).in_(untils),
            )
        ).first()
        return Landed(True, answer)


class Unsettled:
    """The commands of this process whose commit outcome is unknown, by event id, with the lease their answer was written
    under; a redelivery of one is answered only once it is settled."""

    def __init__(self, engine: Engine, platform: str, worker: str) -> None:
        self.engine, self.platform, self.worker = engine, platform, worker
        self._until: OrderedDict[str, datetime] = OrderedDict()

    def earlier(self, event_id: str) -> datetime | None:
        """The lease of the answer written on an earlier try of this command whose commit is unsettled, if any."""
        return self._until.get(event_id)

    def unconfirmed(self, event_id: str, reply: Reply, untils: list[datetime], earlier: datetime | None) -> list[datetime]:
        """The leases of the answers whose commits are to be checked before anything is said (none: answer as usual): an
        answer written on this try but not confirmed (the connection dropped on its commit), or on an earlier try."""
        if reply.answer_queued:
            self._until.pop(event_id, None)  # committed on this try, so an earlier one had not
            return []
        if reply.quiet or (reply.duplicate and earlier is None):  # a plain redelivery: answered when it first committed
            return []
        return untils + ([earlier] if earlier is not None else [])

    def settle(self, event_id: str, reply: Reply, untils: list[datetime]) -> Reply:
        """The reply to give (blocking: run it off the loop): the command's own held answer if its commit landed, the
        failure if it did not; raises CommitUnknown (and remembers the command) while the database cannot say."""
        try:
            found = landed(self.engine, self.platform, event_id, self.worker, untils)
        except UNREACHABLE as error:
            self._until[event_id] = untils[0]
            self._until.move_to_end(event_id)
            while len(self._until) > KEPT:
                self._until.popitem(last=False)
            log.warning("the commit of %s is unconfirmed and cannot be checked; left unacknowledged, to come again", event_id)
            raise CommitUnknown(event_id) from error
        self._until.pop(event_id, None)
        if not found.committed:
            return reply  # nothing was written: saying so is true
        log.info("the commit of %s landed although its acknowledgement was lost: its own answer is sent", event_id)
        reply.answer_queued, reply.answer_held = True, found.answer  # None: sent already, or another worker's now
        return reply
