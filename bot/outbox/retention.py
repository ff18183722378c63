"""Retention: processed-event keys and delivered outbox rows older than the configured age are deleted, a batch at a time."""

import logging
from datetime import datetime

from sqlalchemy import Engine, delete, select
from sqlmodel import col

from storage.db import session as new_session
from storage.models import Outbox, ProcessedEvent, Signal

log = logging.getLogger(__name__)

BATCH = 500  # rows per transaction: a short write lock, so commands never queue behind the pruning


def prune(engine: Engine, before: datetime, batch: int = BATCH, stop=lambda: False) -> int:
    """Delete what is older than `before`, one short transaction per batch; return how many rows went."""
    removed = 0
    with new_session(engine) as session:
        needed = _still_edited(session, before)
    for table, old in (
        (ProcessedEvent, col(ProcessedEvent.at) < before),
        (Outbox, col(Outbox.state).in_(("sent", "failed")) & (col(Outbox.next_attempt_at) < before) & col(Outbox.id).not_in(needed)),
    ):
        key = col(ProcessedEvent.key) if table is ProcessedEvent else col(Outbox.id)
        while not stop():
            with new_session(engine) as session:
                doomed = session.execute(select(key).where(old).limit(batch)).scalars().all()
                if doomed:
                    session.execute(delete(table).where(key.in_(doomed)))
                session.commit()
            removed += len(doomed)
            if len(doomed) < batch:
                break
    if removed:
        log.info("pruned %d processed-event keys and delivered outbox rows older than %s", removed, before.isoformat())
    return removed


def _still_edited(session, before: datetime) -> list[int]:
    """Triage posts an alert may still edit (a repeat counts on it, a declaration says where it went): those of alerts
    not declared yet or seen again inside the window."""
    live = session.execute(select(col(Signal.posts)).where(col(Signal.incident_id).is_(None) | (col(Signal.last_at) >= before))).scalars()
    return sorted({int(post) for posts in live for post in posts or []})
