"""Fuzzing `POST /slack/events` of the real app in this process (Bolt, our listeners, delivery to a fake Slack on
loopback): slash commands, button clicks, form submissions and events with fuzzed fields, malformed bodies, wrong
content types and bad signatures. Every request is acknowledged (2xx) or refused (4xx), never a 5xx; nothing is
logged as an error; the database invariants hold."""

import asyncio
import json
import time
from urllib.parse import urlencode

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.app import OneVoice
from bot.http import build_app
from bot.slack import delivery as slack_delivery
from bot.slack.delivery import SlackAdapter, web_client
from bot.slack.front import DECLARE_VIEW, PROMPT_VIEW, SlackFront
from config.settings import Settings
from storage.db import session
from tests.conftest import seeded
from tests.fakes.slack_api import FakeSlack
from tests.fuzz import invariants
from tests.fuzz.conftest import examples
from tests.fuzz.grammar import command_texts
from tests.templates import copy_of_starter

SECRET = "fuzz-signing-secret"
CONFIG = copy_of_starter()
USERS = ["U0ALICE", "U0ALICE", "U0BOB", "U0CAROL", "U0DAVE", "U0ERIN", "U0STRANGER", "W0GUEST"]


class Counting:
    """Wraps Bolt's listener start or completion handler to count listener runs, so a test can wait for them."""

    def __init__(self, inner, counts: dict, key: str, changed: asyncio.Event):
        self.inner, self.counts, self.key, self.changed = inner, counts, key, changed

    async def handle(self, request, response) -> None:
        self.counts[self.key] += 1
        self.changed.set()
        await self.inner.handle(request=request, response=response)


class SlackWorld:
    """OneVoice's HTTP app with Slack attached, in a private event loop, with the fake Slack it delivers to."""

    def __init__(self, folder):
        self.loop = asyncio.new_event_loop()
        self.fake = FakeSlack(signing_secret=SECRET)
        self.run(self.fake.start())
        self.fake.add_channel("general", channel_id="C0GENERAL")
        self.fake.add_channel("newsroom", channel_id="C0NEWS", members=[self.fake.bot_user_id])
        self.bot = OneVoice(
            Settings(ONEVOICE_DATABASE_URL=seeded(f"sqlite:///{folder / 'slack.db'}"), SLACK_SIGNING_SECRET=SECRET), config=CONFIG
        )
        self.writes = invariants.Writes(self.bot.engine)
        client = web_client(self.fake.token, self.fake.api_url)
        self.bot.attach(SlackAdapter(client, False))
        front = SlackFront(self.bot, client, SECRET)
        self.counts, self.changed = {"started": 0, "completed": 0}, asyncio.Event()
        runner = front.app.listener_runner
        runner.listener_start_handler = Counting(runner.listener_start_handler, self.counts, "started", self.changed)
        runner.listener_completion_handler = Counting(runner.listener_completion_handler, self.counts, "completed", self.changed)
        app = build_app(self.bot, slack_app=front.app)
        self.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://onevoice.test")

    def run(self, coroutine):
        return self.loop.run_until_complete(coroutine)

    async def post(self, body: bytes, headers: dict) -> int:
        """POST to /slack/events; wait until the listeners it started have finished and their effects are delivered."""
        response = await self.http.post("/slack/events", content=body, headers=headers)
        for _ in range(5):
            await asyncio.sleep(0)  # an event's listener starts after the ack
        try:
            await asyncio.wait_for(self.settled(), 20)
        except TimeoutError:
            raise AssertionError("a listener never finished") from None
        await self.bot.deliver()
        return response.status_code

    async def settled(self) -> None:
        """Until every listener started has completed (woken by each count, not polled)."""
        while self.counts["started"] != self.counts["completed"]:
            self.changed.clear()
            await self.changed.wait()

    def close(self) -> None:
        self.run(self.http.aclose())
        self.run(self.fake.stop())
        self.bot.engine.dispose()
        self.loop.close()


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    pace = slack_delivery.PACE
    slack_delivery.PACE = 0  # Slack's 1 message/s per channel would make the run last hours; pacing has its own tests
    world = SlackWorld(tmp_path_factory.mktemp("slack-fuzz"))
    world.run(world.post(*world.fake.slash_command("U0ALICE", "declare product-quality sev2 Battery overheating", "C0GENERAL")))
    yield world
    world.close()
    slack_delivery.PACE = pace


def channels(world: SlackWorld) -> list[str]:
    return ["C0GENERAL", "C0NEWS", *[c["id"] for c in world.fake.channels.values() if c["name"].startswith("crisis-")][-3:]]


def signed(world: SlackWorld, fields: dict) -> tuple[bytes, dict]:
    body = urlencode(fields).encode()
    return body, world.fake.sign(body)


def slash(world, user, channel, text, trigger):
    fields = world.fake.command_fields(user, text, channel, trigger_id=trigger)
    return signed(world, fields)


def click(world, user, channel, action_id, value):
    payload = world.fake.action_payload(user, channel, action_id, value)
    return world.fake._form_payload(payload)


