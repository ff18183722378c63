"""Follow-up actions as other features see them (PRODUCT.md §6): `done a<n>` marks one, and `close` asks whether the
review is complete; the verbs that add and list them are in lessons.py."""

import re

from sqlmodel import Session, select

from handlers.core.cleaning import keyword
from handlers.core.context import Context
from handlers.core.errors import Refusal
from handlers.nudges import kinds
from handlers.nudges import schedule as nudges
from handlers.nudges.subjects import Action
from handlers.text.i18n import _
from handlers.text.markup import Message, fmt
from storage.models import FollowUp, Lesson

_ACTION_NUMBER = re.compile(r"^[aA](\d{1,6})$")


def action_number(word: str) -> int | None:
    """'a3' or 'A3' → 3."""
    match = _ACTION_NUMBER.match(keyword(word))
    return int(match.group(1)) if match else None


def owns(ctx: Context, number: int) -> bool:
    """Whether the actor owns follow-up action `number` of the incident."""
    owner = ctx.session.exec(select(FollowUp.owner).where(FollowUp.incident_id == ctx.incident.id, FollowUp.number == number)).first()
    return owner == ctx.actor.key


def mark_action_done(ctx: Context, number: int) -> Message:
    """`done a<n>`: by its owner or a participant, also after the incident is closed."""
    action = ctx.session.exec(select(FollowUp).where(FollowUp.incident_id == ctx.incident.id, FollowUp.number == number)).first()
    if action is None:
        raise Refusal(fmt(_("#{id} has no action A{n}; `/crisis actions` lists them."), id=ctx.incident.id, n=number))
    if action.state == "done":
        raise Refusal(fmt(_("Action A{n} is already done."), n=number))
    action.state, action.done_at = "done", ctx.now
    ctx.session.add(action)
    nudges.clear(ctx.session, ctx.incident.id, kinds.ACTION_DUE, Action(number))
    ctx.log("action_done", action.text, number=number)
    return ctx.announce(fmt(_("☑ Action A{n} done by {who}: {text}"), n=number, who=ctx.actor.name, text=action.text))


def review_gaps(session: Session, incident_id: int) -> list[str]:
    """What the review still lacks before `close` (none: it is complete)."""
    gaps = []
    if not session.exec(select(Lesson.id).where(Lesson.incident_id == incident_id)).first():
        gaps.append(_("no lesson yet"))
    return gaps
