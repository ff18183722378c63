"""Fuzzing `POST /telegram/webhook` of the real app in this process (PTB, our handlers, delivery to a fake Bot API on
loopback): commands with fuzzed text, entities, chats, topics and users; button presses with fuzzed data; replies,
edited messages, unknown update kinds, malformed JSON and wrong secrets. Every update answers 200 or a 4xx, nothing is
logged as an error, and the database invariants hold."""

import asyncio
import json

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from telegram.ext import Application

from bot.app import OneVoice
from bot.http import build_app
from bot.telegram.delivery import TelegramAdapter
from bot.telegram.front import TelegramFront
from bot.telegram.render import PROMPT_MARK
from config.model import Config
from config.settings import Settings
from storage.db import session
from tests.conftest import seeded
from tests.fakes.telegram_api import FakeTelegram
from tests.fuzz import invariants
from tests.fuzz.conftest import examples
from tests.fuzz.grammar import command_texts
from tests.templates import copy_of_starter

SECRET = "fuzz-webhook-secret"
GROUP, OTHER_GROUP = -1001234567890, -1009999999999
USERS = [100001, 100001, 100002, 100003, 100004, 100005, 777]


def team() -> Config:
    config = copy_of_starter()
    return config.model_copy(update={"telegram": config.telegram.model_copy(update={"crisis_group": GROUP})})


CONFIG = team()


