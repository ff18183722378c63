"""Did the statement land? (PRODUCT.md §7): attachment, the reaction chart, follow-ups and the not-landing nudge."""

import pytest

from handlers.signals.intake import SignalIn
from tests.handlers.reaction_world import World


@pytest.fixture
def world(chat, clock) -> World:
    return World(chat, clock)


def test_a_signal_attaches_by_the_incident_it_names_by_dedup_key_and_by_keywords(world):
    named = world.signal(5, incident=1, dedup_key="pb20-weibo", volume=100, sentiment=-0.6, keywords=["PB-20"])
    assert "Attached to #1 (it names the incident). [Detach → #1 detach 1]" in named
    by_words = world.signal(20, title="Power bank smoke", volume=50, sentiment=-0.4, keywords=["pb-20", "smoke"])
    assert "Attached to #1 (shared keywords)." in by_words
    by_key = world.signal(70, title="Weibo again", dedup_key="pb20-weibo", volume=30, sentiment=-0.2)
    assert "Attached to #1 (same dedup key)." in by_key
    stray = world.signal(75, title="Printer jam", keywords=["printer"])
    assert "Attached" not in stray and "[Declare → declare --signal 4] [Attach to #1 → #1 attach 4]" in stray


def test_the_chart_gives_volume_and_mean_sentiment_per_hour_with_the_publication_marked(world, chat):
    world.signal(5, incident=1, dedup_key="a", volume=100, sentiment=-0.6, keywords=["PB-20"])
    world.signal(20, volume=50, sentiment=-0.4, keywords=["pb-20"], title="more")
    world.publish(60)
    world.signal(70, dedup_key="a", volume=30, sentiment=-0.2)
    world.at(130)
    chart = chat.say("erin", "reaction", world.room).message.plain()
    rows = [line.strip() for line in chart.splitlines() if line.lstrip().startswith("+")]
    assert rows == [
        "+0:00 ████████████     150  −0.50",
        "+1:00 ██                30  −0.20 ◀ v1 (newsroom, announcements, website)",
        "+2:00 ·                  0      —",
    ]
    assert "3 readings, per hour since the declaration" in chart
    assert "v1 went out +1:00: 1 h after, volume ×0.2 (150 → 30 an hour), sentiment −0.50 → −0.20." in chart


def test_one_and_four_hours_after_a_publication_the_room_hears_how_the_reaction_moved(world):
    world.signal(10, incident=1, dedup_key="a", volume=80, sentiment=-0.62)
    world.signal(40, incident=1, dedup_key="b", volume=40, sentiment=-0.62)
    world.publish(60)
    world.signal(90, incident=1, dedup_key="c", volume=48, sentiment=-0.3)
    assert world.fire(119, "went out") == []
    assert world.fire(120, "went out") == [
        ("#room1", "📊 #1: 1 h since v1 went out: volume ×0.4 (120 → 48 an hour), sentiment −0.62 → −0.30.")
    ]
    world.signal(150, incident=1, dedup_key="d", volume=60, sentiment=-0.12)
    world.signal(200, incident=1, dedup_key="e", volume=12, sentiment=0.0)
    assert world.fire(300, "went out") == [
        ("#room1", "📊 #1: 4 h since v1 went out: volume ×0.25 (120 → 30 an hour), sentiment −0.62 → −0.14.")
    ]
    assert world.fire(900, "went out") == []


def test_no_follow_up_when_no_signal_is_attached(world):
    world.signal(10, title="Printer jam", keywords=["printer"])
    world.publish(60)
    assert world.fire(120, "went out") == [] and world.fire(300, "went out") == []


def test_a_statement_not_landing_nudges_comms_and_the_commander_once(world, chat):
    assert chat.say("alice", "assign comms @carol", world.room).ok
    world.signal(30, incident=1, dedup_key="a", volume=20, sentiment=-0.5)
    world.publish(60)
    world.signal(80, incident=1, dedup_key="b", volume=45, sentiment=-0.7)
    world.signal(110, incident=1, dedup_key="c", volume=15, sentiment=-0.8)
    heard = world.fire(120, "not landing")
    assert sorted(to for to, _ in heard) == ["alice", "carol"]
    assert all("v1 is not landing: negative volume 20 → 60 in the hour since it went out." in said for _, said in heard)
    assert all("/crisis draft" in said and "/crisis claims" in said for _, said in heard)
    for minute in (130, 180, 300, 600):
        assert world.fire(minute, "not landing") == []


