"""Telling the stakeholder lists (PRODUCT.md §10): `notify` e-mails the approved line and lists whom to call, `notified`
records a call or reply, `stakeholders` shows who has been told what, how, and against which deadline."""

from datetime import datetime

from sqlmodel import col, select

from config.model import Contact, StakeholderList
from handlers.core.cleaning import keyword
from handlers.core.context import Context
from handlers.core.effects import Mail
from handlers.core.errors import Refusal, UsageError
from handlers.core.grammar import leading
from handlers.core.verbs import ANYONE, verb
from handlers.desk.due import deadline_of, is_required, told_at
from handlers.desk.inquiries import approved_version, mail_outcome
from handlers.line import versions
from handlers.line.headline import mail_subject
from handlers.nudges import kinds
from handlers.nudges import schedule as nudges
from handlers.nudges.subjects import Audience
from handlers.text.formatting import duration_text, person_name, when
from handlers.text.i18n import N_, _
from handlers.text.markup import Message, fmt, lines
from storage.models import Outbox, StakeholderNotice

WHO = ("liaison", "spokesperson", "commander")
LONGEST_NOTE = 500


def _lists_text(ctx: Context) -> str:
    return ", ".join(f"{key} ({a.title.get(ctx.config.language)})" for key, a in ctx.config.stakeholders.items())


def _audience(ctx: Context, word: str | None) -> StakeholderList:
    """The list a word names (its key, case and full width ignored); refused with the lists there are."""
    if not ctx.config.stakeholders:
        raise Refusal(_("No stakeholder lists are configured: add them under `stakeholders:` in onevoice.yaml."))
    if not word:
        raise UsageError(fmt(_("Name a stakeholder list: {lists}."), lists=_lists_text(ctx)))
    audience = next((a for key, a in ctx.config.stakeholders.items() if keyword(key) == keyword(word)), None)
    if audience is None:
        raise UsageError(fmt(_("No stakeholder list “{name}”; the lists are: {lists}."), name=word[:40], lists=_lists_text(ctx)))
    return audience


def _notices(ctx: Context, key: str | None = None) -> list[StakeholderNotice]:
    query = select(StakeholderNotice).where(StakeholderNotice.incident_id == ctx.incident.id).order_by(col(StakeholderNotice.id))
    if key is not None:
        query = query.where(StakeholderNotice.list_key == key)
    return list(ctx.session.exec(query))


def _call_text(contacts: list[Contact]) -> str:
    return "; ".join(f"{c.name} ({c.phone})" for c in contacts)


