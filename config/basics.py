"""The vocabulary every config model shares: languages, severities, phases, checked time zones, and the strict base
model (unknown keys are errors) with its localized text."""

import re
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict

Language = Literal["en", "zh"]
Severity = Literal["sev1", "sev2", "sev3", "sev4"]
SEVERITIES: tuple[Severity, ...] = ("sev1", "sev2", "sev3", "sev4")


def as_severity(value: object) -> Severity:
    """A severity read back from stored data (a timeline event), checked against the four there are."""
    for severity in SEVERITIES:
        if severity == value:
            return severity
    raise ValueError(f"not a severity: {value!r}")


PHASES = ("detected", "assessing", "responding", "recovering", "resolved", "closed")
ACTIVE_PHASES = PHASES[:4]
OPEN_PHASES = PHASES[:5]  # listed explicitly so the phase index serves the query
TEMPLATE_KINDS = ("holding", "apology", "update", "clarification")


def known_timezone(name: str) -> str:
    """Accept only IANA zone names such as Asia/Shanghai."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown timezone {name!r}; expected an IANA name such as Asia/Shanghai or Europe/London") from None
    return name


class Strict(BaseModel):
    """Base for config models: unknown keys are errors, so typos are caught."""

    model_config = ConfigDict(extra="forbid")


class Localized(Strict):
    """A text in English and Chinese."""

    en: str
    zh: str

    def get(self, language: str) -> str:
        """Return the text in the language, falling back to English."""
        return self.zh if language == "zh" else self.en


_MATRIX_USER = re.compile(r"^@[^:\s]+:[^\s]+$")
_MATRIX_ROOM = re.compile(r"^(?:![^\s]+|#[^:\s]+:[^\s]+)$")  # room version 12 ids carry no server part


def _matrix_user(value: str) -> str:
    """A full Matrix user id: @localpart:server (what the homeserver sends as the sender)."""
    if not _MATRIX_USER.match(value) or len(value) > 64:
        raise ValueError(f"{value[:80]!r} is not a Matrix user id: write it in full, as @alice:example.org")
    return value


def _matrix_room(value: str) -> str:
    """A Matrix room id (!abc:example.org) or alias (#crisis:example.org)."""
    if not _MATRIX_ROOM.match(value) or len(value) > 255:
        raise ValueError(f"{value[:80]!r} is not a Matrix room: give its id (!abc:example.org) or alias (#crisis:example.org)")
    return value


MatrixUser = Annotated[str, AfterValidator(_matrix_user)]
MatrixRoom = Annotated[str, AfterValidator(_matrix_room)]
