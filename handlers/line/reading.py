"""Reading the line: `line` (verbatim, anywhere), `history`, and the pinned line message."""

from datetime import datetime

from sqlmodel import Session, col, select

from config.model import OPEN_PHASES, Config
from handlers.core.context import Context
from handlers.core.verbs import verb
from handlers.line import signatures, statements
from handlers.line.headline import headline_line, headline_of
from handlers.line.kinds import kind_name
from handlers.line.standing import page_lines, render_standings, standings
from handlers.line.states import APPROVED, PENDING, REJECTED, SUPERSEDED
from handlers.text.formatting import person_name, role_name, when
from handlers.text.i18n import N_, _
from handlers.text.labels import VERSION_STATE, label
from handlers.text.markup import Message, fmt, lines, text, verbatim
from handlers.text.worddiff import short_diff
from storage.models import Incident, Publication, Statement

STATE_MARK = {PENDING: "⏳", APPROVED: "✅", SUPERSEDED: "↩", REJECTED: "✋"}
HISTORY_SHOWN = 20
EXCERPT = 160


def approvers_text(session: Session, config: Config, statement: Statement) -> str:
    """'Legal: Bob Li, Commander: Alice Chen'; a signature given after the approval is marked as a countersignature."""
    parts = []
    for role, person, at in signatures.signed(session, statement.id):
        title = role_name(config, role)
        words = _("{role}: {person} (countersigned)") if statement.decided_at and at > statement.decided_at else _("{role}: {person}")
        parts.append(words.format(role=title, person=person_name(config, person)))
    return _(", ").join(parts)


def publications_text(session: Session, config: Config, statement_id: int, now: datetime | None = None) -> Message:
    """Where a version went: each target with its status (standing.py: the same words everywhere), time and link."""
    return render_standings(config, standings(session, statement_id), now)


def render_pinned(session: Session, config: Config, incident: Incident) -> Message:
    """The pinned line message of an incident room, edited in place on every approval."""
    current = statements.current_line(session, incident.id)
    if current is None:
        return fmt(_("📣 **Approved line of #{id}**: none yet."), id=incident.id)
    header = fmt(
        _("📣 **Approved line of #{id} — v{n}** · approved {at} by {by}"),
        id=incident.id,
        n=current.version,
        at=when(config, current.decided_at),
        by=approvers_text(session, config, current),
    )
    headline = headline_line(headline_of(current, config))
    return lines(header, headline, verbatim(current.text))


def line_of(session: Session, config: Config, incident: Incident, now: datetime | None = None) -> Message:
    """One incident's line for `line`: verbatim text, version, approvers, time, where it went."""
    current = statements.current_line(session, incident.id)
    pending = statements.latest_pending(session, incident.id)
    waiting = fmt(_("v{n} is waiting for approval."), n=pending.version) if pending else Message()
    if current is None:
        return lines(fmt(_("#{id} {title}: no approved line yet."), id=incident.id, title=incident.title), waiting)
    header = fmt(
        _("📣 **#{id} {title}** — approved line **v{n}**, approved {at} by {by}:"),
        id=incident.id,
        title=incident.title,
        n=current.version,
        at=when(config, current.decided_at, now),
        by=approvers_text(session, config, current),
    )
    owed = signatures.owed_text(session, config, incident, current)
    headline = headline_line(headline_of(current, config))
    where = publications_text(session, config, current.id)
    return lines(header, headline, verbatim(current.text), owed, where, page_lines(session, incident), waiting)


@verb("line", summary=N_("Show the current approved line, verbatim."), needs_incident=False, changes=False)
def show_line(ctx: Context) -> Message:
    """The line of this incident; elsewhere (a DM, another room) the lines of the open incidents."""
    if ctx.found is not None:
        return line_of(ctx.session, ctx.config, ctx.found, ctx.now)
    with_line = ctx.session.exec(
        select(Incident)
        .join(Statement, col(Statement.incident_id) == Incident.id)
        .where(col(Incident.phase).in_(OPEN_PHASES), Statement.state == APPROVED)
        .order_by(col(Incident.id).desc())
        .limit(5)
    ).all()
    if not with_line:
        return text(_("No open incident has an approved line yet."))
    return lines(*(line_of(ctx.session, ctx.config, incident, ctx.now) + text("\n") for incident in with_line))


@verb("history", summary=N_("All versions of the line: states, approvers, changes."), changes=False)
def history(ctx: Context) -> Message:
    """Every version, newest last, each with its state, decision and the change from the one before."""
    shown = statements.versions(ctx.session, ctx.incident.id, newest=HISTORY_SHOWN + 1)
    if not shown:
        return fmt(_("#{id} has no drafts yet. Propose one with `/crisis draft <text>`."), id=ctx.incident.id)
    earlier = shown[0] if len(shown) > HISTORY_SHOWN else None
    rows = [fmt(_("**Statement history of #{id}**:"), id=ctx.incident.id)]
    if earlier is not None:
        rows.append(fmt(_("(the {count} versions before v{n} are not shown)"), count=earlier.version, n=earlier.version + 1))
    for statement in shown[1:] if earlier else shown:
        rows.append(_version_row(ctx, statement))
        rows.append(_change_row(ctx.config, earlier, statement))
        earlier = statement
    return lines(*rows)


def _version_row(ctx: Context, statement: Statement) -> Message:
    config, session = ctx.config, ctx.session
    row = fmt(
        "{mark} **v{n}** {state} — {author}, {at}{kind}",
        mark=STATE_MARK.get(statement.state, ""),
        n=statement.version,
        kind=f" · {kind_name(statement.kind)}" if statement.kind else "",
        state=label(VERSION_STATE, statement.state),
        author=ctx.name(statement.author),
        at=when(config, statement.created_at, ctx.now),
    )
    if statement.state == REJECTED:
        return row + fmt(_("; rejected by {who}: “{reason}”"), who=ctx.name(statement.decided_by), reason=statement.reason or "")
    approvers = approvers_text(session, config, statement)
    if approvers:
        row = row + fmt(_("; approvals: {who}"), who=approvers)
    owed = signatures.owed_text(session, config, ctx.incident, statement)
    if owed.plain():
        row = lines(row, text("   ") + owed)
    if (
        statement.state in (APPROVED, SUPERSEDED)
        and session.exec(select(Publication.id).where(Publication.statement_id == statement.id)).first()
    ):
        row = lines(row, text("   ") + publications_text(session, config, statement.id))
    return row


def _change_row(config: Config, earlier: Statement | None, statement: Statement) -> Message:
    headline = headline_of(statement, config)
    if earlier is None or headline_of(earlier, config) != headline:
        titled = text("   ") + headline_line(headline)
    else:
        titled = Message()
    if earlier is None:
        excerpt = statement.text if len(statement.text) <= EXCERPT else statement.text[: EXCERPT - 1] + "…"
        return lines(titled, text("   ") + fmt("“{text}”", text=verbatim(excerpt)))
    return lines(titled, text("   ") + fmt(_("changes from v{old}: "), old=earlier.version) + short_diff(earlier.text, statement.text))
