"""Neutral renderings: the incident card, the roles list and the checklist."""

from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy.engine import Row
from sqlmodel import Session, col, func, select

from config.model import Config
from handlers.core.holders import current_holders, holding
from handlers.desk.counts import claims_line, claims_logged, desk_row, inquiry_counts
from handlers.line import signatures
from handlers.line.kinds import kind_name
from handlers.line.standing import SENT, page_lines, render_standings, standings
from handlers.line.states import APPROVED, PENDING
from handlers.text.formatting import person_name, role_name, when
from handlers.text.i18n import _
from handlers.text.labels import PHASE, label
from handlers.text.markup import Message, fmt, lines, text
from storage.models import ChecklistItem, Incident, RoleAssignment, Room, Statement

SEVERITY_MARK = {"sev1": "🔴", "sev2": "🟠", "sev3": "🟡", "sev4": "🔵"}
STATE_MARK = {"open": "☐", "done": "☑", "skipped": "⤼"}


def render_roles(session: Session, config: Config, incident: Incident, holders: Mapping[str, Any] | None = None) -> Message:
    """Each role that is held or required, with its holder and whether they acknowledged (`holders`: role → what holds
    it, with `person` and `acked_at`, when the caller read them)."""
    holders = current_holders(session, incident.id) if holders is None else holders
    playbook = config.playbooks.get(incident.playbook)
    required = config.required_roles(playbook, incident.severity) if playbook else []
    shown = [r for r in config.team.roles if r in holders or r in required]
    rows = []
    for role in shown:
        title = role_name(config, role)
        held = holders.get(role)
        if held is None:
            rows.append(fmt(_("• {role}: **unfilled**"), role=title))
        elif held.acked_at:
            rows.append(fmt(_("• {role}: {person} ✓"), role=title, person=person_name(config, held.person)))
        else:
            rows.append(fmt(_("• {role}: {person} (not accepted yet)"), role=title, person=person_name(config, held.person)))
    return lines(*rows)


def checklist_counts(session: Session, incident_id: int, now: datetime) -> dict[str, int]:
    """How many items are open, done, skipped and overdue."""
    return _checklist_of(session.exec(select(*_checklist_columns()), params={"incident": incident_id, "now": now}).one())


def _checklist_of(row) -> dict[str, int]:
    counts = {state: int(count or 0) for state, count in zip(("open", "done", "skipped", "overdue"), row, strict=True)}
    counts["total"] = counts["open"] + counts["done"] + counts["skipped"]
    return counts


@cache
def _checklist_columns():
    """The checklist's counts (open, done, skipped, overdue) as one-value queries on `incident` and `now`, built once:
    building a statement costs more than running it on SQLite."""
    mine = ChecklistItem.incident_id == bindparam("incident")

    def counted(*where):
        return select(func.count()).where(mine, *where).scalar_subquery()

    overdue = counted(ChecklistItem.state == "open", col(ChecklistItem.due_at) < bindparam("now"))
    return (*(counted(ChecklistItem.state == state) for state in ("open", "done", "skipped")), overdue)


@cache
def card_query():
    """Every count the card shows (checklist, press inquiries, claims, versions of the line) and each role's holder in one
    statement, built once: one round trip instead of one per row of the card, while the person who typed `status` waits.
    One row per role held (the counts repeated on each), or one row with no role while none is."""
    shown = select(func.count()).where(Statement.incident_id == bindparam("incident"), col(Statement.state).in_((APPROVED, PENDING)))
    counts = select(*_checklist_columns(), *inquiry_counts(), claims_logged(), shown.scalar_subquery()).subquery()
    held = RoleAssignment.role, RoleAssignment.person, RoleAssignment.acked_at
    return select(*counts.c, *held).select_from(counts.outerjoin(RoleAssignment, holding()))


@cache
def _line_query():
    """The approved version and the pending ones, newest first, built once."""
    shown = Statement.incident_id == bindparam("incident"), col(Statement.state).in_((APPROVED, PENDING))
    return select(Statement).where(*shown).order_by(col(Statement.version).desc())


