"""The claims in the review report (exact times from a scripted timeline) and in `stats` (drills left out)."""

from datetime import timedelta

from bot.web.report_files import write_report
from handlers.desk.claims_report import median_answer
from storage.db import session
from tests.handlers.test_claims import REBUTTAL

WEIBO = "https://weibo.example/official/2"


def scripted_claim(chat, clock, room: str, rebut_at: int, publish_at: int, publish: str = f"published weibo {WEIBO}") -> None:
    """C1 logged at minute 5, verified false at 12, the rebuttal approved at 20, rebutted and published later."""
    start = clock.now()

    def at(minute: int, who: str, line: str) -> None:
        step = start + timedelta(minutes=minute) - clock.now()
        assert step >= timedelta(0)
        clock.advance(step)
        reply = chat.say(who, line, room)
        assert reply.ok, (line, reply.message.plain())

    at(5, "dave", "claim PB-20 power banks explode | <b>&amp; https://weibo.example/p/1 reach 12000")
    at(12, "bob", "verify c1 false no battery of the batch caught fire")
    at(18, "carol", f"draft rebuttal {REBUTTAL}")
    at(19, "bob", "approve")
    at(20, "alice", "approve")
    for minute, who, line in sorted([(rebut_at, "alice", "rebut c1"), (publish_at, "carol", publish)]):
        at(minute, who, line)


def table_rows(markdown: str) -> list[list[str]]:
    section = markdown.split("## Claims\n", 1)[1].split("\n## ", 1)[0]
    return [[cell.strip() for cell in line.strip("|").split(" | ")] for line in section.splitlines() if line.startswith("| C")]


def test_the_report_gives_each_claim_its_exact_times(chat, clock, room, tmp_path):
    scripted_claim(chat, clock, room, rebut_at=22, publish_at=31)
    with session(chat.engine) as db:
        md, html = write_report(db, chat.config, 1, clock.now(), tmp_path)
    markdown = md.read_text(encoding="utf-8")
    assert table_rows(markdown) == [
        [
            "C1",
            r"PB-20 power banks explode \| \<b\>&amp;",
            "12,000",
            "false",
            "09:05 Beijing time, 2 Mar",
            "09:12 Beijing time, 2 Mar",
            "09:22 Beijing time, 2 Mar (v1)",
            rf"09:31 Beijing time, 2 Mar (weibo {WEIBO})".replace("_", r"\_"),
            "26 min",
        ]
    ]
    page = html.read_text(encoding="utf-8")
    assert '<section id="claims">' in page and "PB-20 power banks explode | &lt;b&gt;&amp;amp;" in page
    assert "<td>26 min</td>" in page


def test_a_report_without_claims_has_no_claims_section(chat, clock, room, tmp_path):
    with session(chat.engine) as db:
        md, html = write_report(db, chat.config, 1, clock.now(), tmp_path)
    assert "## Claims" not in md.read_text(encoding="utf-8") and 'id="claims"' not in html.read_text(encoding="utf-8")


def test_stats_give_the_median_time_to_answer_a_false_claim_and_leave_drills_out(chat, clock, room, tmp_path, monkeypatch):
    scripted_claim(chat, clock, room, rebut_at=22, publish_at=31)  # 26 min
    _id, room2 = chat.declare(line="declare product-quality sev2 Charger recall")
    scripted_claim(chat, clock, room2, rebut_at=50, publish_at=45)  # the version was out first: answered at 50, 45 min
    with session(chat.engine) as db:
        median, count = median_answer(db)
    assert (median, count) == (timedelta(minutes=35, seconds=30), 2)
    drill = chat.say("erin", "drill product-quality sev2")
    assert drill.ok, drill.message.plain()
    drill_room = chat.room_of(drill.incident_id)
    scripted_claim(chat, clock, drill_room, rebut_at=21, publish_at=21, publish="publish")  # a drill's 1 min would pull the median down
    with session(chat.engine) as db:
        assert median_answer(db) == (timedelta(minutes=35, seconds=30), 2)


def test_the_timeline_records_each_step(chat, clock, room, tmp_path):
    scripted_claim(chat, clock, room, rebut_at=22, publish_at=31)
    with session(chat.engine) as db:
        md, _html = write_report(db, chat.config, 1, clock.now(), tmp_path)
    timeline = md.read_text(encoding="utf-8").split("\n## Timeline\n", 1)[1]
    steps = [line.split(" | ")[:3] + [line.split(" | ")[3].rstrip(" |")] for line in timeline.splitlines() if "| C1 |" in line]
    assert steps == [
        ["| 2 Mar 09:05", "Dave Zhang", "claim logged", "C1"],
        ["| 2 Mar 09:12", "Bob Li", "claim checked", "C1"],
        ["| 2 Mar 09:22", "Alice Chen", "claim answered", "C1"],
        ["| 2 Mar 09:31", "OneVoice", "claim answer published", "C1"],
    ]
