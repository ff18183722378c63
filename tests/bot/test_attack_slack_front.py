"""Attacks through `POST /slack/events` (issues 14, 15): a signed click or form whose response_url (in the payload, or
carried in a form's private_metadata) points outside Slack gets its answer by the bot instead, never POSTed there;
a stranger's click and form change nothing and show nothing in the room."""

import asyncio
import json
import time

import pytest

from bot.slack import delivery as slack_delivery
from bot.slack.front import PROMPT_VIEW
from tests.fakes.slack_api import FakeSlack
from tests.fuzz.test_slack_http import SlackWorld, event


@pytest.fixture
def world(tmp_path, monkeypatch):
    monkeypatch.setattr(slack_delivery, "PACE", 0)
    world = SlackWorld(tmp_path)
    world.elsewhere = FakeSlack()
    world.run(world.elsewhere.start())
    world.run(world.post(*world.fake.slash_command("U0ALICE", "declare product-quality sev2 Battery overheating", "C0GENERAL")))
    world.room = next(c["id"] for c in world.fake.channels.values() if c["name"].startswith("crisis-"))
    yield world
    world.run(world.elsewhere.stop())
    world.close()


def signed_payload(world, payload: dict) -> tuple[bytes, dict]:
    return world.fake._form_payload(payload)


def test_a_click_naming_a_response_url_outside_slack_is_answered_by_the_bot(world):
    payload = world.fake.action_payload("U0ALICE", world.room, "ov:0", "#1 status")
    payload["response_url"] = world.elsewhere.response_url()
    before = len(world.fake.messages)
    assert world.run(world.post(*signed_payload(world, payload))) == 200
    assert world.elsewhere.response_log == []
    assert any("Battery overheating" in (m["text"] or "") for m in world.fake.messages[before:])  # said by the bot


def test_a_form_whose_metadata_names_a_response_url_outside_slack_posts_nothing_there(world):
    world.fake._seen_in("U0STRANGER", world.room)
    metadata = json.dumps({"command": "#1 resolve", "channel": world.room, "response_url": world.elsewhere.response_url()})
    room_before = len(world.fake.messages_in(world.room))
    body = world.fake.view_submission("U0STRANGER", PROMPT_VIEW, metadata, {"answer": {"text": "All fine"}})
    assert world.run(world.post(*body)) == 200
    assert world.elsewhere.response_log == []
    assert [m for m in world.fake.messages_in(world.room)[room_before:] if not m["ephemeral"]] == []  # nothing in the room
    assert "phase *detected*" in status(world)  # not resolved


def status(world) -> str:
    """What `/crisis #1 status` answers Alice in the acknowledgement."""
    body, headers = world.fake.slash_command("U0ALICE", "#1 status", "C0GENERAL")
    response = world.run(world.http.post("/slack/events", content=body, headers=headers))
    return response.json()["text"]


def _click_without(world, part: str) -> dict:
    payload = world.fake.action_payload("U0ALICE", world.room, "ov:0", "#1 status")
    if part == "user":
        payload.pop("user")
    elif part == "value":
        payload["actions"][0]["value"] = ["#1 status"]
    elif part == "channel":
        payload["channel"], payload["container"] = world.room, world.room
    elif part == "trigger":
        payload["actions"][0]["value"] = "#1 reject v1\nreason"  # a button that opens a form needs the trigger
        payload.pop("trigger_id")
    elif part == "state":
        payload = world.fake.submission_payload("U0ALICE", PROMPT_VIEW, json.dumps({"command": "#1 status", "channel": world.room}), {})
        payload["view"].pop("state")
    return payload


@pytest.mark.parametrize("part", ["user", "value", "channel", "trigger", "state"])
def test_a_signed_payload_of_the_wrong_shape_is_refused_with_a_4xx(world, part, caplog):
    """Was: a KeyError or AttributeError inside the listener, and Bolt's 500 with a traceback."""
    body, headers = world.fake._form_payload(_click_without(world, part))
    response = world.run(world.http.post("/slack/events", content=body, headers=headers))
    assert response.status_code == 400
    assert not [r for r in caplog.records if r.exc_info]  # no traceback


def test_a_strangers_mentions_do_not_fill_a_channel_with_the_bots_help(world):
    """Anyone in a channel the bot is in can @mention it; a stream of mentions from one person is not a stream of posts."""
    before = len([m for m in world.fake.messages_in("C0NEWS") if not m["ephemeral"]])
    for _ in range(10):
        assert world.run(world.post(*event(world, "U0STRANGER", "C0NEWS", "<@UBOT> hi", "app_mention"))) == 200
    posted = len([m for m in world.fake.messages_in("C0NEWS") if not m["ephemeral"]]) - before
    assert 1 <= posted <= 3, posted


def _eventually(world, check, what: str) -> None:
    """Let the work done after the ack (opening a form, a private word) run until `check` holds."""
    deadline = time.monotonic() + 10
    while not check():
        assert time.monotonic() < deadline, what
        world.run(asyncio.sleep(0.01))


@pytest.mark.parametrize("presser, why", [("U0STRANGER", "not in the team model"), ("U0CAROL", "resolve")])
def test_a_reason_button_opens_no_form_for_someone_who_may_not_run_its_command(world, presser, why):
    """The presser is checked before any form opens: a stranger or a member without the permission is told privately."""
    world.fake._seen_in(presser, world.room)
    payload = world.fake.action_payload(presser, world.room, "ov:0", "#1 resolve\nthe summary")
    room_before, told_before = len(world.fake.messages_in(world.room)), len(world.fake.responses)
    assert world.run(world.post(*signed_payload(world, payload))) == 200
    _eventually(world, lambda: len(world.fake.responses) > told_before, "the presser told why not")
    told = world.fake.responses[told_before:]
    assert len(told) == 1 and told[0]["response_type"] == "ephemeral" and why in told[0]["text"], told
    assert world.fake.views == []  # no form asked for words that could not be used
    assert [m for m in world.fake.messages_in(world.room)[room_before:] if not m["ephemeral"]] == []
    assert "phase *detected*" in status(world)


def test_a_reason_button_opens_its_form_for_the_commander(world):
    payload = world.fake.action_payload("U0ALICE", world.room, "ov:0", "#1 resolve\nthe summary")
    assert world.run(world.post(*signed_payload(world, payload))) == 200
    _eventually(world, lambda: world.fake.views, "the reason form opened")
    assert "phase *detected*" in status(world)  # nothing decided until the form comes back