@verb(
    "notify",
    usage=N_("<list> [vN]"),
    summary=N_("Send the approved line to a stakeholder list: e-mail to its addresses, and the numbers to call."),
    who=WHO,
)
def notify(ctx: Context) -> Message:
    """E-mail the approved version to each e-mail contact of a list (a drill only rehearses it) and list whom to call."""
    words = ctx.args.split()
    if len(words) > 2:
        raise UsageError(_("Give a list and, if you like, the version: `notify regulators v3`."))
    audience = _audience(ctx, words[0] if words else None)
    statement = approved_version(ctx, words[1] if len(words) > 1 else None)
    mailed = [c for c in audience.contacts if c.email]
    to_call = [c for c in audience.contacts if not c.email]
    sent = [n for n in _notices(ctx, audience.key) if n.version == statement.version and n.how in ("mail", "simulated")]
    failed = set(
        ctx.session.exec(select(Outbox.id).where(col(Outbox.id).in_([n.outbox_id for n in sent if n.outbox_id]), Outbox.state == "failed"))
    )
    already = {n.contact for n in sent if n.outbox_id not in failed}  # an e-mail given up may be sent again
    if mailed and all(c.name in already for c in mailed):
        raise Refusal(
            fmt(_("{title} already has v{n}; `/crisis stakeholders` shows how it went."), title=_title(ctx, audience), n=statement.version)
        )
    mailed = [c for c in mailed if c.name not in already]  # a contact added since gets it; nobody gets a version twice
    drill = ctx.incident.drill
    subject = mail_subject(statement, ctx.config)
    for contact in mailed:
        assert contact.email is not None  # the mailed contacts are those with an address
        row = None if drill else ctx.emit("mail", Mail(to=contact.email, subject=subject, body=statement.text, statement_id=statement.id))
        if row is not None:
            ctx.session.flush()  # its id, which the list's state reads back
        ctx.session.add(
            StakeholderNotice(
                incident_id=ctx.incident.id,
                list_key=audience.key,
                contact=contact.name,
                how="simulated" if drill else "mail",
                version=statement.version,
                outbox_id=row.id if row is not None else None,
                by=ctx.actor.key,
                at=ctx.now,
            )
        )
    names = [c.name for c in mailed]
    ctx.log(
        "notify", audience.key, list=audience.key, version=statement.version, mailed=names, call=[c.name for c in to_call], simulated=drill
    )
    if mailed:
        nudges.clear(ctx.session, ctx.incident.id, kinds.STAKEHOLDER_DEADLINE, Audience(audience.key))
    ctx.refresh_card()
    values = {"title": _title(ctx, audience), "n": statement.version, "names": ", ".join(names), "key": audience.key}
    if drill:
        said = fmt(_("🧪 DRILL: {title} would now get v{n} by e-mail ({names}). Nothing was sent outside."), **values)
    elif mailed:
        said = fmt(_("📨 {title}: v{n} e-mailed to {names}."), **values)
    else:
        said = fmt(_("{title} has nobody to e-mail."), **values)
    if to_call:
        call = fmt(
            _("To call: {people}. Then record each call: `/crisis notified {key} <contact> [note]`."),
            people=_call_text(to_call),
            key=audience.key,
        )
        said = lines(said, call)
    return ctx.announce(said)


def _title(ctx: Context, audience: StakeholderList) -> str:
    return audience.title.get(ctx.config.language)


def _contact(ctx: Context, audience: StakeholderList, rest: str) -> tuple[Contact, str]:
    """The contact the words start with (its whole name, or an unambiguous start of it) and the note after it."""
    for contact in sorted(audience.contacts, key=lambda c: -len(c.name)):
        size = len(contact.name)  # compared on the words' own length: casefolding may change it (ß → ss)
        if rest[:size].casefold() == contact.name.casefold() and (len(rest) == size or rest[size].isspace()):
            return contact, rest[size:].strip()
    first, note = leading(rest, 1)
    if not first:
        raise UsageError(fmt(_("Name the contact: {names}."), names=", ".join(c.name for c in audience.contacts)))
    start = first[0].casefold()
    found = [c for c in audience.contacts if c.name.casefold().startswith(start)]
    if len(found) != 1:
        problem = (
            _("“{word}” could be {names}: write more of the name.")
            if found
            else _("{title} has no contact “{word}”; its contacts: {names}.")
        )
        shown = found or audience.contacts
        raise UsageError(fmt(problem, word=first[0][:40], title=_title(ctx, audience), names=", ".join(c.name for c in shown)))
    return found[0], note


@verb(
    "notified",
    usage=N_("<list> <contact> [note]"),
    summary=N_("Record that a stakeholder contact was called or replied."),
    who=WHO,
)
def notified(ctx: Context) -> Message:
    """Record a call made or a reply received; a list told this way meets its deadline too."""
    first, rest = leading(ctx.args, 1)
    audience = _audience(ctx, first[0] if first else None)
    contact, said_note = _contact(ctx, audience, rest)
    if len(said_note) > LONGEST_NOTE:
        raise UsageError(fmt(_("The note is too long: at most {n} characters."), n=LONGEST_NOTE))
    note = said_note or None
    current = versions.current_line(ctx.session, ctx.incident.id)
    ctx.session.add(
        StakeholderNotice(
            incident_id=ctx.incident.id,
            list_key=audience.key,
            contact=contact.name,
            how="call",
            version=current.version if current else None,
            note=note,
            by=ctx.actor.key,
            at=ctx.now,
        )
    )
    ctx.log("notified", note or "", list=audience.key, contact=contact.name)
    nudges.clear(ctx.session, ctx.incident.id, kinds.STAKEHOLDER_DEADLINE, Audience(audience.key))
    ctx.refresh_card()
    said = fmt(_("☎ {title}: {contact} told, recorded by {who}."), title=_title(ctx, audience), contact=contact.name, who=ctx.actor.name)
    return ctx.announce(lines(said, fmt(_("Note: {note}"), note=note)) if note else said)


