"""For every verb that takes free text, a text holding every keyword of the grammar is stored exactly as typed
(issue 15, "What it must show"): the keywords count only where the grammar puts them. A new verb with a free-text
slot fails `test_every_verb_with_free_text_is_covered` until it is added here.

#1 is product-quality sev1 with an approved line (alice commander, carol spokesperson, bob legal, erin liaison).
"""

import re

import pytest

from handlers import catalog
from tests.handlers.desk_chat import approved_incident

# Every keyword of every verb's grammar, inside free text: flags, `+`/`-`, `due`/`in` with dates and durations, kinds,
# versions, item and claim numbers, verdicts, `reach`, `email`, `declined`, `mine`/`all`, a bare @ and an incident.
FREE = (
    "Check + the - due diligence in person due 2030-03-09 in 30m --signal 1 --force sev1 holding v2 all mine @ #1 "
    "q1 c1 i1 a1 true partly declined reach 5 email due in 3d, then call"
)
# Each verb with a free-text slot: (who, the line with {text} in its slot), after the setup below.
LINES = {
    "declare": ("alice", "declare outage sev3 {text}"),
    "update": ("alice", "update {text}"),
    "note": ("alice", "note {text}"),
    "task": ("alice", "task {text} @bob in 2h"),
    "skip": ("alice", "skip 4 {text}"),
    "draft": ("carol", "draft update {text}"),
    "reject": ("bob", "reject v2 {text}"),
    "action": ("alice", "action {text} @erin due 2026-03-20"),
    "claim": ("dave", "claim {text}"),
    "verify": ("alice", "verify c1 partly {text}"),
    "inquiry": ("dave", "inquiry Reuters in 2h {text}"),
    "answer": ("carol", "answer q1 declined {text}"),
    "notified": ("erin", "notified regulators provincial office {text}"),
    "resolve": ("alice", "resolve {text}"),
    "lesson": ("dave", "lesson + {text}"),
    "close": ("alice", "close --force {text}"),
}
# What comes before each line (in order) so that it may run: a draft to reject, a claim, an inquiry, a resolved incident.
SETUP = {
    "reject": [("carol", "draft We are sorry. Next update at 11:00.")],
    "verify": [("dave", "claim Batteries explode")],
    "answer": [("dave", "inquiry Reuters When is the recall?")],
    "lesson": [("alice", "resolve All clear")],
    "close": [("alice", "resolve All clear")],
}
assert len(FREE) < 200  # a title's limit

# A slot a person fills with their own words (not a role, a target or a number).
FREE_SLOT = re.compile(r"<(text|title|reason|question)>|\[(summary|note)\]")
NOT_STORED = {"vet"}  # checks a text and stores nothing


def stored_texts(chat) -> set[str]:
    """Every text value in every row of the database."""
    return {value for rows in chat.snapshot().values() for row in rows for value in row if isinstance(value, str)}


def test_every_verb_with_free_text_is_covered():
    with_text = {name for name, spec in catalog.registry().verbs.items() if FREE_SLOT.search(spec.usage)}
    assert with_text - NOT_STORED == set(LINES)


@pytest.mark.parametrize("verb", sorted(LINES))
def test_a_free_text_holding_every_keyword_is_stored_exactly_as_typed(chat, clock, verb):
    room = approved_incident(chat, clock)
    for who, line in SETUP.get(verb, []):
        assert chat.say(who, line, room).ok
    before = stored_texts(chat)
    who, line = LINES[verb]
    reply = chat.say(who, line.format(text=FREE), None if verb == "declare" else room)
    assert reply.ok, reply.message.plain()
    assert any(FREE in value for value in stored_texts(chat) - before), f"{verb}: the text was not stored whole"
