"""Outbox leases: which worker delivers a row, for how long; claimed in batches, renewed, checked before each send."""

import logging
from collections.abc import Collection
from datetime import timedelta

from sqlalchemy import Engine, bindparam, exists, func, or_, update
from sqlalchemy.orm import aliased
from sqlmodel import col, select

from handlers.core.effects import Answer, OpenRoom
from handlers.core.ports import Clock
from storage.db import CONNECT_TIMEOUT
from storage.db import session as new_session
from storage.models import Outbox

log = logging.getLogger(__name__)

CLAIM_ROUNDS = 5  # batches looked at when every row found waits behind another worker's
LEASE = timedelta(seconds=30)  # short, and renewed while the worker is alive: a dead replica's rows are free again soon


class Leases:
    """One worker's leases on one platform's outbox rows."""

    def __init__(self, engine: Engine, clock: Clock, platform: str, worker: str, batch: int, lease: timedelta = LEASE):
        self.engine, self.clock, self.platform, self.worker, self.batch = engine, clock, platform, worker, batch
        self.lease = lease
        self.heartbeat = lease.total_seconds() / 3  # real seconds between renewals: two may be missed before the lease ends
        # A held answer another worker sent may wait to be marked sent (bot/outbox/worker.py) while the database is away,
        # longer than its lease: once the database is back, that worker marks it within a retry (one a second, each
        # bounded by the connect timeout), so taking it over waits this long first. Only a worker that died after the
        # send leaves it unmarked: then it is sent again (Telegram cannot tell a repeated sendMessage from a new one).
        self.takeover = max(lease / 3, timedelta(seconds=CONNECT_TIMEOUT + 3))

    def claim(self) -> list[int]:
        """Lease a batch of due rows to this worker so no other worker delivers them meanwhile."""
        now = self.clock.now()
        with new_session(self.engine) as session:
            passed: list[int] = []
            for _round in range(CLAIM_ROUNDS):
                candidates = list(session.exec(self._due(now, passed)))
                rows = self._in_order(session, candidates)
                if rows or len(candidates) < self.batch:
                    break
                # all queued behind rows another worker is claiming this instant: look further instead of stopping here
                passed += [row.id for row in candidates]
            for row in rows:
                if row.kind == Answer.kind and row.lease_owner not in (None, self.worker):
                    row.lease_until, row.lease_owner, row.next_attempt_at = None, None, now + self.takeover
                else:
                    row.lease_until, row.lease_owner = now + self.lease, self.worker
                session.add(row)
            session.commit()
            return [row.id for row in rows if row.lease_owner == self.worker]

    def _due(self, now, passed: list[int]):
        return (
            select(Outbox)
            .where(
                Outbox.platform == self.platform,
                Outbox.state == "pending",
                Outbox.next_attempt_at <= now,
                or_(col(Outbox.lease_until).is_(None), col(Outbox.lease_until) < now),
                ~exists().where(*self._held_back(now)),
                col(Outbox.id).not_in(passed),
            )
            .order_by(col(Outbox.id))
            .limit(self.batch)
            .with_for_update(skip_locked=True)
        )

    def _held_back(self, now) -> tuple:
        """An earlier effect of the same incident and lane (or its room, still being opened) waits for its retry, or another
        worker is delivering it."""
        earlier = aliased(Outbox)
        return (
            earlier.platform == Outbox.platform,
            earlier.incident_id == Outbox.incident_id,
            earlier.state == "pending",
            earlier.id < Outbox.id,
            or_(col(earlier.lane) == col(Outbox.lane), col(earlier.kind) == OpenRoom.kind),
            or_(col(earlier.next_attempt_at) > now, col(earlier.lease_until) >= now),
        )

    def _in_order(self, session, rows: list[Outbox]) -> list[Outbox]:
        """Drop rows queued behind an earlier pending effect of the same incident and lane (or its room's opening) that this
        batch does not hold: one waiting for a retry, leased by another worker, or being claimed by one right now."""
        incidents = {row.incident_id for row in rows if row.incident_id is not None}
        if not incidents:
            return rows
        outside = (
            Outbox.platform == self.platform,
            Outbox.state == "pending",
            col(Outbox.incident_id).in_(incidents),
            col(Outbox.id).not_in([row.id for row in rows]),
        )
        first = session.exec(
            select(Outbox.incident_id, Outbox.lane, func.min(Outbox.id)).where(*outside).group_by(col(Outbox.incident_id), col(Outbox.lane))
        )
        earlier = {(incident, lane): first_id for incident, lane, first_id in first.all()}
        opening = dict(
            session.exec(
                select(Outbox.incident_id, func.min(Outbox.id))
                .where(*outside, Outbox.kind == OpenRoom.kind)
                .group_by(col(Outbox.incident_id))
            ).all()
        )
        return [
            row
            for row in rows
            if row.id < earlier.get((row.incident_id, row.lane), row.id + 1) and row.id < opening.get(row.incident_id, row.id + 1)
        ]

    def renew(self, ids: list[int]) -> int:
        now = self.clock.now()
        with new_session(self.engine) as session:
            renewed = session.exec(  # SQLModel's exec types an UPDATE's result with its rowcount
                update(Outbox).where(*self._mine(ids, now)).values(lease_until=now + self.lease),
                execution_options={"synchronize_session": False},
            ).rowcount
            session.commit()
        return renewed

    def _mine(self, ids: list[int], now) -> tuple:
        """Rows still pending under this worker's unexpired lease."""
        return (col(Outbox.id).in_(ids), Outbox.lease_owner == self.worker, Outbox.lease_until > now, Outbox.state == "pending")

    def hold(self, session, row: Outbox) -> bool:
        """Check and renew this worker's lease on one row in one statement, right before sending it: a row whose lease
        expired (and may have been reclaimed by another replica) is never sent by two."""
        now = self.clock.now()
        held = session.execute(
            update(Outbox).where(*self._mine([row.id], now)).values(lease_until=now + self.lease),
            execution_options={"synchronize_session": False},
        ).rowcount
        session.commit()
        if not held:
            session.expunge(row)  # another worker's now: never write our stale copy back
            log.warning("outbox %s is no longer leased by this worker; skipped", row.id)
        return held == 1

    def release(self, keep: Collection[int] = ()) -> int:
        """Hand back every row this worker leases (shutdown), so another replica delivers it without waiting; except `keep`
        (being sent right now: their leases run out by themselves if this worker dies before marking them)."""
        with new_session(self.engine) as session:
            released = session.exec(
                update(Outbox)
                .where(col(Outbox.lease_owner) == self.worker, col(Outbox.state) == "pending", col(Outbox.id).not_in(list(keep)))
                .values(lease_until=None, lease_owner=None),
                execution_options={"synchronize_session": False},
            ).rowcount
            session.commit()
        return released

    def mark_sent(self, marks: dict[int, tuple]) -> None:
        """Mark sent answers sent, all in one transaction (row id -> (sent at, result)); a row no longer pending is left."""
        table = Outbox.__table__  # type: ignore[attr-defined]
        mark = (
            table.update()
            .where(table.c.id == bindparam("row"), table.c.state == "pending")
            .values(state="sent", sent_at=bindparam("at"), result=bindparam("said"), lease_until=None, lease_owner=None)
        )
        with new_session(self.engine) as session:
            session.connection().execute(mark, [{"row": i, "at": at, "said": said} for i, (at, said) in marks.items()])
            session.commit()


def claimed_rows(session, ids: list[int]) -> list[Outbox]:
    """The claimed rows in one query (one get per row cost more than sending them), in the order claimed."""
    found = {row.id: row for row in session.exec(select(Outbox).where(col(Outbox.id).in_(ids)))}
    session.commit()  # no transaction stays open while the platform is called
    return [found[i] for i in ids if i in found]
