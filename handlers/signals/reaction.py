"""`reaction`: the public reaction around each publication, as a compact text chart (PRODUCT.md §7)."""

from datetime import datetime, timedelta

from sqlmodel import Session

from handlers.core.context import Context
from handlers.core.verbs import verb
from handlers.signals import buckets
from handlers.signals.followup import change_text, signed
from handlers.text.i18n import N_, _, ngettext
from handlers.text.markup import Message, fmt, lines, text
from storage.models import Incident

WIDTH = 12  # characters in the longest bar
ROWS = 24  # rows in chat; a longer incident shows its latest rows (the review report draws them all)


def offset(slot: int) -> str:
    """A slot's start since the declaration: +0:00, +0:10, +13:00."""
    minutes = slot * 10
    return f"+{minutes // 60}:{minutes % 60:02d}"


def bar(volume: float, biggest: float) -> str:
    """A bar as long as the volume against the biggest, at least one block for any volume."""
    if volume <= 0 or biggest <= 0:
        return "·"
    return "█" * max(1, round(WIDTH * volume / biggest))


def chart(session: Session, incident: Incident, now: datetime) -> Message:
    """The chart, the publications on it, and how the reaction moved after each."""
    bars = buckets.buckets(session, incident, now)
    marks = buckets.marks(session, incident)
    readings = sum(b.figures.readings for b in bars)
    if not readings:
        return fmt(
            _(
                'No signal is attached to #{id} yet. A signal is attached when it names the incident ("incident": {id}), '
                "shares a dedup key or keywords with one already attached, or with the Attach button on its triage post."
            ),
            id=incident.id,
        )
    per = buckets.granularity(incident)
    head = fmt(
        ngettext(
            "📈 **Reaction to #{id}**: volume and mean sentiment of {n} reading, {per} since the declaration",
            "📈 **Reaction to #{id}**: volume and mean sentiment of {n} readings, {per} since the declaration",
            readings,
        ),
        id=incident.id,
        n=readings,
        per=per,
    )
    biggest = max(b.figures.volume for b in bars)
    shown = bars[-ROWS:]
    rows = [text(_("… {n} earlier rows: see the review report").format(n=len(bars) - len(shown)))] if len(bars) > len(shown) else []
    for b in shown:
        mood = signed(b.figures.sentiment) if b.figures.sentiment is not None else "—"
        row = f"{offset(b.start):>6} {bar(b.figures.volume, biggest):<{WIDTH}} {b.figures.volume:>7g} {mood:>6}"
        here = [m for m in marks if b.start <= m.slot < b.start + b.span]
        pinned = "".join(f" ◀ v{m.version} ({', '.join(m.where)})" for m in here)
        rows.append(fmt("`{row}`{marks}", row=row, marks=pinned))
    return lines(head, *rows, *(_moved(session, incident, mark, now) for mark in marks))


def _moved(session: Session, incident: Incident, mark: buckets.Mark, now: datetime) -> Message:
    """How the reaction moved after one publication: over four hours once they have passed, over the first hour before."""
    since = now - mark.at
    if since < timedelta(hours=1):
        return fmt(_("v{version} went out {at}: less than an hour ago."), version=mark.version, at=offset(mark.slot))
    hours = 4 if since >= timedelta(hours=4) else 1
    moved = buckets.change(session, incident.id, mark.slot, hours)
    words = _("v{version} went out {at}: {hours} h after, {change}.")
    return fmt(words, version=mark.version, at=offset(mark.slot), hours=hours, change=change_text(moved))


@verb(
    "reaction",
    summary=N_("How the public reacted around each publication: volume and sentiment of the attached signals."),
    changes=False,
    after_close=True,  # read-only: the review looks back at it
)
def reaction(ctx: Context) -> Message:
    """The reaction chart of the incident, in chat."""
    return chart(ctx.session, ctx.incident, ctx.now)
