"""The value of a date or a time fact, so that the same fact written another way is the same fact (PRODUCT.md §4).

`June 1`, `1 June`, `June 1st`, `6月1日` and `6月1号` are (6, 1); `3pm`, `3 p.m.`, `15:00`, `下午3点` and `15时` are 15:00.
A form this module does not read (a weekday, "today", 03/04/2025) has no value and is compared by its words.
"""

import re

_MONTHS = {m: i for i, names in enumerate(
    (("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",), ("jun", "june"), ("jul", "july"),
     ("aug", "august"), ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"), ("dec", "december")), start=1)
    for m in names}  # fmt: skip
_CHINESE_DIGITS = {"〇": 0, "零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_MONTH_WORD = "|".join(sorted(_MONTHS, key=len, reverse=True))
_EN_DAY_MONTH = re.compile(rf"(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({_MONTH_WORD})\.?(?:,?\s+(\d{{4}}))?$", re.I)
_EN_MONTH_DAY = re.compile(rf"({_MONTH_WORD})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(\d{{4}}))?$", re.I)
_ISO = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$")
_ZH_NUMBER = r"[\d一二三四五六七八九十]{1,3}"
_ZH_DATE = re.compile(rf"(?:([\d〇零一二三四五六七八九]{{4}})\s*年\s*)?({_ZH_NUMBER})\s*月\s*({_ZH_NUMBER})\s*[日号]$")
_CLOCK = re.compile(r"(\d{1,2})\s*[:：.]\s*(\d{2})\s*(a\.?m\.?|p\.?m\.?)?", re.I)
_HOUR = re.compile(r"(\d{1,2})\s*(a\.?m\.?|p\.?m\.?)", re.I)
_ZH_HOUR = re.compile(r"([\d零一二两三四五六七八九十]{1,3})\s*[点时]\s*(?:([\d零一二三四五六七八九十]{1,3})\s*分|(半))?")
_AFTERNOON = ("下午", "晚上", "傍晚", "夜间", "夜里")  # a 12-hour clock in the afternoon or evening
_MORNING = ("凌晨", "早上", "早晨", "上午")
_ZONE = re.compile(r"\b([A-Z]{2,4})(?:[+-]\d{1,2})?\s*$")


def chinese_number(digits: str) -> int | None:
    """`12`, `十二`, `二十一`, `二〇二四` as a number."""
    if digits.isdigit():
        return int(digits)
    if "十" in digits:
        tens, _ten, ones = digits.partition("十")
        return (_CHINESE_DIGITS.get(tens, 0) if tens else 1) * 10 + (_CHINESE_DIGITS.get(ones, 0) if ones else 0)
    if all(char in _CHINESE_DIGITS for char in digits):
        return int("".join(str(_CHINESE_DIGITS[char]) for char in digits))
    return None


def date_value(words: str) -> tuple[int | None, int, int] | None:
    """(year or None, month, day) of a written date, or None when the form is not one read here."""
    words = words.strip()
    if match := _EN_DAY_MONTH.match(words):
        day, month, year = match.groups()
        return (int(year) if year else None, _MONTHS[month.lower()], int(day))
    if match := _EN_MONTH_DAY.match(words):
        month, day, year = match.groups()
        return (int(year) if year else None, _MONTHS[month.lower()], int(day))
    if match := _ISO.match(words):
        return (int(match.group(1)), int(match.group(2)), int(match.group(3)))
    if match := _ZH_DATE.match(words):
        year, month, day = (chinese_number(part) if part else None for part in match.groups())
        return (year, month, day) if month and day else None
    return None


def same_date(one: tuple[int | None, int, int], other: tuple[int | None, int, int]) -> bool:
    """The same day; a date written without its year matches that day in any year."""
    return one[1:] == other[1:] and (one[0] is None or other[0] is None or one[0] == other[0])


def time_value(words: str) -> tuple[int, str] | None:
    """(minutes after midnight, time zone or "") of a written time, or None when the form is not one read here."""
    zone = _ZONE.search(words)
    zone_name = zone.group(1) if zone and zone.group(1).lower() not in ("am", "pm") else ""
    hour: int | None  # a Chinese numeral may not read as one: checked below
    minute: int | None
    if match := _CLOCK.search(words):
        hour, minute, half = int(match.group(1)), int(match.group(2)), match.group(3)
    elif match := _HOUR.search(words):
        hour, minute, half = int(match.group(1)), 0, match.group(2)
    elif match := _ZH_HOUR.search(words):
        hour = chinese_number(match.group(1))
        minute = 30 if match.group(3) else (chinese_number(match.group(2)) if match.group(2) else 0)
        half = "pm" if any(word in words for word in _AFTERNOON) else ("am" if any(word in words for word in _MORNING) else None)
        if hour is None or minute is None:
            return None
    else:
        return None
    if half and half[0].lower() == "p" and hour < 12:
        hour += 12
    if half and half[0].lower() == "a" and hour == 12:
        hour = 0
    return (hour * 60 + minute, zone_name) if hour < 25 and minute < 60 else None
