"""Press inquiries (PRODUCT.md §10): `inquiry` logs a journalist's question with its deadline, `inquiries` lists them,
`answer q<n>` answers one with the approved line (e-mailed when it came with an address) or declines it with a reason."""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from pydantic_core import PydanticCustomError
from sqlmodel import col, func, select

from config.model import mail_address
from handlers.core.cleaning import keyword
from handlers.core.context import Context
from handlers.core.effects import Mail
from handlers.core.errors import Refusal, UsageError
from handlers.core.grammar import duration, is_word, leading, looks_like_duration
from handlers.core.permissions import acts_as
from handlers.core.verbs import ANYONE, verb
from handlers.line import signatures, versions
from handlers.line.headline import mail_subject
from handlers.nudges import kinds
from handlers.nudges import schedule as nudges
from handlers.nudges.subjects import Question
from handlers.text.formatting import duration_text, person_name, role_name, when
from handlers.text.i18n import N_, _
from handlers.text.markup import Message, fmt, lines
from storage.models import Inquiry, Outbox, Statement

OWNER = "spokesperson"  # who answers the press; the commander hears when it is late
ANSWERERS = ("spokesperson", "comms", "commander")
_NUMBER = re.compile(r"^q(\d{1,6})$")
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})$")
# Meant as a deadline, right or wrong: a time of day (25:00, 9:5, 9pm) or a date (1999-01-01), where only 17:30 is read.
_TIME_LIKE = re.compile(r"^\d{1,2}[:：]\d{1,2}$|^\d{1,2}(?:[:：]\d{2})?(?:am|pm)$|^\d{4}-\d{1,2}-\d{1,2}$")
LONGEST_QUESTION = 2000
LONGEST_OUTLET = 120
LONGEST_REASON = 500


def inquiry_number(word: str) -> int | None:
    """'q3' or 'Q3' → 3."""
    match = _NUMBER.match(keyword(word))
    return int(match.group(1)) if match else None


def approved_version(ctx: Context, word: str | None) -> Statement:
    """The current approved version, or the one named (`v3`), which must be it; refused otherwise."""
    current = versions.current_line(ctx.session, ctx.incident.id)
    if word is not None and versions.parse_version(word) is None:
        raise UsageError(fmt(_("“{word}” is not a version: write it as v3."), word=word[:20]))
    if current is None:
        raise Refusal(
            fmt(_("#{id} has no approved line yet: nothing may go out. Propose one with `/crisis draft <text>`."), id=ctx.incident.id)
        )
    if word is not None and versions.parse_version(word) != current.version:
        raise Refusal(
            fmt(_("{word} is not the approved line; v{n} is. Only the approved line goes out."), word=word[:12], n=current.version)
        )
    signatures.refuse_unsigned(ctx.session, ctx.config, ctx.incident, current)  # notify and answer wait for it as publish does
    return current


def _clock_time(ctx: Context, word: str) -> datetime:
    """`due 17:30`: the next 17:30 in the team's timezone (today, or tomorrow once it has passed)."""
    match = _CLOCK.match(keyword(word).replace("：", ":"))
    if match is None or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise UsageError(fmt(_("“{value}” is not a time of day: write it as 17:30, or give a span: `in 2h`."), value=word[:20]))
    zone = ZoneInfo(ctx.config.timezone)
    local = ctx.now.astimezone(zone)
    due = local.replace(hour=int(match.group(1)), minute=int(match.group(2)), second=0, microsecond=0)
    return due if due > local else due + timedelta(days=1)


def _options(ctx: Context, text: str) -> tuple[datetime | None, str | None, str]:
    """The deadline and address right after the outlet (in either order), and the question: a "due", "in" or "email"
    anywhere else, or not followed by a time, span or address, is part of the question."""
    due_at: datetime | None = None
    email: str | None = None
    while True:
        words, rest = leading(text, 2)
        if len(words) < 2:
            return due_at, email, text.strip()
        if due_at is None and is_word(words[0], "due") and _TIME_LIKE.match(keyword(words[1]).replace("：", ":")):
            due_at = _clock_time(ctx, words[1])
        elif due_at is None and is_word(words[0], "in") and looks_like_duration(words[1]):
            due_at = ctx.now + duration(words[1])
        elif email is None and is_word(words[0], "email", "e-mail") and "@" in words[1]:
            try:
                email = mail_address(words[1])
            except PydanticCustomError:
                raise UsageError(fmt(_("“{value}” is not an e-mail address."), value=words[1][:80])) from None
        else:
            return due_at, email, text.strip()
        text = rest


