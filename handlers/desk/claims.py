"""The claims (rumour) log, PRODUCT.md §10: claim, claims, verify, rebut."""

import dataclasses
import re

from sqlalchemy import func
from sqlmodel import col, select

from config.model import OPEN_PHASES
from handlers.core.cleaning import keyword
from handlers.core.context import Context
from handlers.core.effects import Edit
from handlers.core.errors import Refusal, UsageError
from handlers.core.grammar import is_word, leading, trailing
from handlers.core.permissions import check_permission
from handlers.core.verbs import ANYONE, PARTICIPANT, verb
from handlers.desk import claimlog, tracking
from handlers.line import versions
from handlers.line.states import APPROVED, SUPERSEDED
from handlers.signals.triage import numbered, triage_message
from handlers.text.formatting import when
from handlers.text.i18n import N_, _
from handlers.text.markup import Message, fmt, lines, text
from storage.models import Claim, Incident, Outbox, Signal, Statement

MAX_TEXT = 500
_URL = re.compile(r"^https?://\S{1,990}$")
_REACH = re.compile(r"^([0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.([0-9]+))?([km]?)$")  # commas only between thousands: 1,2,3 is a typo
_NUMBER_LIKE = re.compile(r"^[-+]?[0-9.]")  # meant as a reach, right or wrong; "reach far" or "reach https://…" is text
_REF = re.compile(r"^c([1-9][0-9]{0,8})$")


def parse_reach(word: str) -> int:
    """'12000', '12,000', '12k', '1.5m' → people; anything else meant as a number is refused."""
    typed = keyword(word)
    match = _REACH.match(typed) if typed.isascii() else None
    whole = match.group(1).replace(",", "") if match else ""
    if not match or not whole or len(whole) > 13:
        raise UsageError(fmt(_("“{value}” is not a reach: give a whole number of people, such as 12000 or 12k."), value=word[:20]))
    scale = {"": 1, "k": 1_000, "m": 1_000_000}[match.group(3)]
    figure = int((int(whole) + float(f"0.{match.group(2)}" if match.group(2) else 0)) * scale)
    if match.group(2) and scale == 1:
        raise UsageError(fmt(_("“{value}” is not a reach: give a whole number of people, such as 12000 or 12k."), value=word[:20]))
    if figure > claimlog.MOST_REACH:
        raise UsageError(fmt(_("“{value}” is more people than there are; check the reach."), value=word[:20]))
    return figure


def parse_ref(ctx: Context, word: str | None) -> Claim:
    """The claim `c<n>` names in this incident."""
    typed = keyword(word or "")
    match = _REF.match(typed) if typed.isascii() else None
    if match is None:
        raise UsageError(fmt(_("Name the claim as c<n>, such as c1, not “{word}”."), word=(word or "")[:20]))
    claim = claimlog.find(ctx.session, ctx.incident.id, int(match.group(1)))
    if claim is None:
        raise Refusal(fmt(_("#{id} has no claim C{n}. Type `/crisis claims` for the list."), id=ctx.incident.id, n=match.group(1)))
    return claim


def _split(args: str) -> tuple[str, str | None, int | None]:
    """The claim's words, then its link and reach where the grammar puts them: `<text> [url] [reach <n>]`."""
    reach = None
    head, tail = trailing(args, 2)
    if len(tail) == 2 and is_word(tail[0], "reach") and _NUMBER_LIKE.match(keyword(tail[1])):
        reach, args = parse_reach(tail[1]), head
    head, tail = trailing(args, 1)
    url = tail[0] if tail and _URL.match(tail[0]) else None
    return (head if url else args), url, reach


def _track_from_signal(ctx: Context, number: str) -> tuple[str, str | None, int, Signal]:
    """The Track-as-claim button: the signal's title, link and volume, on the incident it belongs to."""
    signal = numbered(ctx.session, number)
    if ctx.found is None:
        ctx.found = _incident_of(ctx, signal)
    if ctx.incident.drill:
        raise Refusal(fmt(_("#{id} is a drill: its reaction comes from its injects, never from real signals."), id=ctx.incident.id))
    tracked = ctx.session.exec(select(Claim).where(Claim.incident_id == ctx.incident.id, Claim.signal_id == signal.id)).first()
    if tracked is not None:
        raise Refusal(fmt(_("Signal {n} is tracked already, as C{c} in #{id}."), n=signal.id, c=tracked.number, id=ctx.incident.id))
    return signal.title, signal.url, int(signal.volume or 0), signal


def _incident_of(ctx: Context, signal: Signal) -> Incident:
    """The signal's own incident while it is open; else the one open incident; refused when there is none, or several."""
    own = ctx.session.get(Incident, signal.incident_id) if signal.incident_id else None
    if own is not None and own.phase in OPEN_PHASES:
        return own
    query = select(Incident).where(col(Incident.phase).in_(OPEN_PHASES), col(Incident.drill).is_(False))
    open_ones = list(ctx.session.exec(query.order_by(col(Incident.id)).limit(2)))
    if not open_ones:
        raise Refusal(fmt(_("No incident is open, so signal {n} cannot be tracked as a claim. Declare one first."), n=signal.id))
    if len(open_ones) > 1:
        raise Refusal(fmt(_("Several incidents are open: track it in one of them with `/crisis #<id> claim --signal {n}`."), n=signal.id))
    return open_ones[0]


