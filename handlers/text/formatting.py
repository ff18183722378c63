"""Saying things in the team's words: phases, times in the team's zone, people, durations (no database)."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from config.model import Config
from handlers.text.i18n import _


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


def duration_text(span: timedelta) -> str:
    """'25 min', '2 h 5 min', '3 d 4 h'."""
    minutes = max(0, int(span.total_seconds() // 60))
    days, minutes = divmod(minutes, 1440)
    hours, minutes = divmod(minutes, 60)
    if days:
        return _("{d} d {h} h").format(d=days, h=hours)
    if hours:
        return _("{h} h {m} min").format(h=hours, m=minutes)
    return _("{m} min").format(m=minutes)
