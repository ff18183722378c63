"""What a nudge says and to whom: the late thing, by how much, and the one command that clears it."""

from datetime import datetime

from sqlmodel import Session, select

from config.model import Config
from handlers.core.holders import current_holders
from handlers.nudges import schedule as nudges
from handlers.text.formatting import duration_text, person_name, when
from handlers.text.i18n import N_, _
from handlers.text.markup import Button, Message, fmt, text
from storage.models import ChecklistItem, FollowUp, Incident, Nudge

SNOOZES = (("15m", N_("Snooze 15 min")), ("1h", N_("Snooze 1 h")))


def resolve_targets(session: Session, config: Config, incident: Incident | None, target: str) -> list[str]:
    """The people a target names: `person:x`, `role:r` (its holder; the declarer stands in for a missing commander), `backup:r`."""
    holders = current_holders(session, incident.id) if incident else {}
    people: list[str | None] = []
    for part in target.split(","):
        kind, _sep, name = part.partition(":")
        if kind == "person":
            people.append(name)
        elif kind == "role" and name in holders:
            people.append(holders[name].person)
        elif kind == "role" and name == "commander" and incident is not None:
            people.append(incident.declared_by)
        elif kind == "backup" and name in config.team.roles:
            people.append(config.team.roles[name].backup)
    return [p for p in dict.fromkeys(people) if p is not None and p in config.team.people]


def _role(config: Config, key: str) -> str:
    role = config.team.roles.get(key)
    return role.title.get(config.language) if role else key


def render(session: Session, config: Config, incident: Incident, nudge: Nudge, now: datetime) -> Message:
    """The nudge message with its buttons (snooze, and the action that clears it)."""
    late = duration_text(now - (nudge.first_due_at or nudge.due_at))
    escalated = nudge.reason.startswith("escalated")
    head = fmt("⏰ **#{id} {title}** — ", id=incident.id, title=incident.title)
    actions: list[Button]
    if escalated and nudge.target == "role:exec" and nudge.kind != nudges.FIRST_STATEMENT:
        body, actions = _for_the_sponsor(session, config, incident, nudge, late), []
    else:
        body, actions = _body(session, config, incident, nudge, late, escalated, duration_text(now - nudge.created_at))
    snooze = [Button(_(label), f"#{incident.id} snooze {nudge.id} {span}") for span, label in SNOOZES]
    return Message((head + body).spans, actions + snooze)


