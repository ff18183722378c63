"""The review report's reaction chart (PRODUCT.md §7): volume per bucket as points on a line, mean sentiment beneath, and a
mark per publication; the table of how each publication landed. Positions and texts only: the template draws and escapes."""

from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session

from handlers.signals import buckets, landing
from handlers.signals.followup import change_text, signed
from handlers.signals.reaction import offset
from handlers.text.i18n import _
from storage.models import Incident

WIDTH, LEFT, RIGHT, TOP = 1000, 60, 20, 20
VOLUME_HEIGHT, MOOD_TOP, MOOD_HEIGHT = 140, 190, 60
HEIGHT = MOOD_TOP + MOOD_HEIGHT + 30


@dataclass(frozen=True)
class Point:
    """One bucket: where its volume and sentiment are drawn, and what hovering says."""

    x: float
    y: float
    mood_y: float | None
    title: str


@dataclass(frozen=True)
class Pin:
    """One publication on the chart."""

    x: float
    label: str
    title: str


@dataclass
class ReactionChart:
    """What the partial template draws and lists."""

    width: int = WIDTH
    height: int = HEIGHT
    points: list[Point] = field(default_factory=list)
    pins: list[Pin] = field(default_factory=list)
    rows: list[tuple[str, str, str, str]] = field(default_factory=list)  # version, went out, where, the change in 4 h
    biggest: float = 0.0
    mood_zero: float = MOOD_TOP + MOOD_HEIGHT / 2
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def line(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)


def build(session: Session, incident: Incident, now: datetime) -> ReactionChart | None:
    """The chart of an incident, or None when no signal was ever attached to it."""
    bars = buckets.buckets(session, incident, now)
    if not any(b.figures.readings for b in bars):
        return None
    end = bars[-1].start + bars[-1].span
    step = (WIDTH - LEFT - RIGHT) / max(end, 1)
    biggest = max(b.figures.volume for b in bars) or 1.0
    chart = ReactionChart(biggest=biggest, labels=_labels(incident))
    for b in bars:
        x = LEFT + (b.start + b.span / 2) * step
        y = TOP + VOLUME_HEIGHT * (1 - b.figures.volume / biggest)
        mood = b.figures.sentiment
        mood_y = chart.mood_zero - mood * MOOD_HEIGHT / 2 if mood is not None else None
        title = f"{offset(b.start)} · {b.figures.volume:g} · {signed(mood) if mood is not None else '—'}"
        chart.points.append(Point(x, y, mood_y, title))
    for one in landing.landed(session, incident, now):
        mark = one.mark
        x = LEFT + ((mark.at - incident.declared_at).total_seconds() / 600) * step
        chart.pins.append(Pin(max(LEFT, x), f"v{mark.version}", f"v{mark.version} · {offset(mark.slot)} · {', '.join(mark.where)}"))
        moved = "—" if one.change.quiet else change_text(one.change)
        chart.rows.append((f"v{mark.version}", offset(mark.slot), ", ".join(mark.where), moved))
    return chart


def _labels(incident: Incident) -> dict[str, str]:
    per = buckets.granularity(incident)
    return {
        "title": _("Public reaction ({per})").format(per=per),
        "volume": _("Volume"),
        "sentiment": _("Mean sentiment"),
        "version": _("Version"),
        "at": _("Went out"),
        "where": _("Where"),
        "change": _("In the 4 h after, against the hour before"),
    }
