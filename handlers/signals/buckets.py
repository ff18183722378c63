"""Reaction figures (PRODUCT.md §7): each reading summed into its incident's ten-minute slot on intake, so every query
reads only the slots of one incident, however many signals came in."""

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import delete, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from handlers.text.i18n import _
from storage.models import Incident, IncidentKeyword, Publication, ReactionBucket, Statement

SLOT = timedelta(minutes=10)
HOUR = 6  # slots in an hour
FINE_SLOTS = 12  # a sev1's first two hours are shown per slot, the rest per hour
FIGURES = ("readings", "volume", "negative", "sentiment_sum", "sentiment_n")
Contribution = dict[str, list[float]]  # what one signal added, by slot: {"12": [readings, volume, negative, sum, n]}


class Dated(Protocol):
    """What placing a reading needs of its incident."""

    @property
    def id(self) -> int: ...

    @property
    def declared_at(self) -> datetime: ...


def slot_of(incident: Dated, at: datetime) -> int:
    """The ten-minute slot since the declaration a moment falls in (what came before it counts in the first)."""
    return max(0, int((at - incident.declared_at) // SLOT))


def record(session: Session, incident: Dated, volume: float | None, sentiment: float | None, at: datetime) -> Contribution:
    """Add one reading to the incident's slot (a signal's figures, or a drill inject's); what it added, to undo it later.
    A reading without a volume counts 1."""
    amount = 1.0 if volume is None else volume
    figures = [1, amount, amount if sentiment is not None and sentiment < 0 else 0.0, sentiment or 0.0, 0 if sentiment is None else 1]
    slot = slot_of(incident, at)
    _apply(session, incident.id, slot, figures)
    return {str(slot): figures}


def merged(first: Contribution, then: Contribution) -> Contribution:
    """Two contributions of one signal added up, slot by slot."""
    both = dict(first)
    for slot, figures in then.items():
        both[slot] = [a + b for a, b in zip(both.get(slot, [0] * len(FIGURES)), figures, strict=True)]
    return both


def forget(session: Session, incident_id: int, contribution: Contribution) -> None:
    """Take what a signal added out of the slots it went to (a detach)."""
    for slot, figures in contribution.items():
        _apply(session, incident_id, int(slot), [-value for value in figures])


def _apply(session: Session, incident_id: int, slot: int, figures: list[float]) -> None:
    """One atomic upsert: two signals landing in the same slot on two replicas both count."""
    values = {"incident_id": incident_id, "slot": slot, **dict(zip(FIGURES, figures, strict=True))}
    connection = session.connection()
    connection.execute(_upsert(connection.dialect.name), values)


@functools.cache
def _upsert(dialect: str):
    """The slot upsert, built once per database kind (building SQL costs more than running it)."""
    if dialect not in ("postgresql", "sqlite"):  # pragma: no cover - the two databases OneVoice runs on
        raise RuntimeError(f"no upsert for {dialect}")
    table = ReactionBucket.__table__  # type: ignore[attr-defined]
    statement = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    return statement.on_conflict_do_update(
        index_elements=["incident_id", "slot"], set_={name: table.c[name] + statement.excluded[name] for name in FIGURES}
    )


def count_words(session: Session, incident_id: int, words: list[str], step: int) -> None:
    """Count an attached signal's keywords in (step 1) or out (step -1) of an incident; a word no signal carries goes."""
    if not words:
        return
    connection = session.connection()
    if step > 0:
        connection.execute(_word_upsert(connection.dialect.name), [{"incident_id": incident_id, "word": w, "signals": 1} for w in words])
        return
    table = IncidentKeyword.__table__  # type: ignore[attr-defined]
    mine = (table.c.incident_id == incident_id) & table.c.word.in_(words)
    connection.execute(update(table).where(mine).values(signals=table.c.signals - 1))
    connection.execute(delete(table).where(mine & (table.c.signals <= 0)))


@functools.cache
def _word_upsert(dialect: str):
    table = IncidentKeyword.__table__  # type: ignore[attr-defined]
    statement = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    return statement.on_conflict_do_update(index_elements=["incident_id", "word"], set_={"signals": table.c.signals + 1})


@dataclass(frozen=True)
class Figures:
    """Readings over some slots: how many, their volume, negative volume and mean sentiment."""

    readings: int = 0
    volume: float = 0.0
    negative: float = 0.0
    sentiment_sum: float = 0.0
    sentiment_n: int = 0

    @property
    def sentiment(self) -> float | None:
        return self.sentiment_sum / self.sentiment_n if self.sentiment_n else None

    def __add__(self, other: "Figures") -> "Figures":
        return Figures(*(getattr(self, name) + getattr(other, name) for name in FIGURES))


def slots(session: Session, incident_id: int, start: int = 0, end: int | None = None) -> dict[int, Figures]:
    """The incident's non-empty slots in [start, end), by slot number (a primary-key range read)."""
    query = select(ReactionBucket).where(ReactionBucket.incident_id == incident_id, ReactionBucket.slot >= start)
    if end is not None:
        query = query.where(ReactionBucket.slot < end)
    return {row.slot: Figures(*(getattr(row, name) for name in FIGURES)) for row in session.exec(query.order_by(col(ReactionBucket.slot)))}


def total(found: dict[int, Figures], start: int, end: int) -> Figures:
    """The sum of the slots in [start, end)."""
    return sum((figures for slot, figures in found.items() if start <= slot < end), Figures())


@dataclass(frozen=True)
class Bucket:
    """One bar of the chart: its first slot, how many slots it spans, and its figures."""

    start: int
    span: int
    figures: Figures


def granularity(incident: Incident) -> str:
    """How the buckets below are cut, in words (the chart's heading says it)."""
    return _("per 10 minutes for the first two hours, then per hour") if incident.severity == "sev1" else _("per hour")


def buckets(session: Session, incident: Incident, now: datetime) -> list[Bucket]:
    """Per hour since the declaration (per ten minutes for a sev1's first two hours), up to now or the close."""
    end = slot_of(incident, incident.closed_at or now) + 1
    found = slots(session, incident.id, 0, end)
    last = max([end - 1, *found])
    bars, start = [], 0
    while start <= last:
        span = 1 if incident.severity == "sev1" and start < FINE_SLOTS else HOUR
        bars.append(Bucket(start, span, total(found, start, start + span)))
        start += span
    return bars


@dataclass(frozen=True)
class Mark:
    """A publication on the chart: the version, when it first went out, where."""

    version: int
    at: datetime
    slot: int
    where: list[str]


def marks(session: Session, incident: Incident) -> list[Mark]:
    """Each published version, at the moment it first went out, with the targets that carry it."""
    query = (
        select(Statement.version, Publication.at, Publication.target)
        .join(Statement, col(Statement.id) == Publication.statement_id)
        # what went out or is going out: not a target of another platform, nor one still to post by hand
        .where(Publication.incident_id == incident.id, col(Publication.state).not_in(("failed", "cancelled", "offline", "by_hand")))
        .order_by(col(Publication.at), col(Publication.id))
    )
    found: dict[int, Mark] = {}
    for version, at, target in session.exec(query):
        mark = found.setdefault(version, Mark(version, at, slot_of(incident, at), []))
        if target not in mark.where:
            mark.where.append(target)
    return sorted(found.values(), key=lambda mark: mark.at)


@dataclass(frozen=True)
class Change:
    """How the reaction moved after a publication: per-hour volume before and after, mean sentiment before and after."""

    before: Figures
    after: Figures
    hours: int

    @property
    def volume_before(self) -> float:
        return self.before.volume

    @property
    def volume_after(self) -> float:
        return self.after.volume / self.hours

    @property
    def ratio(self) -> float | None:
        return self.volume_after / self.volume_before if self.volume_before else None

    @property
    def quiet(self) -> bool:
        return not self.before.readings and not self.after.readings


def change(session: Session, incident_id: int, slot: int, hours: int) -> Change:
    """The hours from the publication's slot against the hour before it."""
    found = slots(session, incident_id, max(0, slot - HOUR), slot + hours * HOUR)
    return Change(total(found, slot - HOUR, slot), total(found, slot, slot + hours * HOUR), hours)
