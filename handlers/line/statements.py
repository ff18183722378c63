"""The statement line: versions, who must approve them, and the one current approved version."""

from collections.abc import Collection

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from handlers.core.context import Context
from handlers.core.errors import Refusal
from handlers.core.holders import current_holders
from handlers.incident.timing import incident_timing
from handlers.line.signatures import approvals_of
from handlers.line.states import APPROVED, CARRYING, PENDING, SUPERSEDED

# Reading versions moved to line.versions (the desk reads it without the approval machinery); still readable from here.
from handlers.line.versions import MAX_VERSION, current_line, ever_approved, find_version, parse_version, pending_versions, versions  # noqa: F401
from handlers.nudges import kinds
from handlers.nudges import schedule as nudges
from handlers.nudges.subjects import VersionRole
from handlers.text.formatting import role_name
from handlers.text.i18n import _
from handlers.text.markup import fmt
from storage.models import Nudge, Publication, Statement


def latest_pending(session: Session, incident_id: int) -> Statement | None:
    """The newest version still waiting for approval."""
    query = (
        select(Statement).where(Statement.incident_id == incident_id, Statement.state == PENDING).order_by(col(Statement.version).desc())
    )
    return session.exec(query).first()


def next_version(session: Session, incident_id: int) -> int:
    """The number the next draft gets (a unique constraint settles two drafts racing)."""
    return (session.exec(select(func.max(Statement.version)).where(Statement.incident_id == incident_id)).one() or 0) + 1


def lock(session: Session, statement: Statement) -> Statement:
    """Re-read a version under a row lock, so concurrent decisions on it queue up (PostgreSQL)."""
    query = select(Statement).where(Statement.id == statement.id).with_for_update().execution_options(populate_existing=True)
    return session.exec(query).one()


def required_roles(ctx: Context) -> list[str]:
    """The approver roles the incident's severity needs (playbook setting, §4 defaults)."""
    return ctx.config.approver_roles(ctx.config.playbooks[ctx.incident.playbook], ctx.incident.severity)


def may_approve_for(ctx: Context, role: str, statement: Statement, excluded: Collection[str] = ()) -> bool:
    """Whether the actor may give a role's approval: its holder, or its backup once the holder cannot or did not answer."""
    if ctx.acts_as((role,)):
        return True
    spec = ctx.config.team.roles.get(role)
    if spec is None or spec.backup != ctx.actor.key:
        return False
    asked = select(Nudge.id).where(  # the approval (or countersignature) reminder has reached the backup
        Nudge.incident_id == ctx.incident.id,
        col(Nudge.kind).in_((kinds.APPROVAL_PENDING.name, kinds.COUNTERSIGN_PENDING.name)),
        Nudge.subject == kinds.APPROVAL_PENDING.store(VersionRole(statement.version, role)),
        Nudge.target == f"backup:{role}",
        Nudge.attempts > 0,
    )
    chosen = approver_for(ctx, role, statement.author, excluded)
    return chosen == ctx.actor.key or ctx.session.exec(asked).first() is not None


def one_role_each(ctx: Context, roles: list[str]) -> bool:
    """Four eyes (§4): when two or more roles must approve, one person's approval counts for one of them only."""
    return len(roles) >= 2 and not ctx.config.approvals.one_person_many_roles


def one_role_of(ctx: Context, statement: Statement, mine: list[str], excluded: Collection[str]) -> list[str]:
    """Four eyes: the one role a person's signature counts for — one nobody else could give, else the first."""
    unable = {*excluded, ctx.actor.key}
    return [next((role for role in mine if approver_for(ctx, role, statement.author, unable) is None), mine[0])] if mine else []


def cannot_sign(ctx: Context, statement: Statement, roles: list[str]) -> set[str]:
    """Who cannot give a further approval of a version: its author, and under four eyes whoever has signed it already."""
    signed = approvals_of(ctx.session, statement.id).values() if one_role_each(ctx, roles) else ()
    return {statement.author, *signed}


def approver_for(ctx: Context, role: str, author: str, excluded: Collection[str] = ()) -> str | None:
    """Who can give a role's approval for a version: the holder, or the role's backup when the holder wrote it
    (or, under four eyes, has signed it for another role)."""
    holder = current_holders(ctx.session, ctx.incident.id).get(role)
    person = holder.person if holder else (ctx.incident.declared_by if role == "commander" else None)
    spec = ctx.config.team.roles.get(role)
    unable = {author, *excluded}
    if person in unable or person is None:
        person = spec.backup if spec and spec.backup not in unable else None
    return person


