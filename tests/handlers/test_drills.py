"""Drills on the fake clock: injects on the minute, answers recorded, the scorecard's times, nothing published outside.

`drill product-quality` runs the shipped scenario power-bank-overheating (sev2), declared at 09:00 Asia/Shanghai
(01:00 UTC, second 0 below). Its injects arrive at minutes 5, 15, 25, 40, 55, 70 and 85. Roles as for any
product-quality sev2 incident declared by alice: commander and comms alice, spokesperson carol, legal bob,
monitor and scribe dave, liaison erin. Sev2 clock: first statement 2 h, updates every hour.
"""

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from config.model import RoomHandles
from config.scenarios import load_scenarios
from handlers.core.effects import Post, Publish
from handlers.core.ports import FakeClock
from handlers.review.scorecard import scorecard
from storage.db import session
from storage.models import DrillInject, Incident, Publication, TimelineEvent
from tests.conftest import Chat
from tests.handlers.test_permissions import PARTICIPANTS_ONLY, with_people

OFFSETS = [5, 15, 25, 40, 55, 70, 85]  # minutes
DRAFT = "We are sorry for the worry caused by PB-20 power banks overheating. Next update at 11:00."


class Drill:
    """A drill on the fake clock, moved in seconds since it started."""

    def __init__(self, chat: Chat, clock: FakeClock, line: str = "drill product-quality", who: str = "alice"):
        self.chat, self.clock, self.start = chat, clock, clock.now()
        reply = chat.say(who, line)
        assert reply.ok, reply.message.plain()
        self.id, self.reply = reply.incident_id, reply.message.plain()
        self.room = chat.room_of(self.id)

    def at(self, seconds: float) -> None:
        """Move the clock to a second after the start (never back)."""
        step = self.start + timedelta(seconds=seconds) - self.clock.now()
        assert step >= timedelta(0), "the fake clock only moves forward"
        self.clock.advance(step)

    def injects_at(self, seconds: float) -> list[tuple[str, str]]:
        """Move to a second and fire: (to, text) of each inject posted."""
        self.at(seconds)
        return [(to, m.plain()) for to, m in self.chat.fire() if any(" answer i" in b.command for b in m.buttons)]

    def say(self, who: str, line: str):
        return self.chat.say(who, line, self.room)


@pytest.fixture
def drill(chat, clock) -> Drill:
    return Drill(chat, clock)


def test_drill_opens_a_flagged_incident_like_declare_with_the_scenario_title(chat, drill):
    assert drill.reply == (
        "🧪 Drill #1 “PB-20 power banks overheating (lot 2311)” started (product-quality, sev2, scenario power-bank-overheating): "
        "7 injects over 1 hr 25 min. Room: drill-20260302-pb-20-power-banks-overheating-lot-2311"
    )
    with session(chat.engine) as db:
        incident = db.get(Incident, 1)
        assert (incident.drill, incident.scenario, incident.severity, incident.playbook) == (
            True,
            "power-bank-overheating",
            "sev2",
            "product-quality",
        )
    posts = chat.posts()
    assert any(p.startswith("Roles:\n• Incident commander: Alice Chen") for p in posts)  # declare's roles and checklist
    assert any(p.startswith("Checklist (14 items)") for p in posts)
    assert "🧪 This is a drill. Scenario: PB-20 power banks overheating (lot 2311)" in posts[-1]
    assert "DRILL · #1 PB-20 power banks overheating (lot 2311)" in drill.say("erin", "status").message.plain()


def test_injects_arrive_at_their_offsets_in_order_and_not_a_second_before(drill):
    arrived = []
    for number, minute in enumerate(OFFSETS, start=1):
        assert drill.injects_at(minute * 60 - 1) == [], f"I{number} came early"
        posted = drill.injects_at(minute * 60)
        assert [to for to, _text in posted] == ["#room1"], f"I{number} at minute {minute}: {posted}"
        arrived.append(posted[0][1].split(" · ")[0])
    assert arrived == [f"🧪 DRILL INJECT I{n}" for n in range(1, 8)]
    assert drill.injects_at(24 * 3600) == []  # each arrives once


