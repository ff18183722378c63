"""Issue 15's findings 6, 7 and 8 through `POST /slack/events` (Bolt, our front, a fake Slack) and `POST /signals`
(on PostgreSQL too): markup typed into a title reaches the channel topic inert; a dirty command or a garbled request
is refused and changes nothing; a NUL in a signal's text fields is no 500 on PostgreSQL.
"""

import json

import httpx
import pytest
from sqlmodel import SQLModel, select

from bot.app import OneVoice
from bot.http import build_app
from bot.slack import delivery as slack_delivery
from bot.slack.render import unescape
from bot.web.signals import HEADER, signature
from config.settings import Settings
from storage.db import session
from storage.models import Outbox, ProcessedEvent, Signal
from tests.fuzz.test_slack_http import SlackWorld
from tests.fuzz.test_telegram_http import CONFIG as SIGNALS_CONFIG

MARKUP = "<!channel> <@U0ERIN> <https://evil.example|click> & co"
SIGNALS_SECRET = "sec15-signals-secret"


@pytest.fixture
def slack(tmp_path, monkeypatch):
    monkeypatch.setattr(slack_delivery, "PACE", 0)  # Slack's one message a second per channel; pacing has its own tests
    world = SlackWorld(tmp_path)
    yield world
    world.close()


def rows(engine) -> dict:
    """Every row of every table but the delivery queue and the dedup log."""
    with engine.connect() as connection:
        return {
            table.name: [tuple(row) for row in connection.execute(table.select().order_by(*table.primary_key.columns))]
            for table in SQLModel.metadata.sorted_tables
            if table.name not in (Outbox.__tablename__, ProcessedEvent.__tablename__)
        }


def slash(world: SlackWorld, text: str, user: str = "U0ALICE", channel: str = "C0GENERAL") -> tuple[int, str]:
    """A signed slash command; its status and the answer it carries."""
    body, headers = world.fake.slash_command(user, text, channel)
    response = world.run(world.http.post("/slack/events", content=body, headers=headers))
    world.run(world.bot.deliver())
    return response.status_code, response.text


def test_finding_8_markup_in_a_title_reaches_the_channel_topic_inert(slack):
    status, _answer = slash(slack, f"declare outage sev3 {MARKUP}")
    assert status == 200
    room = next(c for c in slack.fake.channels.values() if c["name"].startswith("crisis-"))
    assert room["topic"] == "#1 &lt;!channel&gt; &lt;@U0ERIN&gt; &lt;https://evil.example|click&gt; &amp; co"
    assert unescape(room["topic"]) == f"#1 {MARKUP}"
    assert "<!channel>" not in json.dumps(slack.fake.messages)  # nor anywhere in a message


@pytest.mark.parametrize("text", ["declare outage sev3 Recall \x1b]0;pwned\x07now", "declare outage sev3 \u202eevil title"])
def test_finding_7_a_slash_command_holding_control_or_bidi_characters_is_refused_and_changes_nothing(slack, text):
    before = rows(slack.bot.engine)
    status, answer = slash(slack, text)
    assert status == 200 and "control" in answer, answer
    assert rows(slack.bot.engine) == before and not [c for c in slack.fake.channels.values() if c["name"].startswith("crisis-")]


def test_finding_6_a_garbled_timestamp_or_deep_payload_is_refused_with_a_4xx_and_changes_nothing(slack):
    before = rows(slack.bot.engine)
    body, headers = slack.fake.slash_command("U0ALICE", "declare outage sev2 Checkout down", "C0GENERAL")
    garbled = slack.run(slack.http.post("/slack/events", content=body, headers={**headers, "X-Slack-Request-Timestamp": "abc"}))
    deep = b"payload=" + b"%5B" * 50_000
    nested = slack.run(slack.http.post("/slack/events", content=deep, headers={"Content-Type": "application/x-www-form-urlencoded"}))
    assert (garbled.status_code, nested.status_code) == (401, 400)
    assert rows(slack.bot.engine) == before


@pytest.fixture(params=["sqlite", "postgresql"])
def signals(request, tmp_path):
    """The app with /signals on SQLite and on a private PostgreSQL schema: (engine, post)."""
    from tests.bot.telegram_world import database_url

    with database_url(request.param, tmp_path) as url:
        bot = OneVoice(Settings(ONEVOICE_DATABASE_URL=url), config=SIGNALS_CONFIG)
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=build_app(bot, signals_secret=SIGNALS_SECRET)), base_url="http://t")

        async def post(fields: dict | bytes) -> tuple[int, dict]:
            body = fields if isinstance(fields, bytes) else json.dumps(fields).encode()
            response = await client.post("/signals", content=body, headers={HEADER: signature(SIGNALS_SECRET, body)})
            return response.status_code, response.json()

        yield bot.engine, post
        bot.engine.dispose()


async def test_finding_6_a_nul_in_a_signals_text_fields_is_stored_without_it_on_every_database(signals):
    engine, post = signals
    status, answer = await post({"source": "mon\x00itor", "title": "Battery\x00 fire", "dedup_key": "k\x001", "volume": 9})
    assert (status, answer["status"]) == (202, "new"), answer
    status, answer = await post({"source": "monitor", "title": "Battery fire", "dedup_key": "k1", "volume": 9})
    assert (status, answer["status"], answer["count"]) == (202, "updated", 2), answer  # the same key once cleaned
    with session(engine) as db:
        assert [(s.source, s.title, s.dedup_key, s.count) for s in db.exec(select(Signal))] == [("monitor", "Battery fire", "k1", 2)]


@pytest.mark.parametrize("volume", ["Infinity", "-Infinity", "NaN", "1e999", '"1e3"', "true"])
async def test_finding_10_a_signal_volume_that_is_no_finite_number_is_refused_and_nothing_is_stored(signals, volume):
    engine, post = signals
    before = rows(engine)
    status, answer = await post(f'{{"source": "monitor", "title": "Battery fire", "volume": {volume}}}'.encode())
    assert (status, answer["error"]) == (422, "not a signal"), answer
    assert [problem["field"] for problem in answer["problems"]] == ["volume"]
    assert rows(engine) == before
