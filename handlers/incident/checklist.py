"""The shared checklist: tasks, task, done, skip, undo."""

import re
from dataclasses import replace

from sqlmodel import col, select

from handlers.core.cleaning import keyword
from handlers.core.context import Context
from handlers.core.errors import Refusal, UsageError
from handlers.core.grammar import duration, is_word, looks_like_duration, trailing
from handlers.core.holders import current_holders, roles_held
from handlers.core.people import is_mention, resolve_person
from handlers.core.permissions import check_permission
from handlers.core.verbs import ANYONE, PARTICIPANT, verb
from handlers.incident.card import render_checklist
from handlers.incident.reminders import owner_target
from handlers.nudges import kinds
from handlers.nudges import schedule as nudges
from handlers.nudges.subjects import Item
from handlers.review import actions as review
from handlers.text.i18n import N_, _
from handlers.text.markup import Message, fmt, lines, text
from storage.models import ChecklistItem

MAX_TASK = 300
_NUMBER = re.compile(r"^#?[0-9]{1,9}$")
FULFILLED_BY = {"published": {"publish", "published"}}  # a `done_by` event → the timeline kinds that fulfil it (else itself)


@verb("tasks", usage=N_("[mine|all]"), summary=N_("Show the checklist (open items; mine; or all)."), changes=False)
def show_tasks(ctx: Context) -> Message:
    """The checklist: open items by default."""
    scope = keyword(ctx.args.strip()) or "open"
    if scope not in ("open", "mine", "all"):
        raise UsageError(fmt(_("“{word}” is not a choice."), word=scope[:40]))
    query = select(ChecklistItem).where(ChecklistItem.incident_id == ctx.incident.id).order_by(col(ChecklistItem.number))
    if scope != "all":
        query = query.where(ChecklistItem.state == "open")
    items = list(ctx.session.exec(query))
    if scope == "mine":
        held = roles_held(ctx.session, ctx.incident.id, ctx.actor.key)
        items = [i for i in items if i.owner_person == ctx.actor.key or (i.owner_person is None and i.owner_role in held)]
    if not items:
        return text(_("Nothing here: no matching checklist items."))
    return lines(fmt(_("**Checklist of #{id}**"), id=ctx.incident.id), render_checklist(ctx.config, items, ctx.now))


@verb("task", usage=N_("<text> [@person|@role] [in 30m]"), summary=N_("Add a checklist item."), who=(PARTICIPANT,))
def add_task(ctx: Context) -> Message:
    """Add an ad-hoc item with an optional owner (a mention: @person or @role, last) and due time; the text stays whole."""
    body, due_at = ctx.args.strip(), None
    head, tail = trailing(body, 2)
    if len(tail) == 2 and is_word(tail[0], "in") and looks_like_duration(tail[1]):
        due_at, body = ctx.now + duration(tail[1]), head
    owner_role = owner_person = None
    head, tail = trailing(body, 1)
    if head and tail and is_mention(tail[0]):
        owner_role = role_mentioned(ctx, tail[0])
        if owner_role:
            owner_person = getattr(current_holders(ctx.session, ctx.incident.id).get(owner_role), "person", None)
        else:
            owner_person = resolve_person(ctx, tail[0]).key
        body = head
    if not body:
        raise UsageError(_("Describe the task."))
    if len(body) > MAX_TASK:
        raise UsageError(fmt(_("The task is {size} characters long; keep it under {limit}."), size=len(body), limit=MAX_TASK))
    incident = ctx.incident
    incident.last_task_number += 1
    ctx.session.add(incident)
    item = ChecklistItem(
        incident_id=incident.id,
        number=incident.last_task_number,
        title=body,
        owner_role=owner_role,
        owner_person=owner_person,
        phase=incident.phase,
        due_at=due_at,
    )
    ctx.session.add(item)
    if due_at:
        nudges.schedule(ctx.session, incident.id, kinds.TASK_OVERDUE, owner_target(item), due_at, ctx.now, subject=Item(item.number))
    ctx.log("task", body, number=item.number)
    ctx.post(lines(fmt(_("New checklist item by {by}:"), by=ctx.actor.name), render_checklist(ctx.config, [item], ctx.now)))
    ctx.refresh_card()
    last = trailing(body, 1)[1]
    if owner_role is None and owner_person is None and last and keyword(last[0]) in ctx.config.team.roles:
        hint = _("“{word}” is kept as part of the text. To give the item to a role, end with @{word}; to a person, with @name.")
        return lines(fmt(_("Added item {n}."), n=item.number), fmt(hint, word=last[0][:40]))
    return fmt(_("Added item {n}."), n=item.number)


def role_mentioned(ctx: Context, token: str) -> str | None:
    """The role a mention names (`@legal`), unless a person has that key: a person key always wins."""
    name = keyword(token).lstrip("@")
    people = {key.casefold() for key in ctx.config.team.people}
    return name if name in ctx.config.team.roles and name not in people else None


def _item(ctx: Context, word: str | None) -> ChecklistItem:
    word = keyword(word) if word else word  # ３ as a full-width input method types it, too
    if not word or not _NUMBER.match(word):
        raise UsageError(_("Give the item's number, as shown by `/crisis tasks`."))
    number = int(word.lstrip("#"))
    item = ctx.session.exec(
        select(ChecklistItem).where(ChecklistItem.incident_id == ctx.incident.id, ChecklistItem.number == number)
    ).first()
    if item is None:
        raise Refusal(fmt(_("There is no item {n} in #{id}; `/crisis tasks all` lists them."), n=number, id=ctx.incident.id))
    return item


