"""The review report's content: one incident's history gathered from the database, its metrics, and the short summary for the room."""

import statistics
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from config.model import Config
from handlers.line.standing import status_of
from handlers.review import metrics
from handlers.text.formatting import duration_text
from handlers.text.i18n import _
from handlers.text.labels import OUTCOME, PHASE, SEVERITY, label
from handlers.text.markup import Message, fmt, lines
from storage.models import Approval, ChecklistItem, FollowUp, Incident, Lesson, Nudge, Publication, RoleAssignment, Statement, TimelineEvent

# The milestones drawn as marks on the chart, in the order they normally happen.
MILESTONES = ("assembled", "first_statement", "resolved", "closed")


@dataclass(frozen=True)
class Published:
    """One version sent to, or recorded on, one target."""

    target: str
    platform: str
    state: str
    by: str
    at: datetime
    sent_at: datetime | None
    url: str | None
    status: str = ""  # sent, waiting, offline…: handlers.line.standing's key, the same words as `line` and the card


@dataclass(frozen=True)
class Version:
    """One statement version with who approved it and where it went."""

    number: int
    text: str
    author: str
    drafted_at: datetime
    state: str
    decided_by: str | None
    decided_at: datetime | None
    reason: str | None
    approvals: list[tuple[str, str, datetime]]  # (role, person, at)
    published: list[Published]
    kind: str | None = None  # holding, update, …; None for versions written before kinds


@dataclass
class Review:
    """Everything the report shows about one incident, read in one go."""

    incident: Incident
    now: datetime
    events: list[metrics.Event]
    holdings: list[metrics.Holding]
    versions: list[Version]
    checklist: list[ChecklistItem]
    lessons: list[Lesson]
    actions: list[FollowUp]
    nudges: list[Nudge]  # those that fired at least once
    metrics: metrics.Metrics
    scorecard: list | None = None  # drills: handlers.review.scorecard milestones (see attach_scorecard)

    def milestones(self) -> list[tuple[str, datetime]]:
        """The milestones reached, each once: team assembled, first approved statement, resolved, closed."""
        found = {
            "assembled": self.metrics.assembled_at,
            "first_statement": self.metrics.first_statement_at,
            "resolved": self.incident.resolved_at,
            "closed": self.incident.closed_at,
        }
        return [(key, moment) for key in MILESTONES if (moment := found[key]) is not None]


def gather(session: Session, config: Config, incident_id: int, now: datetime) -> Review | None:
    """Read one incident's review data and compute its metrics; None when there is no such incident."""
    incident = session.get(Incident, incident_id)
    if incident is None:
        return None
    rows = session.exec(
        select(TimelineEvent).where(TimelineEvent.incident_id == incident_id).order_by(col(TimelineEvent.at), col(TimelineEvent.id))
    )
    events = [metrics.Event(e.at, e.actor, e.kind, e.text, dict(e.data or {})) for e in rows]
    assignments = session.exec(
        select(RoleAssignment)
        .where(RoleAssignment.incident_id == incident_id)
        .order_by(col(RoleAssignment.assigned_at), col(RoleAssignment.id))
    )
    holdings = [metrics.Holding(a.role, a.person, a.assigned_by, a.assigned_at, a.acked_at, a.ended_at) for a in assignments]
    versions = _versions(session, incident_id)
    checklist = list(
        session.exec(select(ChecklistItem).where(ChecklistItem.incident_id == incident_id).order_by(col(ChecklistItem.number)))
    )
    lessons = list(session.exec(select(Lesson).where(Lesson.incident_id == incident_id).order_by(col(Lesson.at), col(Lesson.id))))
    actions = list(session.exec(select(FollowUp).where(FollowUp.incident_id == incident_id).order_by(col(FollowUp.number))))
    fired = list(
        session.exec(
            select(Nudge)
            .where(Nudge.incident_id == incident_id, Nudge.attempts > 0, col(Nudge.fired_at).is_not(None))
            .order_by(col(Nudge.fired_at))
        )
    )
    figures = metrics.compute(
        config,
        playbook=incident.playbook,
        declared_at=incident.declared_at,
        resolved_at=incident.resolved_at,
        now=incident.closed_at or now,
        events=events,
        holdings=holdings,
        versions=[(v.number, v.drafted_at) for v in versions],
        checklist_states=[item.state for item in checklist],
    )
    return Review(incident, now, events, holdings, versions, checklist, lessons, actions, fired, figures)


@dataclass(frozen=True)
class Stats:
    """The metrics across real incidents (drills never count)."""

    incidents: int
    by_playbook: dict[str, int]
    by_severity: dict[str, int]
    first_statements: list[timedelta]  # one per incident that had an approved statement
    cadence_windows: int
    cadence_kept: int

    @property
    def median_first_statement(self) -> timedelta | None:
        """The median time to the first approved statement, over the incidents that had one."""
        if not self.first_statements:
            return None
        return timedelta(seconds=statistics.median(span.total_seconds() for span in self.first_statements))

    @property
    def cadence_percent(self) -> int | None:
        """Update windows kept out of all windows of all incidents, in whole percent (half up)."""
        windows = self.cadence_windows
        return None if not windows else (200 * self.cadence_kept + windows) // (2 * windows)


