"""Nudges on the fake clock: each kind fires on time, once, to the right person; doing the thing clears it; repeats,
caps and escalation.

Incident #1 is product-quality sev1 "Battery overheating", declared by alice at 09:00 Asia/Shanghai (01:00 UTC; minute 0 below):
commander=alice, comms=alice, spokesperson=carol (Europe/London), legal=bob, monitor=dave (America/New_York), liaison=erin,
scribe=dave, exec=bob. Backups: commander→dave, legal→erin. Sev1 clock: first statement 60 min, updates every 30 min, approval
nudge 10 min, review within 3 days. Checklist item 1 (monitor, dave) is due at minute 15. Tests that are not about role
acknowledgement have everybody ack first, so only the nudge under test speaks.
"""

import pytest

from tests.conftest import Chat
from tests.handlers.nudge_timeline import DRAFT, HEAD, buttons, declare, messages_to, nudges_of

# ---- role not acknowledged


def test_an_unacknowledged_role_reminds_its_holder_at_10_minutes_not_before(chat, clock):
    room, t = declare(chat, clock, ack=("alice", "carol", "dave", "erin"))
    assert t.fire(9, "have not accepted") == []
    assert t.fire(10, "have not accepted") == [
        ("bob", HEAD + "you were given Legal counsel and have not accepted it yet (less than a minute late). Accept it: /crisis ack"),
        ("bob", HEAD + "you were given Executive sponsor and have not accepted it yet (less than a minute late). Accept it: /crisis ack"),
    ]
    (legal,) = [n for n in nudges_of(chat, "role_ack") if n.target == "person:bob" and n.subject == "legal:bob"]
    assert buttons(chat, "bob", "Legal counsel") == ["#1 ack", f"#1 snooze {legal.id} 15m", f"#1 snooze {legal.id} 1h"]


def test_the_ack_reminder_climbs_from_holder_to_commander_to_the_roles_backup_then_stops(chat, clock):
    room, t = declare(chat, clock, ack=("alice", "carol", "dave", "erin"))
    heard = [(minute, to, text) for minute in range(5, 121, 5) for to, text in t.fire(minute, "Legal counsel")]
    assert heard == [
        (10, "bob", HEAD + "you were given Legal counsel and have not accepted it yet (less than a minute late). Accept it: /crisis ack"),
        (20, "alice", HEAD + "Bob Li has not accepted Legal counsel (10 min late). Remind them, or /crisis assign legal @someone."),
        (
            30,
            "erin",
            HEAD + "Bob Li has not taken up Legal counsel (20 min late). You are the backup: the commander may hand it to you.",
        ),
    ]


def test_ack_clears_the_reminder_even_after_the_commander_was_told(chat, clock):
    room, t = declare(chat, clock, ack=("alice", "carol", "dave", "erin"))
    assert t.recipients(20, "Legal counsel") == [(10, "bob"), (20, "alice")]
    assert chat.say("bob", "ack", room).ok
    assert t.recipients(60, "Legal counsel") == []
    assert t.recipients(60, "Executive sponsor") == []  # one ack accepts every role bob holds


def test_assigning_the_role_to_someone_else_moves_the_ack_reminder_to_the_new_holder(chat, clock):
    room, t = declare(chat, clock, ack=("alice", "carol", "dave", "bob"))
    t.at(5)
    assert chat.say("alice", "assign liaison @carol", room).ok
    assert t.fire(10, "External liaison") == []  # erin no longer holds it
    assert t.fire(14, "External liaison") == []
    assert t.fire(15, "External liaison") == [
        ("carol", HEAD + "you were given External liaison and have not accepted it yet (less than a minute late). Accept it: /crisis ack")
    ]


# ---- required role unfilled


@pytest.fixture
def nobody_monitors(engine, config, clock) -> Chat:
    """The starter team without anyone on the monitoring rota."""
    config.team.people["dave"].roles.remove("monitor")
    return Chat(engine, config, clock)


