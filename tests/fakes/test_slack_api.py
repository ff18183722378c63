"""The fake Slack, driven by the real slack-sdk / slack-bolt clients over loopback HTTP and websockets."""

import asyncio
import json
import time
from urllib.parse import parse_qsl

import aiohttp
import pytest
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler, AsyncServerErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes.slack_api import FakeSlack, unescape

BUTTON = {
    "type": "actions",
    "block_id": "approval",
    "elements": [{"type": "button", "action_id": "approve", "value": "st-1", "text": {"type": "plain_text", "text": "Approve"}}],
}
MODAL = {
    "type": "modal",
    "callback_id": "declare",
    "title": {"type": "plain_text", "text": "Declare"},
    "submit": {"type": "plain_text", "text": "Go"},
    "blocks": [],
}


@pytest.fixture
async def fake():
    slack = FakeSlack()
    await slack.start()
    yield slack
    await slack.stop()


@pytest.fixture
def client(fake):
    return AsyncWebClient(token="xoxb-test", base_url=fake.api_url)


async def error_of(call) -> SlackApiError:
    with pytest.raises(SlackApiError) as caught:
        await call
    return caught.value


async def test_a_room_is_created_once_and_its_name_is_then_taken(fake, client):
    created = await client.conversations_create(name="crisis-20240501-recall", is_private=True)
    channel = fake.channel_named("crisis-20240501-recall")
    assert created["channel"]["id"] == channel["id"] and channel["is_private"] and channel["created_by_bot"]
    assert (await error_of(client.conversations_create(name="crisis-20240501-recall"))).response["error"] == "name_taken"
    for bad, error in [("Crisis", "invalid_name_specials"), ("a" * 81, "invalid_name_maxlength"), ("", "invalid_name_required")]:
        assert (await error_of(client.conversations_create(name=bad))).response["error"] == error
    listed = await client.conversations_list(types="public_channel,private_channel")
    assert [c["name"] for c in listed["channels"]] == ["crisis-20240501-recall"] and len(fake.channels) == 1


async def test_topic_and_invites_like_slack(fake, client):
    cid = (await client.conversations_create(name="drill-x"))["channel"]["id"]
    await client.conversations_setTopic(channel=cid, topic="sev1 · <recall>")
    await client.conversations_invite(channel=cid, users="U1,U2")
    await client.conversations_invite(channel=cid, users=["U2", "U3"])  # one is new: fine
    assert (await error_of(client.conversations_invite(channel=cid, users="U1,U3"))).response["error"] == "already_in_channel"
    assert fake.channels[cid]["members"] == {fake.bot_user_id, "U1", "U2", "U3"} and fake.channels[cid]["topic"] == "sev1 · <recall>"
    assert (await client.conversations_info(channel=cid))["channel"]["topic"]["value"] == "sev1 · <recall>"


async def test_post_update_pin_and_direct_messages(fake, client):
    cid = (await client.conversations_create(name="crisis-a"))["channel"]["id"]
    first = await client.chat_postMessage(channel=cid, text="A &amp; B &lt;ok&gt;", blocks=[BUTTON])
    second = await client.chat_postMessage(channel="#crisis-a", text="two", thread_ts=first["ts"])
    assert first["ts"] < second["ts"] and second["channel"] == cid
    assert fake.messages_in(cid)[0]["text"] == "A &amp; B &lt;ok&gt;" and unescape(fake.messages[0]["text"]) == "A & B <ok>"
    assert fake.messages[1]["thread_ts"] == first["ts"] and fake.messages[0]["blocks"] == [BUTTON]
    assert fake.calls[-1] == ("chat.postMessage", {"channel": "#crisis-a", "text": "two", "thread_ts": first["ts"]})
    await client.chat_update(channel=cid, ts=first["ts"], text="edited")
    assert fake.updates == [{"channel": cid, "ts": first["ts"], "text": "edited", "blocks": None}]
    assert fake.current(cid, first["ts"])["text"] == "edited" and fake.current(cid, first["ts"])["blocks"] == [BUTTON]
    assert (await error_of(client.chat_update(channel=cid, ts="1.000001", text="x"))).response["error"] == "message_not_found"
    await client.pins_add(channel=cid, timestamp=first["ts"])
    assert (await error_of(client.pins_add(channel=cid, timestamp=first["ts"]))).response["error"] == "already_pinned"
    assert fake.channels[cid]["pins"] == [first["ts"]]
    dm = await client.chat_postMessage(channel="U7", text="you are the spokesperson")
    assert dm["channel"].startswith("D") and fake.messages_in("U7")[0]["text"] == "you are the spokesperson"
    assert (await error_of(client.chat_postMessage(channel="C404", text="x"))).response["error"] == "channel_not_found"
    assert (await error_of(client.chat_postEphemeral(channel=cid, user="U9", text="x"))).response["error"] == "user_not_in_channel"