def _change(ctx: Context, item: ChecklistItem, state: str, reason: str | None, verb_name: str) -> Message:
    old = item.state
    item.state, item.reason, item.changed_by, item.changed_at = state, reason, ctx.actor.key, ctx.now
    ctx.session.add(item)
    if state == "open":
        if item.due_at and ctx.incident.phase not in ("resolved", "closed"):
            nudges.schedule(
                ctx.session,
                ctx.incident.id,
                kinds.TASK_OVERDUE,
                owner_target(item),
                max(item.due_at, ctx.now),
                ctx.now,
                subject=Item(item.number),
            )
    else:
        nudges.clear(ctx.session, ctx.incident.id, kinds.TASK_OVERDUE, subject=Item(item.number))
    ctx.log(verb_name, item.title, number=item.number, old=old, reason=reason)
    message = lines(fmt(_("{by} changed item {n}:"), by=ctx.actor.name, n=item.number), render_checklist(ctx.config, [item], ctx.now))
    ctx.refresh_card()
    return ctx.announce(message)


@verb(
    "done",
    usage=N_("<n>|a<n>"),
    summary=N_("Mark a checklist item (or a follow-up action, a<n>) done."),
    who=(ANYONE,),
    who_label=N_("participants; a follow-up action also its owner"),
    after_close=True,
)
def mark_done(ctx: Context) -> Message:
    """Mark an item done, or a follow-up action (`a3`), which its owner may do even after close."""
    word = ctx.args.strip()
    action = review.action_number(word)
    if action is not None:
        if not review.owns(ctx, action):
            _participants_only(ctx)
        return review.mark_action_done(ctx, action)
    if ctx.incident.phase == "closed":
        raise Refusal(fmt(_("Incident #{id} is closed; nothing more can change there."), id=ctx.incident.id))
    _participants_only(ctx)
    item = _item(ctx, word or None)
    if item.state != "open":
        raise Refusal(fmt(_("Item {n} is already {state}; `/crisis undo {n}` reopens it."), n=item.number, state=_(item.state)))
    return _change(ctx, item, "done", None, "done")


def _participants_only(ctx: Context) -> None:
    """The checklist is the participants' (the owner of a follow-up action may also mark it done)."""
    check_permission(ctx, replace(mark_done.verb, who=(PARTICIPANT,), who_label=""))


@verb("skip", usage=N_("<n> <reason>"), summary=N_("Skip a checklist item, saying why."), who=(PARTICIPANT,))
def skip(ctx: Context) -> Message:
    """Skip an item; a reason is required."""
    words = ctx.args.split(maxsplit=1)
    item = _item(ctx, words[0] if words else None)
    if len(words) < 2:
        raise UsageError(_("Say why the item is skipped."))
    if item.state != "open":
        raise Refusal(fmt(_("Item {n} is already {state}; `/crisis undo {n}` reopens it."), n=item.number, state=_(item.state)))
    return _change(ctx, item, "skipped", words[1], "skip")


@verb("undo", usage=N_("<n>"), summary=N_("Reopen a done or skipped item."), who=(PARTICIPANT,))
def undo(ctx: Context) -> Message:
    """Back to open."""
    item = _item(ctx, ctx.args.strip() or None)
    if item.state == "open":
        raise Refusal(fmt(_("Item {n} is already open."), n=item.number))
    return _change(ctx, item, "open", None, "undo")


def fulfil(ctx: Context) -> None:
    """Mark done the open playbook items whose `done_by` event this command logged, each with its own timeline entry."""
    incident = ctx.found
    if not ctx.logged or incident is None or incident.phase == "closed":
        return  # a command that wrote nothing to the timeline fulfils nothing
    playbook = ctx.config.playbooks.get(incident.playbook)
    if playbook is None:
        return
    wanted = {spec.done_by for spec in playbook.checklist if spec.done_by}
    if not wanted:
        return
    logged = set(ctx.logged)
    happened = {event for event in wanted if logged & FULFILLED_BY.get(event, {event})}
    if "assembled" in wanted and logged & {"ack", "role", "severity"} and _assembled(ctx):
        happened.add("assembled")
    if not happened:
        return
    specs = dict(enumerate(playbook.checklist, start=1))
    items = ctx.session.exec(
        select(ChecklistItem)
        .where(ChecklistItem.incident_id == incident.id, ChecklistItem.state == "open", col(ChecklistItem.number) <= len(specs))
        .order_by(col(ChecklistItem.number))
    )
    changed = False
    for item in items:
        spec = specs[item.number]
        if spec.done_by in happened and item.title == spec.title.get(ctx.config.language):  # the playbook's own item
            item.state, item.changed_by, item.changed_at = "done", ctx.actor.key, ctx.now
            ctx.session.add(item)
            nudges.clear(ctx.session, incident.id, kinds.TASK_OVERDUE, subject=Item(item.number))
            ctx.log("done", item.title, number=item.number, old="open", reason=None, fulfilled_by=spec.done_by)
            changed = True
    if changed:
        ctx.refresh_card()


def _assembled(ctx: Context) -> bool:
    """Whether every role the incident's severity requires has a holder who accepted it."""
    incident = ctx.incident
    holders = current_holders(ctx.session, incident.id)
    required = ctx.config.required_roles(ctx.config.playbooks[incident.playbook], incident.severity)
    return all(role in holders and holders[role].acked_at is not None for role in required)


N_("open")
N_("done")
N_("skipped")