def test_a_required_role_nobody_can_fill_reminds_the_commander_then_exec_until_assigned(nobody_monitors, clock):
    chat = nobody_monitors
    room, t = declare(chat, clock)
    assert t.fire(9, "nobody holds") == []
    assert t.fire(10, "nobody holds") == [
        (
            "alice",
            HEAD + "nobody holds Monitoring lead, required at sev1 (less than a minute late). Clear it: /crisis assign monitor @someone",
        )
    ]
    assert t.recipients(40, "nobody holds") == [(20, "alice"), (30, "alice"), (40, "bob")]
    assert chat.say("alice", "assign monitor @erin", room).ok
    assert t.recipients(120, "nobody holds") == []


def test_raising_the_severity_to_one_that_requires_an_unfillable_role_reminds_the_commander(nobody_monitors, clock):
    chat = nobody_monitors
    room, t = declare(chat, clock, severity="sev3", ack=())  # sev3 does not need a monitoring lead
    t.at(5)
    assert chat.say("alice", "sev 1", room).ok
    assert [to for to, _text in t.fire(15, "nobody holds Monitoring lead")] == ["alice"]


# ---- checklist item overdue


def test_an_overdue_item_reminds_its_owner_when_due_not_a_minute_before(chat, clock):
    room, t = declare(chat, clock)
    assert t.fire(14, "item 1") == []
    assert t.fire(15, "item 1") == [
        (
            "dave",
            HEAD + "checklist item 1 “Collect every report of the problem (posts, complaints, service tickets, returns); "
            "log product, channel and time of each” is overdue by less than a minute. Clear it: /crisis done 1",
        )
    ]
    assert buttons(chat, "dave", "item 1")[0] == "#1 done 1"


def test_an_overdue_item_reminds_the_owner_three_times_then_the_commander_then_exec(chat, clock):
    room, t = declare(chat, clock)
    t.at(10)
    assert t.recipients(300, "item 1 ") == [
        (15, "dave"),
        (45, "dave"),
        (75, "dave"),
        (105, "alice"),
        (135, "alice"),
        (165, "alice"),
        (195, "bob"),
        (225, "bob"),
        (255, "bob"),
    ]
    to_exec = messages_to(chat, "bob", "item 1 ")[0].plain()
    assert "is still open (3 hr late); the people responsible were reminded." in to_exec and "/crisis done" not in to_exec


def test_done_clears_the_item_reminder(chat, clock):
    room, t = declare(chat, clock)
    assert [to for to, _text in t.fire(15, "item 1 ")] == ["dave"]
    assert chat.say("dave", "done 1", room).ok
    assert t.recipients(240, "item 1 ") == []


def test_a_new_task_with_a_due_time_reminds_its_owner_when_due(chat, clock):
    room, t = declare(chat, clock)
    assert chat.say("alice", "task Call the regulator @erin in 20m", room).ok
    assert t.fire(19, "Call the regulator") == []
    assert t.fire(20, "Call the regulator") == [
        ("erin", HEAD + "checklist item 15 “Call the regulator” is overdue by less than a minute. Clear it: /crisis done 15")
    ]


# ---- first approved statement (golden hour)


def test_the_golden_hour_warns_commander_and_comms_15_minutes_before_and_at_the_deadline_then_exec(chat, clock):
    room, t = declare(chat, clock)
    assert chat.say("alice", "assign comms @carol", room).ok
    assert chat.say("carol", "ack", room).ok
    assert t.fire(44, "approved statement") == []
    warning = (
        HEAD + "the first approved statement is due at 10:00 Beijing time, 2 Mar, in 15 min."
        " Start from /crisis template holding, then /crisis draft."
    )
    assert t.fire(45, "approved statement") == [("alice", warning), ("carol", warning)]
    assert buttons(chat, "carol", "in 15 min")[0] == "#1 template holding"
    assert t.fire(59, "approved statement") == []
    late = HEAD + "the first approved statement is less than a minute late. Draft it now (/crisis template holding), approvers: "
    late += "/crisis approve."
    assert t.fire(60, "approved statement") == [("alice", late), ("carol", late)]
    assert t.fire(74, "approved statement") == []
    assert t.fire(75, "approved statement") == [
        ("bob", HEAD + "still no approved statement, 15 min after the golden-hour deadline. The team needs a decision on the line.")
    ]
    assert t.recipients(240, "approved statement") == []


