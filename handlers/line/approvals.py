"""Proposing and deciding versions of the line: draft, approve, reject."""

from handlers.core.context import Context, in_every_room
from handlers.core.effects import RefreshLine
from handlers.core.errors import Refusal, UsageError
from handlers.core.verbs import ANYONE, verb
from handlers.line import countersigning, statements, vetting
from handlers.line.countersigning import reconsider_pending  # noqa: F401  (moved to countersigning.py; still importable here)
from handlers.line.headline import default_headline, headline_findings, headline_line, headline_of, split_headline
from handlers.line.kinds import KINDS, default_kind, kind_name, split_kind
from handlers.line.reading import approvers_text
from handlers.line.states import APPROVED, PENDING, REJECTED, SUPERSEDED
from handlers.line.targets import target_limits
from handlers.nudges import kinds
from handlers.nudges import schedule as nudges
from handlers.nudges.subjects import VersionRole
from handlers.text.formatting import role_name
from handlers.text.i18n import N_, _
from handlers.text.markup import Button, Message, fmt, lines, verbatim
from handlers.text.worddiff import short_diff
from storage.models import Approval, Statement

APPROVERS = N_("the approver roles of the incident's severity (never the author)")


@verb(
    "draft",
    usage=N_("[holding|update|apology|clarification|rebuttal|closing] [<headline> |] <text>"),
    summary=N_("Propose a new version of the approved line (its public headline before a |); approvers are asked."),
    who=("comms", "commander", "spokesperson"),
)
def draft(ctx: Context) -> Message:
    """Add a pending version of a kind (§4: holding first, update after), vet it, and ask each approver role."""
    kind, words = split_kind(ctx.args)
    headline, words = split_headline(words)
    if not words.strip() or words.strip() in KINDS:
        raise UsageError(_("Write the proposed statement after the verb."))
    incident = ctx.incident
    number = statements.next_version(ctx.session, incident.id)
    statement = Statement(
        incident_id=incident.id,
        version=number,
        text=words,
        headline=headline or default_headline(ctx.config),  # approved with the text: a later change of the default is not
        author=ctx.actor.key,
        created_at=ctx.now,
        kind=kind or default_kind(statements.ever_approved(ctx.session, incident.id)),
    )
    ctx.session.add(statement)
    ctx.session.flush()
    ctx.log("draft", statement.text, version=statement.version, statement_kind=statement.kind)
    roles = statements.required_roles(ctx)
    statements.remind_approvers(ctx, statement, roles)
    request = approval_request(ctx, statement, roles)
    for person in dict.fromkeys(statements.approver_for(ctx, role, ctx.actor.key) for role in roles):
        if person and person != ctx.actor.key:
            ctx.dm(person, request)
    ctx.refresh_card()
    return ctx.announce(request)


def approval_request(ctx: Context, statement: Statement, roles: list[str]) -> Message:
    """The draft, what changed against the line, the vet findings, and approve / reject buttons."""
    incident = ctx.incident
    current = statements.current_line(ctx.session, incident.id)
    header = fmt(
        _("📝 **Draft v{n}** of #{id} by {author} — approval needed from {approvers}:"),
        n=statement.version,
        id=incident.id,
        author=ctx.name(statement.author),
        approvers=statements.roles_with_people(ctx, roles, statement.author),
    )
    changes = fmt(_("Changes from v{old}: "), old=current.version) + short_diff(current.text, statement.text) if current else Message()
    limits = target_limits(ctx.config)
    findings = vetting.vet(statement.text, ctx.config.vet.values(), current.text if current else None, limits, statement.kind)
    findings += headline_findings(statement, ctx.config)
    buttons = Message(
        buttons=[
            Button(_("Approve v{n}").format(n=statement.version), f"#{incident.id} approve v{statement.version}", "primary"),
            Button(
                _("Reject v{n}").format(n=statement.version),
                f"#{incident.id} reject v{statement.version}",
                "danger",
                _("reason"),
            ),
        ]
    )
    kind = fmt(_("Kind: {kind}"), kind=kind_name(statement.kind)) if statement.kind else Message()
    headline = headline_line(headline_of(statement, ctx.config))
    return lines(header, kind, headline, verbatim(statement.text), changes, vetting.render_findings(findings, limits), buttons)


