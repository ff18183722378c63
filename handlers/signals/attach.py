"""Attaching signals to incidents (PRODUCT.md §7): by the incident a signal names, by its dedup key, or by the keywords of
the signals already attached to an open incident; the most recent incident wins a tie, and the triage post says so."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, insert, literal, union_all
from sqlmodel import Session, col, select

from handlers.signals import buckets
from handlers.text.i18n import _
from handlers.text.markup import Button, Message, fmt, lines
from storage.models import Incident, IncidentKeyword, Signal, SignalLink

CLOSED = ("resolved", "closed")  # no longer drawing signals by key or keyword


def how_text(how: str) -> str:
    """How a signal came to its incident, in words."""
    words = {
        "incident": _("it names the incident"),
        "dedup": _("same dedup key"),
        "keywords": _("shared keywords"),
        "manual": _("attached by hand"),
        "declared": _("declared from it"),
    }
    return words.get(how, how)


@dataclass(frozen=True)
class Link:
    """Where a signal was just attached, as its triage post tells it."""

    incident_id: int
    how: str
    also: list[int]


@dataclass(frozen=True)
class Found:
    """An incident a signal matched: what attaching needs of it."""

    id: int
    declared_at: datetime


def match(session: Session, named: int | None, key: str, keywords: Sequence[str]) -> tuple[buckets.Dated | None, str, list[int]]:
    """The incident a new signal belongs to, how it was found, and the other open incidents it also matched (one query)."""
    if named is not None:
        incident = session.get(Incident, named)
        if incident is not None and incident.phase != "closed" and not incident.drill:  # a drill's reaction comes from its injects
            return incident, "incident", []
    words = sorted({word.casefold()[:60] for word in keywords if word.strip()})
    rows = session.connection().execute(MATCH, {"key": key, "words": words, "closed": list(CLOSED)}).all()
    if not rows:
        return None, "", []
    best, rank, declared_at = rows[0]
    also = list(dict.fromkeys(other for other, its, _at in rows if its == rank and other != best))
    return Found(best, declared_at), ("dedup", "keywords")[rank], also


def _matching():
    """Open real incidents sharing a dedup key (rank 0) or a keyword (rank 1), most recent first: built once."""
    by_key = select(col(SignalLink.incident_id).label("incident"), literal(0).label("rank")).where(
        col(SignalLink.signal_id).in_(select(Signal.id).where(Signal.dedup_key == bindparam("key")))  # the dedup index, then the links
    )
    by_words = select(col(IncidentKeyword.incident_id).label("incident"), literal(1).label("rank")).where(
        col(IncidentKeyword.word).in_(bindparam("words", expanding=True))
    )
    found = union_all(by_key, by_words).subquery()
    return (
        select(Incident.id, found.c.rank, Incident.declared_at)
        .join(found, col(Incident.id) == found.c.incident)
        .where(col(Incident.phase).not_in(bindparam("closed", expanding=True)), col(Incident.drill).is_(False))
        .order_by(found.c.rank, col(Incident.declared_at).desc(), col(Incident.id).desc())
    )


MATCH = _matching()
LINK = insert(SignalLink.__table__)  # type: ignore[attr-defined]


def attach(session: Session, signal: Signal, incident: buckets.Dated, how: str, also: list[int], now: datetime) -> Link:
    """Attach a signal: its link, its current figures as a reading, and its keywords for the signals after it."""
    session.flush()  # the signal's row first: the link points at it
    added = buckets.record(session, incident, signal.volume, signal.sentiment, now if how != "declared" else signal.last_at)
    row = {"signal_id": signal.id, "incident_id": incident.id, "how": how, "also": also, "readings": added, "at": now}
    session.connection().execute(LINK, row)  # Core: the ORM's unit of work costs more than the insert itself
    link = Link(incident.id, how, also)
    buckets.count_words(session, incident.id, _words(signal), 1)
    return link


def detach(session: Session, signal: Signal) -> int | None:
    """Undo an attachment: its readings leave the chart; the incident it was on, or None."""
    link = session.get(SignalLink, signal.id)
    if link is None:
        return None
    buckets.forget(session, link.incident_id, link.readings)
    buckets.count_words(session, link.incident_id, _words(signal), -1)  # its keywords pull no more signals there
    session.delete(link)
    session.flush()
    return link.incident_id


def _words(signal: Signal) -> list[str]:
    return list(dict.fromkeys(word.casefold()[:60] for word in signal.keywords if word.strip()))


def link_of(session: Session, signal_id: int) -> SignalLink | None:
    """The signal's attachment, if any."""
    return session.get(SignalLink, signal_id)


def latest_open(session: Session) -> int | None:
    """The most recent open real incident: the one a triage post offers to attach to."""
    query = select(Incident.id).where(col(Incident.phase).not_in(CLOSED), col(Incident.drill).is_(False))
    return session.exec(query.order_by(col(Incident.declared_at).desc(), col(Incident.id).desc())).first()


def triage_lines(signal: Signal, link: Link | SignalLink | None, offer: int | None) -> Message:
    """What the triage post says about attachment, and its buttons (detach a mistake, attach by hand)."""
    if link is not None and link.how != "declared":
        said = fmt(_("Attached to #{id} ({how})."), id=link.incident_id, how=how_text(link.how))
        if link.also:
            others = ", ".join(f"#{n}" for n in link.also)
            said = said + fmt(_(" It also matches {others}: it went to the most recent."), others=others)
        return lines(said, Message(buttons=[Button(_("Detach"), f"#{link.incident_id} detach {signal.id}")]))
    if link is None and signal.incident_id is None and offer is not None:
        return Message(buttons=[Button(fmt(_("Attach to #{id}"), id=offer).plain(), f"#{offer} attach {signal.id}")])
    return Message()
