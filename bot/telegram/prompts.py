"""Telegram questions (a reason for a pressed button), each owned by the person who pressed.

A button's callback data is untrusted: whoever sent it, it is vetted as their own typed command (who they are, what
they may do, where) before anything is posted. The question itself carries no text from the callback, is stored
here with its owner, and only that owner's reply to it, once and in time, completes the command.
"""

import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, update
from sqlmodel import select

from bot.rations import TokenBuckets
from bot.telegram.limits import IncidentFirstLimiter
from handlers.core.errors import Refusal
from handlers.core.ports import Command, RoomRef, UserRef
from handlers.router import REHEARSAL, UNREACHABLE, database_unreachable, vet_command
from handlers.text.i18n import _, speaking
from storage.db import session
from storage.models import PersonHandle, Prompt

log = logging.getLogger(__name__)

PLATFORM = "telegram"
LIFETIME = timedelta(minutes=15)  # a reason typed later than this is for a question nobody remembers asking
KEPT_AFTER_EXPIRY = timedelta(days=2)  # longer than Telegram redelivers a reply, so a late one is still told "expired"


@dataclass
class Verdict:
    """What vetting a pressed command found: a refusal to tell the presser privately, or who may be asked what."""

    refusal: str = ""
    person: str = ""
    name: str = ""  # the person's name in the team model (never a platform-supplied name)
    verb: str = ""
    incident_id: int | None = None
    already_asked: bool = False


class PromptDesk:
    """Vets presses, keeps the questions, and rations what may be posted: per person, per group, incident traffic first."""

    def __init__(self, bot, limiter: IncidentFirstLimiter | None = None):
        self.bot, self.limiter = bot, limiter
        self.presses = TokenBuckets(burst=6, per_minute=12)  # every button press of one user, before any database work
        self.questions = TokenBuckets(burst=2, per_minute=3)  # questions posted for one user
        self.group_questions = TokenBuckets(burst=4, per_minute=4)  # questions posted in one group, whatever its budget
        self.refusals = TokenBuckets(burst=3, per_minute=6)  # refusals sent to one user by DM

    def vet(self, user: UserRef, text: str, room: RoomRef) -> Verdict:
        """The pressed command checked as if the presser had typed it (in a worker thread: it reads the database)."""
        config = self.bot.config
        with speaking(config.language):
            try:
                with session(self.bot.engine) as db:
                    verb, incident_id, person = vet_command(db, self.bot.deps, Command(user, text, room), REHEARSAL)
                    asked = db.exec(
                        select(Prompt.id).where(
                            Prompt.platform == PLATFORM,
                            Prompt.user_id == user.external_id,
                            Prompt.chat_id == room.external_id,
                            Prompt.command == text,
                            Prompt.used_at.is_(None),
                            Prompt.expires_at > self.bot.deps.clock.now(),
                        )
                    ).first()
            except Refusal as refusal:
                return Verdict(refusal=refusal.message.plain())
            except UNREACHABLE:
                return Verdict(refusal=database_unreachable().message.plain())
            except Exception:  # a rehearsal that failed (a race on a constraint, a bug): nothing was asked, nothing kept
                log.exception("vetting the pressed command %r failed", text[:64])
                return Verdict(refusal=_("Something went wrong; nothing was changed. Please try again."))
        name = config.team.people[person].name
        return Verdict(person=person, name=name, verb=verb, incident_id=incident_id, already_asked=asked is not None)

    def may_post(self, user_id: int, chat_id: int) -> bool:
        """Whether a question may be posted now: the user's ration, and in a group its ration and the reserve."""
        if chat_id < 0 and self.limiter is not None and not self.limiter.spare(chat_id):
            return False
        if not self.questions.take(user_id):
            return False
        return chat_id > 0 or self.group_questions.take(chat_id)

    def record(self, user_id: int, verdict: Verdict, text: str, chat_id: int, thread_id: int | None, message_id: int) -> None:
        """Keep a posted question with its owner (in a worker thread); questions long expired are let go meanwhile."""
        now = self.bot.deps.clock.now()
        with session(self.bot.engine) as db:
            db.exec(delete(Prompt).where(Prompt.platform == PLATFORM, Prompt.expires_at < now - KEPT_AFTER_EXPIRY))
            db.add(
                Prompt(
                    platform=PLATFORM,
                    user_id=str(user_id),
                    person=verdict.person,
                    command=text,
                    chat_id=str(chat_id),
                    thread_id=None if thread_id is None else str(thread_id),
                    message_id=str(message_id),
                    created_at=now,
                    expires_at=now + LIFETIME,
                )
            )
            db.commit()

    def claim(self, user_id: int, chat_id: int, message_id: int, event: str) -> tuple[str, str]:
        """A reply to a message: ("run", command) when it is its owner's first reply in time (or that reply delivered
        again); ("gone", "") for its owner too late or twice; ("", "") for anything else. In a worker thread."""
        now = self.bot.deps.clock.now()
        with session(self.bot.engine) as db:
            prompt = db.exec(
                select(Prompt).where(Prompt.platform == PLATFORM, Prompt.chat_id == str(chat_id), Prompt.message_id == str(message_id))
            ).first()
            if prompt is None or prompt.user_id != str(user_id):
                return "", ""
            if prompt.used_at is not None:
                return ("run", prompt.command) if prompt.used_by_event == event else ("gone", "")
            if prompt.expires_at <= now:
                return "gone", ""
            won = db.exec(
                update(Prompt).where(Prompt.id == prompt.id, Prompt.used_at.is_(None)).values(used_at=now, used_by_event=event)
            ).rowcount
            db.commit()
        return ("run", prompt.command) if won == 1 else ("gone", "")

    def is_member(self, user_id: int) -> bool:
        """Whether a Telegram user is on the team (in a worker thread)."""
        with session(self.bot.engine) as db:
            found = db.exec(
                select(PersonHandle.person).where(PersonHandle.platform == PLATFORM, PersonHandle.external_id == str(user_id))
            ).first()
        return found is not None and found in self.bot.config.team.people
