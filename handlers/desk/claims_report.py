"""The claims in the review report and in `stats`: when each was registered, verified, answered and published, and how fast."""

import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from config.model import Config
from handlers.desk import claimlog
from handlers.text.formatting import duration_text, when
from handlers.text.i18n import _
from storage.models import Claim, Incident, Statement


@dataclass(frozen=True)
class Answered:
    """One claim's history: the moments that matter for rumour control."""

    claim: Claim
    version: int | None
    published_at: datetime | None
    places: list[str]

    @property
    def answered_in_public(self) -> datetime | None:
        """When the claim had a published answer: the later of the rebuttal and its version's first publication."""
        if self.claim.answered_at is None or self.published_at is None:
            return None
        return max(self.claim.answered_at, self.published_at)

    @property
    def took(self) -> timedelta | None:
        """From registering the claim to its published answer."""
        moment = self.answered_in_public
        return None if moment is None else moment - self.claim.created_at


def history(session: Session, incident_id: int) -> list[Answered]:
    """Every claim of an incident with its answer's version and publications, by number."""
    found = []
    for claim in session.exec(select(Claim).where(Claim.incident_id == incident_id).order_by(col(Claim.number))):
        statement = session.get(Statement, claim.statement_id) if claim.statement_id else None
        out = claimlog.publications(session, claim.statement_id)
        first = min((claimlog.published_at(p) for p in out), default=None)
        places = list(dict.fromkeys(f"{p.target} {p.url}" if p.url else p.target for p in out))
        found.append(Answered(claim, statement.version if statement else None, first, places))
    return found


def section(session: Session, config: Config, incident_id: int, now: datetime) -> dict | None:
    """What the report's Claims section shows (texts in the team's language); None when no claim was logged."""
    rows = history(session, incident_id)
    if not rows:
        return None

    def at(moment: datetime | None) -> str:
        return when(config, moment, now)

    return {
        "labels": {
            "title": _("Claims"),
            "claim": _("Claim"),
            "reach": _("Reach"),
            "status": _("Status"),
            "registered": _("Registered"),
            "verified": _("Verified"),
            "answered": _("Answered"),
            "published": _("Published"),
            "took": _("Time to published answer"),
        },
        "rows": [
            {
                "number": f"C{r.claim.number}",
                "text": r.claim.text,
                "reach": f"{r.claim.reach:,}",
                "status": _(claimlog.STATUS_NAMES.get(r.claim.status, r.claim.status)),
                "registered": at(r.claim.created_at),
                "verified": at(r.claim.verified_at),
                "answered": f"{at(r.claim.answered_at)} (v{r.version})" if r.version else "—",
                "published": f"{at(r.published_at)} ({', '.join(r.places)})" if r.published_at else "—",
                "took": duration_text(r.took) if r.took is not None else "—",
            }
            for r in rows
        ],
    }


def answer_times(session: Session) -> list[timedelta]:
    """How long each false or partly false claim of a real incident took to get a published answer (drills never count)."""
    real = select(Incident.id).where(col(Incident.drill).is_(False))
    query = select(Claim.incident_id).where(col(Claim.status).in_(claimlog.ALARMING), col(Claim.incident_id).in_(real)).distinct()
    times = []
    for incident_id in session.exec(query):
        times += [r.took for r in history(session, incident_id) if r.claim.status in claimlog.ALARMING and r.took is not None]
    return times


def median_answer(session: Session) -> tuple[timedelta | None, int]:
    """The median time to answer a false claim in public, and over how many claims."""
    times = answer_times(session)
    if not times:
        return None, 0
    return timedelta(seconds=statistics.median(t.total_seconds() for t in times)), len(times)
