"""The review report's "Stakeholders" and "Press inquiries" sections and the desk's `stats` figures, from a scripted
timeline on the fake clock: #1 product-quality sev1 declared at 09:00 Asia/Shanghai, the line v1 approved at 09:05;
regulators are due within 1 h (10:00)."""

from datetime import timedelta

import pytest
from sqlmodel import select

from bot.web.report_files import write_report
from handlers.desk import review as desk
from storage.db import session
from storage.models import Outbox
from tests.handlers.desk_chat import approved_incident


def scripted(chat, clock) -> str:
    start = clock.now()
    room = approved_incident(chat, clock)

    def at(minute: int, who: str, line: str) -> None:
        clock._now = start + timedelta(minutes=minute)
        reply = chat.say(who, line, room)
        assert reply.ok, (line, reply.message.plain())

    at(10, "dave", "inquiry Reuters in 30m email reporter@reuters.example Is the recall national?")  # due 09:40
    at(20, "dave", "inquiry Caixin Who is to blame?")
    at(50, "erin", "notify regulators")  # 10 min before the deadline
    at(55, "carol", "answer q1")  # 45 min after it was logged, 15 min late
    at(65, "carol", "notified regulators Provincial Confirmed receipt")
    at(70, "carol", "answer q2 declined Speculation about blame")
    at(75, "carol", "notify press")
    with session(chat.engine) as db:  # what the mail channel's worker recorded
        for row in db.exec(select(Outbox).where(Outbox.platform == "mail").order_by(Outbox.id)):
            row.state = {"duty@regulator.example": "sent", "reporter@reuters.example": "sent"}.get(row.payload["to"], "failed")
            db.add(row)
        db.commit()
    clock._now = start + timedelta(minutes=90)
    return room


def test_the_report_shows_who_was_told_when_against_the_deadline_and_every_inquiry(chat, clock, tmp_path):
    scripted(chat, clock)
    with session(chat.engine) as db:
        markdown_path, html_path = write_report(db, chat.config, 1, clock.now(), tmp_path)
    markdown = markdown_path.read_text(encoding="utf-8")
    section = markdown[markdown.index("## Stakeholders") : markdown.index("## Timeline")].strip().splitlines()
    assert section == [
        "## Stakeholders",
        "",
        "| List | Required | Deadline | First told | Against the deadline |",
        "|---|---|---|---|---|",
        "| Regulators | yes | 10:00 Beijing time, 2 Mar | 09:50 Beijing time, 2 Mar | on time, 10 min before |",
        "| Press list | no | — | — | no deadline |",  # its one e-mail was refused: nobody was told
        "",
        "| List | Contact | How | Version | When | Who | Outcome | Note |",
        "|---|---|---|---|---|---|---|---|",
        "| Regulators | Market regulator duty desk | e-mail | v1 | 09:50 Beijing time, 2 Mar | Erin Liu | delivered |  |",
        "| Regulators | Provincial office | call or reply | v1 | 10:05 Beijing time, 2 Mar | Carol Wang |  | Confirmed receipt |",
        "| Press list | Newswire desk | e-mail | v1 | 10:15 Beijing time, 2 Mar | Carol Wang | refused |  |",
        "",
        "## Press inquiries",
        "",
        "| # | Outlet | Question | Logged | Deadline | Answer | Answered | Took | On time | Who |",
        "|---|---|---|---|---|---|---|---|---|---|",
        "| Q1 | Reuters | Is the recall national? | 09:10 Beijing time, 2 Mar | 09:40 Beijing time, 2 Mar | answered with v1 "
        "| 09:55 Beijing time, 2 Mar | 45 min | late | Carol Wang |",
        "| Q2 | Caixin | Who is to blame? | 09:20 Beijing time, 2 Mar | — | declined: Speculation about blame "
        "| 10:10 Beijing time, 2 Mar | 50 min |  | Carol Wang |",
    ]
    html = html_path.read_text(encoding="utf-8")
    assert '<section id="stakeholders">' in html and "<td>on time, 10 min before</td>" in html
    assert "<td>declined: Speculation about blame</td>" in html


def test_the_timeline_records_every_step(chat, clock, tmp_path):
    scripted(chat, clock)
    with session(chat.engine) as db:
        markdown_path, _html = write_report(db, chat.config, 1, clock.now(), tmp_path)
    rows = [line for line in markdown_path.read_text(encoding="utf-8").splitlines() if line.startswith("| 2 Mar ")]
    kinds = [row.split(" | ")[2] for row in rows]
    desk = [kind for kind in kinds if "press" in kind or "stakeholder" in kind]
    assert desk == [
        "press inquiry",  # 09:10 Q1
        "press inquiry",  # 09:20 Q2
        "stakeholders notified",  # 09:50 regulators
        "press inquiry answered",  # 09:55 Q1
        "stakeholder call recorded",  # 10:05 provincial office
        "press inquiry declined",  # 10:10 Q2
        "stakeholders notified",  # 10:15 press
    ]


@pytest.mark.parametrize("drill_too", [False, True])
def test_stats_count_lists_told_on_time_and_the_median_answer_time_without_drills(chat, clock, drill_too):
    scripted(chat, clock)
    if drill_too:  # a drill that misses everything changes nothing
        _id, drill_room = chat.declare(line="drill product-quality sev1")
        assert chat.say("dave", "inquiry Reuters Is it safe?", drill_room).ok
        clock.advance(timedelta(hours=5))
        assert chat.say("alice", "answer q1 declined Not now", drill_room).ok
    with session(chat.engine) as db:
        figures = desk.across(db, chat.config, clock.now())
    assert (figures.lists_decided, figures.lists_on_time, figures.on_time_percent) == (1, 1, 100)
    assert sorted(figures.answer_times) == [timedelta(minutes=45), timedelta(minutes=50)]
    assert figures.median_answer == timedelta(minutes=47, seconds=30)


def test_a_required_list_never_told_counts_as_late_once_its_deadline_has_passed(chat, clock):
    approved_incident(chat, clock)
    with session(chat.engine) as db:
        assert desk.across(db, chat.config, clock.now()).lists_decided == 0  # not due yet: undecided
        later = desk.across(db, chat.config, clock.now() + timedelta(hours=2))
    assert (later.lists_decided, later.lists_on_time, later.on_time_percent) == (1, 0, 0)


def test_onevoice_stats_prints_the_desk_figures(chat, clock, capsys):
    from bot.cli_review import _desk_stats
    from handlers.text.i18n import speaking

    scripted(chat, clock)
    with session(chat.engine) as db, speaking("en"):
        _desk_stats(db, chat.config, clock.now())
    with session(chat.engine) as db, speaking("zh"):
        _desk_stats(db, chat.config, clock.now())
    assert capsys.readouterr().out.splitlines() == [
        "Stakeholder lists told by their deadline: 1 of 1 (100 %)",
        "Median press inquiry answer time: 48 min (2 answered or declined)",
        "按时告知的利益相关方名单：1 个中的 1 个（100 %）",
        "媒体问询答复时间中位数：48分钟（已答复或拒绝 2 条）",
    ]