@verb(
    "claim",
    usage=N_("<text> [url] [reach <n>]"),
    summary=N_("Log a circulating claim (a rumour) as C<n>, with its link and reach."),
    who=(PARTICIPANT,),
    needs_incident=False,  # the Track-as-claim button is pressed in the triage room: the signal names the incident
    who_label=N_("participants of the incident (role holders and the declarer)"),
)
def claim(ctx: Context) -> Message:
    """Register a claim, typed or tracked from a signal's triage post."""
    flag, rest = leading(ctx.args, 2)
    signal, reach = None, None
    if is_word(flag[0] if flag else None, "--signal"):
        words, url, volume, signal = _track_from_signal(ctx, flag[1] if len(flag) > 1 else "")
        reach = volume
        if rest:
            raise UsageError(fmt(_("Unexpected “{word}”."), word=rest[:40]))
    else:
        if ctx.found is None:
            raise Refusal(_("A claim belongs to an incident: type it in the incident's room, or name it first: `/crisis #12 claim …`"))
        words, url, reach = _split(ctx.args)
    if ctx.incident.phase == "closed":
        raise Refusal(fmt(_("Incident #{id} is closed; nothing more can change there."), id=ctx.incident.id))
    check_permission(ctx, dataclasses.replace(claim.verb, needs_incident=True))
    if not words:
        raise UsageError(_("Say what the claim is."))
    if len(words) > MAX_TEXT:
        raise UsageError(fmt(_("A claim is at most {limit} characters; this one is {size}."), limit=MAX_TEXT, size=len(words)))
    number = ctx.session.exec(select(func.coalesce(func.max(Claim.number), 0)).where(Claim.incident_id == ctx.incident.id)).one() + 1
    row = Claim(incident_id=ctx.incident.id, number=number, text=words, url=url, reach=reach or 0, by=ctx.actor.key, created_at=ctx.now)
    row.signal_id = signal.id if signal else None
    ctx.session.add(row)
    ctx.session.flush()
    ctx.log("claim", f"C{number}", claim=number, words=words, url=url, reach=row.reach, signal=row.signal_id)
    if signal is not None:
        _tell_triage(ctx, signal, number)
    ctx.refresh_card()
    header = fmt(_("🗣 **C{n}** logged by {who}: “{text}”"), n=number, who=ctx.actor.name, text=words)
    details = fmt(_("Reach {reach}. Verify it: `/crisis verify c{n} true|false|partly|unknown [note]`"), reach=f"{row.reach:,}", n=number)
    return ctx.announce(lines(header, text(url or ""), details))


def _tell_triage(ctx: Context, signal: Signal, number: int) -> None:
    """The triage post says where its signal went, and loses its Track button."""
    message = lines(triage_message(ctx.config, signal), fmt(_("Tracked as C{n} in #{id}."), n=number, id=ctx.incident.id))
    message.buttons = [b for b in message.buttons if b.command != f"claim --signal {signal.id}"]
    for outbox_id in signal.posts:
        posted = ctx.session.get(Outbox, outbox_id)
        if posted is not None:
            ctx.emit(posted.platform, Edit(message, ref=outbox_id))


def _where(ctx: Context, row: Claim) -> Message:
    """The claim's answer, and where that version went out."""
    if row.statement_id is None:
        return text(_("no answer yet"))
    version = ctx.session.get_one(Statement, row.statement_id).version
    out = claimlog.publications(ctx.session, row.statement_id)
    if not out:
        return fmt(_("answered with v{v}, not yet published"), v=version)
    places = ", ".join(dict.fromkeys(f"{p.target} {p.url}" if p.url else p.target for p in out))
    return fmt(_("answered with v{v}, published on {places}"), v=version, places=places)


def render_claim(ctx: Context, row: Claim) -> Message:
    """One line of the log: number, status, text, reach, answer and where it was published."""
    status = _(claimlog.STATUS_NAMES.get(row.status, row.status))
    head = fmt(_("**C{n}** [{status}] “{text}” — reach {reach}; "), n=row.number, status=status, text=row.text, reach=f"{row.reach:,}")
    extra = [text(row.url)] if row.url else []
    if row.note:
        extra.append(fmt(_("note: {note}"), note=row.note))
    return lines(head + _where(ctx, row), *extra)


@verb(
    "claims",
    summary=N_("The claims log: each claim with its status, reach, answer and where it was published."),
    who=(ANYONE,),
    changes=False,
)
def claims(ctx: Context) -> Message:
    """List the incident's claims."""
    rows = list(ctx.session.exec(select(Claim).where(Claim.incident_id == ctx.incident.id).order_by(col(Claim.number))))
    if not rows:
        return fmt(_("#{id} has no claims logged. Log one: `/crisis claim <text> [url] [reach <n>]`"), id=ctx.incident.id)
    still, unanswered = claimlog.counts(ctx.session, ctx.config, ctx.incident.id)
    header = fmt(
        _("Claims of #{id}: {open} open, {unanswered} false and unanswered"), id=ctx.incident.id, open=still, unanswered=unanswered
    )
    return lines(header, *(render_claim(ctx, row) for row in rows))


