"""Fuzzing the body gate on every route of the real app in this process: JSON nested to any depth (arrays, objects,
brackets inside strings) as a whole body, inside Slack's `payload=` field and inside a real Telegram update or signal,
signed and unsigned; and bodies just over each route's limit. Deeper than MAX_DEPTH is always 400, over the limit
always 413, anything else is the route's own answer — never a 5xx, nothing logged as an error, the database whole."""

import asyncio
import json
from urllib.parse import urlencode

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.app import OneVoice
from bot.bodies import LIMITS, MAX_DEPTH
from bot.http import build_app
from bot.web.signals import HEADER, signature
from config.settings import Settings
from storage.db import session
from tests.conftest import seeded
from tests.fuzz import invariants
from tests.fuzz.conftest import examples
from tests.fuzz.test_slack_http import SlackWorld
from tests.fuzz.test_telegram_http import CONFIG as TELEGRAM_CONFIG
from tests.fuzz.test_telegram_http import SECRET as TELEGRAM_SECRET
from tests.fuzz.test_telegram_http import TelegramWorld

SIGNALS_SECRET = "fuzz-signals-secret"
OPENERS = {"[": "]", '{"k":': "}", '{"a": 1, "[": ': "}"}  # the last one's key is a bracket inside a string: not a level


def nested(depth: int, pattern: list[str], inner: str) -> tuple[str, int]:
    """JSON text nesting `depth` levels (openers repeating pattern) around inner, and that depth."""
    openers = (pattern * depth)[:depth]
    inner_depth = 1 if inner in ("[]", "{}") else 0
    return "".join(openers) + inner + "".join(OPENERS[o] for o in reversed(openers)), depth + inner_depth


NESTING = st.tuples(
    st.one_of(st.integers(1, 3 * MAX_DEPTH), st.sampled_from([MAX_DEPTH - 2, MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 1, 50_000])),
    st.lists(st.sampled_from(list(OPENERS)), min_size=1, max_size=4),
    st.sampled_from(["0", '"[[[{{{"', "[]", "{}", '"\\"]]]"', "9" * 5000, "-1e999"]),
)


class SignalsWorld:
    """The app with only /signals, in a private event loop."""

    def __init__(self, folder):
        self.loop = asyncio.new_event_loop()
        self.bot = OneVoice(Settings(ONEVOICE_DATABASE_URL=seeded(f"sqlite:///{folder / 'signals.db'}")), config=TELEGRAM_CONFIG)
        app = build_app(self.bot, signals_secret=SIGNALS_SECRET)
        self.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://onevoice.test")

    def run(self, coroutine):
        return self.loop.run_until_complete(coroutine)

    async def post(self, body: bytes, signed: bool) -> int:
        headers = {HEADER: signature(SIGNALS_SECRET, body)} if signed else {}
        return (await self.http.post("/signals", content=body, headers=headers)).status_code

    def close(self) -> None:
        self.run(self.http.aclose())
        self.bot.engine.dispose()
        self.loop.close()


@pytest.fixture(scope="module")
def worlds(tmp_path_factory):
    made = {
        "slack": SlackWorld(tmp_path_factory.mktemp("slack-bodies")),
        "telegram": TelegramWorld(tmp_path_factory.mktemp("telegram-bodies")),
        "signals": SignalsWorld(tmp_path_factory.mktemp("signals-bodies")),
    }
    yield made
    for world in made.values():
        world.close()


def slack_request(world: SlackWorld, text: str, where: str, signed: bool) -> tuple[bytes, dict, int]:
    """(body, headers, depth added around text) for /slack/events."""
    if where == "body":
        body, wrap = text.encode(), 0
    elif where == "payload":
        body, wrap = urlencode({"payload": text}).encode(), 0
    else:  # inside a real button click's payload
        payload = {**world.fake.action_payload("U0ALICE", "C0GENERAL", "ov:0", "status"), "extra": "@@"}
        body, wrap = urlencode({"payload": json.dumps(payload).replace('"@@"', text)}).encode(), 1
    content_type = "application/json" if where == "body" else "application/x-www-form-urlencoded"
    headers = {**world.fake.sign(body), "Content-Type": content_type} if signed else {"Content-Type": content_type}
    return body, headers, wrap


