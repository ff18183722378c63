"""The review report's timeline chart: phases as bands, versions, updates, reminders and milestones on one time axis.

Every mark carries its own label in the page (a printed or PDF report has no hover), placed so labels do not overlap;
each colour means one thing, and the legend names them all. Only positions, colours and texts are decided here; the HTML
template draws them as inline SVG, escaping every text.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from config.model import Config
from handlers.review.report import Review
from handlers.text.formatting import day_text, duration_text, person_name, zone_name
from handlers.text.i18n import _
from handlers.text.labels import OUTCOME, PHASE, REMINDER, label

WIDTH, LEFT, RIGHT = 1000, 150, 40
LANES = ("phases", "statements", "updates", "nudges", "milestones")
LANE_TOP, LANE_HEIGHT = 34, 76
ROWS = (-18, 30, -32)  # label baselines around a lane's middle: above, below, higher above
PHASE_COLOURS = {  # light tints: the phase name is written on its band
    "detected": "#e8eaed",
    "assessing": "#feefc3",
    "responding": "#fad2cf",
    "recovering": "#d2e3fc",
    "resolved": "#ceead6",
}
OUTCOME_COLOURS = {"approved": "#188038", "rejected": "#c5221f", "set_aside": "#80868b", "pending": "#9334e6"}
PUBLISHED, UPDATE, REMINDED, MISSED, MILESTONE = "#1967d2", "#007b83", "#e8710a", "#d01884", "#202124"
STEPS = [timedelta(minutes=m) for m in (5, 10, 15, 30, 60, 120, 180, 360, 720, 1440, 2880, 10080)]


@dataclass
class Mark:
    """One thing drawn: kind says the shape; x, x2 in pixels; title is the full sentence (hover, screen readers)."""

    kind: str
    lane: str
    x: float
    title: str
    x2: float = 0.0
    colour: str = "#5f6368"
    key: str = ""
    text: str = ""  # the label printed beside it
    tx: float = 0.0
    ty: float = 0.0


@dataclass
class Chart:
    """The whole chart, ready for the template."""

    width: int
    height: int
    lanes: list[tuple[str, float]]  # (label, y of the lane's middle)
    ticks: list[tuple[float, str]]
    marks: list[Mark] = field(default_factory=list)
    legend: list[tuple[str, str, str]] = field(default_factory=list)  # (shape, colour, label)
    zone: str = ""

    def lane_y(self, lane: str) -> float:
        """The middle of a lane, in pixels."""
        return LANE_TOP + LANES.index(lane) * LANE_HEIGHT + LANE_HEIGHT / 2


def text_width(text: str) -> float:
    """About how wide a label is at 12 px: CJK characters are square, Latin ones about half that."""
    return sum(12.5 if ord(c) >= 0x2E80 else 6.8 for c in text)


def build(review: Review, config: Config) -> Chart:
    """Place everything of the review on one time axis, from declaration to close (or now)."""
    incident = review.incident
    start = incident.declared_at
    end = max(incident.closed_at or review.now, start + timedelta(minutes=10))

    def x(moment: datetime) -> float:
        share = (min(max(moment, start), end) - start) / (end - start)
        return round(LEFT + share * (WIDTH - LEFT - RIGHT), 1)

    zone = ZoneInfo(config.timezone)
    hhmm = lambda moment: moment.astimezone(zone).strftime("%H:%M") if moment else "—"  # noqa: E731
    labels = {
        "phases": _("Phases"),
        "statements": _("Statements"),
        "updates": _("Status updates"),
        "nudges": _("Reminders"),
        "milestones": _("Milestones"),
    }
    chart = Chart(WIDTH, LANE_TOP + len(LANES) * LANE_HEIGHT + 8, [], _ticks(start, end, x, zone), zone=zone_name(zone, start))
    chart.lanes = [(labels[lane], chart.lane_y(lane)) for lane in LANES]
    _phases(chart, review, x, end)
    for version in review.versions:
        latency = next((a for a in review.metrics.approvals if a.version == version.number), None)
        outcome = latency.outcome if latency else "pending"
        decided = latency.decided_at if latency and latency.decided_at else end
        title = _("v{n} by {author}, drafted {at}: {outcome}").format(
            n=version.number, author=person_name(config, version.author), at=hhmm(version.drafted_at), outcome=label(OUTCOME, outcome)
        )
        if latency and latency.wait is not None:
            title += _(" after {took}").format(took=duration_text(latency.wait))
        text = f"v{version.number} {label(OUTCOME, outcome)}"
        colour = OUTCOME_COLOURS.get(outcome, "#5f6368")
        chart.marks.append(Mark("version", "statements", x(version.drafted_at), title, x(decided), colour, text=text))
        sent = [p for p in version.published if p.state in ("sent", "simulated")]
        if sent:
            first = min(p.sent_at or p.at for p in sent)
            where = ", ".join(dict.fromkeys(p.target for p in sent))
            title = _("v{n} published to {targets} from {at}").format(n=version.number, targets=where, at=hhmm(first))
            text = _("v{n} published {at}").format(n=version.number, at=hhmm(first))
            chart.marks.append(Mark("published", "statements", x(first), title, colour=PUBLISHED, text=text))
    for event in review.events:
        if event.kind == "update":
            said = event.text if len(event.text) <= 140 else event.text[:139] + "…"
            title = _("Update at {at} by {who}: {text}").format(at=hhmm(event.at), who=person_name(config, event.actor), text=said)
            chart.marks.append(
                Mark("update", "updates", x(event.at), title, colour=UPDATE, text=_("update {at}").format(at=hhmm(event.at)))
            )
    for moment in review.metrics.missed_updates:
        text = _("update missed {at}").format(at=hhmm(moment))
        chart.marks.append(Mark("missed", "updates", x(moment), text, colour=MISSED, text=text))
    for nudge in review.nudges:
        assert nudge.fired_at is not None  # the review gathers only the reminders that fired
        what = label(REMINDER, nudge.kind)
        title = _("Reminder “{kind}” at {at} (sent {n}×)").format(kind=what, at=hhmm(nudge.fired_at), n=nudge.attempts)
        chart.marks.append(Mark("nudge", "nudges", x(nudge.fired_at), title, colour=REMINDED, text=f"{what} {hhmm(nudge.fired_at)}"))
    names = milestone_names()
    for key, at in review.milestones():
        title = _("{milestone} at {at}").format(milestone=names[key], at=hhmm(at))
        chart.marks.append(Mark("milestone", "milestones", x(at), title, colour=MILESTONE, key=key, text=f"{names[key]} {hhmm(at)}"))
    _place_labels(chart)
    chart.legend = [("band", PHASE_COLOURS[p], label(PHASE, p)) for p in PHASE_COLOURS] + [
        ("bar", OUTCOME_COLOURS["approved"], _("statement approved")),
        ("bar", OUTCOME_COLOURS["rejected"], _("statement rejected")),
        ("bar", OUTCOME_COLOURS["set_aside"], _("statement set aside")),
        ("bar", OUTCOME_COLOURS["pending"], _("statement waiting for approval")),
        ("square", PUBLISHED, _("statement published")),
        ("tick", UPDATE, _("status update posted")),
        ("cross", MISSED, _("update deadline missed")),
        ("triangle", REMINDED, _("reminder sent")),
        ("diamond", MILESTONE, _("milestone")),
    ]
    return chart


def _place_labels(chart: Chart) -> None:
    """Give each mark's label a row beside it where it overlaps no other label of its lane (the last row when none is free)."""
    taken: dict[tuple[str, int], list[tuple[float, float]]] = {}
    for mark in sorted((m for m in chart.marks if m.text and m.kind != "band"), key=lambda m: m.x):
        width = text_width(mark.text)
        left = min(max(mark.x - 4, LEFT), WIDTH - RIGHT + 30 - width)
        row = next(
            (r for r in range(len(ROWS)) if all(b < left - 6 or a > left + width + 6 for a, b in taken.get((mark.lane, r), []))),
            len(ROWS) - 1,
        )
        taken.setdefault((mark.lane, row), []).append((left, left + width))
        mark.tx, mark.ty = left, chart.lane_y(mark.lane) + ROWS[row]


