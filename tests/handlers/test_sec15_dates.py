"""Dates show their year when it is not the current one (issue 15, finding 10), here where the line is read: `line`
months later names the year it was approved in.

Incident #1 is product-quality sev2 declared by alice at 09:00 on 2026-03-02, Asia/Shanghai.
"""

from datetime import timedelta

from tests.handlers.chat_lines import said


def test_the_line_read_in_another_year_names_the_year_it_was_approved(chat, clock, room):
    said(chat, "carol", "draft We are sorry for the worry. Next update at 11:00.", room)
    said(chat, "bob", "approve v1", room)
    said(chat, "alice", "approve v1", room)
    assert "approved 09:00 Beijing time, 2 Mar by" in said(chat, "alice", "line", room)
    clock.advance(timedelta(days=320))  # January 2027
    assert "approved 09:00 Beijing time, 2 Mar 2026 by" in said(chat, "alice", "line", room)
    assert "approved 09:00 Beijing time, 2 Mar 2026 by" in said(chat, "alice", "line", "lobby")  # the open incidents' lines


def test_a_reminder_said_in_the_new_year_names_the_year_it_was_due(chat, clock):
    clock.advance(timedelta(days=298))  # 25 Dec 2026
    room = chat.declare()[1]
    assert "Review meeting due by 09:00 Beijing time, 30 Dec." in said(chat, "alice", "resolve", room)  # 3 working days
    clock.advance(timedelta(days=5, minutes=1))
    assert any("the review meeting was due 09:00 Beijing time, 30 Dec (" in message.plain() for _to, message in chat.fire())
    clock.advance(timedelta(days=1))
    assert any("30 Dec (1 day late)" in message.plain() for _to, message in chat.fire())
    clock.advance(timedelta(days=1))  # 1 Jan 2027: the daily repeat
    assert any("the review meeting was due 09:00 Beijing time, 30 Dec 2026 (" in message.plain() for _to, message in chat.fire())
