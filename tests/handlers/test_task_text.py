"""`task`: the free text stays whole; only a mention at the end (@person or @role) names an owner."""

import pytest

from tests.conftest import Chat


@pytest.fixture
def room(chat) -> str:
    return chat.declare()[1]


def shown(chat, room: str, n: int) -> str:
    """The checklist line of item n, as `tasks all` shows it."""
    listing = chat.say("alice", "tasks all", room).message.plain()
    return next(line for line in listing.splitlines() if line.split()[1:2] == [str(n)])


@pytest.mark.parametrize(
    "text",
    ["Check the warehouse stock monitor", "Brief the exec", "Ask legal about the due diligence in person", "Call comms in 2027"],
)
def test_role_words_inside_the_text_are_kept(chat, room, text):
    reply = chat.say("alice", f"task {text} in 2h", room)
    assert reply.ok
    line = shown(chat, room, 15)
    assert text in line, line
    assert "Dave Zhang" not in line and "Bob Li" not in line  # nobody was made the owner by a word of the text


def test_a_trailing_role_word_tells_how_to_name_an_owner(chat, room):
    said = chat.say("alice", "task Brief the exec", room).message.plain()
    assert "Added item 15." in said and "end with @exec" in said
    assert "Brief the exec" in shown(chat, room, 15)


def test_the_hint_in_chinese(engine, config, clock):
    chat = Chat(engine, config.model_copy(update={"language": "zh"}), clock)
    said = chat.say("alice", "task 联系 exec", chat.declare()[1]).message.plain()
    assert "已添加第 15 项" in said and "@exec" in said and "保留" in said


def test_an_at_role_names_the_role_and_its_holder(chat, room):
    assert chat.say("alice", "task Check the warehouse stock monitor @monitor in 2h", room).ok
    line = shown(chat, room, 15)
    assert "Check the warehouse stock monitor" in line and "Dave Zhang" in line  # dave holds monitor
    mine = chat.say("dave", "tasks mine", room).message.plain()
    assert "Check the warehouse stock monitor" in mine


def test_an_at_person_still_names_the_person(chat, room):
    assert chat.say("alice", "task Call the battery supplier @carol in 30m", room).ok
    assert "Call the battery supplier · Carol Wang" in shown(chat, room, 15)


def test_an_unknown_mention_is_refused_and_adds_nothing(chat, room):
    refused = chat.say("alice", "task Call the supplier @janitor", room)
    assert not refused.ok and "not a member of the team" in refused.message.plain()
    assert "Call the supplier" not in chat.say("alice", "tasks all", room).message.plain()