def test_an_approved_first_statement_stops_the_golden_hour_reminders(chat, clock):
    room, t = declare(chat, clock)
    t.at(30)
    assert chat.say("carol", f"draft {DRAFT}", room).ok
    assert chat.say("bob", "approve v1", room).ok
    assert "is now the approved line" in chat.say("alice", "approve v1", room).message.plain()
    assert t.recipients(120, "approved statement") == []


# ---- status update cadence


def test_a_missed_update_reminds_commander_and_comms_at_the_cadence_then_exec(chat, clock):
    room, t = declare(chat, clock)
    assert t.fire(29, "status update") == []
    assert t.fire(30, "status update") == [
        (
            "alice",
            HEAD + "the status update promised for 09:30 Beijing time, 2 Mar is less than a minute late. Clear it: /crisis update <text>",
        )
    ]
    assert t.recipients(150, "status update") == [(60, "alice"), (90, "alice"), (120, "bob"), (150, "bob")]


def test_an_update_restarts_the_cadence(chat, clock):
    room, t = declare(chat, clock)
    t.at(20)
    assert chat.say("alice", "update Batches traced; stop-sale under way.", room).ok
    assert t.fire(30, "status update") == []
    assert t.fire(49, "status update") == []
    assert t.fire(50, "status update") == [
        (
            "alice",
            HEAD + "the status update promised for 09:50 Beijing time, 2 Mar is less than a minute late. Clear it: /crisis update <text>",
        )
    ]


def test_exec_told_of_a_missed_update_is_not_given_a_command_refused_to_them(chat, clock):
    room, t = declare(chat, clock)
    assert t.recipients(90, "status update") == [(30, "alice"), (60, "alice"), (90, "alice")]
    [(to, text)] = t.fire(120, "status update")
    assert to == "bob"
    assert not chat.say("bob", "update Still checking.", room).ok  # exec is neither commander nor comms
    assert "/crisis update" not in text


# ---- approval pending


def test_a_waiting_draft_reminds_each_approver_after_the_sev1_10_minutes(chat, clock):
    room, t = declare(chat, clock)
    assert chat.say("carol", f"draft {DRAFT}", room).ok
    assert t.fire(9, "approval") == []
    assert t.fire(10, "approval") == [
        ("bob", HEAD + "v1 has waited 10 min for your approval as Legal counsel. Clear it: /crisis approve v1 or reject it."),
        ("alice", HEAD + "v1 has waited 10 min for your approval as Incident commander. Clear it: /crisis approve v1 or reject it."),
    ]
    assert buttons(chat, "bob", "approval as Legal")[:2] == ["#1 approve v1", "#1 reject v1"]


def test_the_approval_reminder_says_how_long_the_draft_has_waited(chat, clock):
    room, t = declare(chat, clock)
    assert chat.say("carol", f"draft {DRAFT}", room).ok
    [(_to, text)] = t.fire(10, "approval as Legal")
    assert "v1 has waited 10 min for your approval" in text


def test_an_approval_clears_only_that_approvers_reminder(chat, clock):
    room, t = declare(chat, clock)
    assert chat.say("carol", f"draft {DRAFT}", room).ok
    t.at(5)
    assert chat.say("bob", "approve v1", room).ok
    assert [to for to, _text in t.fire(10, "approval")] == ["alice"]
    assert "is now the approved line" in chat.say("alice", "approve v1", room).message.plain()
    assert t.recipients(120, "v1") == []


def test_a_rejection_clears_every_approval_reminder_of_that_version(chat, clock):
    room, t = declare(chat, clock)
    assert chat.say("carol", f"draft {DRAFT}", room).ok
    assert chat.say("bob", "reject v1 The cause is not confirmed yet", room).ok
    assert t.recipients(120, "v1") == []


