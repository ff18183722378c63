"""Countersignature (PRODUCT.md §4): a version approved under a lower severity's rule is signed by the roles a higher
severity adds before it may be published; asked, nudged like a pending approval, and never forgiven by lowering again.

Incident #1 is product-quality, declared by alice (commander) at sev4, where the commander alone approves; at sev1
legal (bob, backup erin) must sign too. carol is the spokesperson.
"""

from handlers.core.effects import DM
from tests.handlers.nudge_timeline import DRAFT, TEAM, Timeline, declare


def say(chat, who: str, line: str, room: str) -> str:
    return chat.say(who, line, room).message.plain()


def approved_at_sev4_then_raised(chat, clock, minute: float = 1):
    _incident, room = chat.declare(line="declare product-quality sev4 Battery overheating")
    t = Timeline(chat, clock)
    chat.say("carol", f"draft {DRAFT}", room)
    assert chat.say("alice", "approve v1", room).ok
    t.at(minute)
    raised = say(chat, "alice", "sev 1", room)
    for person in TEAM:  # the roles sev1 adds are taken up, so only the line's reminders remain
        chat.say(person, "ack", room)
    return room, t, raised


def test_sev4_approve_sev1_cannot_be_published_until_legal_countersigns(chat, clock):
    room, t, raised = approved_at_sev4_then_raised(chat, clock)
    assert "v1 was approved under the rule of sev4; at sev1 it needs the countersignature of Legal counsel (Bob Li)" in raised
    asked = [dm.message for dm in chat.effects(DM) if dm.to == "bob" and "countersignature" in dm.message.plain()]
    assert [b.command for b in asked[-1].buttons] == ["#1 approve v1"]
    assert "countersignature needed from Legal counsel" in say(chat, "erin", "status", room)
    assert "⚠ Countersignature needed from Legal counsel (approved under sev4, now sev1)" in say(chat, "erin", "line", room)
    assert "Countersignature needed from Legal counsel" in say(chat, "erin", "history", room)
    before = chat.snapshot()
    refused = chat.say("carol", "publish", room)
    assert not refused.ok
    expected = "v1 was approved under the rule of sev4; #1 needs the rule of sev1, so it cannot be published until it is countersigned by"
    assert f"{expected} Legal counsel (Bob Li)" in refused.message.plain()
    assert chat.snapshot() == before
    signed = say(chat, "bob", "approve v1", room)
    assert "Bob Li countersigned v1 as Legal counsel." in signed and "v1 now meets the rule of sev1 and may be published." in signed
    history = say(chat, "erin", "history", room)
    assert "Legal counsel: Bob Li" in history and "Countersignature needed" not in history
    assert "by Incident commander: Alice Chen, Legal counsel: Bob Li (countersigned)" in say(chat, "erin", "line", room)
    assert "countersignature" not in say(chat, "erin", "status", room)
    assert "v1 published" in say(chat, "carol", "publish", room)
    assert "v1 is already the approved line." in say(chat, "bob", "approve v1", room)  # nothing more to sign


def test_the_countersignature_is_nudged_then_its_backup_is_asked_and_may_give_it(chat, clock):
    room, t, _raised = approved_at_sev4_then_raised(chat, clock)  # raised at minute 1; sev1 waits 10 min for an approval
    assert t.fire(10, "countersignature") == []
    (to_bob,) = t.fire(11, "countersignature")
    assert to_bob[0] == "bob" and "v1 needs your countersignature as Legal counsel" in to_bob[1]
    before_asked = chat.say("erin", "approve v1", room)
    assert not before_asked.ok and "you hold none of these roles" in before_asked.message.plain()
    (to_erin,) = t.fire(21, "countersignature")
    assert to_erin[0] == "erin" and "As the backup you may give it: /crisis approve v1" in to_erin[1]
    assert "Erin Liu countersigned v1 as Legal counsel" in say(chat, "erin", "approve", room)  # no version named: the line
    assert t.recipients(90, "countersignature") == []  # signed: the reminders stop
    assert "v1 published" in say(chat, "carol", "publish", room)


def test_the_commander_who_approved_cannot_countersign_as_legal_too(chat, clock):
    room, _t, _raised = approved_at_sev4_then_raised(chat, clock)
    assert chat.say("alice", "assign legal @alice", room).ok
    before = chat.snapshot()
    refused = chat.say("alice", "approve v1", room)
    assert not refused.ok and "Four eyes: you have already signed v1; another person must countersign as Legal counsel" in (
        refused.message.plain()
    )
    assert chat.snapshot() == before
    assert not chat.say("carol", "publish", room).ok


def test_with_the_opt_out_the_commander_may_countersign_as_legal(chat, clock):
    chat.config.approvals.one_person_many_roles = True
    room, _t, _raised = approved_at_sev4_then_raised(chat, clock)
    assert chat.say("alice", "assign legal @alice", room).ok
    assert "Alice Chen countersigned v1 as Legal counsel" in say(chat, "alice", "approve v1", room)
    assert "v1 published" in say(chat, "carol", "publish", room)