def _version_to_decide(ctx: Context, words: list[str]) -> tuple[Statement, list[str]]:
    """The version named first (vN), or the newest pending one (else the line owing a countersignature); the words after."""
    incident = ctx.incident
    number = statements.parse_version(words[0]) if words else None
    statement: Statement | None
    current = statements.current_line(ctx.session, incident.id)
    owing = current if current and countersigning.owed(ctx.session, ctx.config, incident, current) else None
    if number is None:
        waiting = statements.pending_versions(ctx.session, incident.id)
        if not waiting and owing:
            return statements.lock(ctx.session, owing), words
        if not waiting:
            raise Refusal(fmt(_("There is no draft waiting for approval in #{id}."), id=incident.id))
        if len(waiting) > 1:
            listed = ", ".join(f"v{v.version}" for v in waiting)
            raise Refusal(
                fmt(_("Several drafts are waiting ({versions}): name the one you mean, e.g. v{n}."), versions=listed, n=waiting[-1].version)
            )
        statement = waiting[0]
    else:
        typed, words = words[0].lstrip("vV")[:12], words[1:]
        statement = statements.find_version(ctx.session, incident.id, number) if number > 0 else None
        if statement is None:
            latest = statements.next_version(ctx.session, incident.id) - 1
            if not latest:
                raise Refusal(fmt(_("#{id} has no drafts yet."), id=incident.id))
            raise Refusal(fmt(_("#{id} has no v{n}; the latest version is v{latest}."), id=incident.id, n=typed, latest=latest))
    statement = statements.lock(ctx.session, statement)
    if statement.state != PENDING and not (owing and statement.id == owing.id and statement.state == APPROVED):
        raise Refusal(_not_pending(ctx, statement))
    return statement, words


def _not_pending(ctx: Context, statement: Statement) -> Message:
    if statement.state == REJECTED:
        return fmt(
            _("v{n} was rejected by {who}: {reason}"),
            n=statement.version,
            who=ctx.name(statement.decided_by),
            reason=statement.reason or "",
        )
    if statement.state == SUPERSEDED:
        current = statements.current_line(ctx.session, ctx.incident.id)
        now = fmt(_(" The approved line is v{m}."), m=current.version) if current else Message()
        return fmt(_("v{n} was superseded; only a pending draft can be decided."), n=statement.version) + now
    return fmt(_("v{n} is already the approved line."), n=statement.version)


def _refuse_non_approver(ctx: Context, statement: Statement, roles: list[str], verb_name: str) -> None:
    if statement.author == ctx.actor.key:
        raise Refusal(
            fmt(
                _("You wrote v{n}, so your own approval cannot count. It needs: {approvers}."),
                n=statement.version,
                approvers=statements.roles_with_people(ctx, roles, statement.author),
            )
        )
    raise Refusal(
        lines(
            fmt(
                _("Only the approvers of #{id} may decide on a draft: {approvers}."),
                id=ctx.incident.id,
                approvers=statements.roles_with_people(ctx, roles, statement.author),
            ),
            fmt(_("Usage: `{usage}`"), usage={"approve": approve, "reject": reject}[verb_name].verb.usage_line()),
        )
    )


@verb("approve", usage=N_("[vN]"), summary=N_("Approve a pending version of the line."), who=(ANYONE,), who_label=APPROVERS)
def approve(ctx: Context) -> Message:
    """Record the actor's approval for each required role they may give; the last one makes the version the line."""
    statement, rest = _version_to_decide(ctx, ctx.args.split())
    if rest:
        raise UsageError(fmt(_("Unexpected “{word}”."), word=rest[0][:40]))
    if statement.state == APPROVED:  # the severity rose above the rule it met: this is a countersignature
        return countersigning.countersign(ctx, statement)
    roles = statements.required_roles(ctx)
    given = statements.approvals_of(ctx.session, statement.id)
    if statement.author == ctx.actor.key:
        _refuse_non_approver(ctx, statement, roles, "approve")
    excluded = statements.cannot_sign(ctx, statement, roles)
    mine = [role for role in roles if role not in given and statements.may_approve_for(ctx, role, statement, excluded)]
    missing = [role for role in roles if role not in given]
    already = [role for role, person in given.items() if person == ctx.actor.key]
    if statements.one_role_each(ctx, roles):  # four eyes: one person's approval counts for one role
        mine = [] if already else statements.one_role_of(ctx, statement, mine, excluded)
    if not mine:
        if not already and not any(statements.may_approve_for(ctx, role, statement, excluded) for role in roles):
            _refuse_non_approver(ctx, statement, roles, "approve")
        if not missing:  # the severity changed since: the approvals given already suffice
            return _make_it_the_line(ctx, statement)
        if not already:  # they may give only approvals someone else has given
            asked = statements.roles_with_people(ctx, missing, statement.author, excluded)
            words = _("v{n} still needs the approval of {roles}; you hold none of these roles.")
            raise Refusal(fmt(words, n=statement.version, roles=asked))
        words = (
            _("Four eyes: you already approved v{n} as {roles}; another person must approve as {missing}.")
            if statements.one_role_each(ctx, roles)
            else _("You already approved v{n} as {roles}. Still needed: {missing}.")
        )
        raise Refusal(
            fmt(
                words,
                n=statement.version,
                roles=", ".join(role_name(ctx.config, r) for r in already),
                missing=statements.roles_with_people(ctx, missing, statement.author, excluded),
            )
        )
    for role in mine:
        ctx.session.add(Approval(statement_id=statement.id, role=role, person=ctx.actor.key, at=ctx.now))
        nudges.clear(ctx.session, ctx.incident.id, kinds.APPROVAL_PENDING, VersionRole(statement.version, role))
    ctx.log("approval", f"v{statement.version}", version=statement.version, roles=mine)
    missing = [role for role in roles if role not in given and role not in mine]
    if missing:
        return _still_needed(ctx, statement, roles, mine, missing)
    return _make_it_the_line(ctx, statement)


