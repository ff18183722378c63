"""Four eyes (PRODUCT.md §4): when two or more roles must approve, the approvals come from two different people.

Incident #1 is product-quality sev2 declared by alice: commander=alice, legal=bob, spokesperson=carol; the approvers
at sev2 are legal and commander; dave is the commander's backup and erin legal's.
"""

DRAFT = "We are sorry for the worry caused by PB-20 power banks overheating. Next update at 11:00."


def say(chat, who: str, line: str, room: str) -> str:
    return chat.say(who, line, room).message.plain()


def test_the_commander_who_assigns_themselves_legal_cannot_make_the_line_alone(chat, room):
    assert chat.say("alice", "assign legal @alice", room).ok
    chat.say("carol", f"draft {DRAFT}", room)
    first = say(chat, "alice", "approve v1", room)
    assert "Alice Chen approved v1 as Legal counsel. Still needed: Incident commander (Dave Zhang)." in first
    assert "Four eyes: your approval counts for one role only; another person must approve as Incident commander." in first
    assert "no approved line yet" in say(chat, "erin", "line", room)
    assert "four eyes: another person must approve v1 as Incident commander" in say(chat, "erin", "status", room)
    before = chat.snapshot()
    again = chat.say("alice", "approve v1", room)
    assert not again.ok
    assert "Four eyes: you already approved v1 as Legal counsel; another person must approve as Incident commander (Dave Zhang)." in (
        again.message.plain()
    )
    assert chat.snapshot() == before  # the refusal changed nothing
    done = say(chat, "dave", "approve v1", room)  # the commander's backup is the other person
    assert "v1 is now the approved line" in done and "Legal counsel: Alice Chen, Incident commander: Dave Zhang" in done
    assert "four eyes" not in say(chat, "erin", "status", room)


def test_the_remaining_role_is_nudged_to_its_backup_not_to_the_person_who_signed(chat, room):
    assert chat.say("alice", "assign legal @alice", room).ok
    chat.say("carol", f"draft {DRAFT}", room)
    chat.say("alice", "approve", room)
    chat.clock.advance(chat.config.severities["sev2"].approval_nudge)
    heard = [to for to, message in chat.fire() if "approval of Incident commander" in message.plain() or "v1" in message.plain()]
    assert heard == ["dave"]


def test_the_opt_out_lets_one_person_approve_for_both_roles(chat, room):
    chat.config.approvals.one_person_many_roles = True
    assert chat.say("alice", "assign legal @alice", room).ok
    chat.say("carol", f"draft {DRAFT}", room)
    done = say(chat, "alice", "approve v1", room)
    assert "v1 is now the approved line" in done and "Legal counsel: Alice Chen, Incident commander: Alice Chen" in done


def test_the_author_never_counts_even_holding_a_second_role(chat, room):
    assert chat.say("alice", "assign legal @alice", room).ok
    chat.say("alice", f"draft {DRAFT}", room)
    refused = chat.say("alice", "approve", room)
    assert not refused.ok and "You wrote v1, so your own approval cannot count" in refused.message.plain()
    assert "Dave Zhang approved v1 as Incident commander" in say(chat, "dave", "approve", room)
    assert "v1 is now the approved line" in say(chat, "erin", "approve", room)  # legal's backup: alice wrote it


def test_one_role_needed_one_person_suffices(chat):
    _incident, room = chat.declare(line="declare product-quality sev4 Battery overheating")
    chat.say("carol", f"draft {DRAFT}", room)
    assert "v1 is now the approved line" in say(chat, "alice", "approve", room)


def test_a_redelivered_approval_does_not_count_twice(chat, room):
    assert chat.say("alice", "assign legal @alice", room).ok
    chat.say("carol", f"draft {DRAFT}", room)
    assert chat.say("alice", "approve v1", room, event_id="evt-1").ok
    chat.say("alice", "approve v1", room, event_id="evt-1")  # the platform sends it again
    assert "no approved line yet" in say(chat, "erin", "line", room)


def test_a_person_holding_two_of_three_roles_counts_for_the_one_nobody_else_can_give(chat):
    # sensitive-topic sev1 needs legal, commander and exec; bob holds legal and exec, and only legal has a backup (erin)
    _incident, room = chat.declare(line="declare sensitive-topic sev1 Rumour about the founder")
    assert "Executive sponsor (Bob Li)" in say(chat, "carol", f"draft {DRAFT}", room)
    first = say(chat, "bob", "approve", room)
    assert "Bob Li approved v1 as Executive sponsor. Still needed: Legal counsel (Erin Liu), Incident commander (Alice Chen)." in first
    assert "Alice Chen approved v1 as Incident commander" in say(chat, "alice", "approve", room)
    before = chat.snapshot()
    refused = chat.say("dave", "approve", room)
    assert not refused.ok and "v1 still needs the approval of Legal counsel (Erin Liu); you hold none of these roles." in (
        refused.message.plain()
    )
    assert chat.snapshot() == before
    done = say(chat, "erin", "approve", room)
    assert "approved by Executive sponsor: Bob Li, Incident commander: Alice Chen, Legal counsel: Erin Liu" in done
