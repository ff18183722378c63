"""The vocabulary every config model shares: languages, severities, phases, checked time zones, and the strict base
model (unknown keys are errors) with its localized text."""

from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict

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