@verb("stakeholders", summary=N_("The stakeholder lists: deadlines, and who has been told what and how."), who=(ANYONE,), changes=False)
def show(ctx: Context) -> Message:
    """Each list: required or not, its deadline and how long is left, and each contact's state."""
    if not ctx.config.stakeholders:
        raise Refusal(_("No stakeholder lists are configured: add them under `stakeholders:` in onevoice.yaml."))
    notices = _notices(ctx)
    outbox_ids = [n.outbox_id for n in notices if n.outbox_id is not None]
    states: dict[int, str] = {}
    if outbox_ids:
        query = select(Outbox.id, Outbox.state).where(col(Outbox.id).in_(outbox_ids))
        states = {row_id: state for row_id, state in ctx.session.exec(query)}
    told = told_at(ctx.session, ctx.incident.id)
    shown: list[Message] = [fmt(_("**Stakeholders of #{id}**"), id=ctx.incident.id)]
    for key, audience in ctx.config.stakeholders.items():
        shown.append(_heading(ctx, audience, told.get(key)))
        for contact in audience.contacts:
            mine = [n for n in notices if n.list_key == key and n.contact == contact.name]
            shown.append(_contact_row(ctx, contact, mine, states))
    return lines(*shown)


def _heading(ctx: Context, audience: StakeholderList, told: datetime | None) -> Message:
    required = _("required") if is_required(audience, ctx.incident) else _("not required")
    due = deadline_of(audience, ctx.incident)
    values = {"title": _title(ctx, audience), "key": audience.key, "required": required, "at": when(ctx.config, due, ctx.now)}
    if due is None:
        state = _("no deadline")
    elif told is not None:
        state = (
            _("told at {told}, {span} before the deadline {at}") if told <= due else _("told at {told}, {span} after the deadline {at}")
        ).format(told=when(ctx.config, told, ctx.now), span=duration_text(abs(due - told)), at=values["at"])
    elif due >= ctx.now:
        state = _("due {at}, {span} left").format(at=values["at"], span=duration_text(due - ctx.now))
    else:
        state = _("due {at}, overdue by {span}").format(at=values["at"], span=duration_text(ctx.now - due))
    return fmt("**{title}** (`{key}`) · {required} · {state}", state=state, **values)


def _contact_row(ctx: Context, contact: Contact, mine: list[StakeholderNotice], states: dict[int, str]) -> Message:
    where = contact.email or contact.phone or ""
    if not mine:
        return fmt(_("• {name} ({where}): not told yet"), name=contact.name, where=where)
    parts = []
    for notice in mine:
        at, version = when(ctx.config, notice.at, ctx.now), f"v{notice.version}" if notice.version else "—"
        if notice.how == "mail":
            state = mail_outcome(states.get(notice.outbox_id or 0))
            parts.append(
                _("{version} {state} (queued {at} by {who})").format(
                    version=version, state=state, at=at, who=person_name(ctx.config, notice.by)
                )
            )
        elif notice.how == "simulated":
            parts.append(_("{version} e-mail rehearsed in the drill ({at})").format(version=version, at=at))
        else:
            said = _("call or reply recorded by {who} at {at}").format(who=person_name(ctx.config, notice.by), at=at)
            parts.append(f"{said}: {notice.note}" if notice.note else said)
    return fmt(_("• {name} ({where}): {parts}"), name=contact.name, where=where, parts="; ".join(parts))