MAIL_OUTCOMES = {"sent": N_("e-mail delivered"), "failed": N_("e-mail refused")}


def mail_outcome(state: str | None) -> str:
    """What became of a queued e-mail, by its outbox row's state (anything not settled is pending)."""
    return _(MAIL_OUTCOMES.get(state or "", N_("e-mail pending")))


@verb(
    "inquiry",
    usage=N_("<outlet> [due <17:30> | in <2h>] [email <address>] <question>"),
    summary=N_("Log a press inquiry: the outlet, its deadline and the question; the spokesperson owns it."),
    who=(ANYONE,),
)
def log_inquiry(ctx: Context) -> Message:
    """Log `Q<n>`; with a deadline, the spokesperson is reminded once it passes, then the commander."""
    first, rest = leading(ctx.args, 1)
    if not first:
        raise UsageError(_("Name the outlet, then the question."))
    outlet = first[0]
    if len(outlet) > LONGEST_OUTLET:
        raise UsageError(fmt(_("The outlet's name is too long: at most {n} characters, in one word."), n=LONGEST_OUTLET))
    due_at, email, question = _options(ctx, rest)
    if not question:
        raise UsageError(_("Write the journalist's question after the outlet."))
    if len(question) > LONGEST_QUESTION:
        raise UsageError(fmt(_("The question is too long: at most {n} characters."), n=LONGEST_QUESTION))
    number = (ctx.session.exec(select(func.max(Inquiry.number)).where(Inquiry.incident_id == ctx.incident.id)).one() or 0) + 1
    ctx.session.add(
        Inquiry(
            incident_id=ctx.incident.id,
            number=number,
            outlet=outlet,
            question=question,
            email=email,
            due_at=due_at,
            owner=OWNER,
            created_by=ctx.actor.key,
            created_at=ctx.now,
        )
    )
    if due_at is not None:
        nudges.schedule(ctx.session, ctx.incident.id, kinds.INQUIRY_OVERDUE, f"role:{OWNER}", due_at, ctx.now, subject=Question(number))
    ctx.log("inquiry", question, number=number, outlet=outlet, due=due_at.isoformat() if due_at else None, email=bool(email))
    ctx.refresh_card()
    due = fmt(_(", due {at}"), at=when(ctx.config, due_at, ctx.now)) if due_at else Message()
    said = fmt(_("📰 Q{n} from {outlet} logged for the spokesperson"), n=number, outlet=outlet) + due + fmt(": “{q}”", q=question)
    hint = fmt(_("Answer it with the approved line: `/crisis answer q{n}`, or `/crisis answer q{n} declined <reason>`."), n=number)
    return ctx.announce(lines(said, hint))


@verb("inquiries", summary=N_("The press inquiries: deadlines, owners and answers."), who=(ANYONE,), changes=False)
def list_inquiries(ctx: Context) -> Message:
    """Every inquiry of the incident, oldest first, with its state."""
    rows = ctx.session.exec(select(Inquiry).where(Inquiry.incident_id == ctx.incident.id).order_by(col(Inquiry.number))).all()
    if not rows:
        return fmt(_("#{id} has no press inquiries yet: `/crisis inquiry <outlet> in 2h <question>`."), id=ctx.incident.id)
    return lines(fmt(_("**Press inquiries of #{id}**"), id=ctx.incident.id), *(_row(ctx, row) for row in rows))


