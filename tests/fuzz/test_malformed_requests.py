"""What the fuzzers found at the HTTP edge, kept as plain regression tests."""

import json

import pytest

from bot.slack.front import DECLARE_VIEW, PROMPT_VIEW
from bot.telegram.render import PROMPT_MARK
from tests.fuzz.test_slack_http import SlackWorld, broken, click
from tests.fuzz.test_telegram_http import GROUP, TelegramWorld


@pytest.fixture
def world(tmp_path):
    world = SlackWorld(tmp_path)
    yield world
    world.close()


@pytest.mark.parametrize(
    ("body", "how"),
    [
        (b"\x80", "unsigned"),
        (b"\x80", "signed"),
        (b"{", "unsigned"),
        (b"payload=%7B", "signed"),
        (b"payload=%5B%5D", "signed"),
        (b"x", "json-type"),
    ],
    ids=["not-utf8", "not-utf8-signed", "broken-json", "broken-payload", "payload-not-an-object", "json-type-not-json"],
)
def test_a_garbled_request_to_slack_events_is_refused_with_a_4xx_not_a_server_error(world, body, how):
    try:
        status = world.run(world.post(*broken(world, body, how)))
    except Exception as error:  # noqa: BLE001  (the in-process transport raises what the server would answer 500 for)
        pytest.fail(f"500: {error!r}")
    assert status == (401 if how == "unsigned" else 400)  # a stranger learns nothing of the body; Slack itself hears why


@pytest.mark.parametrize("metadata", ["not json", "[]", '{"channel": 5}', ""])
@pytest.mark.parametrize("callback", [PROMPT_VIEW, DECLARE_VIEW])
def test_a_form_whose_hidden_fields_are_garbled_is_ignored_without_an_error(world, error_log, callback, metadata):
    body, headers = world.fake.view_submission("U0ALICE", callback, metadata, {"answer": {"text": "because"}})
    assert world.run(world.post(body, headers)) == 200
    assert not error_log.take()


@pytest.fixture
def telegram(tmp_path):
    world = TelegramWorld(tmp_path)
    yield world
    world.close()


@pytest.mark.parametrize("body", [b"[]", b"null", b'{"update_id": 1, "message": "x"}', b'{"update_id": 1, "callback_query": 3}'])
def test_a_webhook_update_that_is_not_an_update_object_is_refused_with_a_400_not_a_server_error(telegram, body):
    try:
        status = telegram.run(telegram.post(body))
    except Exception as error:  # noqa: BLE001  (the in-process transport raises what the server would answer 500 for)
        pytest.fail(f"500: {error!r}")
    assert status == 400


def test_a_reason_button_pressed_on_a_message_deleted_meanwhile_still_asks_for_the_reason(telegram, error_log):
    for user, command in [(100001, "/crisis declare product-quality sev2 Battery overheating"), (100003, "/crisis #1 draft Sorry.")]:
        telegram.run(telegram.post(json.dumps(telegram.fake.command_update(user, command)).encode()))
    update = telegram.fake.callback_update(100002, "?#1 reject v1", chat_id=GROUP, message_id=424242)
    assert telegram.run(telegram.post(json.dumps(update).encode())) == 200
    asked = [m for m in telegram.fake.messages if m["chat_id"] == GROUP and (m.get("plain") or "").startswith(PROMPT_MARK)]
    assert len(asked) == 1 and asked[0]["reply_to_message_id"] is None and not error_log.take()


def test_a_reason_button_longer_than_slack_allows_is_ignored_without_an_error(world, error_log):
    body, headers = click(world, "U0ALICE", "C0GENERAL", "ov:0", "?#1 reject v1 " + "a" * 3000)
    assert world.run(world.post(body, headers)) == 200
    assert not error_log.take()  # not one of our buttons: no form is opened for it, and nothing fails
    assert not world.fake.views


@pytest.mark.parametrize("stamp", ["abc", "", "²", "9" * 5000, "-1", " 1700000000"])
def test_a_slack_timestamp_that_is_not_a_number_is_refused_as_unsigned_not_a_server_error(world, error_log, stamp):
    body, headers = world.fake.slash_command("U0ALICE", "declare outage sev2 Checkout down", "C0GENERAL")
    try:
        status = world.run(world.post(body, {**headers, "X-Slack-Request-Timestamp": stamp.encode("latin-1")}))
    except Exception as error:  # noqa: BLE001  (the in-process transport raises what the server would answer 500 for)
        pytest.fail(f"500: {error!r}")
    assert status == 401 and not world.fake.messages and not error_log.take()