def who_approves(ctx: Context, role: str, author: str, excluded: Collection[str] = ()) -> str:
    """The approver_for a role, by name."""
    person = approver_for(ctx, role, author, excluded)
    return ctx.name(person) if person else _("nobody yet")


def roles_with_people(ctx: Context, roles: list[str], author: str, excluded: Collection[str] = ()) -> str:
    """'Legal (Bob Li), Commander (Alice Chen)'."""
    return _(", ").join(
        _("{role} ({person})").format(role=role_name(ctx.config, role), person=who_approves(ctx, role, author, excluded)) for role in roles
    )


def make_current(ctx: Context, statement: Statement) -> tuple[Statement | None, list[int]]:
    """Approve a version: the old line and older drafts are superseded; return the old line and the drafts dropped."""
    session, incident_id = ctx.session, ctx.incident.id
    old = current_line(session, incident_id)
    dropped = session.exec(
        select(Statement.version).where(
            Statement.incident_id == incident_id, Statement.state == PENDING, Statement.version < statement.version
        )
    ).all()
    closing = {"state": SUPERSEDED, "decided_at": ctx.now}
    try:
        # The old line keeps its approval time; only its state changes.
        session.execute(
            update(Statement).where(col(Statement.incident_id) == incident_id, col(Statement.state) == APPROVED).values(state=SUPERSEDED)
        )
        session.execute(
            update(Statement)
            .where(col(Statement.incident_id) == incident_id, col(Statement.state) == PENDING, col(Statement.version) < statement.version)
            .values(**closing)
        )
        approved = session.exec(  # SQLModel's exec types an UPDATE's result with its rowcount
            update(Statement)
            .where(col(Statement.id) == statement.id, col(Statement.state) == PENDING)
            .values(state=APPROVED, decided_by=ctx.actor.key, decided_at=ctx.now)
        )
    except IntegrityError:
        approved = None  # the unique index: another approval won the race
    if approved is None or approved.rowcount != 1:
        # The database keeps one current line; this approval changes nothing.
        raise Refusal(
            fmt(
                _("Another version of #{id} was decided at the same moment; nothing was changed. Check `line` and try again."),
                id=incident_id,
            )
        )
    session.refresh(statement)
    for version in [*dropped, statement.version]:
        nudges.clear(session, incident_id, kinds.APPROVAL_PENDING, where=VersionRole.any_role(version))
    nudges.clear(session, incident_id, kinds.FIRST_STATEMENT)
    return old, list(dropped)


def stale_targets(session: Session, incident_id: int, current_id: int) -> list[str]:
    """Targets still carrying (or about to carry) an older version and not the current one, each named once."""
    older = select(Statement.id).where(Statement.incident_id == incident_id, Statement.id != current_id)
    rows = session.exec(
        select(Publication.target, Publication.statement_id)
        .where(Publication.incident_id == incident_id, col(Publication.state).in_(CARRYING))
        .order_by(col(Publication.id))
    ).all()
    older_ids = set(session.exec(older).all())
    current = {target for target, statement_id in rows if statement_id == current_id}
    return list(dict.fromkeys(target for target, statement_id in rows if statement_id in older_ids and target not in current))


def remind_approvers(ctx: Context, statement: Statement, roles: list[str]) -> None:
    """A reminder per approval still missing, due the severity's approval time after the draft was made."""
    wait = incident_timing(ctx.config, ctx.incident).approval_nudge
    nudges.clear(ctx.session, ctx.incident.id, kinds.APPROVAL_PENDING, where=VersionRole.any_role(statement.version))
    given = approvals_of(ctx.session, statement.id)
    holders = current_holders(ctx.session, ctx.incident.id)
    unable = cannot_sign(ctx, statement, roles)
    for role in roles:
        if role in given:
            continue
        # the author's own approval never counts, nor (four eyes) a second one from a person who signed already
        target = f"backup:{role}" if role in holders and holders[role].person in unable else f"role:{role}"
        due = max(ctx.now, statement.created_at + wait)
        subject = VersionRole(statement.version, role)
        nudges.schedule(ctx.session, ctx.incident.id, kinds.APPROVAL_PENDING, target, due, ctx.now, subject=subject, repeat=wait)
