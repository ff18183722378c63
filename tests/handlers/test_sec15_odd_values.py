"""Odd values in the newer verbs are refused with the usage and change nothing (issue 15, finding 10): a press
inquiry's deadline given as a date, where only a time of day or a span is read, is not quietly made part of the
question ("due to …" still is); a reach with commas that do not group thousands is a typo, not a figure.

#1 is product-quality sev1 with an approved line (carol spokesperson); it is 09:05 on 2026-03-02, Asia/Shanghai.
"""

import pytest

from tests.conftest import Chat
from tests.handlers.desk_chat import approved_incident

USAGE = "Usage: /crisis inquiry <outlet> [due <17:30> | in <2h>] [email <address>] <question>"


@pytest.mark.parametrize("day", ["1999-01-01", "2026-03-03", "2026-3-3", "9pm", "9:30AM"])
def test_an_inquiry_deadline_given_as_a_date_is_refused_and_changes_nothing(chat, clock, day):
    room = approved_incident(chat, clock)
    before = chat.snapshot()
    reply = chat.say("dave", f"inquiry Caixin due {day} Are the stores closed?", room)
    assert not reply.ok
    assert reply.message.plain().splitlines()[:2] == [f"“{day}” is not a time of day: write it as 17:30, or give a span: in 2h.", USAGE]
    assert chat.snapshot() == before
    assert chat.say("dave", "inquiry Caixin due to the recall, are stores closed?", room).ok  # "due to": the question


def test_the_refusal_speaks_chinese(engine, config, clock):
    chat = Chat(engine, config.model_copy(update={"language": "zh"}), clock)
    room = approved_incident(chat, clock)
    reply = chat.say("dave", "inquiry 财新 due 1999-01-01 门店关了吗？", room)
    assert not reply.ok and "“1999-01-01”" in reply.message.plain() and "17:30" in reply.message.plain(), reply.message.plain()
    assert "not a time" not in reply.message.plain()


@pytest.mark.parametrize("reach", ["1,2,3", "12,00", "1,0000", "12,"])
def test_a_reach_whose_commas_group_no_thousands_is_refused_and_changes_nothing(chat, clock, reach):
    room = approved_incident(chat, clock)
    before = chat.snapshot()
    reply = chat.say("dave", f"claim Batteries explode reach {reach}", room)
    said = reply.message.plain()
    assert not reply.ok and said.startswith(f"“{reach}” is not a reach: give a whole number of people"), said
    assert chat.snapshot() == before
    assert "Reach 12,000." in chat.say("dave", "claim Batteries explode reach 12,000", room).message.plain()
