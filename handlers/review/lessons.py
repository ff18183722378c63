"""Learning from the crisis: lessons, follow-up actions tracked until done, and whether the review is complete."""

from datetime import datetime, time
from zoneinfo import ZoneInfo

from sqlmodel import col, func, select

from handlers.core.cleaning import keyword
from handlers.core.context import Context, in_every_room
from handlers.core.effects import Report
from handlers.core.errors import UsageError
from handlers.core.grammar import due_day, duration, is_word, leading, trailing
from handlers.core.people import is_mention, resolve_person
from handlers.core.verbs import ANYONE, PARTICIPANT, verb
from handlers.nudges import kinds
from handlers.nudges import schedule as nudges
from handlers.nudges.subjects import Action
from handlers.review import report
from handlers.review.actions import action_number, mark_action_done, owns, review_gaps  # noqa: F401  (moved to actions.py)
from handlers.text.formatting import when
from handlers.text.i18n import N_, _
from handlers.text.markup import Button, Message, fmt, lines
from storage.models import FollowUp, Lesson

DUE_HOUR = time(18, 0)  # a due date means the end of that working day, in the team's timezone


@verb("lesson", usage=N_("[+|-] <text>"), summary=N_("Add a lesson to the review: + went well, - to improve."), who=(PARTICIPANT,))
def add_lesson(ctx: Context) -> Message:
    """Record what went well (+) or what to improve (- , the default)."""
    first, rest = leading(ctx.args, 1)
    kind, body = "to_improve", ctx.args.strip()
    if is_word(first[0] if first else None, "+", "-"):
        kind = "went_well" if keyword(first[0]) == "+" else "to_improve"
        body = rest
    if not body:
        raise UsageError(_("Write the lesson after the verb."))
    ctx.session.add(Lesson(incident_id=ctx.incident.id, kind=kind, text=body, author=ctx.actor.key, at=ctx.now))
    ctx.log("lesson", body, sort=kind)
    label = _("went well") if kind == "went_well" else _("to improve")
    return fmt(_("Lesson added to the review of #{id} ({kind})."), id=ctx.incident.id, kind=label)


@verb(
    "action",
    usage=N_("<text> @person [due <date|in 3d>]"),
    summary=N_("Add a follow-up action with an owner; it is tracked until done."),
    who=(PARTICIPANT,),
)
def add_action(ctx: Context) -> Message:
    """A follow-up action: its owner is reminded when it falls due, until it is done."""
    body, due_at = _due(ctx, ctx.args.strip())
    body, owner_word = trailing(body, 1)
    owners = [word for word in (*body.split(), *owner_word) if is_mention(word)]
    if not owner_word or not is_mention(owner_word[0]) or len(owners) != 1:
        raise UsageError(_("Name exactly one owner, as @name."))
    owner = resolve_person(ctx, owner_word[0]).key
    if not body:
        raise UsageError(_("Say what is to be done."))
    number = (ctx.session.exec(select(func.max(FollowUp.number)).where(FollowUp.incident_id == ctx.incident.id)).one() or 0) + 1
    action = FollowUp(
        incident_id=ctx.incident.id,
        number=number,
        text=body[:500],
        owner=owner,
        due_at=due_at,
        created_by=ctx.actor.key,
        created_at=ctx.now,
    )
    ctx.session.add(action)
    if due_at is not None:
        nudges.schedule(ctx.session, ctx.incident.id, kinds.ACTION_DUE, f"person:{owner}", due_at, ctx.now, subject=Action(number))
    ctx.log("action", action.text, number=number, owner=owner, due=due_at.isoformat() if due_at else None)
    ctx.dm(
        owner,
        lines(
            fmt(
                _("{by} gave you a follow-up action from #{id}: A{n} “{text}”, due {at}."),
                by=ctx.actor.name,
                id=ctx.incident.id,
                n=number,
                text=action.text,
                at=when(ctx.config, due_at, ctx.now),
            ),
            Message(buttons=[Button(_("Done"), f"#{ctx.incident.id} done a{number}", "primary")]),
        ),
    )
    return fmt(_("Action A{n} for {owner}, due {at}."), n=number, owner=ctx.name(owner), at=when(ctx.config, due_at, ctx.now))


def _due(ctx: Context, body: str) -> tuple[str, datetime | None]:
    """Take `due 2026-03-20` or `due in 3d` after the owner off the text; a "due" inside the text is text."""
    head, tail = trailing(body, 4)
    if len(tail) == 4 and is_mention(tail[0]) and is_word(tail[1], "due") and is_word(tail[2], "in"):
        return f"{head} {tail[0]}", ctx.now + duration(tail[3])
    head, tail = trailing(body, 3)
    if len(tail) == 3 and is_mention(tail[0]) and is_word(tail[1], "due"):
        zone = ZoneInfo(ctx.config.timezone)
        day = due_day(tail[2], ctx.now.astimezone(zone).date())
        return f"{head} {tail[0]}", datetime.combine(day, DUE_HOUR, tzinfo=zone)
    head, tail = trailing(body, 2)
    if len(tail) == 2 and is_mention(tail[0]) and is_word(tail[1], "due"):
        raise UsageError(_("Give the due date as YYYY-MM-DD or as `in 3d`."))
    return body, None


@verb("actions", summary=N_("Follow-up actions and their state."), who=(ANYONE,), changes=False)
def list_actions(ctx: Context) -> Message:
    """Every follow-up action of the incident, open ones first."""
    rows = ctx.session.exec(
        select(FollowUp).where(FollowUp.incident_id == ctx.incident.id).order_by(col(FollowUp.state).desc(), col(FollowUp.number))
    ).all()
    if not rows:
        return fmt(_("#{id} has no follow-up actions yet: `/crisis action <text> @person due in 3d`."), id=ctx.incident.id)
    shown = [
        fmt(
            "{mark} `A{n}` {text} · {owner} · {due}",
            mark="☑" if a.state == "done" else "☐",
            n=a.number,
            text=a.text,
            owner=ctx.name(a.owner),
            due=when(ctx.config, a.due_at, ctx.now),
        )
        for a in rows
    ]
    return lines(fmt(_("**Follow-up actions of #{id}**:"), id=ctx.incident.id), *shown)


@verb("review", summary=N_("The review report: its figures here, the full report as Markdown and HTML files."), changes=False)
def review_report(ctx: Context) -> Message:
    """Post the short review to the room; the bot writes the report files on delivery and says where (PRODUCT.md §6)."""
    review = report.gather(ctx.session, ctx.config, ctx.incident.id, ctx.now)
    assert review is not None  # gathered for the incident this verb runs in
    message = report.summary(review, ctx.config)
    # The room post (with the files' place) answers it.
    ctx.announced = bool(in_every_room(ctx.session, ctx.incident.id, ctx.now, Report(message)))
    return message
