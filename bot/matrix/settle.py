"""A Matrix command whose commit was not confirmed (the connection dropped on it): whether it landed, read back before
anything is said, so a person never reads "nothing was changed" and then the command's own answer."""

from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import col, select

from handlers.core.effects import Answer
from storage.db import session
from storage.models import Outbox, ProcessedEvent


class CommitUnknown(Exception):
    """Whether a command's commit landed cannot be told yet: its batch comes again (the sync token stays before it)."""


def landed(engine: Engine, event_id: str, worker: str, untils: list[datetime]) -> tuple[bool, Outbox | None]:
    """Whether the command committed (its dedup key exists), and its held answer if still pending under this worker's
    lease (the lease's end, chosen by the route, is unique to that command); raises what an unreachable database does."""
    with session(engine) as db:
        if db.get(ProcessedEvent, event_id) is None:
            return False, None
        answer = db.exec(
            select(Outbox).where(
                Outbox.platform == "matrix",
                Outbox.kind == Answer.kind,
                Outbox.state == "pending",
                Outbox.lease_owner == worker,
                col(Outbox.lease_until).in_(untils),
            )
        ).first()
        return True, answer
