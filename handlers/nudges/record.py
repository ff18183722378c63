"""The shape of a nudge kind's record: data only (the records are in kinds.py, what each kind says in words.py)."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Generic, Protocol, Self, TypeVar

from storage.models import Incident


class Shape(Protocol):
    """What a record needs of the type of its subject (every shape in subjects.py has it)."""

    @classmethod
    def parse(cls, stored: str | None) -> Self: ...

    def format(self) -> str: ...

    def words(self) -> dict[str, str]: ...


S = TypeVar("S", bound=Shape)  # the subject shape of one kind


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
    """A reminder kind: everything that makes it differ from the others, except its words (words.py, read when it fires)."""

    name: str  # stored in `nudge.kind`, and the key of its words
    subject: type[S]  # the shape of `nudge.subject`
    clears: str  # the command that clears it, after `/crisis`; {fields} come from the subject's words
    scripted: bool = False  # its feature posts it in the room when it comes due (no words, no repeat, no ladder)
    repeat: timedelta | None = None  # the pace it comes back at while not done (the scheduler may pass the team's own)
    cap: int | None = None  # how often one level hears it before the next does; None: the team's `nudge_repeat_cap`
    ladder: tuple[str, ...] = ()  # who hears next when the owner does not act, one level per escalation ({role}: the subject's)
    quiet: Callable[[Incident], bool] = unless_urgent  # whether quiet hours hold it back
    live: bool = True  # part of the live response: resolving the incident clears it
    after_close: bool = False  # still fires once the incident is closed (follow-up actions)

    @property
    def pace(self) -> timedelta:
        """The pace of a kind whose record sets one (the scheduler passes the others theirs)."""
        if self.repeat is None:
            raise TypeError(f"{self.name} has no pace of its own")
        return self.repeat

    def store(self, subject: Shape) -> str:
        """The text stored for a subject of this kind; a subject of another shape is a mistake in the caller."""
        if type(subject) is not self.subject:
            raise TypeError(f"{self.name} is about a {self.subject.__name__}, not {subject!r}")
        return subject.format()

    def clearing(self, subject: Shape) -> str:
        """The clearing command for one subject (`done 3`)."""
        return self.clears.format(**subject.words())
