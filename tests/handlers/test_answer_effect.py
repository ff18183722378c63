"""The answer a platform wants sent later (Slack's response_url) is queued with the command, in the same transaction."""

from handlers.core.effects import Answer, OpenRoom
from handlers.core.ports import Command, RoomRef, UserRef
from handlers.router import dispatch
from storage.db import session

WHERE = {"to": "alice", "channel": "lobby", "response_url": "https://hooks.example/r1"}


def where(reply):
    """The route a platform's front names, as Slack's does."""
    return Answer(reply.message, private=reply.private, **WHERE)


def say(chat, line: str, room: str = "lobby", event_id: str | None = None, route=where):
    with session(chat.engine) as db:
        return dispatch(db, chat.deps, Command(UserRef("console", "alice"), line, RoomRef("console", room), event_id), route)


def answers(chat) -> list[tuple[str, dict]]:
    return [(row.payload["message"]["spans"][0][1], row.payload) for row in chat.outbox() if row.kind == Answer.kind]


def test_an_answer_and_a_refusal_are_queued_once_each_and_a_repeat_queues_nothing(chat):
    reply = say(chat, "declare product-quality sev2 Battery overheating", event_id="e1")
    say(chat, "declare nosuchplaybook Battery", event_id="e2")
    again = say(chat, "declare product-quality sev2 Battery overheating", event_id="e1")  # the platform's retry
    queued = answers(chat)
    assert [text.split(" ")[0] for text, _payload in queued] == ["Declared", "There"]
    assert queued[0][1] == {**WHERE, "private": reply.private, "message": queued[0][1]["message"]} and queued[0][1]["private"] is False
    assert reply.answer_queued and again.duplicate and not again.answer_queued
    assert len(chat.effects(OpenRoom)) == 1


def test_no_answer_is_queued_when_the_room_post_answers_it_or_the_platform_answers_at_once(chat):
    incident, room = chat.declare()
    before = len(answers(chat))
    added = say(chat, "task Call the supplier", room=room, route=lambda reply: None)  # small enough to go back with the ack
    done = say(chat, "done 1", room=room)  # typed in the incident room: the room post answers it
    assert done.echoed and len(answers(chat)) == before and not added.answer_queued and added.incident_id == incident
