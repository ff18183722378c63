"""How each publication landed, for the review and `stats` (PRODUCT.md §7): the four hours after it against the hour before."""

import math
import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from handlers.signals import buckets
from storage.models import Incident, ReactionBucket

HOURS = 4  # the window the review judges a publication by


@dataclass(frozen=True)
class Landed:
    """One published version and how the reaction moved in the four hours after it."""

    mark: buckets.Mark
    change: buckets.Change

    @property
    def shift(self) -> float | None:
        """The change in mean sentiment (after minus before), when both sides had one."""
        before, after = self.change.before.sentiment, self.change.after.sentiment
        return after - before if before is not None and after is not None else None


def landed(session: Session, incident: Incident, now: datetime) -> list[Landed]:
    """Each publication of an incident with its change over the four hours after it (or the hours that have passed since,
    until now or the close: a publication an hour old is judged per hour over that hour, not over four)."""
    end = min(now, incident.closed_at) if incident.closed_at else now
    return [Landed(mark, buckets.change(session, incident.id, mark.slot, _hours(mark, end))) for mark in buckets.marks(session, incident)]


def _hours(mark: buckets.Mark, end: datetime) -> int:
    """The whole hours of the window after a publication that have passed by `end` (at least one, at most HOURS)."""
    return max(1, min(HOURS, math.ceil((end - mark.at) / timedelta(hours=1))))


@dataclass(frozen=True)
class Medians:
    """The median change after a publication, across real incidents."""

    publications: int  # publications with any reading around them
    ratio: float | None  # median volume ratio (after per hour / the hour before)
    shift: float | None  # median change in mean sentiment


def across(session: Session, now: datetime) -> Medians:
    """Every publication of every real incident that has readings (drills never count)."""
    with_readings = select(ReactionBucket.incident_id).distinct()
    query = select(Incident).where(col(Incident.drill).is_(False), col(Incident.id).in_(with_readings)).order_by(col(Incident.id))
    found = [one for incident in session.exec(query) for one in landed(session, incident, now) if not one.change.quiet]
    ratios = [r for one in found if (r := one.change.ratio) is not None]
    shifts = [s for one in found if (s := one.shift) is not None]
    return Medians(len(found), statistics.median(ratios) if ratios else None, statistics.median(shifts) if shifts else None)