def render_card(session: Session, config: Config, incident: Incident, now: datetime, rows: Sequence[Row] | None = None) -> Message:
    """The pinned incident card: everything a responder needs at a glance (`rows`: card_query's, when the caller read
    them already, with the incident)."""
    playbook = config.playbooks.get(incident.playbook)
    if rows is None:
        session.flush()  # what this transaction changed is counted (the Core statement below does not flush by itself)
        # Run as a Core statement: it selects columns, not objects, and the ORM's handling of a result costs as much as
        # the query itself while the person who typed `status` waits.
        rows = session.connection().execute(card_query(), {"incident": incident.id, "now": now}).all()
    row = rows[0]
    counts, inquiries, claims_logged_, versions = _checklist_of(row[:4]), (row[4], row[5]), row[6], row[7]
    holders = {held.role: held for held in rows if held.role is not None}
    drill = _("DRILL · ") if incident.drill else ""
    timing = config.timing(playbook, incident.severity) if playbook else None
    header = fmt(
        "{mark} **{drill}#{id} {title}**",
        mark=SEVERITY_MARK.get(incident.severity, ""),
        drill=drill,
        id=incident.id,
        title=incident.title,
    )
    facts = fmt(
        _("Severity **{sev}** · phase **{phase}** · playbook {playbook}"),
        sev=incident.severity,
        phase=label(PHASE, incident.phase),
        playbook=playbook.title.get(config.language) if playbook else incident.playbook,
    )
    declared_at = when(config, incident.declared_at, now)
    declared = fmt(_("Declared by {who} at {at}"), who=person_name(config, incident.declared_by), at=declared_at)
    progress = fmt(
        _("Checklist: {done}/{total} done, {skipped} skipped, {overdue} overdue"),
        done=counts["done"],
        total=counts["total"],
        skipped=counts["skipped"],
        overdue=counts["overdue"],
    )
    line = line_summary(session, config, incident, timing, now, versions)
    update = Message()
    if incident.phase not in ("resolved", "closed") and incident.next_update_at:
        update = fmt(_("Next update due {at}"), at=when(config, incident.next_update_at, now))
    desk = desk_row(session, config, incident, now, inquiries)
    claims = claims_line(session, config, incident.id, claims_logged_)
    roles = render_roles(session, config, incident, holders)
    return lines(header, facts, declared, text(_("Roles:")), roles, progress, line, update, desk, claims)


def line_summary(
    session: Session, config: Config, incident: Incident, timing, now: datetime | None = None, versions: int | None = None
) -> Message:
    """The card's line row: the current version and how many targets carry it, or the first-statement deadline
    (`versions`: how many are approved or pending, when the caller counted them; none to read while there are none)."""
    # the approved version and the newest pending
    shown = [] if versions == 0 else session.exec(_line_query(), params={"incident": incident.id}).all()
    current = next((s for s in shown if s.state == APPROVED), None)
    pending = next((s for s in shown if s.state == PENDING), None)
    waiting = fmt(_(" · v{n} awaiting approval"), n=pending.version) if pending else Message()
    if current is None:
        if timing is None:
            return waiting + signatures.card_note(session, config, incident, None, pending)
        due = when(config, incident.declared_at + timing.first_statement, now)
        return (
            fmt(_("Approved line: none yet · first statement due {at}"), at=due)
            + waiting
            + signatures.card_note(session, config, incident, None, pending)
        )
    where = standings(session, current.id)
    carried = len({standing.target for standing in where if standing.status == SENT})  # the targets it was sent to
    if incident.drill:
        reach = _("drill: nothing goes outside")
    else:
        reach = _("on {count} of {total} targets").format(count=carried, total=len(config.broadcast))
    approved_at = when(config, current.decided_at, now)
    kind = fmt(_(" · v{n}: {kind}"), n=current.version, kind=kind_name(current.kind)) if current.kind else Message()
    signed = signatures.card_note(session, config, incident, current, pending)
    row = fmt(_("Approved line: **v{n}** ({at}) · {reach}"), n=current.version, at=approved_at, reach=reach) + waiting + kind + signed
    return lines(row, render_standings(config, where, now), page_lines(session, incident))


def render_item(config: Config, item: ChecklistItem, now: datetime) -> Message:
    """One checklist line: number, state, title, owner, due."""
    role = role_name(config, item.owner_role or "")
    if item.owner_person:
        owner = f"{person_name(config, item.owner_person)} ({role})" if role else person_name(config, item.owner_person)
    else:
        owner = role or "—"
    due = ""
    if item.state == "open" and item.due_at:
        due = (
            _(" · overdue since {at}").format(at=when(config, item.due_at, now))
            if item.due_at < now
            else _(" · due {at}").format(at=when(config, item.due_at, now))
        )
    reason = fmt(_(" — skipped: {reason}"), reason=item.reason) if item.state == "skipped" and item.reason else Message()
    return (
        fmt("{mark} `{n}` {title} · {owner}{due}", mark=STATE_MARK[item.state], n=item.number, title=item.title, owner=owner, due=due)
        + reason
    )


def render_checklist(config: Config, items: list[ChecklistItem], now: datetime) -> Message:
    """A list of checklist items."""
    return lines(*(render_item(config, item, now) for item in items))


def room_name(session: Session, incident_id: int) -> str:
    """The incident room's name (the first platform's)."""
    return session.exec(select(Room.name).where(Room.incident_id == incident_id).order_by(col(Room.id))).first() or ""
