"""The review report's timeline chart: phases as bands, versions, updates, nudges and milestones placed on a time axis.

Only positions, colours and texts are decided here; the HTML template draws them as inline SVG, escaping every text.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from config.model import Config
from handlers.line.standing import BY_HAND, OFFLINE, word
from handlers.review.report import Review
from handlers.text.formatting import duration_text, person_name
from handlers.text.i18n import _
from handlers.text.labels import OUTCOME, PHASE, label

WIDTH, LEFT, RIGHT = 1000, 130, 20
LANES = ("phases", "statements", "updates", "nudges", "milestones")
LANE_TOP, LANE_HEIGHT = 34, 44
PHASE_COLOURS = {
    "detected": "#9aa0a6",
    "assessing": "#fbbc04",
    "responding": "#ea4335",
    "recovering": "#4285f4",
    "resolved": "#34a853",
}
OUTCOME_COLOURS = {"approved": "#188038", "rejected": "#d93025", "set_aside": "#80868b", "pending": "#f29900"}
STEPS = [timedelta(minutes=m) for m in (5, 10, 15, 30, 60, 120, 180, 360, 720, 1440, 2880, 10080)]


@dataclass
class Mark:
    """One thing drawn: kind says the shape; x, x2 in pixels; title is shown on hover (and read by screen readers)."""

    kind: str
    lane: str
    x: float
    title: str
    x2: float = 0.0
    colour: str = "#5f6368"
    key: str = ""


@dataclass
class Chart:
    """The whole chart, ready for the template."""

    width: int
    height: int
    lanes: list[tuple[str, float]]  # (label, y of the lane's middle)
    ticks: list[tuple[float, str]]
    marks: list[Mark] = field(default_factory=list)
    legend: list[tuple[str, str, str]] = field(default_factory=list)  # (shape, colour, label)

    def lane_y(self, lane: str) -> float:
        """The middle of a lane, in pixels."""
        return LANE_TOP + LANES.index(lane) * LANE_HEIGHT + LANE_HEIGHT / 2


def build(review: Review, config: Config) -> Chart:
    """Place everything of the review on one time axis, from declaration to close (or now)."""
    incident = review.incident
    start = incident.declared_at
    end = max(incident.closed_at or review.now, start + timedelta(minutes=10))

    def x(moment: datetime) -> float:
        share = (min(max(moment, start), end) - start) / (end - start)
        return round(LEFT + share * (WIDTH - LEFT - RIGHT), 1)

    zone = ZoneInfo(config.timezone)
    labels = {
        "phases": _("Phases"),
        "statements": _("Statements"),
        "updates": _("Updates"),
        "nudges": _("Nudges"),
        "milestones": _("Milestones"),
    }
    chart = Chart(WIDTH, LANE_TOP + len(LANES) * LANE_HEIGHT + 56, [], _ticks(start, end, x, zone))
    chart.lanes = [(labels[lane], chart.lane_y(lane)) for lane in LANES]
    _phases(chart, review, x, end)
    for version in review.versions:
        latency = next((a for a in review.metrics.approvals if a.version == version.number), None)
        outcome = latency.outcome if latency else "pending"
        decided = latency.decided_at if latency and latency.decided_at else end
        title = _("v{n} by {author}, drafted {at}: {outcome}").format(
            n=version.number,
            author=person_name(config, version.author),
            at=_hhmm(version.drafted_at, zone),
            outcome=label(OUTCOME, outcome),
        )
        if latency and latency.wait is not None:
            title += _(" after {took}").format(took=duration_text(latency.wait))
        colour = OUTCOME_COLOURS.get(outcome, "#5f6368")
        chart.marks.append(Mark("version", "statements", x(version.drafted_at), title, x(decided), colour))
        for sent in version.published:
            if sent.status in (OFFLINE, BY_HAND):
                continue  # nothing went out there: no mark (the version's "where" row says why)
            where = _("v{n} published to {target} ({state}) at {at}").format(
                n=version.number, target=sent.target, state=word(sent.status), at=_hhmm(sent.sent_at or sent.at, zone)
            )
            chart.marks.append(Mark("published", "statements", x(sent.sent_at or sent.at), where, colour="#1a73e8"))
    for event in review.events:
        if event.kind == "update":
            said = event.text if len(event.text) <= 140 else event.text[:139] + "…"
            title = _("Update at {at} by {who}: {text}").format(at=_hhmm(event.at, zone), who=person_name(config, event.actor), text=said)
            chart.marks.append(Mark("update", "updates", x(event.at), title, colour="#1a73e8"))
    for nudge in review.nudges:
        title = _("Nudge {kind} → {target} at {at} (fired {n}×)").format(
            kind=nudge.kind, target=nudge.target, at=_hhmm(nudge.fired_at, zone), n=nudge.attempts
        )
        chart.marks.append(Mark("nudge", "nudges", x(nudge.fired_at), title, colour="#e37400"))
    names = milestone_names()
    for key, at in review.milestones():
        title = _("{milestone} at {at}").format(milestone=names[key], at=_hhmm(at, zone))
        chart.marks.append(Mark("milestone", "milestones", x(at), title, colour="#202124", key=key))
    chart.legend = [("band", PHASE_COLOURS[p], label(PHASE, p)) for p in PHASE_COLOURS] + [
        ("bar", OUTCOME_COLOURS["approved"], _("version approved")),
        ("bar", OUTCOME_COLOURS["rejected"], _("version rejected")),
        ("bar", OUTCOME_COLOURS["pending"], _("version pending")),
        ("square", "#1a73e8", _("published")),
        ("tick", "#1a73e8", _("update")),
        ("triangle", "#e37400", _("nudge fired")),
        ("diamond", "#202124", _("milestone")),
    ]
    return chart


def milestone_names() -> dict[str, str]:
    """The milestones in the team's language."""
    return {
        "assembled": _("team assembled"),
        "first_statement": _("first approved statement"),
        "resolved": _("resolved"),
        "closed": _("closed"),
    }


def _phases(chart: Chart, review: Review, x, end: datetime) -> None:
    """One band per stretch of a phase, from the phase events."""
    phase, since = "detected", review.incident.declared_at
    stretches = []
    for event in review.events:
        if event.kind == "phase":
            stretches.append((phase, since, event.at))
            phase, since = event.text, event.at
    if phase != "closed":
        stretches.append((phase, since, end))
    for name, began, ended in stretches:
        if name in PHASE_COLOURS and ended > began:
            title = _("{phase}: {took}").format(phase=label(PHASE, name), took=duration_text(ended - began))
            chart.marks.append(Mark("band", "phases", x(began), title, x(ended), PHASE_COLOURS[name]))


def _ticks(start: datetime, end: datetime, x, zone: ZoneInfo) -> list[tuple[float, str]]:
    """Round times along the axis, at most about ten of them."""
    span = end - start
    step = next((s for s in STEPS if span / s <= 10), STEPS[-1])
    local = start.astimezone(zone)
    first = local.replace(minute=0, second=0, microsecond=0)
    while first < local:
        first += step
    ticks, moment = [], first
    while moment <= end:
        label = moment.strftime("%H:%M") if step < timedelta(days=1) else moment.strftime("%m-%d")
        ticks.append((x(moment), label))
        moment += step
    return ticks


def _hhmm(moment: datetime | None, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%m-%d %H:%M") if moment else "—"
