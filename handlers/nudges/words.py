"""What each kind about the team's own work says (the records are in kinds.py); only the firing side reads these.

A kind's words are its message functions and one entry in WORDS; the kinds about the world outside the team have
theirs in outside.py. Each message names the clearing command, and `said.button(...)` runs it.
"""

from typing import Any

from sqlmodel import select

from handlers.nudges import kinds
from handlers.nudges.saying import Late, Said, Words, entry
from handlers.nudges.subjects import Action, Item, Role, RoleHolder, Stage, VersionRole
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


def role_unfilled(said: Late[Role]) -> Said:
    words = _("nobody holds {role}, required at {sev} ({late} late). Clear it: `/crisis assign {key} @someone`")
    role = said.subject.role
    return fmt(words, role=said.role(role), key=role, sev=said.incident.severity, late=said.late), []


def role_unfilled_sponsor(said: Late[Role]) -> Message:
    return fmt(_("nobody holds {role}"), role=said.role(said.subject.role))


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


def update_due(said: Late) -> Said:
    words = _("the status update promised for {at} is {late} late. Clear it: `/crisis update <text>`")
    return fmt(words, at=when(said.config, said.nudge.first_due_at, said.now), late=said.late), []


def update_due_sponsor(said: Late) -> Message:
    return fmt(_("the status update promised for {at} has not been posted"), at=when(said.config, said.nudge.first_due_at, said.now))


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


def review_due(said: Late) -> Said:
    words = _("the review meeting was due {at} ({late} late). Hold it, then close the incident: `/crisis close`")
    return fmt(words, at=when(said.config, said.nudge.first_due_at, said.now), late=said.late), []


def review_due_sponsor(said: Late) -> Message:
    return text(_("the review meeting has not been held"))


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


# The words of every kind above, by the name stored in `nudge.kind` (a scripted kind has none: its feature posts it).
WORDS: dict[str, Words[Any]] = dict(
    [
        entry(kinds.ROLE_ACK, role_ack),
        entry(kinds.ROLE_UNFILLED, role_unfilled, role_unfilled_sponsor),
        entry(kinds.TASK_OVERDUE, task_overdue, task_overdue_sponsor),
        entry(kinds.FIRST_STATEMENT, first_statement),
        entry(kinds.UPDATE_DUE, update_due, update_due_sponsor),
        entry(kinds.APPROVAL_PENDING, approval_pending),
        entry(kinds.REVIEW_DUE, review_due, review_due_sponsor),
        entry(kinds.ACTION_DUE, action_due, action_due_sponsor),
        entry(kinds.COUNTERSIGN_PENDING, countersign_pending),
    ]
)
