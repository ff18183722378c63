"""What becomes of a publication once queued: the approved text it sends (or its cancellation, when the line moved on
while it waited), and its outcome, sent or failed, on the timeline and in the incident room."""

from datetime import datetime

from sqlmodel import Session

from config.model import Config
from handlers.core.context import in_every_room
from handlers.core.effects import Post
from handlers.desk import tracking as claims
from handlers.line import signatures
from handlers.line.states import APPROVED
from handlers.text.i18n import _
from handlers.text.markup import fmt
from storage.models import Incident, Publication, Statement, TimelineEvent


def text_to_publish(session: Session, config: Config, publication_id: int, now: datetime) -> str | None:
    """The approved text of a queued publication; None (and cancelled) when its version stopped being the line first,
    or owes a countersignature since (the severity rose while it waited for its platform)."""
    row = session.get(Publication, publication_id)
    if row is None or row.state != "queued":
        return None
    statement = session.get_one(Statement, row.statement_id)
    if statement.state == APPROVED and signatures.owed(session, config, session.get_one(Incident, row.incident_id), statement):
        row.state = "cancelled"
        session.add(row)
        _record_outcome(session, row, "publish_cancelled", now)
        notice = fmt(
            _(
                "v{n} now needs a countersignature, so it was not sent to {target}. Once it is countersigned, "
                "publish it again with `/crisis publish {target}`."
            ),
            n=statement.version,
            target=row.target,
        )
        in_every_room(session, row.incident_id, now, Post(notice))
        return None
    if statement.state != APPROVED:
        row.state = "cancelled"
        session.add(row)
        _record_outcome(session, row, "publish_cancelled", now)
        notice = fmt(
            _("v{n} was superseded before it reached {target}, so it was not sent. Publish the new line with `/crisis publish {target}`."),
            n=statement.version,
            target=row.target,
        )
        in_every_room(session, row.incident_id, now, Post(notice))
        return None
    return statement.text


def mark_sent(session: Session, publication_id: int, result: dict, now: datetime) -> None:
    """The platform accepted the post."""
    row = session.get_one(Publication, publication_id)
    row.state, row.sent_at, row.message_id = "sent", now, str(result.get("message_id") or "")[:64] or None
    session.add(row)
    claims.answer_published(session, row.statement_id, now)
    _record_outcome(session, row, "publish_sent", now)


def mark_failed(session: Session, publication_id: int, error: str, now: datetime) -> None:
    """The platform refused for good: record it and tell the incident room, so the spokesperson can act."""
    row = session.get_one(Publication, publication_id)
    row.state, row.error = "failed", error[:300]
    session.add(row)
    version = session.get_one(Statement, row.statement_id).version
    notice = fmt(
        _("⚠ v{n} could not be published to {target}: {error}. Fix the target, then `/crisis publish {target}` again."),
        n=version,
        target=row.target,
        error=error[:200],
    )
    _record_outcome(session, row, "publish_failed", now)
    in_every_room(session, row.incident_id, now, Post(notice))


def _record_outcome(session: Session, row: Publication, kind: str, now: datetime) -> None:
    """What became of a publication goes on the timeline, as the bot's doing."""
    version = session.get_one(Statement, row.statement_id).version
    session.add(TimelineEvent(incident_id=row.incident_id, at=now, actor="onevoice", kind=kind, text=row.target, data={"version": version}))


def owes_countersignature(session: Session, config: Config, statement_id: int) -> bool:
    """Whether a version mailed outside a publication (notify, answer) came to owe a countersignature before it left."""
    statement = session.get(Statement, statement_id)
    if statement is None:
        return False
    return bool(signatures.owed(session, config, session.get_one(Incident, statement.incident_id), statement))
