"""What signatures a version has and still owes (PRODUCT.md §4): read by the card, `line`, `history` and `publish`."""

from datetime import datetime

from sqlmodel import Session, col, select

from config.model import SEVERITIES, Config, Severity, as_severity
from handlers.core.errors import Refusal
from handlers.core.holders import current_holders
from handlers.line.states import APPROVED
from handlers.text.formatting import role_name
from handlers.text.i18n import _
from handlers.text.markup import Message, fmt
from storage.models import Approval, Incident, Statement


def approvals_of(session: Session, statement_id: int) -> dict[str, str]:
    """Role → person for each signature a version has, in the order given."""
    rows = session.exec(select(Approval).where(Approval.statement_id == statement_id).order_by(col(Approval.id)))
    return {row.role: row.person for row in rows}


def signed(session: Session, statement_id: int) -> list[tuple[str, str, datetime]]:
    """(role, person, when) of each signature of a version, in the order given."""
    rows = session.exec(select(Approval).where(Approval.statement_id == statement_id).order_by(col(Approval.id)))
    return [(row.role, row.person, row.at) for row in rows]


def more_severe(one: str, other: str) -> Severity:
    """The more severe of two severities (sev1 is the most severe)."""
    return min(as_severity(one), as_severity(other), key=SEVERITIES.index)


def owed(session: Session, config: Config, incident: Incident, statement: Statement) -> list[str]:
    """The approver roles the current version still lacks for the most severe rule it must meet; [] when none."""
    if statement.state != APPROVED or statement.needs_severity is None or incident.playbook not in config.playbooks:
        return []
    roles = config.approver_roles(config.playbooks[incident.playbook], as_severity(statement.needs_severity))
    given = approvals_of(session, statement.id)
    return [role for role in roles if role not in given]


def card_note(session: Session, config: Config, incident: Incident, current: Statement | None, pending: Statement | None) -> Message:
    """The card's words on signatures: a countersignature owed by the line, or a draft four eyes keeps from one person."""
    if current is not None and (missing := owed(session, config, incident, current)):
        return fmt(_(" · countersignature needed from {roles}"), roles=", ".join(role_name(config, r) for r in missing))
    if pending is None or config.approvals.one_person_many_roles or incident.playbook not in config.playbooks:
        return Message()
    roles = config.approver_roles(config.playbooks[incident.playbook], incident.severity)
    given = approvals_of(session, pending.id)
    holders = current_holders(session, incident.id)
    blocked = [r for r in roles if r not in given and r in holders and holders[r].person in given.values()]
    if len(roles) < 2 or not blocked:
        return Message()
    return fmt(
        _(" · four eyes: another person must approve v{n} as {roles}"),
        n=pending.version,
        roles=", ".join(role_name(config, r) for r in blocked),
    )


def owed_text(session: Session, config: Config, incident: Incident, statement: Statement) -> Message:
    """For `line` and `history`: the countersignatures a version still needs before it can be published, if any."""
    missing = owed(session, config, incident, statement)
    if not missing:
        return Message()
    titles = {key: role.title.get(config.language) for key, role in config.team.roles.items()}
    return fmt(
        _("⚠ Countersignature needed from {roles} (approved under {met}, now {sev}): it cannot be published until then."),
        roles=", ".join(titles.get(r, r) for r in missing),
        met=statement.met_severity or "",
        sev=statement.needs_severity or "",
    )


def refuse_unsigned(session: Session, config: Config, incident: Incident, statement: Statement, roles: str | None = None) -> None:
    """Every path out (publish, published, notify, answer) refuses a version still owing a countersignature."""
    missing = owed(session, config, incident, statement)
    if not missing:
        return
    titles = {key: role.title.get(config.language) for key, role in config.team.roles.items()}
    raise Refusal(
        fmt(
            _(
                "v{n} was approved under the rule of {met}; #{id} needs the rule of {sev}, so it cannot be published until it is "
                "countersigned by {roles} (`/crisis approve v{n}`), or a new version is approved."
            ),
            n=statement.version,
            met=statement.met_severity or "",
            id=incident.id,
            sev=statement.needs_severity or "",
            roles=roles or ", ".join(titles.get(r, r) for r in missing),
        )
    )