def milestone_names() -> dict[str, str]:
    """The milestones in the team's language."""
    return {
        "assembled": _("team assembled"),
        "first_statement": _("first approved statement"),
        "resolved": _("resolved"),
        "closed": _("closed"),
    }


def _phases(chart: Chart, review: Review, x, end: datetime) -> None:
    """One band per stretch of a phase, from the phase events, its name written on it when it fits (else below it)."""
    phase, since = "detected", review.incident.declared_at
    stretches = []
    for event in review.events:
        if event.kind == "phase":
            stretches.append((phase, since, event.at))
            phase, since = event.text, event.at
    if phase != "closed":
        stretches.append((phase, since, end))
    y, below = chart.lane_y("phases"), 0
    for name, began, ended in stretches:
        if name in PHASE_COLOURS and ended > began:
            took = duration_text(ended - began)
            title = _("{phase}: {took}").format(phase=label(PHASE, name), took=took)
            mark = Mark("band", "phases", x(began), title, x(ended), PHASE_COLOURS[name], text=label(PHASE, name))
            if text_width(mark.text) + 8 <= mark.x2 - mark.x:
                mark.tx, mark.ty = mark.x + 4, y + 4
            else:  # too narrow: below the band, alternating rows so neighbours do not collide
                mark.tx, mark.ty = mark.x, y + 28 + 12 * (below % 2)
                below += 1
            chart.marks.append(mark)


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
        label = moment.strftime("%H:%M") if step < timedelta(days=1) else day_text(moment, False)
        ticks.append((x(moment), label))
        moment += step
    return ticks