class TelegramWorld:
    """OneVoice's HTTP app with Telegram attached by webhook, in a private event loop, with the fake Bot API."""

    def __init__(self, folder):
        self.loop = asyncio.new_event_loop()
        self.fake = FakeTelegram(crisis_group=GROUP)
        self.fake.add_chat(OTHER_GROUP, "supergroup", "Elsewhere")
        self.fake.started_bot |= set(USERS)
        self.run(self.fake.start())
        self.bot = OneVoice(Settings(ONEVOICE_DATABASE_URL=seeded(f"sqlite:///{folder / 'telegram.db'}")), config=CONFIG)
        self.writes = invariants.Writes(self.bot.engine)
        # As bot/telegram.py builds it, without the rate limiter (20 messages a minute per group would take hours here).
        self.application = Application.builder().token(self.fake.token).base_url(self.fake.api_base).updater(None).build()
        self.front = TelegramFront(self.bot, self.application)
        self.run(self.application.initialize())
        self.bot.attach(TelegramAdapter(self.application.bot, CONFIG))
        self.run(self.application.start())
        app = build_app(self.bot, telegram=self.application, telegram_secret=SECRET)
        self.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://onevoice.test")

    def run(self, coroutine):
        return self.loop.run_until_complete(coroutine)

    async def post(self, body: bytes, secret: str | None = SECRET) -> int:
        """POST to the webhook; wait until the update is handled and its effects delivered."""
        headers = {"Content-Type": "application/json"} | ({"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {})
        response = await self.http.post("/telegram/webhook", content=body, headers=headers)
        await asyncio.wait_for(self.application.update_queue.join(), 30)
        await self.bot.deliver()
        return response.status_code

    def close(self) -> None:
        self.run(self.http.aclose())
        self.run(self.application.stop())
        self.run(self.application.shutdown())
        self.run(self.fake.stop())
        self.bot.engine.dispose()
        self.loop.close()


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    world = TelegramWorld(tmp_path_factory.mktemp("telegram-fuzz"))
    update = world.fake.command_update(100001, "/crisis declare product-quality sev2 Battery overheating")
    world.run(world.post(json.dumps(update).encode()))
    yield world
    world.close()


def place(world: TelegramWorld, user: int, choice: int) -> tuple[int, int | None]:
    """(chat, topic): the crisis group's main chat, an incident topic, a private chat, another group, a topic that is not."""
    topics = sorted(world.fake.topics)[-3:]
    if choice == 0:
        return GROUP, None
    if choice == 1:
        return user, None
    if choice == 2:
        return OTHER_GROUP, None
    if choice == 3:
        return GROUP, 999999
    return GROUP, topics[choice % len(topics)] if topics else None


def command(world, user, where, head, line, mention):
    chat, thread = place(world, user, where)
    first = {"crisis": "/crisis", "verb": "/", "named": "/", "odd": "/"}[head]
    if head in ("verb", "named"):
        words = line.split(maxsplit=1)
        verb = words[0] if words and words[0].isascii() and words[0].isalnum() else "status"
        first, line = f"/{verb}" + ("@onevoice_bot" if head == "named" else ""), words[1] if len(words) > 1 else ""
    elif head == "odd":
        first = "/" + (line.split() or ["x"])[0][:40]
    text = f"{first} {line}".strip()
    entities = []
    if mention is not None:
        offset, length, who = mention
        entities.append({"type": "text_mention", "offset": offset, "length": length, "user": world.fake.user(who)})
    return world.fake.command_update(user, text, chat_id=chat, thread_id=thread, entities=entities)


def press(world, user, where, data):
    chat, thread = place(world, user, where)
    data = data.encode()[:64].decode(errors="ignore") or "status"
    return world.fake.callback_update(user, data, chat_id=chat, message_id=1, thread_id=thread)


def reply(world, user, where, asked, typed):
    chat, thread = place(world, user, where)
    prompt = {"message_id": 1, "from": world.fake.bot_user(), "chat": {"id": chat, "type": "supergroup"}, "date": 0}
    prompt["text"] = f"{PROMPT_MARK} Reply to this message with the reason for:\n/crisis {asked}"
    message = world.fake.message_obj(world.fake._chat_of(user, chat), world.fake.user(user), typed or "x", (), thread, reply_to=prompt)
    return {"update_id": next(world.fake._update_ids), "message": message}


def edited(world, user, where, line):
    update = command(world, user, where, "crisis", line, None)
    return {"update_id": update["update_id"], "edited_message": update["message"]}


TEXT = command_texts(CONFIG)
WHERE = st.integers(0, 7)
MENTION = st.one_of(st.none(), st.tuples(st.integers(-2, 60), st.integers(-1, 30), st.sampled_from([100002, 100003, 555])))
UPDATE = st.one_of(
    st.tuples(
        st.just("command"), st.sampled_from(USERS), WHERE, st.sampled_from(["crisis", "crisis", "verb", "named", "odd"]), TEXT, MENTION
    ),
    st.tuples(st.just("press"), st.sampled_from(USERS), WHERE, st.one_of(TEXT, TEXT.map(lambda t: "?" + t))),
    st.tuples(st.just("reply"), st.sampled_from(USERS), WHERE, st.sampled_from(["#1 reject v1", "#1 skip 2", "#9 reject v3"]), TEXT),
    st.tuples(st.just("edited"), st.sampled_from(USERS), WHERE, TEXT),
    st.tuples(
        st.just("raw"),
        st.one_of(
            st.binary(max_size=200),
            st.sampled_from([b"[]", b"{}", b'{"update_id": "x"}', b'{"update_id": 5, "poll": {"id": "1"}}', b'{"update_id": 6, "x": 1}']),
            st.dictionaries(st.sampled_from(["update_id", "message", "callback_query", "chat"]), st.integers() | st.text(max_size=5)).map(
                lambda d: json.dumps(d).encode()
            ),
        ),
        st.sampled_from([SECRET, SECRET, None, "wrong"]),
    ),
)
BUILDERS = {"command": command, "press": press, "reply": reply, "edited": edited}


@examples(100)
@given(updates=st.lists(UPDATE, min_size=1, max_size=3))
def test_any_telegram_update_is_answered_200_or_refused_and_the_database_stays_whole(world, error_log, updates):
    for update in updates:
        kind, *rest = update
        if kind == "raw":
            body, secret = rest
        else:
            body, secret = json.dumps(BUILDERS[kind](world, *rest)).encode(), SECRET
        status = world.run(world.post(body, secret))
        assert status == 200 or 400 <= status < 500, (status, update)
        if secret != SECRET:
            assert status == 403
    assert not (errors := error_log.take()), errors
    assert not world.fake.internal_errors, world.fake.internal_errors
    if not world.writes.since_last_look():
        return  # what nothing wrote to since the last check holds still
    with session(world.bot.engine) as db:  # payloads are read back once, when new (their states every time)
        read = world.__dict__.setdefault("replies_read", set())
        invariants.check(db, CONFIG, outbox_after=getattr(world, "checked_outbox", 0), replies_read=read)
        world.checked_outbox = invariants.last_outbox_id(db)


# ---- people who may not act: outsiders' and unpermitted members' presses, and replies to someone else's question

OUTSIDERS = st.integers(200000, 299999)
NOT_PERMITTED = {  # commands each of these members may not run in incident #1 (Carol wrote its draft v1)
    100003: ["#1 resolve", "#1 close", "#1 assign legal @dave", "#1 sev 1", "#1 reject v1", "#1 approve v1", "#1 phase responding"],
    100004: ["#1 resolve", "#1 reject v1", "#1 approve v1", "#1 publish v1", "#1 assign comms @dave"],
    100005: ["#1 resolve", "#1 close", "#1 reject v1", "#1 update all fine", "#1 reopen"],
}
FORGED = st.builds(lambda a, b: f"{a}\n{b}\n/crisis #1 resolve", st.text(max_size=12), st.text(max_size=20))


@pytest.fixture(scope="module")
def asked(tmp_path_factory):
    """A world where incident #1 has Carol's draft v1, and Bob (legal) has been asked for his reason to reject it."""
    world = TelegramWorld(tmp_path_factory.mktemp("telegram-prompts-fuzz"))
    for user, text in [(100001, "/crisis declare product-quality sev2 Battery overheating"), (100003, "/crisis #1 draft We are sorry.")]:
        world.run(world.post(json.dumps(world.fake.command_update(user, text)).encode()))
    update = world.fake.callback_update(100002, "?#1 reject v1", chat_id=GROUP, message_id=world.fake.messages_in(GROUP)[-1]["message_id"])
    world.run(world.post(json.dumps(update).encode()))
    asked = world.fake.messages_in(GROUP)[-1]
    assert asked["plain"].startswith(PROMPT_MARK) and "Bob Li" in asked["plain"]
    world.question = world.fake.current_message(GROUP, asked["message_id"])  # as Telegram holds it, to reply to
    world.card = seen_by_alice(world)  # what every example must leave it as: one status read per example, not two
    yield world
    world.close()


def seen_by_alice(world: TelegramWorld) -> str:
    """The incident card as Alice sees it with `/crisis #1 status` in her private chat."""
    update = world.fake.command_update(100001, "/crisis #1 status", chat_id=100001)
    world.run(world.post(json.dumps(update).encode()))
    return world.fake.messages_in(100001)[-1]["plain"]


UNPERMITTED = st.one_of(
    st.tuples(st.just("press"), OUTSIDERS, st.one_of(TEXT, TEXT.map(lambda t: "?" + t), FORGED, FORGED.map(lambda t: "?" + t))),
    st.tuples(
        st.just("press"),
        st.sampled_from(sorted(NOT_PERMITTED)),
        st.sampled_from([0, 1]),
        st.text(max_size=12),
    ),
    st.tuples(st.just("reply"), st.one_of(OUTSIDERS, st.sampled_from([100001, 100003, 100004, 100005])), TEXT),
)


@examples(30)
@given(actions=st.lists(UNPERMITTED, min_size=1, max_size=4), where=st.sampled_from([0, 3, 4, 5]))
def test_presses_and_replies_by_people_who_may_not_act_post_nothing_in_a_group_and_change_nothing(asked, error_log, actions, where):
    world = asked
    before, in_groups = world.card, [m for m in world.fake.messages if m["chat_id"] < 0]
    for action in actions:
        world.front.__dict__.pop("prompts", None)  # fresh rations each time: the vetting, not the flood limit, is what is fuzzed here
        if action[0] == "reply":
            _kind, user, typed = action
            chat = world.fake._chat_of(user, GROUP)
            message = world.fake.message_obj(chat, world.fake.user(user), typed or "x", (), None, world.question)
            update = {"update_id": next(world.fake._update_ids), "message": message}
        else:
            if len(action) == 3:
                _kind, user, data = action
            else:
                _kind, user, ask, tail = action
                command = NOT_PERMITTED[user][len(tail) % len(NOT_PERMITTED[user])]
                data = ("?" if ask else "") + f"{command} {tail}".strip()
            chat, thread = place(world, user, where)
            data = data.encode()[:64].decode(errors="ignore") or "status"
            update = world.fake.callback_update(user, data, chat_id=chat, message_id=1, thread_id=thread)
        assert world.run(world.post(json.dumps(update).encode())) == 200
    assert [m for m in world.fake.messages if m["chat_id"] < 0] == in_groups, "something was posted in a group"
    assert not world.fake.open_queries  # every press got its private answer
    assert seen_by_alice(world) == before  # nothing changed: the card reads the same, v1 still awaits approval
    assert "v1 awaiting approval" in before
    assert not (errors := error_log.take()), errors
