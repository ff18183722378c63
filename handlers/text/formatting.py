"""Saying things in the team's words: phases, times in the team's zone, people, durations (no database)."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import get_timezone_name
from babel.lists import format_list
from babel.units import format_unit

from config.model import Config
from handlers.text.i18n import _, language


def when(config: Config, moment: datetime | None, now: datetime | None = None) -> str:
    """A time in the team's timezone that no reader can misread: '09:20 Beijing time, 2 Mar' / '3月2日 北京时间 09:20',
    with the year when it is not the year of `now` (where the caller knows now)."""
    return moment_text(config, moment, now)


BEIJING = {"Asia/Shanghai", "Asia/Chongqing", "Asia/Harbin", "Asia/Urumqi", "PRC"}  # China's one official time


def zone_name(zone: ZoneInfo, moment: datetime) -> str:
    """The zone as people say it: 'Beijing time' / '北京时间', else CLDR's long name, else 'GMT+8' (never 'CST': China or US Central?)."""
    if zone.key in BEIJING:
        return _("Beijing time")
    if zone.key in ("UTC", "Etc/UTC", "Etc/GMT", "GMT"):
        return "UTC"
    name = get_timezone_name(moment.astimezone(zone), width="long", locale=language())
    if not name or name.startswith(("GMT", "UTC")) or "Unknown" in name:
        total = int((moment.astimezone(zone).utcoffset() or timedelta(0)).total_seconds()) // 60
        hours, minutes = divmod(abs(total), 60)
        return f"GMT{'-' if total < 0 else '+'}{hours}" + (f":{minutes:02d}" if minutes else "")
    return name


def day_text(local: datetime, year: bool) -> str:
    """An unambiguous date: '6 Dec' / '12月6日', with the year where asked ('6 Dec 2025' / '2025年12月6日')."""
    if language() == "zh":
        return f"{local.year}年{local.month}月{local.day}日" if year else f"{local.month}月{local.day}日"
    months = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
    return f"{local.day} {months[local.month - 1]}" + (f" {local.year}" if year else "")


def moment_text(config: Config, moment: datetime | None, now: datetime | None = None) -> str:
    """A time a reader cannot misread: '09:20 Beijing time, 2 Mar' / '3月2日 北京时间 09:20' (the year when not now's)."""
    if moment is None:
        return "—"
    zone = ZoneInfo(config.timezone)
    local = moment.astimezone(zone)
    other_year = now is not None and local.year != now.astimezone(zone).year
    return _("{time} {zone}, {day}").format(time=local.strftime("%H:%M"), zone=zone_name(zone, moment), day=day_text(local, other_year))


def person_name(config: Config, key: str | None) -> str:
    """A display name for a person key."""
    person = config.team.people.get(key) if key else None
    return person.name if person else (key or "—")


def role_name(config: Config, key: str) -> str:
    """A role's title in the team's language, or the key itself."""
    spec = config.team.roles.get(key)
    return spec.title.get(config.language) if spec else key


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
