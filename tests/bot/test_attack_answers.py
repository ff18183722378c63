"""Attacks on a command's answer (issue 14): a response_url that is not Slack's is never POSTed to, and an answer that
cannot be delivered is given up once, told without its private words, and never announced again."""

from datetime import timedelta

import pytest

from bot.outbox.adapter import RetryLater, resuming
from bot.slack import delivery as slack_delivery
from bot.slack.delivery import is_response_url
from config.model import RoomHandles
from handlers.core.effects import Answer
from handlers.core.ports import Command, RoomRef, UserRef
from handlers.text.markup import lines, text
from tests.bot.test_delivery_faults import CONFIG, Workspace
from tests.fakes.slack_api import FakeSlack

LATER = timedelta(hours=2)


@pytest.fixture
async def slack(tmp_path, monkeypatch):
    monkeypatch.setattr(slack_delivery, "PACE", 0)
    async with FakeSlack() as fake, FakeSlack() as elsewhere:
        fake.add_channel("general", channel_id="C0GENERAL")
        space = Workspace(fake, tmp_path)
        yield space, elsewhere
        space.bot.engine.dispose()


def ask(space: Workspace, user: str, line: str, channel: str, url: str):
    """A command decided the way the Slack front decides it: its answer routed to the request's response_url."""
    command = Command(UserRef("slack", user), line, RoomRef("slack", channel), event_id=f"slack:{url}")
    return space.bot.handle(command, lambda reply: Answer(reply.message, to=user, private=reply.private, channel=channel, response_url=url))


async def test_an_answer_is_never_posted_to_a_response_url_outside_slack(slack):
    space, elsewhere = slack
    await space.declare()
    before = len(space.fake.messages_in("U0ALICE"))
    for url in (
        elsewhere.response_url(channel="C0GENERAL", user="U0ALICE"),  # another host and port on the same machine
        "http://169.254.169.254/latest/meta-data/",  # a cloud metadata address
        "https://hooks.slack.com.evil.example/x",
        "https://user@hooks.slack.com@evil.example/x",
    ):
        ask(space, "U0ALICE", "#1 status", "C0GENERAL", url)
        await space.bot.deliver()
    assert elsewhere.response_log == [] and space.fake.responses == []
    told = [m["text"] for m in space.fake.messages_in("U0ALICE")[before:]]
    assert len(told) == 4 and all("Battery overheating" in t for t in told)  # each answer still reached Alice, by the bot


def test_only_slacks_own_response_urls_are_used():
    api = "https://slack.com/api/"
    assert is_response_url("https://hooks.slack.com/actions/T1/2/abc", api)
    assert is_response_url("https://hooks.slack-gov.com/commands/T1/2/abc", "https://slack-gov.com/api/")
    assert is_response_url("http://127.0.0.1:9000/response/r1", "http://127.0.0.1:9000/api/")
    for url in (
        "http://hooks.slack.com/actions/T1/2/abc",
        "https://hooks.slack.com.evil.example/a",
        "https://evil.example/?hooks.slack.com",
        "https://slack.com.evil.example/api/",
        "http://127.0.0.1:9001/response/r1",
        "https://[::1/x",
        "",
    ):
        assert not is_response_url(url, api if "9001" not in url else "http://127.0.0.1:9000/api/"), url


@pytest.fixture
async def triaged(tmp_path, monkeypatch):
    """A workspace whose triage room is C0TRIAGE (the bot is a member there)."""
    monkeypatch.setattr(slack_delivery, "PACE", 0)
    async with FakeSlack() as fake:
        fake.add_channel("general", channel_id="C0GENERAL")
        fake.add_channel("triage", channel_id="C0TRIAGE", members=[fake.bot_user_id])
        config = CONFIG.model_copy(update={"triage_room": RoomHandles(slack="C0TRIAGE")})
        space = Workspace(fake, tmp_path, config=config)
        yield space
        space.bot.engine.dispose()


async def test_an_answer_that_cannot_be_delivered_is_told_once_without_its_private_words(triaged):
    await triaged.declare()
    fake = triaged.fake
    url = fake.response_url(channel="C0GENERAL", user="U0ALICE")
    fake.fail_next("response_url", 400, times=100)  # the response_url refused (expired) …
    fake.fail_next("chat.postMessage", 400, times=2)  # … and the bot's own posts (in the channel, by DM) refused too
    ask(triaged, "U0ALICE", "#1 status", "C0GENERAL", url)
    await triaged.bot.deliver()
    for _pass in range(3):
        triaged.clock.advance(LATER)
        await triaged.bot.deliver()
    notices = [m["text"] for m in fake.messages_in("C0TRIAGE") if "Could not deliver" in (m["text"] or "")]
    assert len(notices) == 1, notices
    # A private answer is the asker's: the room hears that an answer to Alice did not go out, not what it said.
    assert "an answer to a command to U0ALICE" in notices[0]
    assert "Battery overheating" not in notices[0] and "Incident commander" not in notices[0]


async def test_a_long_answer_cut_off_by_a_server_error_resumes_without_repeating_a_piece(triaged, monkeypatch):
    """A 120-line answer goes by response_url in three pieces; the second fails twice (the in-place retry too)."""
    fake = triaged.fake
    url = fake.response_url(channel="C0GENERAL", user="U0ALICE")
    adapter = triaged.bot.deliverers["slack"].adapter
    message = lines(*(text(f"line {n} " + "x" * 2990) for n in range(120)))  # one section per line: 120 blocks
    answer = Answer(message, to="U0ALICE", channel="C0GENERAL", response_url=url, private=True)
    real_send, pieces = slack_delivery.AsyncWebhookClient.send_dict, []

    async def second_piece_fails(self, body, headers=None):
        pieces.append(body["blocks"][0])
        if len(pieces) == 2:
            fake.fail_next("response_url", 500, times=2)  # the second piece, and the client's own retry of it
        return await real_send(self, body, headers)

    monkeypatch.setattr(slack_delivery.AsyncWebhookClient, "send_dict", second_piece_fails)
    with pytest.raises(RetryLater) as cut:
        await adapter.answer(answer)
    with resuming(cut.value.progress):  # what the worker does on the next attempt: the row keeps the progress
        await adapter.answer(answer)
    shown = [m["blocks"][0]["text"]["text"][:8] for m in fake.messages_in("C0GENERAL") if m.get("via") == "response_url"]
    assert shown == ["line 0 x", "line 50 ", "line 100"]  # each piece once, in order