@verb(
    "verify",
    usage=N_("c<n> true|false|partly|unknown [note]"),
    summary=N_("Record what a claim turned out to be."),
    who=("commander", "legal", "comms", "monitor"),
)
def verify(ctx: Context) -> Message:
    """Set a claim's status (and note); a wide false claim starts its answer deadline."""
    words, note = leading(ctx.args, 2)
    row = parse_ref(ctx, words[0] if words else None)
    status = keyword(words[1]) if len(words) > 1 else None
    if status not in claimlog.STATUSES:
        raise UsageError(_("Give the status as true, false, partly or unknown."))
    if len(note) > MAX_TEXT:
        raise UsageError(fmt(_("A note is at most {limit} characters; this one is {size}."), limit=MAX_TEXT, size=len(note)))
    if status == "true" and row.statement_id is not None:
        raise Refusal(fmt(_("C{n} was rebutted with the line; a true claim cannot keep a rebuttal. Ask the commander."), n=row.number))
    row.status, row.note, row.verified_by, row.verified_at = status, note or row.note, ctx.actor.key, ctx.now
    ctx.session.add(row)
    ctx.log("verify", f"C{row.number}", claim=row.number, status=status, note=note or None)
    tracking.reconsider(ctx.session, ctx.config, ctx.incident, row, ctx.now)
    ctx.refresh_card()
    header = fmt(_("🔎 **C{n}** verified {status} by {who}."), n=row.number, status=_(claimlog.STATUS_NAMES[status]), who=ctx.actor.name)
    hint = Message()
    if claimlog.needs_answer(ctx.session, ctx.config, row):
        due = row.created_at + ctx.config.claims.within(ctx.incident.severity)
        hint = fmt(
            _("It needs a published answer by {at}: `/crisis rebut c{n}`, then publish."), at=when(ctx.config, due, ctx.now), n=row.number
        )
    return ctx.announce(lines(header, fmt(_("Note: {note}"), note=note) if note else Message(), hint))


@verb(
    "rebut",
    usage=N_("c<n> [vN]"),
    summary=N_("Answer a claim with an approved version of the line (the current one unless named)."),
    who=("comms", "commander", "spokesperson"),
)
def rebut(ctx: Context) -> Message:
    """Record the approved version that answers a claim; its publications are the claim's published answer."""
    words = ctx.args.split()
    row = parse_ref(ctx, words[0] if words else None)
    if len(words) > 2:
        raise UsageError(fmt(_("Unexpected “{word}”."), word=words[2][:40]))
    answer = _answer(ctx, words[1] if len(words) > 1 else None)
    if row.status == "true":
        raise Refusal(fmt(_("C{n} was verified true: it cannot be rebutted. Verify it again if that was a mistake."), n=row.number))
    if row.statement_id == answer.id:
        raise Refusal(fmt(_("C{n} is answered with v{v} already."), n=row.number, v=answer.version))
    row.statement_id, row.answered_by, row.answered_at = answer.id, ctx.actor.key, ctx.now
    ctx.session.add(row)
    ctx.session.flush()
    ctx.log("rebut", f"C{row.number}", claim=row.number, version=answer.version)
    out = claimlog.publications(ctx.session, answer.id)
    if out:
        tracking.answer_published(ctx.session, answer.id, ctx.now)
    else:
        tracking.reconsider(ctx.session, ctx.config, ctx.incident, row, ctx.now)
    ctx.refresh_card()
    header = fmt(_("🛡 **C{n}** answered with v{v} by {who}."), n=row.number, v=answer.version, who=ctx.actor.name)
    follow = Message() if out else fmt(_("v{v} is not published yet: `/crisis publish`."), v=answer.version)
    return ctx.announce(lines(header, _where(ctx, row), follow))


def _answer(ctx: Context, word: str | None) -> Statement:
    """The version named (it must have been approved), or the current line."""
    if word is None:
        current = versions.current_line(ctx.session, ctx.incident.id)
        if current is None:
            raise Refusal(
                fmt(_("#{id} has no approved line to answer with. Draft a rebuttal: `/crisis draft rebuttal <text>`."), id=ctx.incident.id)
            )
        return current
    number = versions.parse_version(word)
    if number is None:
        raise UsageError(fmt(_("Name the version as vN, such as v2, not “{word}”."), word=word[:20]))
    found = versions.find_version(ctx.session, ctx.incident.id, number)
    if found is None:
        raise Refusal(fmt(_("#{id} has no v{v}."), id=ctx.incident.id, v=word.lstrip("vV")[:12]))
    if found.state not in (APPROVED, SUPERSEDED):
        raise Refusal(fmt(_("v{v} was never approved, so it cannot answer a claim. Approve it first."), v=found.version))
    return found
