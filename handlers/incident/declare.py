"""Opening incidents and looking at them: declare, status, list."""

import re
import unicodedata
from zoneinfo import ZoneInfo

from sqlmodel import col, select

from config.model import OPEN_PHASES
from handlers.core.cleaning import keyword
from handlers.core.context import Context
from handlers.core.effects import Edit, OpenRoom
from handlers.core.errors import Refusal, UsageError
from handlers.core.grammar import is_word, leading
from handlers.core.ports import Reply
from handlers.core.verbs import verb
from handlers.desk import deadlines
from handlers.incident import staffing
from handlers.incident.card import SEVERITY_MARK, card_query, render_card, render_checklist
from handlers.incident.reminders import restart_update_clock, schedule_first_statement
from handlers.incident.severity import parse_severity
from handlers.nudges import kinds
from handlers.nudges import schedule as nudges
from handlers.nudges.subjects import Item, Role
from handlers.review.scorecard import render_scorecard
from handlers.signals.triage import carried, triage_message
from handlers.text.formatting import role_name
from handlers.text.i18n import N_, _
from handlers.text.labels import PHASE, label
from handlers.text.markup import Message, fmt, lines, static, text
from storage.models import ChecklistItem, Incident, Outbox, Room, Signal

MAX_TITLE = 200


def _severity_word(word: str) -> bool:
    """Whether a word was meant as a severity (sev0, sev7…), valid or not."""
    return bool(re.match(r"^sev[0-9]+$", keyword(word)))


