"""Countersignature (PRODUCT.md §4): a version records the severity whose rule it met; when the severity rises above it,
the missing approver roles sign the same version before it may be published. Four eyes holds here as in approval."""

from config.model import as_severity
from handlers.core.context import Context, in_every_room
from handlers.core.effects import RefreshLine
from handlers.core.errors import Refusal
from handlers.core.holders import current_holders
from handlers.incident.timing import incident_timing
from handlers.line import statements
from handlers.line.signatures import more_severe, owed, refuse_unsigned
from handlers.line.states import REJECTED
from handlers.nudges import kinds
from handlers.nudges import schedule as nudges
from handlers.nudges.subjects import VersionRole
from handlers.text.formatting import role_name
from handlers.text.i18n import _
from handlers.text.markup import Button, Message, fmt, lines
from storage.models import Approval, Statement


def _roles_needed(ctx: Context, statement: Statement) -> list[str]:
    assert statement.needs_severity is not None  # only a version that owes a signature is asked about
    return ctx.config.approver_roles(ctx.config.playbooks[ctx.incident.playbook], as_severity(statement.needs_severity))


def record_met(ctx: Context, statement: Statement) -> None:
    """A version just approved meets the rule of the incident's severity now."""
    statement.met_severity = statement.needs_severity = ctx.incident.severity
    ctx.session.add(statement)


def reconsider_pending(ctx: Context) -> Message:
    """After a change of severity: the pending drafts' reminders follow the new approver roles and timing, and the
    current line asks for the countersignatures a higher severity needs (what to say about it is returned)."""
    roles = statements.required_roles(ctx)
    for statement in statements.pending_versions(ctx.session, ctx.incident.id):
        statements.remind_approvers(ctx, statement, roles)
    return severity_changed(ctx)


def severity_changed(ctx: Context) -> Message:
    """After `sev`: a rise above the current version's rule asks the missing roles to countersign; a fall forgives nothing."""
    current = statements.current_line(ctx.session, ctx.incident.id)
    if current is None or current.needs_severity is None:
        return Message()
    current.needs_severity = more_severe(current.needs_severity, ctx.incident.severity)
    ctx.session.add(current)
    missing = owed(ctx.session, ctx.config, ctx.incident, current)
    if not missing:  # the signatures it has meet the new rule too (sev4 → sev3: the commander alone)
        current.met_severity = current.needs_severity
    if not missing or current.needs_severity != ctx.incident.severity:
        return Message()
    excluded = statements.cannot_sign(ctx, current, _roles_needed(ctx, current))
    _remind(ctx, current, missing, excluded)
    ask = lines(
        fmt(
            _("✍ v{n} was approved under the rule of {met}; at {sev} it needs the countersignature of {roles} before it can be published."),
            n=current.version,
            met=current.met_severity or "",
            sev=ctx.incident.severity,
            roles=statements.roles_with_people(ctx, missing, current.author, excluded),
        ),
        Message(buttons=[Button(_("Countersign v{n}").format(n=current.version), f"#{ctx.incident.id} approve v{current.version}")]),
    )
    for role in missing:
        person = statements.approver_for(ctx, role, current.author, excluded)
        if person and person != ctx.actor.key:
            ctx.dm(person, ask)
    return ask


def _remind(ctx: Context, statement: Statement, missing: list[str], excluded: set[str]) -> None:
    """A reminder per missing signature, at the pace of a pending approval; to the backup when the holder cannot sign."""
    wait = incident_timing(ctx.config, ctx.incident).approval_nudge
    holders = current_holders(ctx.session, ctx.incident.id)
    for role in missing:
        subject = VersionRole(statement.version, role)
        nudges.clear(ctx.session, ctx.incident.id, kinds.COUNTERSIGN_PENDING, subject)
        unable = role in holders and holders[role].person in excluded
        target = f"backup:{role}" if unable else f"role:{role}"
        nudges.schedule(
            ctx.session, ctx.incident.id, kinds.COUNTERSIGN_PENDING, target, ctx.now + wait, ctx.now, subject=subject, repeat=wait
        )