def test_no_nudge_when_the_negative_volume_falls_after_the_publication(world):
    world.signal(30, incident=1, dedup_key="a", volume=60, sentiment=-0.5)
    world.publish(60)
    world.signal(80, incident=1, dedup_key="b", volume=40, sentiment=-0.7)
    assert world.fire(120, "went out") and world.fire(121, "not landing") == []


SCENARIO = """
playbook: product-quality
severity: sev2
title: {en: "Reaction rehearsal", zh: "舆情演练"}
description: {en: "A statement that does not land.", zh: "一份没有奏效的声明。"}
injects:
  - {at: 10m, kind: volume_spike, source: dashboard, text: {en: "Mentions up", zh: "提及上升"}, volume: 30, sentiment: -0.4}
  - {at: 70m, kind: volume_spike, source: dashboard, text: {en: "Still rising", zh: "仍在上升"}, volume: 90, sentiment: -0.8}
"""


def test_drill_injects_with_volume_and_sentiment_rehearse_a_statement_that_does_not_land(chat, clock, tmp_path):
    (tmp_path / "rehearsal.yaml").write_text(SCENARIO, encoding="utf-8")
    chat.config.scenarios_dir = str(tmp_path)
    chat.config._scenarios = None  # read again with the team's folder
    world = World.__new__(World)
    world.chat, world.clock, world.start = chat, clock, clock.now()
    reply = chat.say("alice", "drill product-quality rehearsal")
    assert reply.ok, reply.message.plain()
    world.room = chat.room_of(reply.incident_id)
    world.fire(10, "Mentions up")
    world.publish(60)
    world.fire(70, "Still rising")
    heard = world.fire(120, "v1")
    assert ("#room1", "📊 #1: 1 h since v1 went out: volume ×3 (30 → 90 an hour), sentiment −0.40 → −0.80.") in heard
    assert [to for to, said in heard if "v1 is not landing: negative volume 30 → 90" in said] == ["alice"]
    chart = chat.say("erin", "reaction", world.room).message.plain()
    assert "+0:00 ███▌" not in chart and "2 readings" in chart


def test_a_signal_matching_two_open_incidents_goes_to_the_most_recent_and_says_so(world, chat):
    world.signal(5, incident=1, keywords=["PB-20"], dedup_key="first")
    second, _room = chat.declare(line="declare product-quality sev2 PB-20 recall")
    world.signal(10, incident=second, keywords=["pb-20", "recall"], dedup_key="second")
    both = world.signal(20, title="PB-20 recall rumours", keywords=["PB-20"])
    assert "Attached to #2 (shared keywords). It also matches #1: it went to the most recent." in both


def test_attach_and_detach_by_hand_move_the_figures_and_retell_the_triage_post(world, chat):
    stray = world.signal(5, title="Smoke in a flat", volume=40, sentiment=-0.5)
    assert "[Attach to #1 → #1 attach 1]" in stray
    assert "No signal is attached to #1 yet." in chat.say("erin", "reaction", world.room).message.plain()
    refused = chat.say("mallory", "#1 attach 1", "triage")
    assert not refused.ok
    done = chat.say("alice", "#1 attach 1", "triage")
    assert done.ok and "Signal 1 attached to #1" in done.message.plain()
    assert "Attached to #1 (attached by hand). [Detach → #1 detach 1]" in world.triage()[-1]
    assert "+0:00 ████████████      40  −0.50" in chat.say("erin", "reaction", world.room).message.plain()
    assert not chat.say("alice", "#1 attach 1", "triage").ok  # already there: nothing counted twice
    assert chat.say("alice", "#1 detach 1", "triage").ok
    assert "[Declare → declare --signal 1] [Attach to #1 → #1 attach 1]" in world.triage()[-1]
    assert "No signal is attached to #1 yet." in chat.say("erin", "reaction", world.room).message.plain()
    assert not chat.say("alice", "#1 detach 1", "triage").ok
    assert not chat.say("alice", "#1 attach 99", "triage").ok


def test_a_sev1_is_charted_per_ten_minutes_for_its_first_two_hours(chat, clock):
    world = World(chat, clock, severity="sev1")
    world.signal(3, incident=1, dedup_key="a", volume=10, sentiment=-0.5)
    world.signal(14, incident=1, dedup_key="b", volume=20, sentiment=-0.1)
    world.signal(125, incident=1, dedup_key="c", volume=5)
    world.at(130)
    chart = chat.say("erin", "reaction", world.room).message.plain()
    rows = [line.strip().split()[0] for line in chart.splitlines() if line.lstrip().startswith("+")]
    assert rows == ["+0:00", "+0:10", "+0:20", "+0:30", "+0:40", "+0:50", "+1:00", "+1:10", "+1:20", "+1:30", "+1:40", "+1:50", "+2:00"]
    assert "+0:10 ████████████      20  −0.10" in chart and "+2:00 ███                5      —" in chart
    assert "per 10 minutes for the first two hours, then per hour" in chart


