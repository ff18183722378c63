"""Running an incident: severity, phase, updates, notes, resolve, reopen, close."""

from sqlmodel import col, select

from config.model import ACTIVE_PHASES
from handlers.core.cleaning import keyword
from handlers.core.context import Context
from handlers.core.errors import Refusal, UsageError
from handlers.core.grammar import is_word, leading
from handlers.core.holders import current_holders
from handlers.core.verbs import PARTICIPANT, verb
from handlers.desk import deadlines
from handlers.desk import tracking as claims
from handlers.incident import staffing
from handlers.incident.reminders import owner_target, restart_update_clock, schedule_first_statement
from handlers.incident.severity import parse_severity
from handlers.incident.timing import incident_timing
from handlers.line import countersigning, statements
from handlers.nudges import kinds
from handlers.nudges import schedule as nudges
from handlers.nudges.subjects import Item, Role, RoleHolder
from handlers.review import actions as review
from handlers.review.scorecard import render_scorecard
from handlers.text.formatting import role_name, when
from handlers.text.i18n import N_, _, ngettext
from handlers.text.labels import PHASE, label
from handlers.text.markup import Message, fmt, lines, static, text
from storage.models import ChecklistItem

SHOWN_ITEMS = 8  # the close gate names this many open items, then "…"


def _require_text(ctx: Context, what: str) -> str:
    if not ctx.args:
        raise UsageError(what)
    return ctx.args


@verb("sev", usage=N_("<1-4>"), summary=N_("Change the severity; timings are recomputed."), who=("commander",))
def change_severity(ctx: Context) -> Message:
    """Change severity, recompute the clocks and fill newly required roles."""
    severity = parse_severity(ctx.args.strip()) if ctx.args.strip() else None
    if severity is None:
        raise UsageError(_("Give a severity from 1 (critical) to 4 (minor)."))
    incident = ctx.incident
    if severity == incident.severity:
        raise Refusal(fmt(_("Incident #{id} is already {sev}."), id=incident.id, sev=severity))
    old = incident.severity
    incident.severity = severity
    playbook = ctx.config.playbooks[incident.playbook]
    timing = ctx.config.timing(playbook, severity)
    last_update = incident.next_update_at - ctx.config.timing(playbook, old).update_every if incident.next_update_at else ctx.now
    restart_update_clock(ctx, max(ctx.now, last_update + timing.update_every))
    if incident.phase not in ("resolved", "closed"):
        schedule_first_statement(ctx, timing)
        deadlines.promise(ctx)  # the stakeholder deadlines follow the new severity
        claims.reconsider_all(ctx.session, ctx.config, incident, ctx.now)
    holders = current_holders(ctx.session, incident.id)
    busy = {a.person for a in holders.values()}
    added = []
    for role in ctx.config.required_roles(playbook, severity):
        if role in holders:
            continue
        person = staffing.on_call(ctx, role, busy)
        if person is None:  # nobody can hold it: the commander is reminded until someone does
            nudges.clear(ctx.session, incident.id, kinds.ROLE_UNFILLED, subject=Role(role))
            due = ctx.now + kinds.ROLE_UNFILLED.pace
            nudges.schedule(ctx.session, incident.id, kinds.ROLE_UNFILLED, "role:commander", due, ctx.now, subject=Role(role))
            continue
        staffing.assign(ctx, role, person)
        staffing.invite(ctx, [person])
        busy.add(person)
        added.append(f"{role_name(ctx.config, role)}: {ctx.name(person)}")
    live = incident.phase not in ("resolved", "closed")
    countersign = countersigning.reconsider_pending(ctx) if live else Message()  # a resolved incident asks nobody to sign
    ctx.log("severity", severity, old=old)
    announcement = fmt(
        _("Severity changed {old} → **{new}** by {by}. Next update due {at}."),
        old=old,
        new=severity,
        by=ctx.actor.name,
        at=when(ctx.config, incident.next_update_at, ctx.now),
    )
    ctx.refresh_card()
    return ctx.announce(lines(announcement, fmt(_("Roles added: {roles}"), roles=", ".join(added)) if added else Message(), countersign))