def _body(session, config, incident, nudge, late, escalated, waited) -> tuple[Message, list[Button]]:
    kind, subject, n = nudge.kind, nudge.subject, incident.id
    if kind == nudges.ROLE_ACK:
        role, _sep, holder = subject.partition(":")
        values = {"role": _role(config, role), "key": role, "person": person_name(config, holder), "late": late}
        if not escalated:
            words = _("you were given {role} and have not acknowledged it ({late} late). Clear it: `/crisis ack`")
            return fmt(words, **values), [Button(_("Ack"), f"#{n} ack", "primary")]
        if nudge.target.startswith("backup:"):
            words = _("{person} has not taken up {role} ({late} late). You are the backup: the commander may hand it to you.")
            return fmt(words, **values), []
        words = _("{person} has not acknowledged {role} ({late} late). Remind them, or `/crisis assign {key} @someone`.")
        return fmt(words, **values), []
    if kind == nudges.ROLE_UNFILLED:
        words = _("nobody holds {role}, required at {sev} ({late} late). Clear it: `/crisis assign {key} @someone`")
        return fmt(words, role=_role(config, subject), key=subject, sev=incident.severity, late=late), []
    if kind == nudges.TASK_OVERDUE:
        item = session.exec(select(ChecklistItem).where(ChecklistItem.incident_id == n, ChecklistItem.number == int(subject))).first()
        title = item.title if item else subject
        words = _("checklist item {n} “{title}” is overdue by {late}. Clear it: `/crisis done {n}`")
        return fmt(words, n=subject, title=title, late=late), [Button(_("Done"), f"#{n} done {subject}", "primary")]
    if kind == nudges.FIRST_STATEMENT:
        return _first_statement(config, incident, nudge, late, escalated)
    if kind == nudges.UPDATE_DUE:
        words = _("the status update promised for {at} is {late} late. Clear it: `/crisis update <text>`")
        return fmt(words, at=when(config, nudge.first_due_at), late=late), []
    if kind == nudges.APPROVAL_PENDING:
        version, _sep, role = subject.partition(":")
        values = {"version": version, "role": _role(config, role), "late": late, "waited": waited}
        if escalated and not nudge.target.startswith("backup:"):
            words = _("{version} still lacks the approval of {role} ({late} late). Chase it, or agree with the team who can give it.")
            return fmt(words, **values), []
        words = (
            _("{version} still lacks the approval of {role} ({late} late). As the backup you may give it: `/crisis approve {version}`")
            if escalated
            else _("{version} has waited {waited} for your approval as {role}. Clear it: `/crisis approve {version}` or reject it.")
        )
        buttons = [
            Button(_("Approve {version}").format(version=version), f"#{n} approve {version}", "primary"),
            Button(_("Reject {version}").format(version=version), f"#{n} reject {version}", "danger", _("reason")),
        ]
        return fmt(words, **values), buttons
    if kind == nudges.ACTION_DUE:
        action = _action(session, incident.id, subject)
        words = _("follow-up action {n} “{text}” is {late} late. Clear it: `/crisis done {key}`")
        values = {"n": subject.upper(), "text": action.text if action else "", "late": late, "key": subject}
        return fmt(words, **values), [Button(_("Done"), f"#{n} done {subject}", "primary")]
    if kind == nudges.REVIEW_DUE:
        words = _("the review meeting was due {at} ({late} late). Hold it, then close the incident: `/crisis close`")
        return fmt(words, at=when(config, nudge.first_due_at), late=late), []
    return fmt(_("{kind} is {late} late."), kind=kind, late=late), []


def _for_the_sponsor(session, config, incident, nudge, late) -> Message:
    """What the executive sponsor hears: what is late and that the owners were reminded, not a command they may not run."""
    kind, subject = nudge.kind, nudge.subject
    if kind == nudges.TASK_OVERDUE:
        item = session.exec(
            select(ChecklistItem).where(ChecklistItem.incident_id == incident.id, ChecklistItem.number == int(subject))
        ).first()
        what = fmt(_("checklist item {n} “{title}” is still open"), n=subject, title=item.title if item else subject)
    elif kind == nudges.UPDATE_DUE:
        what = fmt(_("the status update promised for {at} has not been posted"), at=when(config, nudge.first_due_at))
    elif kind == nudges.ROLE_UNFILLED:
        what = fmt(_("nobody holds {role}"), role=_role(config, subject))
    elif kind == nudges.REVIEW_DUE:
        what = text(_("the review meeting has not been held"))
    elif kind == nudges.ACTION_DUE:
        action = _action(session, incident.id, subject)
        what = fmt(_("follow-up action {n} “{text}” is still open"), n=subject.upper(), text=action.text if action else "")
    else:
        what = text(kind)
    return what + fmt(_(" ({late} late); the people responsible were reminded. You may want to step in."), late=late)


def _action(session, incident_id: int, subject: str):
    number = int(subject[1:]) if subject[1:].isdigit() else 0
    return session.exec(select(FollowUp).where(FollowUp.incident_id == incident_id, FollowUp.number == number)).first()


def _first_statement(config, incident, nudge, late, escalated) -> tuple[Message, list[Button]]:
    template = [Button(_("Holding statement template"), f"#{incident.id} template holding")]
    if nudge.subject == "warning":
        due = when(config, nudge.first_due_at + nudges.FIRST_STATEMENT_WARNING)
        words = _("the first approved statement is due at {at}, in 15 min. Start from `/crisis template holding`, then `/crisis draft`.")
        return fmt(words, at=due), template
    if escalated:
        words = _("still no approved statement, {late} after the golden-hour deadline. The team needs a decision on the line.")
        return fmt(words, late=late), []
    words = _("the first approved statement is {late} late. Draft it now (`/crisis template holding`), approvers: `/crisis approve`.")
    return fmt(words, late=late), template