def test_an_inject_says_who_says_what_and_how_to_record_the_answer(chat, drill):
    drill.at(5 * 60)
    ((to, message),) = [(to, m) for to, m in chat.fire() if "DRILL INJECT" in m.plain()]
    assert message.plain() == (
        "🧪 DRILL INJECT I1 · #1 · +5 min · Social media post\n"
        "@LiWei_Tech · reach 86,000\n"
        "“3am and my PB-20 power bank melted on the nightstand. Smoke everywhere, my kid was asleep right next to it. "
        "Batch code on the back says 2311-B. Who do I even call?? #PB20 (4 photos)”\n"
        "Answer it as you would for real, within 15 min; then record it: /crisis answer i1 <how>"
    )
    assert [b.command for b in message.buttons] == ["#1 answer i1"]


def test_injects_arrive_on_time_at_night_at_sev4(engine, config):
    """Quiet hours hold back sev3–4 reminders; a scripted inject is not a reminder."""
    clock = FakeClock(datetime(2026, 3, 2, 15, 0, tzinfo=UTC))  # 23:00 in Shanghai, midnight and later for the team
    chat = Chat(engine, config, clock)
    night = Drill(chat, clock, "drill product-quality sev4")
    assert night.injects_at(5 * 60 - 1) == []
    assert [to for to, _text in night.injects_at(5 * 60)] == ["#room1"]


def test_injects_follow_the_team_language(engine, config, clock):
    chat = Chat(engine, config.model_copy(update={"language": "zh"}), clock)
    drill = Drill(chat, clock)
    assert "🧪 演练 #1“PB-20充电宝发热起火投诉（2311批次）”已开始" in drill.reply
    ((_to, text),) = drill.injects_at(5 * 60)
    assert text.startswith(
        "🧪 演练模拟事件 I1 · #1 · +5分钟 · 社交媒体帖子\n@LiWei_Tech · 触达 86,000\n“凌晨三点，床头柜上的PB-20充电宝直接熔了"
    )


def test_answering_records_who_when_and_how(chat, drill):
    drill.injects_at(5 * 60)
    drill.at(12 * 60)
    how = "Replied under the post with the holding line and a DM for the batch photo"
    reply = drill.say("carol", f"answer i1 {how}")
    assert reply.message.plain() == f"🧪 I1 (Social media post) answered by Carol Wang after 7 min.\n{how}"
    with session(chat.engine) as db:
        row = db.exec(select(DrillInject).where(DrillInject.number == 1)).one()
        assert (row.answered_at, row.answered_by) == (drill.start + timedelta(minutes=12), "carol")
        assert row.answer == how
        event = db.exec(select(TimelineEvent).where(TimelineEvent.kind == "inject_answered")).one()
        assert (event.at, event.actor, event.data["number"], event.data["seconds"]) == (
            drill.start + timedelta(minutes=12),
            "carol",
            1,
            420,
        )
    assert drill.say("alice", "answer I1").ok is False  # once


@pytest.mark.parametrize(
    ("who", "line", "expected"),
    [
        ("alice", "answer i2", "Inject I2 has not arrived yet: it is due 09:15 Beijing time, 2 Mar."),
        ("alice", "answer i9", "#1 has no inject I9; its injects are I1 to I7."),
        ("alice", "answer", "Name the inject as shown on it, e.g. i2."),
        ("alice", "answer 1", "Name the inject as shown on it, e.g. i2."),
        ("frank", "answer i1", PARTICIPANTS_ONLY.format(verb="answer")),
    ],
)
def test_bad_answers_are_refused_and_change_nothing(engine, config, clock, who, line, expected):
    chat = Chat(engine, with_people(config, add=[("frank", "Frank Wu")]), clock)
    drill = Drill(chat, clock)
    drill.injects_at(5 * 60)
    before = chat.snapshot()
    reply = drill.say(who, line)
    assert reply.ok is False and expected in reply.message.plain(), reply.message.plain()
    assert chat.snapshot() == before


def test_answering_twice_or_outside_a_drill_is_refused(chat, drill):
    drill.injects_at(5 * 60)
    assert drill.say("carol", "answer i1").ok
    before = chat.snapshot()
    assert "Inject I1 was already answered by Carol Wang." in drill.say("alice", "answer i1 again").message.plain()
    incident_id, room = chat.declare()
    assert "#2 is not a drill: it has no injects to answer." in chat.say("alice", "answer i1", room).message.plain()
    assert before["drillinject"] == chat.snapshot()["drillinject"]