@verb("phase", usage=N_("<detected|assessing|responding|recovering>"), summary=N_("Move the incident to a phase."), who=("commander",))
def change_phase(ctx: Context) -> Message:
    """Move between the active phases; resolve and close have verbs of their own."""
    name = keyword(ctx.args.strip())
    if name in ("resolved", "closed"):
        raise Refusal(
            fmt(_("Use `/crisis {verb}` to move to {phase}."), verb="resolve" if name == "resolved" else "close", phase=label(PHASE, name))
        )
    if name not in ACTIVE_PHASES:
        raise UsageError(fmt(_("“{name}” is not a phase."), name=name[:40]) if name else _("Name the phase."))
    incident = ctx.incident
    if incident.phase in ("resolved", "closed"):
        raise Refusal(fmt(_("Incident #{id} is {phase}; use `/crisis reopen` first."), id=incident.id, phase=label(PHASE, incident.phase)))
    if name == incident.phase:
        raise Refusal(fmt(_("Incident #{id} is already {phase}."), id=incident.id, phase=label(PHASE, name)))
    old = incident.phase
    _move(ctx, name)
    ctx.refresh_card()
    message = fmt(_("Phase {old} → **{new}** (by {by})"), old=label(PHASE, old), new=label(PHASE, name), by=ctx.actor.name)
    return ctx.announce(message)


def _move(ctx: Context, phase: str) -> None:
    incident = ctx.incident
    ctx.log("phase", phase, old=incident.phase)
    incident.phase = phase
    incident.phase_changed_at = ctx.now
    ctx.session.add(incident)


@verb("update", usage=N_("<text>"), summary=N_("Post an internal status update; restarts the update clock."), who=("commander", "comms"))
def post_update(ctx: Context) -> Message:
    """Post a status update to the room and stakeholder rooms, and restart the cadence."""
    body = _require_text(ctx, _("Write the update after the verb."))
    incident = ctx.incident
    restart_update_clock(ctx, ctx.now + incident_timing(ctx.config, ctx.incident).update_every)
    ctx.log("update", body)
    message = lines(
        fmt(_("**Update on #{id} {title}** from {by}:"), id=incident.id, title=incident.title, by=ctx.actor.name),
        text(body),
        fmt(_("Next update due {at}."), at=when(ctx.config, incident.next_update_at, ctx.now)),
    )
    ctx.post(message)
    if not incident.drill:
        ctx.post_to_rooms(ctx.config.stakeholder_rooms, message)
    ctx.refresh_card()
    return fmt(_("Update posted. Next one due {at}."), at=when(ctx.config, incident.next_update_at, ctx.now))


@verb("note", usage=N_("<text>"), summary=N_("Add a note to the timeline."), who=(PARTICIPANT,))
def add_note(ctx: Context) -> Message:
    """Add a free note to the timeline."""
    body = _require_text(ctx, _("Write the note after the verb."))
    ctx.log("note", body)
    return fmt(_("Noted in the timeline of #{id}."), id=ctx.incident.id)


@verb("resolve", usage=N_("[summary]"), summary=N_("Mark the incident resolved; the review is scheduled."), who=("commander",))
def resolve(ctx: Context) -> Message:
    """Resolve: stop the live clocks and schedule the review."""
    incident = ctx.incident
    if incident.phase == "resolved":
        raise Refusal(fmt(_("Incident #{id} is already resolved."), id=incident.id))
    _move(ctx, "resolved")
    ctx.refresh_card()
    incident.resolved_at = ctx.now
    incident.summary = ctx.args or incident.summary
    nudges.clear_all(ctx.session, incident.id, kinds.live())
    review_within = incident_timing(ctx.config, ctx.incident).review_within
    review = Message()
    if review_within:
        due = ctx.now + review_within
        nudges.schedule(ctx.session, incident.id, kinds.REVIEW_DUE, "role:commander", due, ctx.now)
        review = fmt(_("Review meeting due by {at}."), at=when(ctx.config, due, ctx.now))
    message = lines(fmt(_("✅ #{id} resolved by {by}."), id=incident.id, by=ctx.actor.name), text(ctx.args), review)
    answer = ctx.announce(message)
    if incident.drill:  # the end of the drill: how the team did against each target
        ctx.post(render_scorecard(ctx.session, ctx.config, incident, ctx.now))
    return answer


@verb("reopen", summary=N_("Back to responding after resolve."), who=("commander",))
def reopen(ctx: Context) -> Message:
    """Reopen a resolved incident and restart the update clock."""
    incident = ctx.incident
    if incident.phase != "resolved":
        raise Refusal(
            fmt(_("Only a resolved incident can be reopened; #{id} is {phase}."), id=incident.id, phase=label(PHASE, incident.phase))
        )
    _move(ctx, "responding")
    ctx.refresh_card()
    incident.resolved_at = None
    nudges.clear(ctx.session, incident.id, kinds.REVIEW_DUE)
    restart_update_clock(ctx, ctx.now + incident_timing(ctx.config, ctx.incident).update_every)
    _restore_live_nudges(ctx)
    message = fmt(_("#{id} reopened by {by}: back to responding."), id=incident.id, by=ctx.actor.name)
    return ctx.announce(message)


