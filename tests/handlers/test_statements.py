"""The one approved line: drafts, approvals, rejections, supersession, and the refusals that change nothing.

Incident #1 is product-quality sev2 declared by alice: commander=alice, comms=alice, spokesperson=carol,
legal=bob, monitor=dave. Approvers at sev2 are legal and commander; the starter team names dave as the
commander's backup and erin as legal's.
"""

from sqlmodel import select

from config.model import BroadcastTarget
from handlers.core.effects import DM, Publish, RefreshLine
from handlers.text.markup import Message
from storage.db import session
from storage.models import Incident, Nudge, Publication, Statement, TimelineEvent
from tests.conftest import Chat

DRAFT = "We are sorry for the worry caused by PB-20 power banks overheating. Next update at 11:00."


def versions(chat) -> dict[int, str]:
    with session(chat.engine) as db:
        return {s.version: s.state for s in db.exec(select(Statement).order_by(Statement.version))}


def pending_nudges(chat, kind: str) -> list[str]:
    with session(chat.engine) as db:
        return sorted(n.subject for n in db.exec(select(Nudge).where(Nudge.kind == kind, Nudge.state == "pending")))


def dms_to(chat, handle: str) -> list[Message]:
    """DMs about the line (the role briefs of declaring are left out)."""
    messages = [dm.message for dm in chat.effects(DM) if dm.to == handle]
    return [m for m in messages if "v1" in m.plain() or "v2" in m.plain()]


def approve_fully(chat, room: str, version: int) -> None:
    assert chat.say("bob", f"approve v{version}", room).ok
    reply = chat.say("alice", f"approve v{version}", room)
    assert reply.ok and "is now the approved line" in reply.message.plain(), reply.message.plain()


def test_draft_asks_each_approver_with_buttons_and_schedules_their_nudges(chat, room):
    reply = chat.say("carol", f"draft {DRAFT}", room)
    plain = reply.message.plain()
    assert reply.ok and reply.echoed
    assert "Draft v1 of #1 by Carol Wang — approval needed from Legal counsel (Bob Li), Incident commander (Alice Chen)" in plain
    assert DRAFT in plain.splitlines()
    for approver in ("bob", "alice"):
        (request,) = dms_to(chat, approver)
        assert [(b.command, b.prompt) for b in request.buttons] == [("#1 approve v1", ""), ("#1 reject v1", "reason")]
    assert not dms_to(chat, "carol")  # the author is not asked to approve their own draft
    assert pending_nudges(chat, "approval_pending") == ["v1:commander", "v1:legal"]
    assert versions(chat) == {1: "pending"}


def test_reject_needs_a_reason_and_tells_the_author(chat, room):
    chat.say("carol", f"draft {DRAFT}", room)
    before = chat.snapshot()
    refused = chat.say("bob", "reject v1", room)
    assert not refused.ok and "Say why you reject it" in refused.message.plain()
    assert chat.snapshot() == before
    assert chat.say("bob", "reject v1 The cause is not confirmed yet; say less", room).ok
    assert versions(chat) == {1: "rejected"}
    (told,) = dms_to(chat, "carol")
    assert "rejected by Bob Li: The cause is not confirmed yet; say less" in told.plain()
    assert pending_nudges(chat, "approval_pending") == []


def test_approval_by_legal_alone_leaves_it_pending_then_commander_makes_it_the_line(chat, room):
    chat.say("carol", f"draft {DRAFT}", room)
    partial = chat.say("bob", "approve", room).message.plain()
    assert "Bob Li approved v1 as Legal counsel. Still needed: Incident commander (Alice Chen)." in partial
    assert versions(chat) == {1: "pending"}
    assert "no approved line yet" in chat.say("erin", "line", room).message.plain()
    done = chat.say("alice", "approve", room).message.plain()
    assert "v1 is now the approved line of #1 (approved by Legal counsel: Bob Li, Incident commander: Alice Chen)" in done
    assert "first approved statement" in done
    assert versions(chat) == {1: "approved"}
    assert pending_nudges(chat, "approval_pending") == [] and pending_nudges(chat, "first_statement") == []
    assert len(chat.effects(RefreshLine)) == 1
    line = chat.say("erin", "line", room).message.plain()
    assert DRAFT in line.splitlines() and "approved line v1" in line