def across(session: Session, config: Config, now: datetime) -> Stats:
    """Gather every incident that is not a drill and add up its metrics."""
    ids = session.exec(select(Incident.id).where(col(Incident.drill).is_(False)).order_by(col(Incident.id))).all()
    reviews = [review for review in (gather(session, config, i, now) for i in ids) if review is not None]
    return Stats(
        incidents=len(reviews),
        by_playbook=dict(sorted(Counter(r.incident.playbook for r in reviews).items())),
        by_severity=dict(sorted(Counter(r.incident.severity for r in reviews).items())),
        first_statements=[r.metrics.first_statement for r in reviews if r.metrics.first_statement is not None],
        cadence_windows=sum(r.metrics.cadence_windows for r in reviews),
        cadence_kept=sum(r.metrics.cadence_kept for r in reviews),
    )


def _versions(session: Session, incident_id: int) -> list[Version]:
    statements = list(session.exec(select(Statement).where(Statement.incident_id == incident_id).order_by(col(Statement.version))))
    ids = [s.id for s in statements]
    approvals: dict[int, list] = {i: [] for i in ids}
    published: dict[int, list] = {i: [] for i in ids}
    if ids:
        for a in session.exec(select(Approval).where(col(Approval.statement_id).in_(ids)).order_by(col(Approval.at), col(Approval.id))):
            approvals[a.statement_id].append((a.role, a.person, a.at))
        for p in session.exec(
            select(Publication).where(col(Publication.statement_id).in_(ids)).order_by(col(Publication.at), col(Publication.id))
        ):
            published[p.statement_id].append(Published(p.target, p.platform, p.state, p.by, p.at, p.sent_at, p.url, status_of(p)))
    return [
        Version(
            s.version,
            s.text,
            s.author,
            s.created_at,
            s.state,
            s.decided_by,
            s.decided_at,
            s.reason,
            approvals[s.id],
            published[s.id],
            s.kind,
        )
        for s in statements
    ]


def attach_scorecard(review: Review, session: Session, config: Config) -> None:
    """Drills only: each milestone's time against its target, from handlers.review.scorecard (built with the drills)."""
    if not review.incident.drill:
        return
    try:
        from handlers.review import scorecard
    except ImportError:  # drills not built in this version: the report simply has no scorecard
        return
    review.scorecard = scorecard.scorecard(session, config, review.incident, review.now)


def first_statement_text(figures: metrics.Metrics) -> str:
    """'38 min (target 60 min, on time)' or 'none yet (target 60 min)'."""
    target = duration_text(figures.first_statement_target)
    if figures.first_statement is None:
        return _("none yet (target {target})").format(target=target)
    verdict = _("on time") if figures.first_statement_on_time else _("late")
    return _("{took} (target {target}, {verdict})").format(took=duration_text(figures.first_statement), target=target, verdict=verdict)


def cadence_text(figures: metrics.Metrics) -> str:
    """'2 of 3 windows (67 %)', or 'no window ended yet'."""
    if not figures.cadence_windows:
        return _("no {cadence} window ended yet").format(cadence=duration_text(figures.cadence))
    return _("{kept} of {windows} windows of {cadence} ({percent} %)").format(
        kept=figures.cadence_kept, windows=figures.cadence_windows, cadence=duration_text(figures.cadence), percent=figures.cadence_percent
    )


def checklist_text(figures: metrics.Metrics) -> str:
    """'10 done, 1 skipped, 3 open'."""
    counts = figures.checklist
    return _("{done} done, {skipped} skipped, {open} open").format(done=counts["done"], skipped=counts["skipped"], open=counts["open"])


def latency_text(figures: metrics.Metrics) -> str:
    """'v1 12 min (rejected), v2 5 min (approved)'."""
    shown = [f"v{a.version} {duration_text(a.wait)} ({label(OUTCOME, a.outcome)})" for a in figures.approvals]
    return ", ".join(shown) or "—"


def playbook_title(config: Config, key: str) -> str:
    """The playbook as the team names it ('Product quality crisis'), never its key."""
    playbook = config.playbooks.get(key)
    return playbook.title.get(config.language) if playbook else key


def summary(review: Review, config: Config) -> Message:
    """The short review posted to the room: the headline figures, lessons and actions counted."""
    incident, figures = review.incident, review.metrics
    open_actions = sum(1 for a in review.actions if a.state != "done")
    return lines(
        fmt(
            _("📋 **Review of #{id} {title}** ({playbook}, {sev}, {phase})"),
            id=incident.id,
            title=incident.title,
            playbook=playbook_title(config, incident.playbook),
            sev=label(SEVERITY, incident.severity),
            phase=label(PHASE, incident.phase),
        ),
        fmt(_("• Team assembled in: {took}"), took=duration_text(figures.assembled) if figures.assembled else _("not yet")),
        fmt(_("• First approved statement: {text}"), text=first_statement_text(figures)),
        fmt(_("• Time to approval: {text}"), text=latency_text(figures)),
        fmt(_("• Updates on cadence: {text}"), text=cadence_text(figures)),
        fmt(_("• Checklist: {text}"), text=checklist_text(figures)),
        fmt(
            _("• Lessons: {lessons} · follow-up actions: {actions} ({open} open)"),
            lessons=len(review.lessons),
            actions=len(review.actions),
            open=open_actions,
        ),
    )
