"""Odd values are refused with the usage, in English and Chinese, and change nothing; dates show their year when it
is not the current one (issue 15, finding 10).

Incident #1 is product-quality sev2 declared by alice at 09:00 on 2026-03-02, Asia/Shanghai.
"""

import pytest

from tests.conftest import Chat

TASK_USAGE = "Usage: /crisis task <text> [@person|@role] [in 30m]"
ACTION_USAGE = "Usage: /crisis action <text> @person [due <date|in 3d>]"


def refused(chat, room, line, *fragments):
    before = chat.snapshot()
    reply = chat.say("alice", line, room)
    assert not reply.ok, reply.message.plain()
    for fragment in fragments:
        assert fragment in reply.message.plain(), reply.message.plain()
    assert chat.snapshot() == before


@pytest.mark.parametrize("span", ["-5m", "1.5h", "0m", "+0h", "0,5d", "－５ｍ"])
def test_a_negative_fractional_or_zero_duration_is_refused(chat, span):
    """Was: `task neg in -5m` and `task frac in 1.5h` became title text with no due time."""
    room = chat.declare()[1]
    refused(chat, room, f"task neg in {span}", f"“{span}” is not a duration: use a whole number above zero", TASK_USAGE)
    refused(chat, room, f"action Check @erin due in {span}", f"“{span}” is not a duration", ACTION_USAGE)


@pytest.mark.parametrize(
    ("day", "problem"),
    [
        ("1999-01-01", "1999-01-01 is in the past: give a date from today on."),
        ("2026-03-01", "2026-03-01 is in the past"),
        ("2040-01-01", "2040-01-01 is too far away: give a date within 5 years."),
        ("2026-02-30", "Give the due date as YYYY-MM-DD or as in 3d."),
        ("20260310", "Give the due date as YYYY-MM-DD or as in 3d."),
    ],
)
def test_a_due_date_in_the_past_or_years_ahead_is_refused(chat, day, problem):
    """Was: `action … due 1999-01-01` was accepted (and shown without its year)."""
    room = chat.declare()[1]
    refused(chat, room, f"action Brief retail partners @carol due {day}", problem, ACTION_USAGE)


def test_the_refusals_speak_chinese(engine, config, clock):
    chat = Chat(engine, config.model_copy(update={"language": "zh"}), clock)
    room = chat.declare()[1]
    refused(chat, room, "task neg in -5m", "“-5m”不是有效的时长：请用大于零的整数加单位")
    refused(chat, room, "action 通知 @carol due 1999-01-01", "1999-01-01 已经过去：请给出今天或以后的日期。")
    refused(chat, room, "action 通知 @carol due 2040-01-01", "2040-01-01 太远了：请给出 5 年以内的日期。")


def test_a_date_in_another_year_is_shown_with_its_year(chat):
    room = chat.declare()[1]
    reply = chat.say("alice", "action Audit the supplier @erin due 2027-01-15", room)
    assert reply.ok and reply.message.plain() == "Action A1 for Erin Liu, due 18:00 Beijing time, 15 Jan 2027."
    assert (
        chat.say("alice", "action Brief partners @carol due 2026-03-10", room).message.plain()
        == "Action A2 for Carol Wang, due 18:00 Beijing time, 10 Mar."
    )
    listing = chat.say("bob", "actions", room).message.plain()
    assert "A1 Audit the supplier · Erin Liu · 18:00 Beijing time, 15 Jan 2027" in listing
    assert "A2 Brief partners · Carol Wang · 18:00 Beijing time, 10 Mar" in listing


def test_the_checklist_shows_a_due_time_next_year_with_its_year(chat):
    room = chat.declare()[1]
    assert chat.say("alice", "task Archive the records in 366d", room).ok
    assert "☐ 15 Archive the records · — · due 09:00 Beijing time, 3 Mar 2027" in chat.say("alice", "tasks", room).message.plain()
