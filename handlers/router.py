"""The grammar: text → verb → actor, incident, permission → handler, in one transaction."""

import difflib
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from sqlmodel import Session

from handlers import help
from handlers.catalog import registry
from handlers.core.cleaning import keyword
from handlers.core.context import Context, Deps, queue
from handlers.core.effects import Answer
from handlers.core.errors import Refusal, UsageError
from handlers.core.permissions import check_permission
from handlers.core.ports import Command, Reply
from handlers.incident import checklist
from handlers.incident.lookup import incident_for, incident_reading, not_an_incident_room
from handlers.line import (
    approvals,  # noqa: F401  (register verbs)
)
from handlers.text.i18n import _, speaking
from handlers.text.markup import Message, fmt, lines, static, text
from storage.models import ProcessedEvent
from storage.writes import wrote

log = logging.getLogger(__name__)

UNREACHABLE = (OperationalError, InterfaceError)  # the database is down or the connection was cut; a retry may work
MAX_LENGTH = 4000  # below Slack's and Telegram's message limits, so a reply can quote it
_TARGET = re.compile(r"^#(\d{1,9})$")


def outage(error: Exception) -> str:
    """What a database error says in its first line: enough for a log line, without the SQL that follows."""
    return str(error).split("\n", 1)[0]


@dataclass(frozen=True)
class Held:
    """An answer written already leased to the worker that sends it at once (no claim, no outbox pass); after a crash
    the lease runs out and any worker sends it."""

    answer: Answer
    worker: str
    until: datetime


# Given the reply, the Answer effect that delivers it later by the platform's route (Held: leased to the worker that
# sends it at once), or None when it goes back with the platform's acknowledgement itself.
AnswerRoute = Callable[[Reply], Answer | Held | None]


def dispatch(session: Session, deps: Deps, command: Command, answer: AnswerRoute | None = None) -> Reply:
    """Handle one command; state changes, timeline, effects and the answer to send commit together or not at all."""
    with speaking(deps.config.language):
        # No look-up of the dedup key first: a redelivery runs, fails on the key at commit, is rolled back whole and gets
        # the stored reply (one query less for every command, one wasted run for each rare redelivery).
        try:
            reply = _handle(session, deps, command)
        except Refusal as refusal:
            session.rollback()
            usage = isinstance(refusal.__context__, UsageError)  # raised while handling the verb's UsageError
            reply = Reply(refusal.message, ok=False, outcome="usage" if usage else "refused")
        except UNREACHABLE as error:
            session.rollback()
            log.warning("database unreachable: %s", outage(error))
            return database_unreachable()
        except IntegrityError:
            session.rollback()
            log.info("command lost a race on a unique constraint", exc_info=True)
            reply = _changed_meanwhile()
        except Exception:
            session.rollback()
            log.exception("command failed")
            reply = Reply(text(_("Something went wrong; nothing was changed. Please try again.")), ok=False, outcome="error")
        return _remember(session, deps, command, reply, answer)


def _remember(session: Session, deps: Deps, command: Command, reply: Reply, answer: AnswerRoute | None = None) -> Reply:
    """Commit the work with its dedup key (so a redelivery changes nothing twice) and the answer still to be sent."""
    route = answer(reply) if answer is not None and not reply.echoed else None
    try:
        if command.event_id and not _keyless(session, command, reply, route):
            # a plain INSERT, not the unit of work: a redelivery fails here, before flushing its work
            session.execute(_dedup_insert(), {"key": command.event_id, "at": deps.clock.now(), "reply": _reply_json(reply)})
        if route is not None:
            held = route if isinstance(route, Held) else None
            effect = route.answer if isinstance(route, Held) else route
            row = queue(session, None, command.user.platform, effect, deps.clock.now())
            if held is not None:  # the worker that sends the answer at once holds it from the start; a crash frees it then
                row.lease_owner, row.lease_until = held.worker, held.until
        session.commit()
    except UNREACHABLE as error:
        session.rollback()
        log.warning("database unreachable at commit: %s", outage(error))
        return database_unreachable()
    except IntegrityError:
        # Another worker handled the same delivery first: its result stands, ours is dropped.
        session.rollback()
        seen = session.get(ProcessedEvent, command.event_id) if command.event_id else None
        return _changed_meanwhile() if seen is None else _stored_reply(seen)
    if route is not None:
        reply.answer_queued = True
        if row.lease_owner:
            reply.answer_held = row
    if session.info.get("work"):  # outbox rows or nudges were written: the delivery loop is woken for them
        reply.work = True
    return reply


def _keyless(session: Session, command: Command, reply: Reply, route) -> bool:
    """Whether the command needs no dedup key: a read-only verb that wrote nothing, answered in the acknowledgement of a
    request its platform never delivers again once acknowledged (answering a repeat would change nothing anyway)."""
    return command.acked_once and reply.read_only and route is None and not wrote(session)


def database_unreachable() -> Reply:
    """The answer when the database cannot be reached (stopped, restarting, network cut): nothing changed, try again."""
    message = _("The database cannot be reached right now; nothing was changed. Try again in a moment.")
    return Reply(text(message), ok=False, outcome="error", unreachable=True)


def _changed_meanwhile() -> Reply:
    return Reply(
        text(_("Someone changed the same thing at the same moment; nothing was changed. Please try again.")),
        ok=False,
        outcome="error",
    )


def _reply_json(reply: Reply) -> dict:
    return {"message": reply.message.to_json(), "ok": reply.ok, "private": reply.private, "incident_id": reply.incident_id}


def _stored_reply(seen: ProcessedEvent) -> Reply:
    data = seen.reply
    return Reply(Message.from_json(data["message"]), data["ok"], data["private"], data.get("incident_id"), duplicate=True)


