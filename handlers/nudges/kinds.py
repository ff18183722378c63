"""One record per nudge kind: what it is about, its pace, cap and ladder, when it keeps quiet, what it says, what clears it.

Each kind is its message functions followed by its record (the kinds about the world outside the team, stakeholders,
press, claims and reaction, are in outside.py; KINDS lists them all); scheduling, firing, escalation and the message all read the
record, and nothing else names a kind's pace, cap or ladder (docs/architecture.md, "Add a reminder (nudge) kind").
"""

from datetime import timedelta

from sqlmodel import select

from handlers.nudges.outside import (  # the kinds about the world outside the team, kept readable from here
    CLAIM_UNANSWERED,
    INQUIRY_OVERDUE,
    NOT_LANDING,
    REACTION_FOLLOW_UP,
    STAKEHOLDER_DEADLINE,
)
from handlers.nudges.record import Kind, Late, Said, always, never
from handlers.nudges.subjects import (
    Action,
    Inject,
    Item,
    Nothing,
    Role,
    RoleHolder,
    Stage,
    VersionRole,
)
from handlers.text.formatting import person_name, when
from handlers.text.i18n import _
from handlers.text.markup import Button, Message, fmt, text
from storage.models import ChecklistItem, FollowUp


def role_ack(said: Late[RoleHolder]) -> Said:
    role, holder = said.subject.role, said.subject.person
    values = {"role": said.role(role), "key": role, "person": person_name(said.config, holder), "late": said.late}
    if not said.escalated:
        words = _("you were given {role} and have not accepted it yet ({late} late). Accept it: `/crisis ack`")
        return fmt(words, **values), [said.button(_("Accept"))]
    if said.to_backup:
        words = _("{person} has not taken up {role} ({late} late). You are the backup: the commander may hand it to you.")
        return fmt(words, **values), []
    words = _("{person} has not accepted {role} ({late} late). Remind them, or `/crisis assign {key} @someone`.")
    return fmt(words, **values), []


ROLE_ACK = Kind(
    name="role_ack",
    subject=RoleHolder,
    clears="ack",
    say=role_ack,
    repeat=timedelta(minutes=10),  # also how long a new holder has to acknowledge (and the drill scorecard's target)
    cap=1,  # the holder hears once, then the commander (PRODUCT.md §5)
    ladder=("role:commander", "backup:{role}"),
)


def role_unfilled(said: Late[Role]) -> Said:
    words = _("nobody holds {role}, required at {sev} ({late} late). Clear it: `/crisis assign {key} @someone`")
    role = said.subject.role
    return fmt(words, role=said.role(role), key=role, sev=said.incident.severity, late=said.late), []


def role_unfilled_sponsor(said: Late[Role]) -> Message:
    return fmt(_("nobody holds {role}"), role=said.role(said.subject.role))


ROLE_UNFILLED = Kind(
    name="role_unfilled",
    subject=Role,
    clears="assign {role} @someone",
    say=role_unfilled,
    sponsor=role_unfilled_sponsor,
    repeat=timedelta(minutes=10),  # also how long a required role may stay empty
    ladder=("role:exec",),
)


def _item_title(said: Late[Item]) -> str:
    number = said.subject.n
    query = select(ChecklistItem).where(ChecklistItem.incident_id == said.incident.id, ChecklistItem.number == number)
    item = said.session.exec(query).first()
    return item.title if item else str(number)


def task_overdue(said: Late[Item]) -> Said:
    words = _("checklist item {n} “{title}” is overdue by {late}. Clear it: `/crisis done {n}`")
    return fmt(words, n=str(said.subject.n), title=_item_title(said), late=said.late), [said.button(_("Done"))]


def task_overdue_sponsor(said: Late[Item]) -> Message:
    return fmt(_("checklist item {n} “{title}” is still open"), n=str(said.subject.n), title=_item_title(said))


TASK_OVERDUE = Kind(
    name="task_overdue",
    subject=Item,
    clears="done {n}",
    say=task_overdue,
    sponsor=task_overdue_sponsor,
    repeat=timedelta(minutes=30),
    ladder=("role:commander", "role:exec"),
)


def first_statement(said: Late[Stage]) -> Said:
    template = [Button(_("Holding statement template"), f"#{said.incident.id} template holding")]
    if said.subject.stage == "warning":
        assert said.nudge.first_due_at is not None and said.pace is not None  # scheduled with its due time, by a kind with a pace
        due = when(said.config, said.nudge.first_due_at + said.pace, said.now)
        words = _("the first approved statement is due at {at}, in 15 min. Start from `/crisis template holding`, then `/crisis draft`.")
        return fmt(words, at=due), template
    if said.escalated:
        words = _("still no approved statement, {late} after the golden-hour deadline. The team needs a decision on the line.")
        return fmt(words, late=said.late), []
    words = _("the first approved statement is {late} late. Draft it now (`/crisis template holding`), approvers: `/crisis approve`.")
    return fmt(words, late=said.late), template


FIRST_STATEMENT = Kind(
    name="first_statement",
    subject=Stage,
    clears="approve",
    say=first_statement,
    repeat=timedelta(minutes=15),  # the warning goes one pace before the deadline; after it, every pace (PRODUCT.md §4)
    cap=1,
    ladder=("role:exec",),
)


def update_due(said: Late) -> Said:
    words = _("the status update promised for {at} is {late} late. Clear it: `/crisis update <text>`")
    return fmt(words, at=when(said.config, said.nudge.first_due_at, said.now), late=said.late), []


def update_due_sponsor(said: Late) -> Message:
    return fmt(_("the status update promised for {at} has not been posted"), at=when(said.config, said.nudge.first_due_at, said.now))


