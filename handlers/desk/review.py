"""The desk in the review (PRODUCT.md §6, §10): who was told when against each deadline, every press inquiry and its
answer, and the figures `stats` adds up across real incidents (drills never count)."""

import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from config.model import Config
from handlers.desk.due import deadline_of, is_required
from storage.models import Incident, Inquiry, Outbox, StakeholderNotice


@dataclass(frozen=True)
class Told:
    """One contact told: how (mail, call, simulated), which version, when, by whom, and the e-mail's outcome."""

    contact: str
    how: str
    version: int | None
    at: datetime
    by: str
    outcome: str | None  # the queued e-mail's row: pending, sent, failed; None for a call or a drill
    note: str | None


@dataclass(frozen=True)
class ListReview:
    """One stakeholder list in one incident: its deadline, when it was first told, and each contact told."""

    key: str
    required: bool
    deadline: datetime | None
    told_at: datetime | None
    told: list[Told]

    @property
    def on_time(self) -> bool | None:
        """Told by its deadline (None: no deadline, or not yet decided)."""
        if self.deadline is None or not self.required:
            return None
        if self.told_at is None:
            return None  # not told (yet): the caller knows whether its deadline has passed
        return self.told_at <= self.deadline


@dataclass(frozen=True)
class Desk:
    """The desk's part of one incident's review."""

    lists: list[ListReview]
    inquiries: list[Inquiry]


def gather(session: Session, config: Config, incident: Incident) -> Desk:
    """Read the incident's stakeholder notices and press inquiries."""
    notices = list(
        session.exec(select(StakeholderNotice).where(StakeholderNotice.incident_id == incident.id).order_by(col(StakeholderNotice.at)))
    )
    ids = [n.outbox_id for n in notices if n.outbox_id is not None]
    outcomes: dict[int, str] = {}
    if ids:
        outcomes = {row_id: state for row_id, state in session.exec(select(Outbox.id, Outbox.state).where(col(Outbox.id).in_(ids)))}
    lists = []
    for key, audience in config.stakeholders.items():
        mine = [n for n in notices if n.list_key == key]
        told = [Told(n.contact, n.how, n.version, n.at, n.by, outcomes.get(n.outbox_id) if n.outbox_id else None, n.note) for n in mine]
        told_at = min((n.at for n in mine if outcomes.get(n.outbox_id or 0) != "failed"), default=None)  # a refused mail told nobody
        lists.append(ListReview(key, is_required(audience, incident), deadline_of(audience, incident), told_at, told))
    inquiries = list(session.exec(select(Inquiry).where(Inquiry.incident_id == incident.id).order_by(col(Inquiry.number))))
    return Desk(lists, inquiries)


def answer_time(inquiry: Inquiry) -> timedelta | None:
    """How long the inquiry waited for its answer or decline."""
    return inquiry.answered_at - inquiry.created_at if inquiry.answered_at else None


@dataclass(frozen=True)
class DeskStats:
    """Across real incidents: required lists told on time out of those decided, and the median inquiry answer time."""

    lists_decided: int
    lists_on_time: int
    answer_times: list[timedelta]

    @property
    def on_time_percent(self) -> int | None:
        decided = self.lists_decided
        return None if not decided else (200 * self.lists_on_time + decided) // (2 * decided)

    @property
    def median_answer(self) -> timedelta | None:
        if not self.answer_times:
            return None
        return timedelta(seconds=statistics.median(span.total_seconds() for span in self.answer_times))


def across(session: Session, config: Config, now: datetime) -> DeskStats:
    """Add up the desk's figures over every incident that is not a drill."""
    incidents = session.exec(select(Incident).where(col(Incident.drill).is_(False)).order_by(col(Incident.id))).all()
    decided = on_time = 0
    times: list[timedelta] = []
    for incident in incidents:
        desk = gather(session, config, incident)
        for listed in desk.lists:
            if listed.on_time is None and not (listed.required and listed.deadline is not None and listed.deadline < now):
                continue  # no deadline, or not due yet and not told
            decided += 1
            on_time += bool(listed.on_time)
        times += [span for span in map(answer_time, desk.inquiries) if span is not None]
    return DeskStats(decided, on_time, times)