def _restore_live_nudges(ctx: Context) -> None:
    """Bring back what resolve stopped: overdue items, unacknowledged roles, the first-statement clock."""
    incident = ctx.incident
    schedule_first_statement(ctx, incident_timing(ctx.config, ctx.incident))
    deadlines.promise(ctx)
    claims.reconsider_all(ctx.session, ctx.config, incident, ctx.now)
    items = ctx.session.exec(
        select(ChecklistItem).where(
            ChecklistItem.incident_id == incident.id, ChecklistItem.state == "open", col(ChecklistItem.due_at).is_not(None)
        )
    )
    for item in items:
        due = max(item.due_at or ctx.now, ctx.now)  # the query kept the items with a due time
        nudges.schedule(ctx.session, incident.id, kinds.TASK_OVERDUE, owner_target(item), due, ctx.now, subject=Item(item.number))
    for held in current_holders(ctx.session, incident.id).values():
        if held.acked_at is None:
            target, subject = f"person:{held.person}", RoleHolder(held.role, held.person)
            nudges.schedule(ctx.session, incident.id, kinds.ROLE_ACK, target, ctx.now + kinds.ROLE_ACK.pace, ctx.now, subject=subject)


@verb("close", usage=N_("[--force <reason>]"), summary=N_("Close the incident after its review."), who=("commander",))
def close(ctx: Context) -> Message:
    """Close a resolved incident; --force with a reason records why the review was skipped."""
    incident = ctx.incident
    first, reason = leading(ctx.args, 1)
    forced = is_word(first[0] if first else None, "--force")
    if forced and not reason:
        raise UsageError(_("Say why you force the close."))
    if first and not forced:
        raise UsageError(fmt(_("Unexpected “{word}”."), word=first[0][:40]))
    if incident.phase != "resolved":
        raise Refusal(
            fmt(
                _("Incident #{id} is {phase}: resolve it first (`/crisis resolve`), then review, then close."),
                id=incident.id,
                phase=label(PHASE, incident.phase),
            )
        )
    gaps = review.review_gaps(ctx.session, incident.id)
    unfinished = open_work(ctx)
    if (gaps or unfinished) and not forced:
        raise Refusal(close_gate(ctx, gaps, unfinished))
    _move(ctx, "closed")
    ctx.refresh_card()
    incident.closed_at = ctx.now
    nudges.clear(ctx.session, incident.id, kinds.REVIEW_DUE)
    if forced:
        ctx.log("forced_close", reason, open=unfinished, gaps=gaps)
    message = fmt(_("#{id} closed by {by}."), id=incident.id, by=ctx.actor.name)
    return ctx.announce(message)


def open_work(ctx: Context) -> list[str]:
    """What is still open in the incident, named: drafts waiting for approval and open checklist items."""
    incident = ctx.incident
    found = []
    drafts = statements.pending_versions(ctx.session, incident.id)
    if drafts:
        found.append(fmt(_("drafts waiting for approval: {versions}"), versions=", ".join(f"v{s.version}" for s in drafts)).plain())
    numbers = list(
        ctx.session.exec(
            select(ChecklistItem.number)
            .where(ChecklistItem.incident_id == incident.id, ChecklistItem.state == "open")
            .order_by(col(ChecklistItem.number))
        )
    )
    if numbers:
        shown = ", ".join(str(n) for n in numbers[:SHOWN_ITEMS]) + ("…" if len(numbers) > SHOWN_ITEMS else "")
        words = ngettext("{count} checklist item open ({numbers})", "{count} checklist items open ({numbers})", len(numbers))
        found.append(fmt(words, count=len(numbers), numbers=shown).plain())
    return found


def close_gate(ctx: Context, gaps: list[str], unfinished: list[str]) -> Message:
    """Why `close` waits: what the review lacks and what is still open, and the two ways on."""
    incident = ctx.incident
    review_line = fmt(_("The review of #{id} is not complete: {gaps}."), id=incident.id, gaps="; ".join(gaps)) if gaps else Message()
    open_line = fmt(_("Still open in #{id}: {work}."), id=incident.id, work="; ".join(unfinished)) if unfinished else Message()
    if gaps:
        how = _(
            "Add one with `/crisis lesson + <what went well>` or `/crisis lesson - <what to improve>`, "
            "or close anyway with `/crisis close --force <reason>`."
        )
    else:
        how = _(
            "Finish or skip each item (`/crisis done <n>`, `/crisis skip <n> <reason>`), decide the drafts "
            "(`/crisis approve`, `/crisis reject`), or close anyway with `/crisis close --force <reason>`."
        )
    return lines(review_line, open_line, static(how))