def test_refusals_change_nothing(chat, room):
    chat.say("carol", f"draft {DRAFT}", room)
    before = chat.snapshot()
    cases = {
        ("carol", "approve"): "You wrote v1, so your own approval cannot count",
        ("dave", "approve"): "Only the approvers of #1 may decide on a draft",
        ("erin", "reject v1 no"): "Only the approvers of #1 may decide on a draft",  # legal's backup may approve, not a bystander
        ("bob", "approve v7"): "#1 has no v7; the latest version is v1",
        ("bob", "approve v1 now"): "Unexpected “now”",
        ("bob", "publish"): "Only Spokesperson, Incident commander may use publish",
        ("carol", "publish"): "#1 has no approved line yet",
        ("dave", "draft hello"): "Only Communications lead, Incident commander, Spokesperson may use draft",
        ("carol", "draft"): "Write the proposed statement",
    }
    for (who, line), expected in cases.items():
        reply = chat.say(who, line, room)
        assert not reply.ok and expected in reply.message.plain(), (line, reply.message.plain())
    assert chat.snapshot() == before


def test_approving_a_superseded_draft_is_refused(chat, room):
    chat.say("carol", "draft First try. We are sorry. Next update at 11:00.", room)
    chat.say("carol", f"draft {DRAFT}", room)
    approve_fully(chat, room, 2)
    assert versions(chat) == {1: "superseded", 2: "approved"}
    before = chat.snapshot()
    reply = chat.say("bob", "approve v1", room)
    assert not reply.ok and reply.message.plain() == "v1 was superseded; only a pending draft can be decided. The approved line is v2."
    assert chat.say("bob", "approve v2", room).message.plain() == "v2 is already the approved line."
    assert chat.snapshot() == before


def test_approving_an_older_draft_keeps_the_newer_one_pending(chat, room):
    chat.say("carol", f"draft {DRAFT}", room)
    chat.say("carol", "draft A newer text. We are sorry. Next update at 12:00.", room)
    approve_fully(chat, room, 1)
    assert versions(chat) == {1: "approved", 2: "pending"}
    approve_fully(chat, room, 2)
    assert versions(chat) == {1: "superseded", 2: "approved"}


def test_a_person_holding_two_approver_roles_counts_for_both_when_the_team_opts_out_of_four_eyes(chat, room):
    chat.config.approvals.one_person_many_roles = True  # four eyes: tests/handlers/test_four_eyes.py
    assert chat.say("alice", "assign legal @alice", room).ok
    chat.say("carol", f"draft {DRAFT}", room)
    reply = chat.say("alice", "approve", room).message.plain()
    assert "v1 is now the approved line" in reply and "Legal counsel: Alice Chen, Incident commander: Alice Chen" in reply


def test_when_the_commander_wrote_it_the_backup_approves_for_the_commander(chat, room):
    request = chat.say("alice", f"draft {DRAFT}", room).message.plain()
    assert "approval needed from Legal counsel (Bob Li), Incident commander (Dave Zhang)" in request
    assert dms_to(chat, "dave") and not dms_to(chat, "alice")
    chat.say("bob", "approve", room)
    assert not chat.say("alice", "approve", room).ok
    assert "is now the approved line" in chat.say("dave", "approve", room).message.plain()


def test_a_new_approval_supersedes_the_line_and_lists_targets_to_republish(chat, room):
    chat.say("carol", f"draft {DRAFT}", room)
    approve_fully(chat, room, 1)
    assert chat.say("carol", "publish", room).ok
    assert chat.say("carol", "published weibo https://weibo.com/1", room).ok
    chat.say("carol", "draft We are sorry: 3 lots of PB-20 power banks are recalled. Next update at 13:00.", room)
    chat.say("bob", "approve", room)
    done = chat.say("alice", "approve", room).message.plain()
    assert "It replaces v1. Changes: " in done and "“11” → “13”" in done
    assert "To republish: newsroom, announcements, website, weibo." in done
    assert versions(chat) == {1: "superseded", 2: "approved"}
    assert len(chat.effects(RefreshLine)) == 2  # the pinned line is edited, not posted again