def countersign(ctx: Context, statement: Statement) -> Message:
    """`approve vN` on the current line that owes signatures: record the actor's, for one role under four eyes."""
    missing = owed(ctx.session, ctx.config, ctx.incident, statement)
    needed = _roles_needed(ctx, statement)
    excluded = statements.cannot_sign(ctx, statement, needed)
    _refuse_unless_signer(ctx, statement, missing, excluded)
    mine = [role for role in missing if statements.may_approve_for(ctx, role, statement, excluded)]
    if statements.one_role_each(ctx, needed):
        mine = statements.one_role_of(ctx, statement, mine, excluded)
    for role in mine:
        ctx.session.add(Approval(statement_id=statement.id, role=role, person=ctx.actor.key, at=ctx.now))
        nudges.clear(ctx.session, ctx.incident.id, kinds.COUNTERSIGN_PENDING, VersionRole(statement.version, role))
    ctx.log("approval", f"v{statement.version}", version=statement.version, roles=mine, countersign=True)
    left = [role for role in missing if role not in mine]
    signed = fmt(
        _("✍ {who} countersigned v{n} as {roles}."),
        who=ctx.actor.name,
        n=statement.version,
        roles=", ".join(role_name(ctx.config, r) for r in mine),
    )
    in_every_room(ctx.session, ctx.incident.id, ctx.now, RefreshLine())
    ctx.refresh_card()
    if left:
        excluded = statements.cannot_sign(ctx, statement, needed) | {ctx.actor.key}
        _remind(ctx, statement, left, excluded)
        still = fmt(
            _("Countersignature still needed from {roles}."), roles=statements.roles_with_people(ctx, left, statement.author, excluded)
        )
        return ctx.announce(lines(signed, still))
    statement.met_severity = statement.needs_severity
    ctx.session.add(statement)
    done = fmt(_("v{n} now meets the rule of {sev} and may be published."), n=statement.version, sev=statement.needs_severity or "")
    button = Button(_("Publish v{n}").format(n=statement.version), f"#{ctx.incident.id} publish v{statement.version}", "primary")
    return ctx.announce(lines(signed, done, Message(buttons=[button])))


def _refuse_unless_signer(ctx: Context, statement: Statement, missing: list[str], excluded: set[str]) -> None:
    """Refuse the author, a four-eyes signer who signed already, and anyone who holds none of the missing roles."""
    asked = statements.roles_with_people(ctx, missing, statement.author, excluded)
    if ctx.actor.key == statement.author:
        raise Refusal(fmt(_("You wrote v{n}, so your own signature cannot count. It needs: {roles}."), n=statement.version, roles=asked))
    if ctx.actor.key in excluded:
        raise Refusal(
            fmt(_("Four eyes: you have already signed v{n}; another person must countersign as {roles}."), n=statement.version, roles=asked)
        )
    if not any(statements.may_approve_for(ctx, role, statement, excluded) for role in missing):
        raise Refusal(fmt(_("v{n} needs the countersignature of {roles}; you hold none of these roles."), n=statement.version, roles=asked))


def refuse(ctx: Context, statement: Statement, reason: str) -> Message:
    """A missing signer rejects the version: it stops being the approved line; a new version is needed."""
    missing = owed(ctx.session, ctx.config, ctx.incident, statement)
    _refuse_unless_signer(ctx, statement, missing, statements.cannot_sign(ctx, statement, _roles_needed(ctx, statement)))
    statement.state, statement.decided_by, statement.decided_at, statement.reason = REJECTED, ctx.actor.key, ctx.now, reason
    ctx.session.add(statement)
    nudges.clear(ctx.session, ctx.incident.id, kinds.COUNTERSIGN_PENDING, where=VersionRole.any_role(statement.version))
    ctx.log("rejected", reason, version=statement.version, countersign=True)
    notice = fmt(
        _(
            "✋ {who} refused to countersign v{n}: {reason}\n"
            "v{n} is no longer the approved line; send a new version with `/crisis draft <text>`."
        ),
        who=ctx.actor.name,
        n=statement.version,
        reason=reason,
    )
    ctx.dm(statement.author, notice)
    in_every_room(ctx.session, ctx.incident.id, ctx.now, RefreshLine())
    ctx.refresh_card()
    return ctx.announce(notice)


def refuse_publishing(ctx: Context, statement: Statement) -> None:
    """`publish` refuses a version that still owes a countersignature, naming the roles and who holds them."""
    missing = owed(ctx.session, ctx.config, ctx.incident, statement)
    if not missing:
        return
    excluded = statements.cannot_sign(ctx, statement, _roles_needed(ctx, statement))
    roles = statements.roles_with_people(ctx, missing, statement.author, excluded)
    refuse_unsigned(ctx.session, ctx.config, ctx.incident, statement, roles)
