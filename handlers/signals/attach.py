"""Attaching signals to incidents (PRODUCT.md §7): by the incident a signal names, by its dedup key, or by the keywords of
the signals already attached to an open incident; the most recent incident wins a tie, and the triage post says so."""

from collections.abc import Sequence
from datetime import datetime

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


def match(session: Session, named: int | None, key: str, keywords: Sequence[str]) -> tuple[Incident | None, str, list[int]]:
    """The incident a new signal belongs to, how it was found, and the other open incidents it also matched."""
    if named is not None:
        incident = session.get(Incident, named)
        if incident is not None and incident.phase != "closed":
            return incident, "incident", []
    by_key = select(SignalLink.incident_id).join(Signal, col(Signal.id) == SignalLink.signal_id).where(Signal.dedup_key == key)
    for how, found in (("dedup", by_key), ("keywords", _by_words(keywords))):
        if found is None:
            continue
        ids = select(Incident.id).where(col(Incident.id).in_(found), col(Incident.phase).not_in(CLOSED), col(Incident.drill).is_(False))
        candidates = list(session.exec(ids.order_by(col(Incident.declared_at).desc(), col(Incident.id).desc())))
        if candidates:
            return session.get(Incident, candidates[0]), how, candidates[1:]
    return None, "", []


def _by_words(keywords: Sequence[str]):
    words = sorted({word.casefold() for word in keywords if word.strip()})
    return select(IncidentKeyword.incident_id).where(col(IncidentKeyword.word).in_(words)) if words else None


def attach(session: Session, signal: Signal, incident: Incident, how: str, also: list[int], now: datetime) -> SignalLink:
    """Attach a signal: its link, its current figures as a reading, and its keywords for the signals after it."""
    link = SignalLink(signal_id=signal.id, incident_id=incident.id, how=how, also=also, at=now)
    session.add(link)
    buckets.record(session, incident, signal.volume, signal.sentiment, now if how != "declared" else signal.last_at, signal.id)
    known = set(session.exec(select(IncidentKeyword.word).where(IncidentKeyword.incident_id == incident.id)))
    for word in dict.fromkeys(word.casefold() for word in signal.keywords if word.strip()):
        if word not in known:
            session.add(IncidentKeyword(incident_id=incident.id, word=word[:60]))
    session.flush()
    return link


def detach(session: Session, signal: Signal) -> int | None:
    """Undo an attachment: its readings leave the chart; the incident it was on, or None."""
    link = session.get(SignalLink, signal.id)
    if link is None:
        return None
    buckets.forget(session, signal.id)
    session.delete(link)
    session.flush()
    return link.incident_id


def link_of(session: Session, signal_id: int) -> SignalLink | None:
    """The signal's attachment, if any."""
    return session.get(SignalLink, signal_id)


def latest_open(session: Session) -> int | None:
    """The most recent open real incident: the one a triage post offers to attach to."""
    query = select(Incident.id).where(col(Incident.phase).not_in(CLOSED), col(Incident.drill).is_(False))
    return session.exec(query.order_by(col(Incident.declared_at).desc(), col(Incident.id).desc())).first()


def triage_lines(signal: Signal, link: SignalLink | None, offer: int | None) -> Message:
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