def test_lowering_the_severity_again_forgives_nothing(chat, clock):
    room, _t, _raised = approved_at_sev4_then_raised(chat, clock)
    lowered = say(chat, "alice", "sev 4", room)
    assert "countersignature" not in lowered
    refused = chat.say("carol", "publish", room)
    assert not refused.ok and "cannot be published until it is countersigned by Legal counsel (Bob Li)" in refused.message.plain()
    assert "countersignature needed from Legal counsel" in say(chat, "erin", "status", room)


def test_a_version_that_met_sev1_owes_nothing_after_lowering_and_raising_again(chat, clock):
    room, _t = declare(chat, clock, "sev1")
    chat.say("carol", f"draft {DRAFT}", room)
    chat.say("bob", "approve v1", room)
    assert "v1 is now the approved line" in say(chat, "alice", "approve v1", room)
    chat.say("alice", "sev 4", room)
    assert "countersignature" not in say(chat, "alice", "sev 1", room)
    assert "v1 published" in say(chat, "carol", "publish", room)


def test_a_countersigner_who_rejects_withdraws_the_line(chat, clock):
    room, t, _raised = approved_at_sev4_then_raised(chat, clock)
    assert not chat.say("bob", "reject v1", room).ok  # a reason is required
    refused = say(chat, "bob", "reject v1 The cause is not confirmed; we cannot say this at sev1", room)
    assert "Bob Li refused to countersign v1: The cause is not confirmed" in refused
    assert "v1 is no longer the approved line" in refused
    told = [dm.message.plain() for dm in chat.effects(DM) if dm.to == "carol" and "refused to countersign" in dm.message.plain()]
    assert told
    assert "no approved line yet" in say(chat, "erin", "line", room)
    assert "has no approved line yet" in chat.say("carol", "publish", room).message.plain()
    assert t.recipients(60, "countersignature") == []


def test_a_bystander_or_the_author_cannot_countersign(chat, clock):
    room, _t, _raised = approved_at_sev4_then_raised(chat, clock)
    before = chat.snapshot()
    cases = {"dave": "you hold none of these roles", "carol": "You wrote v1, so your own signature cannot count"}
    for who, expected in cases.items():
        reply = chat.say(who, "approve v1", room)
        assert not reply.ok and expected in reply.message.plain(), (who, reply.message.plain())
    assert chat.snapshot() == before


def test_a_new_version_approved_at_the_higher_severity_replaces_the_owed_one(chat, clock):
    room, t, _raised = approved_at_sev4_then_raised(chat, clock)
    chat.say("carol", "draft We are sorry for the worry. PB-20 power banks are recalled. Next update at 12:00.", room)
    chat.say("bob", "approve v2", room)
    assert "v2 is now the approved line" in say(chat, "alice", "approve v2", room)
    assert "countersignature" not in say(chat, "erin", "status", room)
    assert t.recipients(60, "countersignature") == []
    assert "v2 published" in say(chat, "carol", "publish", room)


def test_a_rise_whose_rule_the_signatures_already_meet_asks_nothing(chat, clock):
    _incident, room = chat.declare(line="declare outage sev4 Checkout down")  # outage: the commander alone up to sev2
    assert chat.say("alice", f"draft {DRAFT}", room).ok
    assert "v1 is now the approved line" in say(chat, "dave", "approve v1", room)  # the commander's backup: alice wrote it
    assert "countersignature" not in say(chat, "alice", "sev 2", room)
    assert "countersignature" not in say(chat, "erin", "status", room)
    assert "at sev1 it needs the countersignature of Legal counsel" in say(chat, "alice", "sev 1", room)
    assert not chat.say("alice", "publish", room).ok


def test_the_team_speaking_chinese_is_told_in_chinese(chat, clock):
    chat.config.language = "zh"
    room, _t, raised = approved_at_sev4_then_raised(chat, clock)
    assert "v1 是按 sev4 的规则批准的；在 sev1 下，须经法务 (Bob Li) 会签后才能发布" in raised.replace("（", " (").replace("）", ") ")
    refused = chat.say("carol", "publish", room)
    assert not refused.ok and "会签" in refused.message.plain()
    assert "需要法务会签" in say(chat, "erin", "status", room)


def test_a_version_owing_a_countersignature_cannot_be_recorded_as_posted_by_hand_either(chat, clock):
    room, _t, _raised = approved_at_sev4_then_raised(chat, clock)
    before = chat.snapshot()
    refused = chat.say("carol", "published weibo https://weibo.com/1", room)
    assert not refused.ok and "cannot be published until it is countersigned by Legal counsel (Bob Li)" in refused.message.plain()
    assert chat.snapshot() == before
    assert chat.say("bob", "approve v1", room).ok
    assert chat.say("carol", "published weibo https://weibo.com/1", room).ok
