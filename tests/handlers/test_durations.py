"""Every span a person reads is written by one formatter, in Babel's units for the team's language."""

from datetime import timedelta

import pytest

from handlers.text.formatting import duration_text
from handlers.text.i18n import speaking

SPANS = [
    (timedelta(0), "less than a minute", "不到 1 分钟"),
    (timedelta(seconds=59), "less than a minute", "不到 1 分钟"),
    (timedelta(minutes=-5), "less than a minute", "不到 1 分钟"),  # a clock step back is never "-5 min late"
    (timedelta(minutes=1), "1 min", "1分钟"),
    (timedelta(minutes=1, seconds=29), "1 min", "1分钟"),
    (timedelta(hours=1, minutes=59, seconds=29), "1 hr 59 min", "1小时59分钟"),  # the smaller unit rounded, half up
    (timedelta(hours=1, minutes=59, seconds=30), "2 hr", "2小时"),
    (timedelta(hours=2), "2 hr", "2小时"),  # no "0 min"
    (timedelta(hours=2, minutes=5), "2 hr 5 min", "2小时5分钟"),
    (timedelta(days=3, hours=4, minutes=29), "3 days 4 hr", "3天4小时"),  # the two largest units
    (timedelta(hours=23, minutes=59, seconds=40), "1 day", "1天"),  # rounding carries into the larger unit
    (timedelta(days=2, minutes=3), "2 days", "2天"),
    (None, "—", "—"),
]


@pytest.mark.parametrize(("span", "english", "chinese"), SPANS)
def test_a_span_reads_the_same_everywhere_in_both_languages(span, english, chinese):
    with speaking("en"):
        assert duration_text(span) == english
    with speaking("zh"):
        assert duration_text(span) == chinese


def test_a_drill_scorecard_keeps_the_seconds_below_an_hour():
    with speaking("en"):
        assert [duration_text(timedelta(seconds=s), seconds=True) for s in (0, 45, 510, 4215)] == [
            "0 sec",
            "45 sec",
            "8 min 30 sec",
            "1 hr 10 min",
        ]
    with speaking("zh"):
        assert duration_text(timedelta(seconds=510), seconds=True) == "8分钟30秒"


def test_outside_any_language_block_it_is_english():
    assert duration_text(timedelta(minutes=90)) == "1 hr 30 min"