def _still_needed(ctx: Context, statement: Statement, roles: list[str], mine: list[str], missing: list[str]) -> Message:
    """A partial approval: who approved as what, who is still needed (under four eyes, never the same person again)."""
    ctx.session.flush()
    excluded = statements.cannot_sign(ctx, statement, roles)
    if statements.one_role_each(ctx, roles):  # a role its holder can no longer give goes to the backup
        statements.remind_approvers(ctx, statement, roles)
    ctx.refresh_card()
    header = fmt(
        _("👍 {who} approved v{n} as {roles}. Still needed: {missing}."),
        who=ctx.actor.name,
        n=statement.version,
        roles=", ".join(role_name(ctx.config, r) for r in mine),
        missing=statements.roles_with_people(ctx, missing, statement.author, excluded),
    )
    held = [role for role in missing if statements.may_approve_for(ctx, role, statement)]
    four_eyes = fmt(
        _("Four eyes: your approval counts for one role only; another person must approve as {roles}."),
        roles=", ".join(role_name(ctx.config, r) for r in held),
    )
    return ctx.announce(lines(header, four_eyes) if held and statements.one_role_each(ctx, roles) else header)


def _make_it_the_line(ctx: Context, statement: Statement) -> Message:
    incident = ctx.incident
    old, dropped = statements.make_current(ctx, statement)
    countersigning.record_met(ctx, statement)
    if old is not None:  # a new line owes nothing its predecessor did
        nudges.clear(ctx.session, incident.id, kinds.COUNTERSIGN_PENDING, where=VersionRole.any_role(old.version))
    ctx.log("approved", f"v{statement.version}", version=statement.version, replaces=old.version if old else None, set_aside=dropped)
    by = approvers_text(ctx.session, ctx.config, statement)
    replaced = (
        fmt(_("It replaces v{old}. Changes: "), old=old.version) + short_diff(old.text, statement.text)
        if old
        else fmt(_("This is the first approved statement of #{id}."), id=incident.id)
    )
    set_aside = fmt(_("Drafts set aside: {versions}."), versions=", ".join(f"v{v}" for v in dropped)) if dropped else Message()
    stale = statements.stale_targets(ctx.session, incident.id, statement.id)
    republish = fmt(_("To republish: {targets}."), targets=", ".join(stale)) if stale else Message()
    button = Button(_("Publish v{n}").format(n=statement.version), f"#{incident.id} publish v{statement.version}", "primary")
    publish = Message(buttons=[button])
    in_every_room(ctx.session, incident.id, ctx.now, RefreshLine())
    ctx.refresh_card()
    header = fmt(_("✅ **v{n} is now the approved line** of #{id} (approved by {by})."), n=statement.version, id=incident.id, by=by)
    return ctx.announce(lines(header, verbatim(statement.text), replaced, set_aside, republish, publish))


@verb(
    "reject", usage=N_("[vN] <reason>"), summary=N_("Reject a pending version; the author is told why."), who=(ANYONE,), who_label=APPROVERS
)
def reject(ctx: Context) -> Message:
    """Reject a pending version with a reason the author reads."""
    words = ctx.args.split()
    statement, rest = _version_to_decide(ctx, words)
    reason = ctx.args.split(None, len(words) - len(rest))[-1].strip() if rest else ""
    if not reason:
        raise UsageError(_("Say why you reject it; the author will read it."))
    if statement.state == APPROVED:  # a countersigner refusing to sign
        return countersigning.refuse(ctx, statement, reason)
    roles = statements.required_roles(ctx)
    if statement.author == ctx.actor.key or not any(statements.may_approve_for(ctx, role, statement) for role in roles):
        _refuse_non_approver(ctx, statement, roles, "reject")
    statement.state, statement.decided_by, statement.decided_at, statement.reason = REJECTED, ctx.actor.key, ctx.now, reason
    ctx.session.add(statement)
    nudges.clear(ctx.session, ctx.incident.id, kinds.APPROVAL_PENDING, where=VersionRole.any_role(statement.version))
    ctx.log("rejected", reason, version=statement.version)
    ctx.dm(
        statement.author,
        fmt(
            _("Your draft v{n} of #{id} was rejected by {who}: {reason}\nSend a new version with `/crisis draft <text>`."),
            n=statement.version,
            id=ctx.incident.id,
            who=ctx.actor.name,
            reason=reason,
        ),
    )
    ctx.refresh_card()
    return ctx.announce(fmt(_("✋ v{n} rejected by {who}: {reason}"), n=statement.version, who=ctx.actor.name, reason=reason))
