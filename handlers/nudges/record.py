"""The shape of a nudge kind's record (the records themselves are in kinds.py), and what its message is given."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Generic, TypeVar

from sqlmodel import Session

from config.model import Config
from handlers.nudges.subjects import Subject
from handlers.text.markup import Button, Message
from storage.models import Incident, Nudge

Said = tuple[Message, list[Button]]  # the words, and the buttons that act on them
S = TypeVar("S", bound=Subject)  # the subject shape of one kind


@dataclass(frozen=True)
class Late(Generic[S]):
    """What a kind's message is given: the nudge, its typed subject, how late it is, and the command that clears it."""

    session: Session
    config: Config
    incident: Incident
    nudge: Nudge
    subject: S
    late: str  # since it was first due
    waited: str  # since it was scheduled
    escalated: bool
    clears: str  # the clearing command of the kind, for this subject (`done 3`)
    pace: timedelta | None  # the kind's pace
    now: datetime | None = None  # when it is said: a time in another year is shown with its year

    @property
    def to_backup(self) -> bool:
        return self.nudge.target.startswith("backup:")

    def role(self, key: str) -> str:
        role = self.config.team.roles.get(key)
        return role.title.get(self.config.language) if role else key

    def button(self, label: str, style: str = "primary") -> Button:
        """The button that runs the clearing command."""
        return Button(label, f"#{self.incident.id} {self.clears}", style)


def unless_urgent(incident: Incident) -> bool:
    """The usual quiet-hours rule: sev3–4 reminders and everything after the incident wait; sev1–2 wake people."""
    return incident.phase in ("resolved", "closed") or incident.severity in ("sev3", "sev4")


def always(incident: Incident) -> bool:
    """Post-incident work never wakes anyone, whatever the severity was."""
    return True


def never(incident: Incident) -> bool:
    """On the minute, whatever the hour (a drill's script)."""
    return False


@dataclass(frozen=True)
class Kind(Generic[S]):
    """A reminder kind: everything that makes it differ from the others."""

    name: str  # stored in `nudge.kind`
    subject: type[S]  # the shape of `nudge.subject`
    clears: str  # the command that clears it, after `/crisis`; {fields} come from the subject's words
    say: Callable[[Late[S]], Said] | None  # its message; None: scripted, its feature posts it in the room (no repeat, no ladder)
    sponsor: Callable[[Late[S]], Message] | None = None  # what the executive sponsor hears instead (no command they may not run)
    repeat: timedelta | None = None  # the pace it comes back at while not done (the scheduler may pass the team's own)
    cap: int | None = None  # how often one level hears it before the next does; None: the team's `nudge_repeat_cap`
    ladder: tuple[str, ...] = ()  # who hears next when the owner does not act, one level per escalation ({role}: the subject's)
    quiet: Callable[[Incident], bool] = unless_urgent  # whether quiet hours hold it back
    live: bool = True  # part of the live response: resolving the incident clears it
    after_close: bool = False  # still fires once the incident is closed (follow-up actions)

    @property
    def scripted(self) -> bool:
        return self.say is None

    @property
    def pace(self) -> timedelta:
        """The pace of a kind whose record sets one (the scheduler passes the others theirs)."""
        if self.repeat is None:
            raise TypeError(f"{self.name} has no pace of its own")
        return self.repeat

    def store(self, subject: Subject) -> str:
        """The text stored for a subject of this kind; a subject of another shape is a mistake in the caller."""
        if type(subject) is not self.subject:
            raise TypeError(f"{self.name} is about a {self.subject.__name__}, not {subject!r}")
        return subject.format()

    def clearing(self, subject: Subject) -> str:
        """The clearing command for one subject (`done 3`)."""
        return self.clears.format(**subject.words())