UPDATE_DUE = Kind(
    name="update_due",
    subject=Nothing,
    clears="update <text>",
    say=update_due,
    sponsor=update_due_sponsor,
    ladder=("role:exec",),  # its pace is the severity's update cadence, which the scheduler passes
)


def approval_pending(said: Late[VersionRole]) -> Said:
    version, role = said.subject.words()["version"], said.subject.role
    values = {"version": version, "role": said.role(role), "late": said.late, "waited": said.waited}
    if said.escalated and not said.to_backup:
        words = _("{version} still lacks the approval of {role} ({late} late). Chase it, or agree with the team who can give it.")
        return fmt(words, **values), []
    words = (
        _("{version} still lacks the approval of {role} ({late} late). As the backup you may give it: `/crisis approve {version}`")
        if said.escalated
        else _("{version} has waited {waited} for your approval as {role}. Clear it: `/crisis approve {version}` or reject it.")
    )
    buttons = [
        said.button(_("Approve {version}").format(version=version)),
        Button(_("Reject {version}").format(version=version), f"#{said.incident.id} reject {version}", "danger", _("reason")),
    ]
    return fmt(words, **values), buttons


APPROVAL_PENDING = Kind(
    name="approval_pending",
    subject=VersionRole,
    clears="approve {version}",
    say=approval_pending,
    cap=1,  # the approver hears once, then their backup (PRODUCT.md §4); the pace is the severity's approval wait
    ladder=("backup:{role}", "role:commander"),
    live=False,  # a version in flight is set aside by its own rules when the incident resolves
)


def review_due(said: Late) -> Said:
    words = _("the review meeting was due {at} ({late} late). Hold it, then close the incident: `/crisis close`")
    return fmt(words, at=when(said.config, said.nudge.first_due_at, said.now), late=said.late), []


def review_due_sponsor(said: Late) -> Message:
    return text(_("the review meeting has not been held"))


REVIEW_DUE = Kind(
    name="review_due",
    subject=Nothing,
    clears="close",
    say=review_due,
    sponsor=review_due_sponsor,
    repeat=timedelta(days=1),
    ladder=("role:exec",),
    quiet=always,
    live=False,
)


def _action_text(said: Late[Action]) -> str:
    query = select(FollowUp).where(FollowUp.incident_id == said.incident.id, FollowUp.number == said.subject.n)
    action = said.session.exec(query).first()
    return action.text if action else ""


def action_due(said: Late[Action]) -> Said:
    key = said.subject.format()
    words = _("follow-up action {n} “{text}” is {late} late. Clear it: `/crisis done {key}`")
    return fmt(words, n=key.upper(), text=_action_text(said), late=said.late, key=key), [said.button(_("Done"))]


def action_due_sponsor(said: Late[Action]) -> Message:
    return fmt(_("follow-up action {n} “{text}” is still open"), n=said.subject.format().upper(), text=_action_text(said))


ACTION_DUE = Kind(
    name="action_due",
    subject=Action,
    clears="done {key}",
    say=action_due,
    sponsor=action_due_sponsor,
    repeat=timedelta(days=1),
    ladder=("role:commander", "role:exec"),
    quiet=always,
    live=False,
    after_close=True,  # follow-up actions are tracked after close too
)


DRILL_INJECT = Kind(
    name="drill_inject",
    subject=Inject,
    clears="answer {key}",
    say=None,  # scripted: handlers/drills/injects.py posts it in the drill room on the minute, never repeated
    quiet=never,
)


def countersign_pending(said: Late[VersionRole]) -> Said:
    version, role = said.subject.words()["version"], said.subject.role
    values = {"version": version, "role": said.role(role), "late": said.late, "waited": said.waited}
    if said.escalated and not said.to_backup:
        words = _("{version} still lacks the countersignature of {role} ({late} late) and cannot be published until it has it. Chase it.")
        return fmt(words, **values), []
    words = (
        _("{version} still lacks the countersignature of {role} ({late} late). As the backup you may give it: `/crisis approve {version}`")
        if said.escalated
        else _(
            "the severity rose, so {version} needs your countersignature as {role} before it can be published (asked {waited} ago). "
            "Clear it: `/crisis approve {version}` or reject it."
        )
    )
    buttons = [
        said.button(_("Countersign {version}").format(version=version)),
        Button(_("Reject {version}").format(version=version), f"#{said.incident.id} reject {version}", "danger", _("reason")),
    ]
    return fmt(words, **values), buttons


COUNTERSIGN_PENDING = Kind(
    name="countersign_pending",
    subject=VersionRole,
    clears="approve {version}",
    say=countersign_pending,
    cap=1,  # like a pending approval (PRODUCT.md §4): the signer hears once, then their backup; the pace is the approval wait
    ladder=("backup:{role}", "role:commander"),
    live=False,
)


# Every kind, by the name stored in `nudge.kind`.
KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        ROLE_ACK,
        ROLE_UNFILLED,
        TASK_OVERDUE,
        FIRST_STATEMENT,
        UPDATE_DUE,
        APPROVAL_PENDING,
        REVIEW_DUE,
        ACTION_DUE,
        DRILL_INJECT,
        COUNTERSIGN_PENDING,
        STAKEHOLDER_DEADLINE,
        INQUIRY_OVERDUE,
        CLAIM_UNANSWERED,
        REACTION_FOLLOW_UP,
        NOT_LANDING,
    )
}


def live() -> tuple[Kind, ...]:
    """The kinds that belong to the live response, which resolving the incident stops."""
    return tuple(kind for kind in KINDS.values() if kind.live)