def _admit(session: Session, spec, ctx: Context) -> None:
    """Refuse a verb that needs an incident and has none, that would change a closed one, or that this actor may not use."""
    incident = ctx.found
    if spec.needs_incident:
        if incident is None:
            raise Refusal(not_an_incident_room(session, spec))
        if incident.phase == "closed" and spec.changes and not spec.after_close:
            raise Refusal(fmt(_("Incident #{id} is closed; nothing more can change there."), id=incident.id))
    check_permission(ctx, spec)


def _target_and_words(command: Command) -> tuple[int | None, list[str]]:
    """The incident named first (`#12`, full-width digits too), and the words after it, checked."""
    words = check_text(command)
    if words and _TARGET.match(keyword(words[0])):
        return int(keyword(words.pop(0))[1:]), words
    return None, words


def _handle(session: Session, deps: Deps, command: Command) -> Reply:
    target, words = _target_and_words(command)
    if not words:
        return Reply(help.overview(deps.config))
    name = registry().aliases.get(keyword(words[0]))
    if name is None:
        raise Refusal(_unknown_verb(words[0]))
    spec = registry().verbs[name]
    rest = _rest_after(command.text, target is not None)
    actor = resolve_actor(session, deps, command)
    ctx = Context(session, deps, command, actor, None, rest)
    incident, ctx.read_along = incident_reading(session, command, target, spec.reads, ctx.now)
    ctx.found = incident
    _admit(session, spec, ctx)
    try:
        result = spec.handler(ctx)
    except UsageError as problem:
        raise Refusal(usage_message(spec, problem.problem)) from None
    checklist.fulfil(ctx)  # the playbook items this command did (`done_by`) are done with it
    reply = result if isinstance(result, Reply) else Reply(result)
    reply.read_only = not spec.changes
    if reply.incident_id is None and ctx.found is not None:
        reply.incident_id = ctx.found.id
    # Typed (or clicked) in the incident's own room: the room post already answers it.
    in_its_room = target is None or (incident is not None and incident_for(session, command, None) is incident)
    reply.echoed = ctx.announced and incident is not None and in_its_room
    return reply


def _rest_after(raw: str, has_target: bool) -> str:
    """The text after the verb (and after a leading #N), with its own spacing kept."""
    parts = raw.strip().split(None, 2 if has_target else 1)
    return parts[-1].strip() if len(parts) == (3 if has_target else 2) else ""


def check_text(command: Command) -> list[str]:
    """Refuse text that is too long or held control or bidi characters (the Command removed them); return its words."""
    raw = command.text
    if len(raw) > MAX_LENGTH:
        raise Refusal(
            fmt(
                _("That message is {size} characters long; the limit is {limit}. Shorten it and send it again."),
                size=len(raw),
                limit=MAX_LENGTH,
            )
        )
    if command.disguised:
        raise Refusal(_("That message contains invisible control characters; type it again as plain text."))
    return raw.split()


def usage_message(spec, problem: Message | None = None) -> Message:
    """A refusal that names the problem and the exact usage."""
    return lines(problem or Message(), fmt(_("Usage: `{usage}`"), usage=spec.usage_line()), text(_(spec.summary)))


def _unknown_verb(word: str) -> Message:
    close = difflib.get_close_matches(word.lower(), list(registry().aliases), n=1)
    hint = fmt(_("Did you mean `{verb}`?"), verb=registry().aliases[close[0]]) if close else Message()
    return lines(fmt(_("Unknown command “{word}”."), word=word[:40]), hint, static(_("Type `/crisis help` for the list of commands.")))


def resolve_actor(session: Session, deps: Deps, command: Command):
    """The team member behind a platform user, or a refusal saying how to join."""
    user = command.user
    key = deps.members.get((user.platform, user.external_id))
    person = deps.config.team.people.get(key) if key else None
    if person is None:
        raise Refusal(
            fmt(
                _("You are not in the team model yet. Ask an admin to add your {platform} id `{id}` to onevoice.yaml."),
                platform=user.platform,
                id=user.external_id,
            )
        )
    return person


@cache
def _dedup_insert():
    """The dedup key's INSERT, built once (every platform command writes one)."""
    return insert(ProcessedEvent.__table__)


REHEARSAL = "(the reason to come)"  # stands in for the words a form or a question will ask for, while vetting a press


def vet_command(session: Session, deps: Deps, command: Command, rehearse_with: str = "") -> tuple[str, int | None, str]:
    """Who asks, which verb, where, and whether they may use it there, before asking them for the rest of its words:
    (verb, incident id, person key), or a Refusal in the words the command itself would get. Verbs whose handler
    decides who may act (approve, reject) are rehearsed with `rehearse_with` standing in for those words, and rolled
    back: nothing a rehearsal does stays; a command no words could complete is refused with its usage."""
    actor = resolve_actor(session, deps, command)  # first: a stranger learns nothing more about the command
    target, words = _target_and_words(command)
    name = registry().aliases.get(keyword(words[0])) if words else None
    if name is None:
        raise Refusal(_unknown_verb(words[0]) if words else static(_("Type `/crisis help` for the list of commands.")))
    spec = registry().verbs[name]
    incident = incident_for(session, command, target)
    ctx = Context(session, deps, command, actor, incident, _rest_after(command.text, target is not None))
    _admit(session, spec, ctx)
    if rehearse_with:
        ctx.args = f"{ctx.args} {rehearse_with}".strip()
        try:
            spec.handler(ctx)
        except UsageError as problem:  # no reason typed could complete it: the verb's usage, as if it had been typed
            raise Refusal(usage_message(spec, problem.problem)) from None
        finally:
            session.rollback()
    return spec.name, incident.id if incident else None, actor.key