def test_legals_backup_is_asked_after_the_holder_and_may_then_approve(chat, clock):
    room, t = declare(chat, clock)
    assert chat.say("carol", f"draft {DRAFT}", room).ok
    assert t.recipients(15, "Legal counsel") == [(10, "bob")]
    assert not chat.say("erin", "approve v1", room).ok  # not before she is asked
    assert t.fire(20, "Legal counsel") == [
        (
            "erin",
            HEAD + "v1 still lacks the approval of Legal counsel (10 min late). As the backup you may give it: /crisis approve v1",
        )
    ]
    reply = chat.say("erin", "approve v1", room)
    assert reply.ok and "Erin Liu approved v1 as Legal counsel" in reply.message.plain()
    assert t.recipients(120, "approval of Legal") == []


def test_the_commanders_backup_is_asked_after_the_commander_and_may_then_approve(chat, clock):
    room, t = declare(chat, clock)
    assert chat.say("carol", f"draft {DRAFT}", room).ok
    assert chat.say("bob", "approve v1", room).ok
    assert t.recipients(19, "approval as Incident commander") == [(10, "alice")]
    assert [to for to, _text in t.fire(20, "Incident commander")] == ["dave"]
    assert "is now the approved line" in chat.say("dave", "approve v1", room).message.plain()


def test_when_the_commander_wrote_the_draft_the_backup_is_reminded_instead(chat, clock):
    room, t = declare(chat, clock)
    reply = chat.say("alice", f"draft {DRAFT}", room)
    assert "Incident commander (Dave Zhang)" in reply.message.plain()
    assert [to for to, _text in t.fire(10, "approval as Incident commander")] == ["dave"]


def test_the_commander_chasing_a_missing_legal_approval_is_not_told_to_give_it(chat, clock):
    room, t = declare(chat, clock)
    assert chat.say("carol", f"draft {DRAFT}", room).ok
    assert t.recipients(25, "Legal counsel") == [(10, "bob"), (20, "erin")]
    [(to, text)] = t.fire(30, "approval of Legal")
    assert to == "alice"
    assert "you may give it" not in text


# ---- after resolve: the review


def test_resolve_stops_the_live_reminders_and_the_review_is_due_3_days_later(chat, clock):
    room, t = declare(chat, clock, ack=())
    t.at(5)
    assert chat.say("alice", "resolve", room).ok
    assert t.recipients(24 * 60, "") == []
    t.at(3 * 24 * 60 + 4)
    assert t.fire(3 * 24 * 60 + 4) == []
    assert t.fire(3 * 24 * 60 + 5) == [
        (
            "alice",
            HEAD + "the review meeting was due 09:05 Beijing time, 5 Mar (less than a minute late)."
            " Hold it, then close the incident: /crisis close",
        )
    ]


def test_the_review_reminder_repeats_daily_then_exec_and_close_clears_it(chat, clock):
    room, t = declare(chat, clock)
    assert chat.say("alice", "resolve", room).ok
    day = 24 * 60
    assert t.recipients(6 * day, "review meeting", step=60) == [
        (3 * day, "alice"),
        (4 * day, "alice"),
        (5 * day, "alice"),
        (6 * day, "bob"),
    ]
    assert chat.say("alice", "lesson - Hold the review within the week", room).ok
    assert chat.say("alice", "close --force The open items move to the recall plan", room).ok
    assert t.recipients(9 * day, "review meeting", step=60) == []


def test_the_review_reminder_waits_for_the_morning_even_at_sev1(chat, clock):
    room, t = declare(chat, clock)
    t.at(14 * 60 + 30)  # 23:30 in Shanghai
    assert chat.say("alice", "resolve", room).ok
    due = 3 * 24 * 60 + 14 * 60 + 30
    assert t.fire(due, "review meeting") == []
    assert t.fire(due + 8 * 60 + 29, "review meeting") == []  # 07:59 in Shanghai
    assert t.fire(due + 8 * 60 + 30, "review meeting") == [
        (
            "alice",
            HEAD + "the review meeting was due 23:30 Beijing time, 5 Mar (8 hr 30 min late)."
            " Hold it, then close the incident: /crisis close",
        )
    ]