def _row(ctx: Context, row: Inquiry) -> Message:
    head = fmt("`Q{n}` {outlet}: “{q}”", n=row.number, outlet=row.outlet, q=row.question)
    by = person_name(ctx.config, row.answered_by)
    if row.state == "answered":
        state = _("answered with v{v} by {who} at {at}").format(v=row.version, who=by, at=when(ctx.config, row.answered_at, ctx.now))
        if row.outbox_id is not None:  # the e-mail to the journalist: what its delivery made of it
            sent = ctx.session.get(Outbox, row.outbox_id)
            mailed = mail_outcome(sent.state if sent else None)
            state = f"{state}, {mailed}"
    elif row.state == "declined":
        state = _("declined by {who} at {at}: {reason}").format(who=by, at=when(ctx.config, row.answered_at, ctx.now), reason=row.reason)
    elif row.due_at is None:
        state = _("open, no deadline")
    elif row.due_at >= ctx.now:
        state = _("open, due {at} ({span} left)").format(at=when(ctx.config, row.due_at, ctx.now), span=duration_text(row.due_at - ctx.now))
    else:
        state = _("open, overdue since {at} ({span})").format(
            at=when(ctx.config, row.due_at, ctx.now), span=duration_text(ctx.now - row.due_at)
        )
    return head + fmt(" · {state}", state=state)


def _mail_given_up(ctx: Context, row: Inquiry) -> bool:
    sent = ctx.session.get(Outbox, row.outbox_id) if row.state == "answered" and row.outbox_id is not None else None
    return sent is not None and sent.state == "failed"


def answer_inquiry(ctx: Context, number: int, rest: str) -> Message:
    """`answer q<n> [vN]` or `answer q<n> declined <reason>`: by the spokesperson, the content lead or the commander."""
    if not acts_as(ctx, ANSWERERS):
        roles = ", ".join(role_name(ctx.config, r) for r in ANSWERERS if r in ctx.config.team.roles)
        raise Refusal(fmt(_("Only {who} may answer a press inquiry in incident #{id}."), who=roles, id=ctx.incident.id))
    row = ctx.session.exec(select(Inquiry).where(Inquiry.incident_id == ctx.incident.id, Inquiry.number == number)).first()
    if row is None:
        raise Refusal(fmt(_("#{id} has no press inquiry Q{n}; `/crisis inquiries` lists them."), id=ctx.incident.id, n=number))
    if row.state != "open" and not _mail_given_up(ctx, row):  # an answer whose e-mail was given up may be sent again
        done = _("Q{n} was already answered by {who}.") if row.state == "answered" else _("Q{n} was already declined by {who}.")
        raise Refusal(fmt(done, n=number, who=person_name(ctx.config, row.answered_by)))
    words, reason = leading(rest, 1)
    if words and is_word(words[0], "declined", "decline"):
        if not reason:
            raise UsageError(_("Say why it is declined: `answer q1 declined <reason>`."))
        if len(reason) > LONGEST_REASON:
            raise UsageError(fmt(_("The reason is too long: at most {n} characters."), n=LONGEST_REASON))
        row.state, row.reason = "declined", reason
        said = fmt(
            _("🚫 Q{n} from {outlet} declined by {who}: {reason}"), n=number, outlet=row.outlet, who=ctx.actor.name, reason=row.reason
        )
    else:
        if len(rest.split()) > 1:
            raise UsageError(_("After the inquiry give only the version (`answer q1 v3`), or `declined <reason>`."))
        statement = approved_version(ctx, words[0] if words else None)
        row.state, row.version = "answered", statement.version
        values = {"n": number, "outlet": row.outlet, "v": statement.version, "who": ctx.actor.name, "to": row.email or ""}
        if row.email and not ctx.incident.drill:
            queued = ctx.emit(
                "mail", Mail(to=row.email, subject=mail_subject(statement, ctx.config), body=statement.text, statement_id=statement.id)
            )
            ctx.session.flush()  # its id: the answer's outcome is read from it
            row.outbox_id = queued.id
            said = fmt(_("✉ Q{n} from {outlet} answered with v{v} by {who}; e-mailed to {to}."), **values)
        elif row.email:
            said = fmt(_("🧪 DRILL: Q{n} from {outlet} answered with v{v} by {who}; the e-mail to {to} was not sent."), **values)
        else:
            said = fmt(_("✉ Q{n} from {outlet} answered with v{v} by {who}."), **values)
    row.answered_by, row.answered_at = ctx.actor.key, ctx.now
    ctx.session.add(row)
    nudges.clear(ctx.session, ctx.incident.id, kinds.INQUIRY_OVERDUE, Question(number))
    ctx.log("inquiry_" + row.state, row.reason or "", number=number, outlet=row.outlet, version=row.version)
    ctx.refresh_card()
    return ctx.announce(said)
