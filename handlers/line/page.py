"""The public statement page: what `publish` sent to an incident's page, found by its unguessable public id."""

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import String, bindparam, case, cast, func, literal
from sqlalchemy import select as select_columns  # SQLModel's select types at most four columns
from sqlmodel import Session, col, select

from config.model import Config
from handlers.line.headline import default_headline
from handlers.line.states import APPROVED
from storage.models import Incident, Publication, Statement, TimelineEvent

PAGE = "page"
SHOWN = 50  # versions listed at most, so a page costs the same however long the incident ran
OVER = ("resolved", "closed")  # no update is promised any more


@dataclass(frozen=True)
class ShownVersion:
    """One version as it was on the page: its headline and text verbatim, when it was approved and when it reached the page."""

    version: int
    headline: str
    text: str
    approved_at: datetime | None
    published_at: datetime


@dataclass(frozen=True)
class PageData:
    """Everything the page shows, and nothing else: the current line first, then what it replaced, newest first.
    Its title is the current version's public headline: the internal incident title is never read for it."""

    public_id: str
    headline: str
    current: ShownVersion
    superseded: tuple[ShownVersion, ...]
    next_update_at: datetime | None
    stamp: str  # a hash of the shown facts: changes whenever what the page says changes
    last_modified: datetime  # when the newest version reached the page


# One indexed round trip: the incident by its public id (unique index), its page publications (by incident), their versions
# (by primary key), and when each became the line, from the timeline: a superseded version's decided_at is when it was superseded.
_APPROVED_AT = (
    select(func.max(TimelineEvent.at))
    .where(
        TimelineEvent.incident_id == Statement.incident_id,
        TimelineEvent.kind == "approved",
        TimelineEvent.text == literal("v") + cast(Statement.version, String),
    )
    .correlate(Statement)
    .scalar_subquery()
)
_SHOWN = (
    select_columns(
        col(Incident.drill),
        col(Incident.phase),
        col(Incident.next_update_at),
        col(Statement.version),
        col(Statement.headline),
        col(Statement.text),
        func.coalesce(_APPROVED_AT, case((col(Statement.state) == APPROVED, Statement.decided_at))),
        func.min(Publication.sent_at),
    )
    .join(Publication, col(Publication.incident_id) == Incident.id)
    .join(Statement, col(Statement.id) == Publication.statement_id)
    .where(col(Incident.public_id) == bindparam("public_id"), col(Publication.platform) == PAGE, col(Publication.state) == "sent")
    .group_by(col(Incident.id), col(Statement.id))
    .order_by(col(Statement.version).desc())
    .limit(SHOWN)
)


def page_for(session: Session, config: Config, public_id: str) -> PageData | None:
    """The page of an incident, or None when there is none to show (unknown id, a drill, nothing published there, no page target)."""
    if not any(target.page for target in config.broadcast):
        return None  # the page target was removed from the config: the pages are taken down
    rows = session.connection().execute(_SHOWN, {"public_id": public_id}).all()
    if not rows or rows[0].drill:
        return None  # a drill never publishes outside: even an id given to one by mistake shows nothing
    _drill, phase, next_update_at = rows[0][:3]
    fallback = default_headline(config)  # versions drafted before headlines existed
    shown = tuple(
        ShownVersion(version, headline or fallback, text, approved_at, sent_at)
        for *_incident, version, headline, text, approved_at, sent_at in rows
    )
    next_update = next_update_at if phase not in OVER else None
    facts = [_iso(next_update), [(v.version, v.headline, v.text, _iso(v.approved_at), _iso(v.published_at)) for v in shown]]
    stamp = hashlib.sha256(json.dumps(facts, ensure_ascii=False).encode()).hexdigest()[:32]
    return PageData(public_id, shown[0].headline, shown[0], shown[1:], next_update, stamp, max(v.published_at for v in shown))


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