def test_timeline_records_every_draft_decision_and_publication(chat, room):
    chat.say("carol", f"draft {DRAFT}", room)
    chat.say("bob", "reject too vague", room)
    chat.say("carol", f"draft {DRAFT}", room)
    approve_fully(chat, room, 2)
    chat.say("carol", "publish newsroom", room)
    chat.say("carol", "published weibo", room)
    with session(chat.engine) as db:
        kinds = [e.kind for e in db.exec(select(TimelineEvent).order_by(TimelineEvent.id)) if e.kind not in ("declared", "role")]
    # the first draft also marks the playbook's "draft the holding statement" item done (`done_by: draft`)
    assert kinds == ["draft", "done", "rejected", "draft", "approval", "approval", "approved", "publish", "published"]


def test_history_lists_every_version_with_state_approvers_and_changes(chat, room):
    chat.say("carol", "draft We are aware of the reports. Next update at 11:00.", room)
    chat.say("bob", "reject No empathy", room)
    chat.say("carol", f"draft {DRAFT}", room)
    approve_fully(chat, room, 2)
    plain = chat.say("dave", "history", room).message.plain()
    assert "✋ v1 rejected — Carol Wang" in plain and "rejected by Bob Li: “No empathy”" in plain
    assert "✅ v2 current — Carol Wang" in plain and "approvals: Legal counsel: Bob Li, Incident commander: Alice Chen" in plain
    assert "changes from v1: " in plain


def test_line_in_a_direct_message_shows_the_open_incidents_lines(chat, room):
    chat.say("carol", f"draft {DRAFT}", room)
    approve_fully(chat, room, 1)
    reply = chat.say("erin", "line", room=None)
    assert reply.ok and DRAFT in reply.message.plain().splitlines()
    assert "#1 Battery overheating — approved line v1" in reply.message.plain()


def test_template_fills_the_playbook_text_with_the_incident_facts(chat, room):
    plain = chat.say("dave", "template holding", room).message.plain()
    assert "reports about the quality of some of our products" in plain and "Battery overheating" not in plain  # public words only
    assert "Our next update will be at 10:00 CST" in plain  # declared 09:00 Shanghai time, sev2 updates hourly
    assert not chat.say("dave", "template speech", room).ok
    assert versions(chat) == {}  # a template is a starting point, not a draft


def test_the_card_shows_the_line_version_and_pending_draft(chat, room):
    assert "Approved line: none yet · first statement due" in chat.say("bob", "status", room).message.plain()
    chat.say("carol", f"draft {DRAFT}", room)
    approve_fully(chat, room, 1)
    chat.say("carol", "draft Next text. We are sorry. Next update at 12:00.", room)
    card = chat.say("bob", "status", room).message.plain()
    assert "Approved line: v1 (09:00 Beijing time, 2 Mar) · on 0 of 4 targets · v2 awaiting approval" in card


def test_a_text_too_long_for_a_target_is_refused_whole(engine, config, clock):
    narrow = config.model_copy(
        update={"broadcast": [BroadcastTarget(name="newsroom", console="newsroom"), BroadcastTarget(name="sms", console="sms", limit=40)]}
    )
    chat = Chat(engine, narrow, clock)
    room = chat.declare()[1]
    chat.say("carol", f"draft {DRAFT}", room)
    approve_fully(chat, room, 1)
    before = chat.snapshot()
    refused = chat.say("carol", "publish", room)
    assert not refused.ok and f"v1 is {len(DRAFT)} characters long, too long for sms (40)" in refused.message.plain()
    assert chat.snapshot() == before  # not even newsroom: nothing goes out halfway
    assert chat.say("carol", "publish newsroom", room).ok
    assert [p.to for p in chat.effects(Publish)] == ["newsroom"]


def test_a_drill_never_publishes_outside(chat, room):
    with session(chat.engine) as db:
        incident = db.get(Incident, 1)
        incident.drill = True
        db.add(incident)
        db.commit()
    chat.say("carol", f"draft {DRAFT}", room)
    approve_fully(chat, room, 1)
    reply = chat.say("carol", "publish", room).message.plain()
    assert "DRILL: v1 would now go to newsroom, announcements, website, weibo. Nothing was sent outside." in reply
    assert chat.effects(Publish) == []
    with session(chat.engine) as db:
        assert {p.state for p in db.exec(select(Publication))} == {"simulated"}
    assert not chat.say("carol", "published weibo https://weibo.com/1", room).ok
    assert "drill: nothing goes outside" in chat.say("bob", "status", room).message.plain()