async def test_429_surfaces_with_retry_after_and_changes_nothing(fake, client):
    cid = (await client.conversations_create(name="crisis-b"))["channel"]["id"]
    fake.fail_next("chat.postMessage", 429, retry_after=7)
    error = await error_of(client.chat_postMessage(channel=cid, text="hi"))
    assert error.response.status_code == 429 and error.response.headers["Retry-After"] == "7" and error.response["error"] == "ratelimited"
    fake.fail_next(None, 500)
    assert (await error_of(client.chat_postMessage(channel=cid, text="hi"))).response.status_code == 500
    assert fake.messages == [] and [m for m, _ in fake.calls] == ["conversations.create", "chat.postMessage", "chat.postMessage"]
    await client.chat_postMessage(channel=cid, text="hi")
    assert len(fake.messages) == 1


async def test_slack_sdk_retry_handlers_recover_and_post_once(fake):
    fake.add_channel("news", members={"UBOT0001"})
    handlers = [AsyncRateLimitErrorRetryHandler(max_retry_count=2), AsyncServerErrorRetryHandler(max_retry_count=2)]
    client = AsyncWebClient(token="xoxb-test", base_url=fake.api_url, retry_handlers=handlers)
    fake.fail_next("chat.postMessage", 429, retry_after=0)
    fake.fail_next("chat.postMessage", 500)
    await client.chat_postMessage(channel="#news", text="holding statement")
    assert [m["text"] for m in fake.messages] == ["holding statement"] and len(fake.calls) == 3


async def statuses(seed: int, n: int = 40) -> list[int]:
    async with FakeSlack() as slack:
        slack.seed, slack.fail_ratio = seed, 0.3
        client, seen = AsyncWebClient(token="xoxb-test", base_url=slack.api_url), []
        for _ in range(n):
            try:
                seen.append((await client.auth_test()).status_code)
            except SlackApiError as error:
                seen.append(error.response.status_code)
        assert len(slack.calls) == n
        return seen


async def test_fail_ratio_is_deterministic_for_a_seed():
    first, again, other = await statuses(7), await statuses(7), await statuses(8)
    assert first == again and first != other
    faults = [s for s in first if s != 200]
    assert 5 <= len(faults) <= 20 and faults[::2] == [429] * len(faults[::2]) and faults[1::2] == [500] * len(faults[1::2])


async def test_auth_and_unknown_methods(fake):
    wrong = AsyncWebClient(token="xoxb-wrong", base_url=fake.api_url)
    assert (await error_of(wrong.auth_test())).response["error"] == "invalid_auth"
    right = AsyncWebClient(token="xoxb-test", base_url=fake.api_url)
    assert (await error_of(right.api_call("nothing.here"))).response["error"] == "unknown_method"
    assert (await right.auth_test())["user_id"] == fake.bot_user_id