def slugify(title: str, fallback: str) -> str:
    """A channel-safe slug from a title: lowercase ASCII words joined by hyphens."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")
    return slug[:40].rstrip("-") or fallback


@verb(
    "declare",
    "new",
    usage=N_("<playbook> [sev1-4] <title>"),
    summary=N_("Open an incident: room, card, roles, checklist."),
    needs_incident=False,
)
def declare(ctx: Context, drill: bool = False) -> Reply:
    """Open an incident with its room, roles from the on-call order, checklist and clocks."""
    flag, rest = leading(ctx.args, 2)
    signal = _from_signal(ctx, flag[1] if len(flag) > 1 else "") if is_word(flag[0] if flag else None, "--signal") else None
    words = (rest if signal is not None else ctx.args).split()
    if signal is not None and not words:
        words = [signal.playbook, signal.severity, *signal.title.split()]  # the Declare button: the triage suggestion as is
    if not words:
        return Reply(_declare_form(ctx), form="declare")
    playbook = ctx.config.playbooks.get(keyword(words[0]))
    if playbook is None:
        raise Refusal(
            lines(
                fmt(_("There is no playbook “{name}”."), name=words[0][:40]),
                _playbook_list(ctx),
                fmt(_("Usage: `{usage}`"), usage="/crisis declare " + _("<playbook> [sev1-4] <title>")),
            )
        )
    severity = parse_severity(words[1], bare_number=False) if len(words) > 1 else None
    if len(words) > 1 and severity is None and _severity_word(words[1]):
        raise UsageError(fmt(_("“{word}” is not a severity: use `sev1` (critical) to `sev4` (minor)."), word=words[1][:20]))
    title = " ".join(words[2:] if severity else words[1:]).strip()
    if not title:
        raise UsageError(_("Give the incident a title."))
    if len(title) > MAX_TITLE:
        raise UsageError(fmt(_("The title is {size} characters long; keep it under {limit}."), size=len(title), limit=MAX_TITLE))
    severity = severity or playbook.severity
    timing = ctx.config.timing(playbook, severity)
    incident = Incident(
        title=title,
        slug="",
        playbook=playbook.key,
        severity=severity,
        phase="detected",
        drill=drill,
        declared_by=ctx.actor.key,
        declared_at=ctx.now,
        phase_changed_at=ctx.now,
        next_update_at=ctx.now + timing.update_every,
    )
    ctx.session.add(incident)
    ctx.session.flush()
    incident.slug = slugify(title, f"incident-{incident.id}")
    ctx.incident = incident
    name = room_name(ctx, incident)
    if ctx.session.exec(select(Room.id).where(Room.name == name)).first():
        name = f"{name[:70]}-{incident.id}"  # same title, same day: never two incidents in one room
    for platform in ctx.deps.platforms:
        ctx.session.add(Room(incident_id=incident.id, platform=platform, name=name))
    ctx.session.flush()
    ctx.log("declared", title, playbook=playbook.key, severity=severity, drill=drill)
    if signal is not None:
        _carry_signal(ctx, signal)
    for platform in ctx.deps.platforms:
        ctx.emit(platform, OpenRoom(name=name, topic=f"#{incident.id} {title}", private=ctx.config.slack.private_rooms, drill=drill))
    holders = _fill_roles(ctx, ctx.config.required_roles(playbook, severity))
    staffing.invite(ctx, sorted({ctx.actor.key, *holders.values()}))
    items = _add_checklist(ctx, playbook, holders)
    _schedule_clocks(ctx, timing)
    ctx.post(
        lines(
            text(_("Roles:")),
            *(fmt("• {role}: {person}", role=role_name(ctx.config, r), person=ctx.name(p)) for r, p in holders.items()),
        )
    )
    ctx.post(
        lines(
            fmt(_("**Checklist** ({count} items) — `/crisis done <n>` when finished:"), count=len(items)),
            render_checklist(ctx.config, items, ctx.now),
        )
    )
    return Reply(
        fmt(
            _("Declared #{id} “{title}” ({playbook}, {sev}). Room: {room}"),
            id=incident.id,
            title=title,
            playbook=playbook.key,
            sev=severity,
            room=name,
        ),
        private=False,
        incident_id=incident.id,
        declared=True,
    )


def _from_signal(ctx: Context, number: str) -> Signal:
    """The signal `--signal <n>` (first, as the Declare button sends it) names, unless it was declared already."""
    number = keyword(number)
    signal = ctx.session.get(Signal, int(number)) if number.isascii() and number.isdigit() and len(number) < 10 else None
    if signal is None:
        raise UsageError(fmt(_("There is no signal {n}."), n=number[:12] or "?"))
    if signal.incident_id is not None:
        raise Refusal(fmt(_("Signal {n} was already declared as #{id}."), n=signal.id, id=signal.incident_id))
    return signal


def _carry_signal(ctx: Context, signal: Signal) -> None:
    """The incident starts with the alert that raised it on its timeline; the triage message says where it went."""
    signal.incident_id = ctx.incident.id
    ctx.session.add(signal)
    carried(ctx.session, signal, ctx.incident, ctx.now)  # §7: its figures start the incident's reaction chart
    ctx.log(
        "signal", signal.title, signal=signal.id, source=signal.source, url=signal.url, volume=signal.volume, sentiment=signal.sentiment
    )
    message = triage_message(ctx.config, signal)
    for outbox_id in signal.posts:
        posted = ctx.session.get(Outbox, outbox_id)
        if posted is not None:
            ctx.emit(posted.platform, Edit(message, ref=outbox_id))


def room_name(ctx: Context, incident: Incident) -> str:
    """crisis-<yyyymmdd>-<slug>, or drill-… for drills; at most 80 characters."""
    day = incident.declared_at.astimezone(ZoneInfo(ctx.config.timezone)).strftime("%Y%m%d")
    return f"{'drill' if incident.drill else 'crisis'}-{day}-{incident.slug}"[:80]


def _fill_roles(ctx: Context, required: list[str]) -> dict[str, str]:
    holders: dict[str, str] = {}
    for role in required:
        person = staffing.on_call(ctx, role, set(holders.values()))
        if person is None:
            due = ctx.now + kinds.ROLE_UNFILLED.pace
            nudges.schedule(ctx.session, ctx.incident.id, kinds.ROLE_UNFILLED, "role:commander", due, ctx.now, subject=Role(role))
            continue
        holders[role] = person
        staffing.assign(ctx, role, person)
    return holders


def _add_checklist(ctx: Context, playbook, holders: dict[str, str]) -> list[ChecklistItem]:
    items = []
    for number, spec in enumerate(playbook.checklist, start=1):
        due_at = ctx.now + spec.due
        item = ChecklistItem(
            incident_id=ctx.incident.id,
            number=number,
            title=spec.title.get(ctx.config.language),
            owner_role=spec.owner,
            owner_person=holders.get(spec.owner),
            phase=spec.phase,
            due_at=due_at,
        )
        ctx.session.add(item)
        items.append(item)
        nudges.schedule(ctx.session, ctx.incident.id, kinds.TASK_OVERDUE, f"role:{spec.owner}", due_at, ctx.now, subject=Item(number))
    ctx.incident.last_task_number = len(items)
    return items


def _schedule_clocks(ctx: Context, timing) -> None:
    schedule_first_statement(ctx, timing)
    restart_update_clock(ctx, ctx.incident.next_update_at)
    deadlines.promise(ctx)


def _playbook_list(ctx: Context) -> Message:
    language = ctx.config.language
    return lines(
        text(_("Playbooks:")),
        *(
            fmt("• `{key}` — {title} ({sev})", key=key, title=p.title.get(language), sev=p.severity)
            for key, p in ctx.config.playbooks.items()
        ),
    )


def _declare_form(ctx: Context) -> Message:
    return lines(fmt(_("Usage: `{usage}`"), usage="/crisis declare " + _("<playbook> [sev1-4] <title>")), _playbook_list(ctx))


@verb("status", "card", summary=N_("Show the incident card."), changes=False, reads=card_query)
def status(ctx: Context) -> Reply:
    """Show the incident card (its counts read with the incident, typed in its room); a drill's card is followed by its
    scorecard so far."""
    card = render_card(ctx.session, ctx.config, ctx.incident, ctx.now, ctx.read_along)
    if ctx.incident.drill:
        card = lines(card, render_scorecard(ctx.session, ctx.config, ctx.incident, ctx.now))
    return Reply(card, private=False)


@verb("list", summary=N_("List the open incidents."), needs_incident=False, changes=False)
def list_incidents(ctx: Context) -> Message:
    """The open incidents, most severe first."""
    rows = ctx.session.exec(
        select(Incident).where(col(Incident.phase).in_(OPEN_PHASES)).order_by(col(Incident.severity), col(Incident.id)).limit(51)
    ).all()
    if not rows:
        return text(_("No open incidents."))
    shown = [
        fmt(
            "{mark} #{id} **{title}** · {sev} · {phase}{drill}",
            mark=SEVERITY_MARK[i.severity],
            id=i.id,
            title=i.title,
            sev=i.severity,
            phase=label(PHASE, i.phase),
            drill=_(" · DRILL") if i.drill else "",
        )
        for i in rows[:50]
    ]
    more = static(_("…and more; name one with `/crisis #<id> status`.")) if len(rows) > 50 else Message()
    return lines(fmt(_("**Open incidents** ({count}{plus}):"), count=min(len(rows), 50), plus="+" if len(rows) > 50 else ""), *shown, more)
