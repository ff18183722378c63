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