@pytest.mark.parametrize(
    ("field", "value"), [("incident", "1"), ("incident", True), ("incident", 0), ("incident", -3), ("incident", 2**40), ("incident", 1.5)]
)
def test_an_incident_that_is_not_a_plain_positive_number_is_refused(field, value):
    with pytest.raises(ValueError, match=field):
        SignalIn.model_validate({"source": "s", "title": "t", field: value})


def test_a_signal_naming_an_unknown_closed_or_drill_incident_is_matched_as_any_other(world, chat):
    world.signal(5, incident=1, keywords=["PB-20"], dedup_key="first")
    assert "Attached to #1 (shared keywords)." in world.signal(10, incident=99, keywords=["pb-20"], title="elsewhere")
    assert chat.say("alice", "drill product-quality").ok  # #2, a drill
    assert "Attached to #1 (shared keywords)." in world.signal(15, incident=2, keywords=["PB-20"], title="drill?")
    stray = world.signal(20, incident=2, title="Printer jam")
    assert "Attached" not in stray


def test_grammar_words_and_markup_in_a_signal_stay_text_in_the_chart_and_the_triage_post(world, chat):
    sneaky = world.signal(5, incident=1, title="#1 detach 1 `publish` **now** <b>x</b>", keywords=["/crisis close", "*bold*"])
    assert "Attached to #1 (it names the incident). [Detach → #1 detach 1]" in sneaky
    assert chat.say("erin", "reaction", world.room).ok
    assert world.signal(10, title="close", keywords=["/CRISIS CLOSE"]).count("Attached to #1 (shared keywords).") == 1


def test_the_chart_and_the_follow_up_speak_chinese(world, chat):
    chat.config.language = "zh"
    world.signal(10, incident=1, dedup_key="a", volume=80, sentiment=-0.62)
    world.publish(60)
    world.signal(90, incident=1, dedup_key="c", volume=40, sentiment=-0.3)
    assert world.fire(120, "发布") == [("#room1", "📊 #1：v1 发布 1 小时后：声量 ×0.5（每小时 80 → 40），情绪 −0.62 → −0.30。")]
    assert "#1 的舆论反应" in chat.say("erin", "reaction", world.room).message.plain()


def test_a_closed_incident_keeps_its_chart_and_takes_no_more_readings(world, chat):
    world.signal(5, incident=1, dedup_key="a", volume=10, sentiment=-0.5)
    assert chat.say("alice", "resolve Fixed", world.room).ok
    assert chat.say("alice", "lesson + quick triage", world.room).ok
    assert chat.say("alice", "close --force The chart is all that is left", world.room).ok
    world.signal(9, incident=1, dedup_key="a", volume=500, sentiment=-0.9)  # a repeat after the close
    chart = chat.say("erin", "reaction", world.room).message.plain()
    assert "+0:00 ████████████      10  −0.50" in chart and "of 1 reading," in chart


def test_declaring_from_a_signal_attaches_it_and_its_figures_start_the_chart(chat, clock):
    world = World(chat, clock)
    assert chat.say("alice", "resolve Done", world.room).ok  # nothing open to attach to
    post = world.signal(5, title="PB-30 swelling", volume=70, sentiment=-0.4, keywords=["PB-30"])
    assert "Attached" not in post and "[Declare → declare --signal 1]" in post and "Attach to" not in post
    reply = chat.say("dave", "declare --signal 1")
    assert reply.ok and reply.incident_id == 2
    assert "Declared as #2." in world.triage()[-1]
    room = chat.room_of(2)
    assert "+0:00 ████████████      70  −0.40" in chat.say("erin", "reaction", room).message.plain()
    assert "Attached to #2 (shared keywords)." in world.signal(8, title="PB-30 again", keywords=["pb-30"])


def test_detaching_a_mistaken_signal_stops_its_keywords_pulling_others_in(world, chat):
    world.signal(5, incident=1, keywords=["PB-20"], dedup_key="right")
    world.signal(6, incident=1, keywords=["printer", "pb-20"], dedup_key="wrong", title="Printer jam")
    assert chat.say("alice", "#1 detach 2", "triage").ok
    assert "Attached" not in world.signal(10, title="Printer on fire", keywords=["Printer"])
    assert "Attached to #1 (shared keywords)." in world.signal(12, title="PB-20 again", keywords=["pb-20"])
