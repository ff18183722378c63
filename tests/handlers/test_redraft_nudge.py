"""The proof of the recipe 'Add a reminder (nudge) kind': a rejected version reminds its author to send a new one."""

from tests.handlers.nudge_timeline import DRAFT, HEAD, declare


def test_a_rejected_version_reminds_its_author_then_the_commander_until_a_new_version_is_drafted(chat, clock):
    room, t = declare(chat, clock)
    assert chat.say("carol", f"draft {DRAFT}", room).ok
    assert chat.say("bob", "reject v1 Too vague on the batches.", room).ok
    assert t.fire(14, "was rejected and") == []
    assert t.fire(15, "was rejected and") == [
        ("carol", HEAD + "v1 was rejected and no new version has followed (0 min late). Clear it: /crisis draft <text>")
    ]
    assert t.recipients(45, "was rejected and") == [(30, "carol"), (45, "alice")]
    assert chat.say("carol", f"draft {DRAFT} Batches 2403–2411.", room).ok
    assert t.recipients(120, "was rejected and") == []
