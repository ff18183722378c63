"""Drill injects: scripted events posted into the drill room on the minute, and `answer` to record the team's response."""

import re
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from config.durations import parse_duration
from config.model import Config
from handlers.core.context import Context, Deps, in_every_room
from handlers.core.effects import Post
from handlers.core.errors import Refusal, UsageError
from handlers.core.grammar import leading
from handlers.core.verbs import PARTICIPANT, verb
from handlers.desk import inquiries
from handlers.nudges.subjects import Inject
from handlers.signals import buckets
from handlers.text.formatting import duration_text, when
from handlers.text.i18n import N_, _
from handlers.text.labels import INJECT_KIND, label
from handlers.text.markup import Button, Message, fmt, lines, text
from storage.models import DrillInject, Incident, TimelineEvent

_NUMBER = re.compile(r"^[iI](\d{1,4})$")


def _local(value: object, language: str) -> str:
    """A stored text: the same in every language, or {en: …, zh: …}."""
    if isinstance(value, dict):
        return str(value.get(language) or value.get("en") or "")
    return str(value or "")


def render(config: Config, incident: Incident, row: DrillInject) -> Message:
    """The inject as the room sees it: clearly a drill, who says what, and how to record the answer."""
    content, language = row.content, config.language
    head = fmt(
        _("🧪 **DRILL INJECT I{n}** · #{id} · +{offset} · {kind}"),
        n=row.number,
        id=incident.id,
        offset=duration_text(row.due_at - incident.declared_at),
        kind=label(INJECT_KIND, row.kind),
    )
    details = []
    if content.get("deadline"):
        details.append(_("deadline in {span}").format(span=duration_text(parse_duration(content["deadline"]))))
    if content.get("reach") is not None:
        details.append(_("reach {count}").format(count=f"{content['reach']:,}"))
    source = fmt("**{source}**", source=_local(content.get("source"), language))
    if details:
        source = source + text(" · " + " · ".join(details))
    within = duration_text(timedelta(seconds=row.answer_within))
    how = fmt(_("Answer it as you would for real, within {span}; then record it: `/crisis answer i{n} <how>`"), span=within, n=row.number)
    answered = Message(buttons=[Button(_("Answered"), f"#{incident.id} answer i{row.number}", "primary")])
    return lines(head, source, fmt("“{text}”", text=_local(content.get("text"), language)), how, answered)


def deliver(session: Session, deps: Deps, incident: Incident, inject: Inject, now: datetime) -> None:
    """Post a due inject in the drill room (once) and put its arrival on the timeline."""
    number = inject.n
    row = session.exec(select(DrillInject).where(DrillInject.incident_id == incident.id, DrillInject.number == number)).first()
    if row is None or row.posted_at is not None:
        return
    row.posted_at = now
    session.add(row)
    message = render(deps.config, incident, row)
    in_every_room(session, incident.id, now, Post(message))
    if row.content.get("volume") is not None or row.content.get("sentiment") is not None:  # §7: the drill rehearses the reaction too
        buckets.record(session, incident, row.content.get("volume"), row.content.get("sentiment"), now)
    session.add(
        TimelineEvent(
            incident_id=incident.id, at=now, actor="onevoice", kind="inject", text=f"I{number}", data={"number": number, "inject": row.kind}
        )
    )


@verb(
    "answer",
    usage=N_("q<n> [vN | declined <reason>] | i<n> [how]"),
    summary=N_("Answer a press inquiry with the approved line (or decline it); in a drill, record how an inject was answered."),
    who=(PARTICIPANT,),
)
def answer(ctx: Context) -> Message:
    """Record the answer to an inject: its time counts on the scorecard."""
    first, rest = leading(ctx.args, 1)
    if first and (inquiry := inquiries.inquiry_number(first[0])) is not None:
        return inquiries.answer_inquiry(ctx, inquiry, rest)  # a press inquiry (PRODUCT.md §10), drill or not
    incident = ctx.incident
    words = ctx.args.split(maxsplit=1)
    if not incident.drill and not (words and _NUMBER.match(words[0])):
        raise UsageError(_("Name the press inquiry as shown on it, e.g. `q2`; `/crisis inquiries` lists them."))
    if not incident.drill:
        raise Refusal(fmt(_("#{id} is not a drill: it has no injects to answer."), id=incident.id))
    match = _NUMBER.match(words[0]) if words else None
    if match is None:
        raise UsageError(_("Name the inject as shown on it, e.g. `i2`."))
    number = int(match.group(1))
    rows = ctx.session.exec(select(DrillInject).where(DrillInject.incident_id == incident.id).order_by(col(DrillInject.number))).all()
    row = next((r for r in rows if r.number == number), None)
    if row is None:
        raise Refusal(fmt(_("#{id} has no inject I{n}; its injects are I1 to I{last}."), id=incident.id, n=number, last=len(rows)))
    if row.posted_at is None:
        raise Refusal(fmt(_("Inject I{n} has not arrived yet: it is due {at}."), n=number, at=when(ctx.config, row.due_at, ctx.now)))
    if row.answered_at is not None:
        raise Refusal(fmt(_("Inject I{n} was already answered by {who}."), n=number, who=ctx.name(row.answered_by)))
    how = words[1].strip() if len(words) > 1 else ""
    row.answered_at, row.answered_by, row.answer = ctx.now, ctx.actor.key, how or None
    ctx.session.add(row)
    took = ctx.now - row.posted_at
    ctx.log("inject_answered", how, number=number, inject=row.kind, seconds=int(took.total_seconds()))
    message = fmt(
        _("🧪 I{n} ({kind}) answered by {who} after {span}."),
        n=number,
        kind=label(INJECT_KIND, row.kind),
        who=ctx.actor.name,
        span=duration_text(took),
    )
    return ctx.announce(lines(message, text(how)))