async def test_signed_requests_verify_and_carry_slacks_fields(fake):
    verifier = SignatureVerifier("test-secret")
    body, headers = fake.slash_command("U1", "declare sev1 recall & <b>", "C0ROOM")
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert verifier.is_valid(body, headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"])
    fields = dict(parse_qsl(body.decode()))
    assert fields["text"] == "declare sev1 recall & <b>" and fields["command"] == "/crisis" and fields["trigger_id"] in fake.triggers
    assert fields["response_url"].startswith(fake.base_url) and fields["team_id"] == "T0TEST" and fields["channel_name"] == "c0room"
    stale = fake.sign(body, timestamp=int(time.time()) - 301)
    assert not verifier.is_valid(body, stale["X-Slack-Request-Timestamp"], stale["X-Slack-Signature"])
    assert not verifier.is_valid(body + b"x", headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"])


async def test_bolt_routes_the_fakes_payloads(fake, client):
    fake.add_channel("room", members={"UBOT0001", "U1"}, channel_id="C0ROOM")
    posted = await client.chat_postMessage(channel="C0ROOM", text="approve?", blocks=[BUTTON])
    app, seen = AsyncApp(client=client, signing_secret="test-secret"), []

    @app.action("approve")
    async def approve(ack, body):
        await ack()
        seen.append(body)

    @app.view("declare")
    async def declare(ack, view):
        await ack()
        seen.append(view)

    body, headers = fake.block_action("U1", "C0ROOM", "approve", "st-1")
    assert (await app.async_dispatch(AsyncBoltRequest(body=body.decode(), headers=headers))).status == 200
    assert seen[0]["message"]["ts"] == posted["ts"] and seen[0]["actions"][0]["block_id"] == "approval"
    values = {"title": {"t": "Recall"}, "sev": {"s": {"selected": "sev1"}}}
    body, headers = fake.view_submission("U1", "declare", '{"i": 1}', values)
    assert (await app.async_dispatch(AsyncBoltRequest(body=body.decode(), headers=headers))).status == 200
    assert seen[1]["state"]["values"]["sev"]["s"]["selected_option"]["value"] == "sev1" and seen[1]["private_metadata"] == '{"i": 1}'
    assert seen[1]["state"]["values"]["title"]["t"] == {"type": "plain_text_input", "value": "Recall"}
    body, headers = fake.slash_command("U1", "status", "C0ROOM")
    headers = fake.sign(body, timestamp=int(time.time()) - 600)
    assert (await app.async_dispatch(AsyncBoltRequest(body=body.decode(), headers=headers))).status == 401


async def test_views_need_a_fresh_trigger(fake, client):
    trigger = dict(parse_qsl(fake.slash_command("U1", "declare", "C1")[0].decode()))["trigger_id"]
    opened = await client.views_open(trigger_id=trigger, view=MODAL)
    assert opened["view"]["id"].startswith("V") and fake.views == [{"trigger_id": trigger, "view": MODAL}]
    assert (await error_of(client.views_open(trigger_id=trigger, view=MODAL))).response["error"] == "exchanged_trigger_id"
    assert (await error_of(client.views_open(trigger_id="made-up", view=MODAL))).response["error"] == "invalid_trigger_id"
    long_title = {**MODAL, "title": {"type": "plain_text", "text": "x" * 25}}
    error = await error_of(client.views_open(trigger_id=fake.register_trigger(), view=long_title))
    assert error.response["error"] == "invalid_arguments" and "title" in error.response["response_metadata"]["messages"][0]


async def test_response_url_records_the_json(fake):
    url = fake.response_url("cmd1")
    fake.fail_next("response_url", 500)
    async with aiohttp.ClientSession() as session:
        assert (await session.post(url, json={"text": "no"})).status == 500
        assert (await session.post(url, json={"text": "ok", "response_type": "ephemeral"})).status == 200
    assert fake.responses == [{"text": "ok", "response_type": "ephemeral"}] and [s for _, _, s in fake.response_log] == [500, 200]


async def test_socket_mode_handshake_and_ack(fake):
    opened = await AsyncWebClient(token="xapp-1-test", base_url=fake.api_url).apps_connections_open(app_token="xapp-1-test")
    assert opened["url"] == fake.api_url.replace("http://", "ws://").replace("/api/", "/socket")
    async with aiohttp.ClientSession() as session, session.ws_connect(opened["url"]) as ws:
        assert (await ws.receive_json())["type"] == "hello" and fake.socket_connected.is_set()
        sending = asyncio.create_task(fake.socket_send({"envelope_id": "e1", "type": "slash_commands", "payload": {"text": "status"}}))
        envelope = await ws.receive_json()
        assert envelope["payload"] == {"text": "status"}
        await ws.send_str(json.dumps({"envelope_id": envelope["envelope_id"]}))
        assert await sending == {"envelope_id": "e1"}


async def test_bolt_socket_mode_against_the_fake(fake, client):
    app = AsyncApp(client=client)

    @app.command("/crisis")
    async def crisis(ack, command, client):
        await ack(f"on it: {command['text']}")
        await client.chat_postMessage(channel=command["user_id"], text="done")

    handler = AsyncSocketModeHandler(app, app_token="xapp-1-test")
    await handler.connect_async()
    try:
        fields = fake.command_fields("U1", "status", "C1")
        ack = await fake.socket_send({"type": "slash_commands", "payload": fields, "accepts_response_payload": True})
        assert ack["payload"]["text"] == "on it: status"
        for _ in range(100):
            if fake.messages_in("U1"):
                break
            await asyncio.sleep(0.02)
        assert [m["text"] for m in fake.messages_in("U1")] == ["done"]
    finally:
        await handler.close_async()


async def test_payloads_follow_what_the_bot_posted_and_opened(fake, client):
    await client.chat_postMessage(channel="U5", text="your duty", blocks=[BUTTON])
    action = json.loads(dict(parse_qsl(fake.block_action("U5", "U5", "approve", "st-1")[0].decode()))["payload"])
    assert action["channel"]["id"] == fake.im_of("U5") and action["actions"][0]["text"]["text"] == "Approve"
    select = {"type": "static_select", "action_id": "s", "options": [{"text": {"type": "plain_text", "text": "Sev 1"}, "value": "sev1"}]}
    modal = {
        **MODAL,
        "blocks": [{"type": "input", "block_id": "sev", "label": {"type": "plain_text", "text": "Severity"}, "element": select}],
    }
    await client.views_open(trigger_id=fake.register_trigger(), view=modal)
    submitted = fake.submission_payload("U5", "declare", "", {"sev": {"s": "sev1"}})
    assert submitted["view"]["state"]["values"]["sev"]["s"]["selected_option"]["value"] == "sev1"
    assert submitted["view"]["blocks"] == modal["blocks"] and submitted["view"]["id"].startswith("V")
