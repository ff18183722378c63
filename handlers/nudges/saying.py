"""What a kind's message is given (Late) and returns (Said), and the words a kind says with, tied to its record."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

from sqlmodel import Session

from config.model import Config
from handlers.nudges.record import Kind
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


@dataclass(frozen=True)
class Words(Generic[S]):
    """What one kind says: to the people it reminds, and (if it differs) to the executive sponsor at the top of its ladder."""

    say: Callable[[Late[S]], Said]
    sponsor: Callable[[Late[S]], Message] | None = None  # no command the sponsor may not run


def entry(kind: Kind[S], say: Callable[[Late[S]], Said], sponsor: Callable[[Late[S]], Message] | None = None) -> tuple[str, Words[Any]]:
    """One entry of a table of words, by the kind's name; the type checker holds the words to the kind's subject."""
    return kind.name, Words(say, sponsor)