def test_the_scorecard_times_each_milestone_against_its_target(chat, drill):
    drill.at(4 * 60)
    for person in ("alice", "bob", "carol", "dave"):
        assert drill.say(person, "ack").ok
    drill.injects_at(5 * 60)
    drill.at(8 * 60 + 30)
    assert drill.say("erin", "ack").ok  # the last required role: the team is assembled at 8 min 30 s
    drill.injects_at(15 * 60)
    drill.at(18 * 60)
    assert drill.say("carol", "answer i1 Holding reply under the post").ok  # target 5 + 15 min
    drill.at(20 * 60)
    assert drill.say("carol", f"draft {DRAFT}").ok
    drill.injects_at(25 * 60)
    drill.at(30 * 60)
    assert drill.say("dave", "answer i2 Volume reported to the room").ok  # target 15 + 10 min: late
    drill.injects_at(40 * 60)
    drill.at(45 * 60)
    assert drill.say("bob", "approve v1").ok
    drill.at(50 * 60)
    assert drill.say("alice", "approve v1").ok  # the first approved statement, target 2 h
    drill.injects_at(55 * 60)
    drill.at(62 * 60)
    assert drill.say("carol", "answer i3 Called Caixin back with the approved line").ok  # target 25 + 45 min (its deadline)
    drill.injects_at(70 * 60)
    drill.at(70 * 60 + 15)
    assert drill.say("alice", "update Lot 2311 pulled from sale").ok  # target 1 h: late
    drill.injects_at(85 * 60)
    drill.at(90 * 60)
    resolved = drill.say("alice", "resolve")
    assert resolved.ok
    with session(chat.engine) as db:
        incident = db.get(Incident, 1)
        card = scorecard(db, chat.config, incident, drill.start + timedelta(hours=5))
    minutes = [(m.key, m.elapsed and m.elapsed.total_seconds() / 60, m.target.total_seconds() / 60, m.met) for m in card]
    assert minutes == [
        ("roles", 8.5, 10, True),
        ("first_statement", 50, 120, True),
        ("first_update", 70.25, 60, False),
        ("i1", 18, 20, True),
        ("i2", 30, 25, False),
        ("i3", 62, 70, True),
        ("i4", None, 55, False),  # internal leak: 40 + 15
        ("i5", None, 85, False),  # regulator: 55 + 30
        ("i6", None, 85, False),  # customer complaints: 70 + 15
        ("i7", None, 105, False),  # partner: 85 + 20
    ]
    posted = chat.posts()[-1]
    assert posted.splitlines() == [
        "🧪 Drill scorecard — #1 PB-20 power banks overheating (lot 2311): 4 of 10 on time",
        "✅ Roles filled (every required role accepted): 8 min 30 sec · target 10 min",
        "✅ First approved statement: 50 min · target 2 hr",
        "❌ First status update: 1 hr 10 min · target 1 hr",
        "✅ I1 Social media post answered: 18 min · target 20 min",
        "❌ I2 Volume spike answered: 30 min · target 25 min",
        "✅ I3 Journalist's call answered: 1 hr 2 min · target 1 hr 10 min",
        "❌ I4 Internal leak answered: not reached · target 55 min",
        "❌ I5 Regulator's question answered: not reached · target 1 hr 25 min",
        "❌ I6 Customer complaints answered: not reached · target 1 hr 25 min",
        "❌ I7 Partner's call answered: not reached · target 1 hr 45 min",
    ]


def test_status_shows_the_scorecard_so_far(drill):
    drill.injects_at(5 * 60)
    status = drill.say("erin", "status").message.plain()
    assert "🧪 Drill scorecard — #1 PB-20 power banks overheating (lot 2311): 0 of 10 on time" in status
    assert "⏳ I1 Social media post answered: not yet · target 20 min" in status


def test_resolving_a_drill_stops_the_injects_still_to_come(drill):
    drill.injects_at(5 * 60)
    assert drill.say("alice", "resolve Exercise ended early").ok
    assert drill.injects_at(3 * 3600) == []


def test_nothing_reaches_a_broadcast_target_or_stakeholder_room_during_a_whole_drill(engine, config, clock):
    config = config.model_copy(update={"stakeholder_rooms": [RoomHandles(console="executives")]})
    chat = Chat(engine, config, clock)
    drill = Drill(chat, clock)
    for person in ("alice", "bob", "carol", "dave", "erin"):
        assert drill.say(person, "ack").ok
    drill.at(20 * 60)
    assert drill.say("carol", f"draft {DRAFT}").ok
    assert drill.say("bob", "approve").ok and drill.say("alice", "approve").ok
    published = drill.say("carol", "publish").message.plain()
    assert "DRILL: v1 would now go to newsroom, announcements, website, weibo. Nothing was sent outside." in published
    assert drill.say("carol", "publish newsroom").ok
    assert drill.say("alice", "update Lot 2311 pulled from sale").ok
    for minute in range(25, 181, 5):
        drill.at(minute * 60)
        chat.fire()
    assert drill.say("alice", "resolve").ok
    assert sum("DRILL INJECT" in p for p in chat.posts()) == 7
    assert chat.effects(Publish) == []
    assert [post.to for post in chat.effects(Post) if post.to is not None] == []  # nothing said outside the incident
    with session(chat.engine) as db:
        assert {p.state for p in db.exec(select(Publication))} == {"simulated"}