def test_published_checks_its_target_and_link(chat, room):
    chat.say("carol", f"draft {DRAFT}", room)
    approve_fully(chat, room, 1)
    before = chat.snapshot()
    cases = {
        "published tiktok": "No broadcast target “tiktok”; the targets are: newsroom, announcements, website, weibo.",
        "published newsroom": "newsroom is published by the bot: use /crisis publish newsroom.",
        "published weibo javascript:alert(1)": "“javascript:alert(1)” is not a link",
        "published weibo https://a https://b": "Unexpected “https://b”.",
    }
    for line, expected in cases.items():
        reply = chat.say("carol", line, room)
        assert not reply.ok and expected in reply.message.plain(), (line, reply.message.plain())
    assert chat.snapshot() == before
    assert chat.say("carol", "published weibo", room).ok
    assert chat.say("carol", "published weibo https://weibo.com/1", room).ok  # the link came later
    assert not chat.say("carol", "published weibo https://weibo.com/1", room).ok  # recorded once
    assert "weibo: sent 09:00 Beijing time, 2 Mar https://weibo.com/1" in chat.say("erin", "line", room).message.plain()


def test_a_named_version_that_does_not_exist_is_never_mistaken_for_a_reason(chat, room):
    chat.say("carol", f"draft {DRAFT}", room)
    before = chat.snapshot()
    for line, expected in {
        "reject v99999999999 too vague": "#1 has no v99999999999; the latest version is v1.",
        "reject 7 too vague": "#1 has no v7; the latest version is v1.",
        "approve v1000000": "#1 has no v1000000; the latest version is v1.",
    }.items():
        reply = chat.say("bob", line, room)
        assert not reply.ok and expected in reply.message.plain(), (line, reply.message.plain())
    assert chat.snapshot() == before


def test_with_several_drafts_waiting_a_bare_approve_asks_which(chat, room):
    chat.say("carol", f"draft {DRAFT}", room)
    chat.say("carol", "draft Another text. We are sorry. Next update at 12:00.", room)
    reply = chat.say("bob", "reject too vague", room)
    assert not reply.ok and "Several drafts are waiting (v1, v2): name the one you mean, e.g. v2." in reply.message.plain()
    assert versions(chat) == {1: "pending", 2: "pending"}


def test_approvals_that_suffice_after_a_severity_change_make_the_line(chat, room):
    chat.say("carol", f"draft {DRAFT}", room)
    assert chat.say("alice", "approve", room).ok  # commander approved; legal still missing at sev2
    assert chat.say("alice", "sev 4", room).ok  # sev4 needs only the commander
    assert "v1 is now the approved line" in chat.say("alice", "approve", room).message.plain()


def test_to_republish_names_every_target_still_carrying_an_older_version(chat, room):
    chat.say("carol", f"draft {DRAFT}", room)
    approve_fully(chat, room, 1)
    chat.say("carol", "publish newsroom", room)
    for version in (2, 3):
        chat.say("carol", f"draft Text {version}. We are sorry. Next update at 12:00.", room)
        chat.say("bob", "approve", room)
        assert "To republish: newsroom." in chat.say("alice", "approve", room).message.plain()


def test_a_stale_publish_button_does_not_publish_the_newer_line(chat, room):
    chat.say("carol", f"draft {DRAFT}", room)
    approve_fully(chat, room, 1)
    chat.say("carol", "draft Text two. We are sorry. Next update at 12:00.", room)
    approve_fully(chat, room, 2)
    reply = chat.say("carol", "#1 publish v1", room)
    assert not reply.ok and "v1 is no longer the approved line; v2 is." in reply.message.plain()
    assert chat.say("carol", "#1 publish v2 newsroom", room).ok


def test_a_manual_target_too_long_does_not_block_the_channels(engine, config, clock):
    targets = [BroadcastTarget(name="newsroom", console="newsroom"), BroadcastTarget(name="sms", manual=True, limit=40)]
    chat = Chat(engine, config.model_copy(update={"broadcast": targets}), clock)
    room = chat.declare()[1]
    chat.say("carol", f"draft {DRAFT}", room)
    approve_fully(chat, room, 1)
    reply = chat.say("carol", "publish", room).message.plain()
    assert "v1 published by Carol Wang to newsroom." in reply and "Too long for sms as it stands" in reply
