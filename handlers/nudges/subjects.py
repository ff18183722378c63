"""What a nudge is about, typed: one small dataclass per subject shape, stored as text in `nudge.subject`.

Each shape is written once as a template (`"v{version}:{role}"`); formatting and parsing both follow it, so a stored
subject reads back as the value that wrote it, and the rows written before these types existed read unchanged.
"""

import dataclasses
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar, Self

_FIELD = re.compile(r"\{(\w+)\}")
NUMBER = r"0|[1-9][0-9]{0,8}"  # no sign, no leading zero: one spelling per number, so the text round-trips


class BadSubject(ValueError):
    """A stored subject that does not have its kind's shape."""


@dataclass(frozen=True)
class Subject:
    """Base of the subject shapes: `shape` names the fields; ints are numbers, texts stop at the next ':' (the last runs on)."""

    shape: ClassVar[str] = ""
    choices: ClassVar[dict[str, tuple[str, ...]]] = {}  # fields that take one of a few words

    @classmethod
    @functools.cache
    def _patterns(cls) -> dict[str, str]:
        names = _FIELD.findall(cls.shape)
        types = {field.name: field.type for field in dataclasses.fields(cls)}
        patterns = {}
        for position, name in enumerate(names):
            if name in cls.choices:
                patterns[name] = "|".join(re.escape(word) for word in cls.choices[name])
            elif types[name] in (int, "int"):
                patterns[name] = NUMBER
            else:
                patterns[name] = ".+" if position == len(names) - 1 else "[^:]+"  # as `partition(":")` always read it
        return patterns

    @classmethod
    @functools.cache
    def _regex(cls) -> re.Pattern[str]:
        patterns = cls._patterns()
        parts = _FIELD.split(cls.shape)  # literal, name, literal, name, …
        text = "".join(re.escape(part) if i % 2 == 0 else f"(?P<{part}>{patterns[part]})" for i, part in enumerate(parts))
        return re.compile(text, re.DOTALL)

    @classmethod
    def parse(cls, stored: str | None) -> Self:
        """The subject a stored text names; BadSubject if it does not have this shape."""
        match = cls._regex().fullmatch(stored or "")
        if match is None:
            raise BadSubject(f"{cls.__name__} expects {cls.shape or 'nothing'!r}, not {(stored or '')[:40]!r}")
        types = {field.name: field.type for field in dataclasses.fields(cls)}
        return cls(**{name: int(value) if types[name] in (int, "int") else value for name, value in match.groupdict().items()})

    def __post_init__(self) -> None:
        patterns = self._patterns()
        for name, pattern in patterns.items():
            if not re.fullmatch(pattern, str(getattr(self, name)), re.DOTALL):
                raise BadSubject(f"{type(self).__name__}.{name} cannot be {getattr(self, name)!r}")

    def format(self) -> str:
        """The text stored in `nudge.subject`."""
        return self.shape.format(**{field.name: getattr(self, field.name) for field in dataclasses.fields(self)})

    def words(self) -> dict[str, str]:
        """The fields as text, for messages and the clearing command."""
        return {field.name: str(getattr(self, field.name)) for field in dataclasses.fields(self)}

    def __str__(self) -> str:
        return self.format()


@dataclass(frozen=True)
class Nothing(Subject):
    """A nudge about the incident as a whole (the update, the review): stored as ''."""


@dataclass(frozen=True)
class Role(Subject):
    """A role nobody holds: 'legal'."""

    role: str
    shape: ClassVar[str] = "{role}"


@dataclass(frozen=True)
class RoleHolder(Subject):
    """A role and the person given it: 'legal:bob'."""

    role: str
    person: str
    shape: ClassVar[str] = "{role}:{person}"


@dataclass(frozen=True)
class Item(Subject):
    """A checklist item by number: '3'."""

    n: int
    shape: ClassVar[str] = "{n}"


@dataclass(frozen=True)
class Stage(Subject):
    """Which warning of a deadline: 'warning' (before it) or 'deadline' (it has passed)."""

    stage: str
    shape: ClassVar[str] = "{stage}"
    choices: ClassVar[dict[str, tuple[str, ...]]] = {"stage": ("warning", "deadline")}


@dataclass(frozen=True)
class VersionRole(Subject):
    """A version of the line waiting for one role's approval: 'v3:legal'."""

    version: int
    role: str
    shape: ClassVar[str] = "v{version}:{role}"

    def words(self) -> dict[str, str]:
        return {"version": f"v{self.version}", "role": self.role}

    @staticmethod
    def any_role(version: int) -> Callable[[Subject], bool]:
        """Whether a subject is one of a version's approvals, whoever gives it."""
        return lambda subject: isinstance(subject, VersionRole) and subject.version == version


@dataclass(frozen=True)
class Action(Subject):
    """A follow-up action by number: 'a4'."""

    n: int
    shape: ClassVar[str] = "a{n}"

    def words(self) -> dict[str, str]:
        return {"n": str(self.n), "key": self.format()}


@dataclass(frozen=True)
class Inject(Subject):
    """A drill inject by number: 'i2'."""

    n: int
    shape: ClassVar[str] = "i{n}"

    def words(self) -> dict[str, str]:
        return {"n": str(self.n), "key": self.format()}


@dataclass(frozen=True)
class Audience(Subject):
    """A stakeholder list by its key (PRODUCT.md §10): 'list:regulators'."""

    key: str
    shape: ClassVar[str] = "list:{key}"


@dataclass(frozen=True)
class Question(Subject):
    """A press inquiry by number: 'q2'."""

    n: int
    shape: ClassVar[str] = "q{n}"

    def words(self) -> dict[str, str]:
        return {"n": str(self.n), "key": self.format()}


@dataclass(frozen=True)
class ClaimRef(Subject):
    """A claim of the rumour log by number: 'c3'."""

    n: int
    shape: ClassVar[str] = "c{n}"

    def words(self) -> dict[str, str]:
        return {"n": str(self.n), "key": self.format()}


@dataclass(frozen=True)
class Aftermath(Subject):
    """The public reaction some hours after a version went out: 'v2:1h'."""

    version: int
    hours: int
    shape: ClassVar[str] = "v{version}:{hours}h"

    def words(self) -> dict[str, str]:
        return {"version": f"v{self.version}", "hours": str(self.hours)}
