"""Durations as people write them in config and commands: 45s, 30m, 2h, 3d."""

import re
from datetime import timedelta
from typing import Annotated

from pydantic import BeforeValidator, PlainSerializer

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
LONGEST = timedelta(days=366)  # anything longer is a typo, and would overflow dates
_PATTERN = re.compile(r"^\s*(\d{1,6})\s*([smhdw])\s*$", re.IGNORECASE)


def parse_duration(text: str) -> timedelta:
    """Turn '45s', '30m', '2h', '3d' or '1w' into a timedelta; raise ValueError otherwise."""
    match = _PATTERN.match(str(text))
    if not match:
        raise ValueError(f"expected a duration such as 45s, 30m, 2h or 3d, got {text!r}")
    value = timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2).lower()])
    if value > LONGEST:
        raise ValueError(f"expected a duration of at most {LONGEST.days}d, got {text!r}")
    return value


def format_duration(value: timedelta) -> str:
    """Write a timedelta back in the largest unit that divides it evenly."""
    seconds = int(value.total_seconds())
    for unit in ("w", "d", "h", "m"):
        if seconds and seconds % _UNITS[unit] == 0:
            return f"{seconds // _UNITS[unit]}{unit}"
    return f"{seconds}s"


def _coerce(value: object) -> object:
    if isinstance(value, timedelta):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        raise ValueError(f"expected a duration with a unit (45s, 30m, 2h, 3d), got the bare number {value}")
    return parse_duration(str(value))


Duration = Annotated[timedelta, BeforeValidator(_coerce), PlainSerializer(format_duration, return_type=str)]
