"""Attack on rendering (issue 15): Slack markup typed into every field that renders never reaches Slack as markup —
no channel-wide ping, no mention of someone the bot did not mean, no disguised link — in messages, blocks, the topic,
answers by response_url and the published text."""

import json
from dataclasses import replace

import pytest

from bot.slack import delivery as slack_delivery
from handlers.core.effects import Answer
from handlers.core.ports import Command, RoomRef, UserRef
from handlers.text.markup import Message
from tests.bot.test_delivery_faults import Workspace
from tests.fakes.slack_api import FakeSlack

EVIL = "<!channel> <!here|here> <@U0EVIL> <#C0SECRET|secret> <https://evil.example|click> *bold* `code` ~x~ &lt;!everyone&gt;"
QUIET = EVIL.replace(" <@U0EVIL>", "")  # an action names exactly one owner: a second mention in its text is refused
RAW = ("<!channel>", "<!here", "<@U0EVIL", "<#C0SECRET", "<https://evil", "<!everyone")


@pytest.fixture
async def slack(tmp_path, monkeypatch):
    monkeypatch.setattr(slack_delivery, "PACE", 0)
    async with FakeSlack() as fake:
        fake.add_channel("general", channel_id="C0GENERAL", members=["U0ALICE"])
        space = Workspace(fake, tmp_path)
        yield space
        space.bot.engine.dispose()


def everything_sent(fake: FakeSlack) -> str:
    """Every parameter of every Web API call and every response_url body, as one string — except the text elements of
    rich text blocks, which Slack shows exactly as written (a mention there is its own element type, never parsed)."""
    return json.dumps([parsed(params) for _name, params in fake.calls] + [parsed(body) for body in fake.responses], ensure_ascii=False)


def parsed(value):
    """What Slack parses for markup: everything but rich text's literal text elements."""
    if isinstance(value, dict):
        if value.get("type") == "text" and set(value) <= {"type", "text", "style"}:
            return {"type": "text", "text": "(literal)"}
        return {key: parsed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [parsed(item) for item in value]
    if isinstance(value, str) and value.startswith(("[", "{")):
        try:
            return parsed(json.loads(value))  # blocks sent as a JSON string
        except ValueError:
            return value
    return value


async def test_markup_typed_into_any_field_reaches_slack_inert(slack):
    slack.say("U0ALICE", f"declare product-quality sev2 {EVIL}")
    await slack.bot.deliver()
    room = next(c["id"] for c in slack.fake.channels.values() if c["name"].startswith("crisis-"))
    lines = [
        ("U0ALICE", f"task {EVIL} @carol in 30m"),
        ("U0ALICE", f"update {EVIL}"),
        ("U0ALICE", f"note {EVIL}"),
        ("U0ALICE", f"draft {EVIL}"),
        ("U0ALICE", f"vet {EVIL}"),
        ("U0ALICE", f"action {QUIET} @bob due in 3d"),
        ("U0ALICE", f"lesson + {EVIL}"),
        ("U0ALICE", "history"),
        ("U0ALICE", "tasks all"),
        ("U0ALICE", "actions"),
        ("U0ALICE", "status"),
        ("U0ALICE", f"resolve {EVIL}"),
        ("U0ALICE", "review"),
    ]
    for n, (user, line) in enumerate(lines):
        url = slack.fake.response_url(channel=room, user=user)
        command = Command(UserRef("slack", user), line, RoomRef("slack", room), event_id=f"slack:markup:{n}")
        route = Answer(Message(), to=user, channel=room, response_url=url)  # the Slack front's route; the reply fills it
        reply = slack.bot.handle(command, lambda reply, route=route: replace(route, message=reply.message, private=reply.private))
        assert reply.ok, (line, reply.message.plain()[-300:])
        await slack.bot.deliver()
    sent = everything_sent(slack.fake)
    assert sent.count("evil.example") >= 10  # the text did arrive, in many places …
    assert not [token for token in RAW if token in sent]  # … and never as markup
    topic = slack.fake.channels[room]["topic"]
    assert "&lt;!channel&gt;" in topic and "<" not in topic
