"""The Slack adapter against the fake Slack: a command's answer by its response_url (in pieces when long, by the bot when
the URL is used up), and the channel found again after `name_taken` on any page of the workspace's channels."""

import aiohttp
import pytest

from bot.outbox.adapter import RetryLater
from bot.slack.delivery import SlackAdapter, web_client
from handlers.core.effects import Answer, OpenRoom
from handlers.text.markup import lines, text
from storage.models import Room
from tests.fakes.slack_api import FakeSlack


@pytest.fixture
async def fake():
    async with FakeSlack() as slack:
        yield slack


@pytest.fixture
def adapter(fake):
    return SlackAdapter(web_client(fake.token, fake.api_url))


async def test_an_answer_goes_by_response_url_to_a_channel_the_bot_is_not_in(fake, adapter):
    lobby = fake.add_channel("lobby", members=["U0ALICE"])["id"]
    url = fake.response_url(channel=lobby, user="U0ALICE")
    await adapter.answer(Answer(text("Added item 3."), to="U0ALICE", channel=lobby, response_url=url, private=True))
    await adapter.answer(Answer(text("Declared #1."), to="U0ALICE", channel=lobby, response_url=url, private=False))
    shown = [(m["text"], m["ephemeral"], m["user"]) for m in fake.messages_in(lobby)]
    assert shown == [("Added item 3.", True, "U0ALICE"), ("Declared #1.", False, None)]
    assert fake.responses[0]["replace_original"] is False  # a new message, never over the message whose button was clicked


async def test_a_used_up_response_url_is_answered_by_direct_message_and_a_server_error_is_retried_later(fake, adapter):
    lobby = fake.add_channel("lobby", members=["U0ALICE"])["id"]
    url = fake.response_url(channel=lobby, user="U0ALICE")
    async with aiohttp.ClientSession() as http:
        for _ in range(5):  # Slack takes five posts to one response_url
            await http.post(url, json={"text": "earlier"})
    await adapter.answer(Answer(text("Snoozed."), to="U0ALICE", channel=lobby, response_url=url, private=True))
    assert [m["text"] for m in fake.messages_in("U0ALICE")] == ["Snoozed."]

    fake.fail_next("response_url", 500, times=2)  # the client's own retry fails too
    with pytest.raises(RetryLater):
        await adapter.answer(Answer(text("x"), to="U0ALICE", channel=lobby, response_url=fake.response_url(), private=True))


async def test_an_answer_longer_than_one_message_arrives_in_pieces(fake, adapter):
    lobby = fake.add_channel("lobby", members=["U0ALICE"])["id"]
    url = fake.response_url(channel=lobby, user="U0ALICE")
    long = lines(*(text(f"line {n} " + "x" * 2990) for n in range(120)))  # one section per line: 120 blocks
    result = await adapter.answer(Answer(long, to="U0ALICE", channel=lobby, response_url=url, private=True))
    pieces = fake.messages_in(lobby)
    assert result["pieces"] == len(pieces) == 3 and [len(m["blocks"]) for m in pieces] == [50, 50, 20]
    assert "line 0 " in pieces[0]["text"] and "line 119 " in pieces[2]["text"]


async def test_a_channel_created_before_a_crash_is_found_on_any_page_of_channels(fake, adapter):
    for n in range(2500):
        fake.add_channel(f"other-{n:04d}", members=[fake.bot_user_id])
    ours = fake.add_channel("crisis-20260302-checkout-down", members=[fake.bot_user_id], created_by_bot=True)
    ours["topic"] = "#1 Checkout down"
    room = Room(incident_id=1, platform="slack", name="crisis-20260302-checkout-down")
    result = await adapter.open_room(room, OpenRoom(room.name, "#1 Checkout down", private=False, drill=False), text("card"))
    assert result["external_id"] == ours["id"]  # on the third page (channels 2,001…): no second channel for the incident
    assert len([c for c in fake.channels.values() if c["name"].startswith("crisis-")]) == 1
    cursors = [params.get("cursor") for name, params in fake.calls if name == "conversations.list"]
    assert cursors == [None, "1000", "2000"]