def settle(status: int, body: bytes | str, route: str, deep: bool, error_log) -> None:
    """Over the limit is 413 whatever it holds; deeper than MAX_DEPTH is 400; anything else is up to the route, but not 5xx."""
    assert status < 500, status
    if len(body) > LIMITS[route]:
        assert status == 413
    elif deep:
        assert status == 400
    assert not (errors := error_log.take()), errors


@examples(15)
@given(nesting=NESTING, where=st.sampled_from(["body", "payload", "click"]), signed=st.booleans())
def test_slack_events_refuse_json_nested_too_deep_wherever_it_sits(worlds, error_log, nesting, where, signed):
    world = worlds["slack"]
    text, depth = nested(*nesting)
    body, headers, wrap = slack_request(world, text, where, signed)
    status = world.run(world.post(body, headers))
    settle(status, body, "/slack/events", depth + wrap > MAX_DEPTH, error_log)
    if not signed:
        assert status in (400, 401, 413)
    with session(world.bot.engine) as db:
        invariants.check(db)


@examples(10)
@given(nesting=NESTING, field=st.sampled_from(["whole", "message", "callback_query"]), secret=st.booleans())
def test_the_telegram_webhook_refuses_json_nested_too_deep_wherever_it_sits(worlds, error_log, nesting, field, secret):
    world = worlds["telegram"]
    text, depth = nested(*nesting)
    if field == "whole":
        body, wrap = text, 0
    else:
        update = world.fake.command_update(100001, "/crisis status")
        body, wrap = json.dumps({**update, field: "@@"}).replace('"@@"', text), 1
    status = world.run(world.post(body.encode(), TELEGRAM_SECRET if secret else "wrong"))
    settle(status, body.encode(), "/telegram/webhook", depth + wrap > MAX_DEPTH, error_log)
    if depth + wrap <= MAX_DEPTH and len(body) <= LIMITS["/telegram/webhook"]:
        assert status in ((200, 400) if secret else (403,))
    with session(world.bot.engine) as db:
        invariants.check(db)


@examples(10)
@given(nesting=NESTING, field=st.sampled_from(["whole", "title", "volume", "keywords"]), signed=st.booleans())
def test_signals_refuse_json_nested_too_deep_wherever_it_sits(worlds, error_log, nesting, field, signed):
    world = worlds["signals"]
    text, depth = nested(*nesting)
    signal = {"source": "fuzz", "title": "Heat", "volume": 10, "baseline": 1, "keywords": []}
    body, wrap = (text, 0) if field == "whole" else (json.dumps({**signal, field: "@@"}).replace('"@@"', text), 1)
    status = world.run(world.post(body.encode(), signed))
    settle(status, body.encode(), "/signals", depth + wrap > MAX_DEPTH, error_log)
    if depth + wrap <= MAX_DEPTH and len(body) <= LIMITS["/signals"]:
        assert status == (422 if signed else 401)  # none of these is a valid signal
    with session(world.bot.engine) as db:
        invariants.check(db)


@examples(3)
@given(route=st.sampled_from(sorted(LIMITS)), over=st.integers(1, 70_000), declared=st.booleans(), signed=st.booleans())
def test_a_body_over_its_routes_limit_is_refused_with_413(worlds, error_log, route, over, declared, signed):
    body = b"{" + b" " * (LIMITS[route] + over - 2) + b"}"
    stream = body if declared else _chunks(body)  # without Content-Length the gate counts while it reads
    if route == "/slack/events":
        world = worlds["slack"]
        headers = world.fake.sign(body) if signed else {}
    elif route == "/telegram/webhook":
        world = worlds["telegram"]
        headers = {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET if signed else "wrong"}
    else:
        world = worlds["signals"]
        headers = {HEADER: signature(SIGNALS_SECRET, body)} if signed else {}
    response = world.run(world.http.post(route, content=stream, headers=headers))
    assert (response.status_code, response.json()["error"]) == (413, f"body over {LIMITS[route]} bytes")
    assert not (errors := error_log.take()), errors


async def _chunks(body: bytes):
    for at in range(0, len(body), 50_000):
        yield body[at : at + 50_000]
