"""Saying things in the team's words: phases, times in the team's zone, people, durations (no database)."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from babel.lists import format_list
from babel.units import format_unit

from config.model import Config
from handlers.text.i18n import _, language


def when(config: Config, moment: datetime | None, now: datetime | None = None) -> str:
    """A time in the team's timezone, short; with its year when that is not the year of `now` (where the caller knows now)."""
    if moment is None:
        return "—"
    zone = ZoneInfo(config.timezone)
    local = moment.astimezone(zone)
    other_year = now is not None and local.year != now.astimezone(zone).year
    return local.strftime("%Y-%m-%d %H:%M" if other_year else "%m-%d %H:%M")


def person_name(config: Config, key: str | None) -> str:
    """A display name for a person key."""
    person = config.team.people.get(key) if key else None
    return person.name if person else (key or "—")


def duration_text(span: timedelta | None, seconds: bool = False) -> str:
    """A span as people say it, in Babel's (CLDR) units for the current language: its two largest units, the smaller
    one rounded ('1 hr 59 min', '3 days 4 hr', '1小时59分钟'), and 'less than a minute' rather than '0 min'.
    `seconds` keeps them below an hour ('8 min 30 sec'), where a target can be missed by seconds (drill scorecards)."""
    if span is None:
        return "—"
    total = max(0, int(span.total_seconds()))
    if total < 60 and not seconds:
        return _("less than a minute")
    # The unit the last shown part counts in, then the span rounded to it (half up) and split, largest unit first.
    step = 1 if seconds and total < 3600 else 60 if total < 86400 - 30 else 3600
    left = (total + step // 2) // step * step
    amounts: list[tuple[int, str]] = []
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute"), (1, "second")):
        if size >= step and (left >= size or amounts or size == step):
            amounts.append((left // size, unit))
            left %= size
    shown = [(amount, unit) for amount, unit in amounts[:2] if amount or unit == amounts[0][1]]
    locale = language()
    parts = [format_unit(amount, f"duration-{unit}", length="short", locale=locale) for amount, unit in shown]
    return format_list(parts, style="unit-narrow", locale=locale)