# ---- bad input: refused with the choices, nothing created

CHOICES = [
    "Drill scenarios by playbook (the first is the default):",
    "• attack forged-certificate-notice — Forged notice: 'CCC certificate revoked' for our 65W chargers (sev2)",
    "• emergency warehouse-fire — Fire at the Kunshan distribution centre (sev1)",
    "• product-quality power-bank-overheating — PB-20 power banks overheating (lot 2311) (sev2)",
    "• sensitive-topic ad-stereotype-backlash — Campaign video accused of demeaning women (sev2)",
]
USAGE = "Usage: /crisis drill <playbook> [sev1-4] [scenario]"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("drill", [*CHOICES, USAGE]),
        ("drill nosuch", ["There is no playbook “nosuch”.", *CHOICES, USAGE]),
        ("drill outage", ["There is no drill scenario for the playbook “outage” yet.", *CHOICES]),
        ("drill attack nosuch", ["The playbook “attack” has no scenario “nosuch”.", *CHOICES, USAGE]),
        ("drill attack power-bank-overheating", ["The playbook “attack” has no scenario “power-bank-overheating”.", USAGE]),
        ("drill attack sev9", ["“sev9” is not a severity: use sev1 (critical) to sev4 (minor).", USAGE]),
        ("drill attack 7", ["“7” is not a severity", USAGE]),
        ("drill attack sev2 forged-certificate-notice now", ["Unexpected “now”.", USAGE]),
    ],
)
def test_bad_drill_input_is_refused_with_the_choices_and_creates_nothing(chat, line, expected):
    before = chat.snapshot()
    reply = chat.say("erin", line)
    answer = reply.message.plain()
    assert reply.ok is False, answer
    for fragment in expected:
        assert fragment in answer, f"{fragment!r} not in {answer!r}"
    assert chat.snapshot() == before


@pytest.mark.parametrize(
    ("line", "title", "severity"),
    [
        ("drill emergency", "Fire at the Kunshan distribution centre", "sev1"),
        ("drill emergency sev3", "Fire at the Kunshan distribution centre", "sev3"),
        ("drill attack 3 forged-certificate-notice", "Forged notice: 'CCC certificate revoked' for our 65W chargers", "sev3"),
        ("drill SENSITIVE-TOPIC ad-stereotype-backlash sev1", "Campaign video accused of demeaning women", "sev1"),
    ],
)
def test_severity_and_scenario_may_be_given_in_either_order(chat, clock, line, title, severity):
    drill = Drill(chat, clock, line, who="erin")
    with session(chat.engine) as db:
        incident = db.get(Incident, drill.id)
        assert (incident.title, incident.severity, incident.drill) == (title, severity, True)


# ---- the shipped scenarios


@pytest.mark.parametrize("language", ["en", "zh"])
def test_every_shipped_scenario_loads_in_both_languages_with_injects_spread_over_a_drill(config, language):
    scenarios = load_scenarios(None)
    assert {s.playbook for s in scenarios.values()} >= {"product-quality", "sensitive-topic", "emergency", "attack"}
    for key, scenario in scenarios.items():
        assert scenario.playbook in config.playbooks, key
        assert scenario.title.get(language) and scenario.description.get(language), key
        assert 5 <= len(scenario.injects) <= 8, key
        offsets = [inject.at for inject in scenario.injects]
        assert offsets == sorted(set(offsets)), f"{key}: injects at the same time"
        assert timedelta(minutes=1) <= offsets[0] and offsets[-1] <= timedelta(hours=3), key
        kinds = {inject.kind for inject in scenario.injects}
        assert {"social_post", "journalist_call", "regulator_question", "volume_spike"} <= kinds, key
        for inject in scenario.injects:
            assert len(inject.text.get(language)) > (40 if language == "en" else 20) and inject.source_in(language), (key, inject.at)
            assert timedelta(minutes=5) <= inject.answer_span() <= timedelta(hours=1), (key, inject.at)
