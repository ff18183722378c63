"""A read-only Slack slash command answered in its ack writes no dedup key (Slack never sends an acknowledged command
again); a write command, and any click (Slack does deliver those again), is still de-duplicated."""

import pytest
from sqlmodel import func, select

from bot.slack import delivery as slack_delivery
from storage.db import session
from storage.models import Outbox, ProcessedEvent, TimelineEvent
from tests.fuzz.test_slack_http import SlackWorld

NOTE = "note Supplier called back: batch 2 is clean"


@pytest.fixture
def world(tmp_path, monkeypatch):
    monkeypatch.setattr(slack_delivery, "PACE", 0)
    world = SlackWorld(tmp_path)
    world.run(world.post(*world.fake.slash_command("U0ALICE", "declare product-quality sev2 Battery overheating", "C0GENERAL")))
    world.room = next(c["id"] for c in world.fake.channels.values() if c["name"].startswith("crisis-"))
    yield world
    world.close()


def rows(world, model, *where) -> int:
    with session(world.bot.engine) as db:
        return db.exec(select(func.count()).select_from(model).where(*where)).one()


def slash(world, text: str, trigger: str | None = None):
    body, headers = world.fake.slash_command("U0ALICE", text, world.room, trigger_id=trigger)
    return world.run(world.http.post("/slack/events", content=body, headers=headers))


def test_a_read_only_slash_command_is_answered_in_its_ack_and_writes_nothing(world):
    keys, effects = rows(world, ProcessedEvent), rows(world, Outbox)
    for _ in range(2):
        response = slash(world, "status")
        assert response.status_code == 200
        assert "Battery overheating" in response.json()["text"]  # the card, in the ack
    assert (rows(world, ProcessedEvent), rows(world, Outbox)) == (keys, effects)


def test_a_write_slash_command_sent_twice_is_decided_once(world):
    trigger = world.fake.register_trigger()
    first, again = slash(world, NOTE, trigger), slash(world, NOTE, trigger)
    assert first.status_code == again.status_code == 200
    assert rows(world, ProcessedEvent, ProcessedEvent.key == f"slack:{trigger}") == 1
    assert rows(world, TimelineEvent, TimelineEvent.text.contains("batch 2 is clean")) == 1


def test_a_read_only_click_is_still_de_duplicated(world):
    keys = rows(world, ProcessedEvent)
    payload = world.fake.action_payload("U0ALICE", world.room, "ov:0", "#1 status")
    assert world.run(world.post(*world.fake._form_payload(payload))) == 200
    assert rows(world, ProcessedEvent) == keys + 1  # Slack sends a click again when unsure: its key is written


@pytest.mark.parametrize("text", ["review", "#1 review"])
def test_a_read_only_verb_that_queues_work_keeps_its_key_and_a_repeat_queues_nothing_more(world, text):
    trigger = world.fake.register_trigger()
    keys = rows(world, ProcessedEvent)
    assert slash(world, text, trigger).status_code == 200
    effects = rows(world, Outbox)
    assert slash(world, text, trigger).status_code == 200  # the same command delivered again
    assert rows(world, ProcessedEvent) == keys + 1 and rows(world, Outbox) == effects