def submit(world, user, channel, callback, metadata, typed, playbook, severity):
    world.fake._seen_in(user, channel)  # the form was opened from a channel the user is in
    if metadata is None:
        metadata = json.dumps({"command": "#1 reject v1", "channel": channel} if callback == PROMPT_VIEW else {"channel": channel})
    values = {"answer": {"text": typed}} if callback == PROMPT_VIEW else {}
    if callback == DECLARE_VIEW:
        values = {"playbook": {"playbook": {"selected": playbook}}, "severity": {"severity": {"selected": severity}}}
        values["title"] = {"title": typed}
    return world.fake.view_submission(user, callback, metadata, values)


def event(world, user, channel, text, kind):
    body = json.dumps(
        {
            "token": world.fake.verification_token,
            "team_id": world.fake.team_id,
            "api_app_id": world.fake.app_id,
            "type": "event_callback",
            "event_id": f"Ev{time.monotonic_ns()}",
            "event_time": int(time.time()),
            "event": {"type": kind, "user": user, "channel": channel, "text": text, "ts": f"{time.time():.6f}"},
        }
    ).encode()
    return body, {**world.fake.sign(body), "Content-Type": "application/json"}


def broken(world, body, how):
    """A request with a body and headers that are wrong in one way."""
    if how == "unsigned":
        return body, {"Content-Type": "application/x-www-form-urlencoded"}
    if how == "stale":
        return body, world.fake.sign(body, timestamp=int(time.time()) - 600)
    if how == "wrong-signature":
        return body, {**world.fake.sign(body), "X-Slack-Signature": "v0=" + "0" * 64}
    if how == "json-type":
        return body, {**world.fake.sign(body), "Content-Type": "application/json"}
    if how == "text-type":
        return body, {**world.fake.sign(body), "Content-Type": "text/plain"}
    return body, world.fake.sign(body)  # signed, whatever the body is


TEXT = command_texts(CONFIG)
CHANNEL = st.integers(0, 4)
REQUEST = st.one_of(
    st.tuples(st.just("slash"), st.sampled_from(USERS), CHANNEL, TEXT, st.sampled_from([None, None, "trigger-1"])),
    st.tuples(
        st.just("click"),
        st.sampled_from(USERS),
        CHANNEL,
        st.sampled_from(["ov:0", "ov:1", "ov:24", "ov:", "ov:x", "other"]),
        st.one_of(TEXT, TEXT.map(lambda t: f"{t}\nreason")),
    ),
    st.tuples(
        st.just("submit"),
        st.sampled_from(USERS),
        CHANNEL,
        st.sampled_from([PROMPT_VIEW, PROMPT_VIEW, DECLARE_VIEW, "ov_unknown"]),
        st.one_of(st.none(), st.none(), st.text(max_size=30), st.just("[]"), st.just('{"channel": 5}')),
        TEXT,
        st.sampled_from([*CONFIG.playbooks, "", "nope"]),
        st.sampled_from(["sev1", "sev4", "", "sev9"]),
    ),
    st.tuples(st.just("event"), st.sampled_from(USERS), CHANNEL, TEXT, st.sampled_from(["app_mention", "message", "reaction_added"])),
    st.tuples(
        st.just("raw"),
        st.one_of(st.binary(max_size=300), st.text(max_size=200).map(str.encode), st.just(b"payload=%7B"), st.just(b"ssl_check=1")),
        st.sampled_from(["signed", "unsigned", "stale", "wrong-signature", "json-type", "text-type"]),
    ),
    st.tuples(st.just("forged"), TEXT, st.sampled_from(["unsigned", "stale", "wrong-signature"])),
)


def build(world: SlackWorld, request: tuple) -> tuple[bytes, dict]:
    kind, *rest = request
    if kind == "raw":
        return broken(world, *rest)
    if kind == "forged":
        body, _headers = slash(world, "U0ALICE", "C0GENERAL", rest[0], None)
        return broken(world, body, rest[1])
    user, channel, *more = rest
    channel = channels(world)[channel % len(channels(world))]
    if kind == "slash":
        return slash(world, user, channel, *more)
    if kind == "click":
        return click(world, user, channel, *more)
    if kind == "submit":
        return submit(world, user, channel, *more)
    return event(world, user, channel, *more)


@examples(100)
@given(requests=st.lists(REQUEST, min_size=1, max_size=3))
def test_any_slack_request_is_acknowledged_or_refused_and_the_database_stays_whole(world, error_log, requests):
    for request in requests:
        body, headers = build(world, request)
        status = world.run(world.post(body, headers))
        assert 200 <= status < 300 or 400 <= status < 500, (status, request)
        unsigned = request[0] == "raw" and request[2] in ("unsigned", "stale", "wrong-signature") and request[1] != b"ssl_check=1"
        if request[0] == "forged" or unsigned:  # (Slack's SSL check is answered unsigned, by design)
            assert status == 401, (status, request)
    assert not (errors := error_log.take()), errors
    assert not world.fake.internal_errors, world.fake.internal_errors
    if not world.writes.since_last_look():
        return  # what nothing wrote to since the last check holds still
    with session(world.bot.engine) as db:  # payloads are read back once, when new (their states every time)
        read = world.__dict__.setdefault("replies_read", set())
        invariants.check(db, CONFIG, outbox_after=getattr(world, "checked_outbox", 0), replies_read=read)
        world.checked_outbox = invariants.last_outbox_id(db)
