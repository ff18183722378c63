"""The statement line: versions, who must approve them, and the one current approved version."""

import re
from collections.abc import Collection

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from handlers.core.context import Context
from handlers.core.errors import Refusal
from handlers.core.holders import current_holders
from handlers.core.people import role_title
from handlers.core.permissions import acts_as
from handlers.line.signatures import approvals_of
from handlers.line.states import APPROVED, CARRYING, PENDING, SUPERSEDED
from handlers.nudges import kinds
from handlers.nudges import schedule as nudges
from handlers.nudges.subjects import VersionRole
from handlers.text.i18n import _
from handlers.text.markup import fmt
from storage.models import Nudge, Publication, Statement

_VERSION = re.compile(r"^v?(\d+)$", re.IGNORECASE)
MAX_VERSION = 999_999  # beyond any real incident, and well inside the database's integers


def parse_version(word: str) -> int | None:
    """'v3', 'V3' or '3' → 3 (a number too large to exist → -1); anything else → None."""
    match = _VERSION.match(word) if word.isascii() else None
    if not match:
        return None
    number = int(match.group(1)[:12])
    return number if number <= MAX_VERSION else -1


def current_line(session: Session, incident_id: int) -> Statement | None:
    """The approved version of an incident's statement, if any (the database allows at most one)."""
    return session.exec(select(Statement).where(Statement.incident_id == incident_id, Statement.state == APPROVED)).first()


def ever_approved(session: Session, incident_id: int) -> bool:
    """Whether a version of the incident's statement has been approved (the current one or one it superseded)."""
    # A draft is superseded only by an approval, so a superseded version also means one was approved.
    query = select(Statement.id).where(Statement.incident_id == incident_id, col(Statement.state).in_((APPROVED, SUPERSEDED)))
    return session.exec(query.limit(1)).first() is not None


def versions(session: Session, incident_id: int, newest: int | None = None) -> list[Statement]:
    """An incident's versions, oldest first; only the newest few when asked."""
    query = select(Statement).where(Statement.incident_id == incident_id).order_by(col(Statement.version).desc())
    if newest:
        query = query.limit(newest)
    return list(reversed(session.exec(query).all()))


def find_version(session: Session, incident_id: int, version: int) -> Statement | None:
    """One version of an incident's statement."""
    return session.exec(select(Statement).where(Statement.incident_id == incident_id, Statement.version == version)).first()


def pending_versions(session: Session, incident_id: int) -> list[Statement]:
    """The versions waiting for approval, oldest first."""
    query = select(Statement).where(Statement.incident_id == incident_id, Statement.state == PENDING).order_by(col(Statement.version))
    return list(session.exec(query).all())


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
    if acts_as(ctx, (role,)):
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
        _("{role} ({person})").format(role=role_title(ctx, role), person=who_approves(ctx, role, author, excluded)) for role in roles
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
