"""The fake Telegram, driven by the real python-telegram-bot over loopback HTTP."""

import asyncio
import datetime as dtm
import time

import aiohttp
import pytest
from aiohttp import web
from telegram import Bot, BotCommand, BotCommandScopeAllGroupChats, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, EndPointNotFound, Forbidden, InvalidToken, NetworkError, RetryAfter
from telegram.ext import Application, CommandHandler

from tests.fakes.telegram_api import FakeTelegram, html_to_text

GROUP = -1001234567890
KEYBOARD = InlineKeyboardMarkup(
    [[InlineKeyboardButton("Approve", callback_data="ap:st-1"), InlineKeyboardButton("Reject", callback_data="rj:st-1")]]
)


@pytest.fixture(autouse=True)
def timedelta_periods(monkeypatch):
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # else PTB 22 warns (PTBDeprecationWarning) each time it builds a RetryAfter


@pytest.fixture
async def fake():
    telegram = FakeTelegram()
    await telegram.start()
    yield telegram
    await telegram.stop()
    assert telegram.internal_errors == []


@pytest.fixture
async def bot(fake):
    async with Bot(fake.token, base_url=fake.api_base) as client:
        yield client


async def error_of(call, kind=BadRequest):
    with pytest.raises(kind) as caught:
        await call
    return caught.value


async def test_get_me_and_tokens(fake, bot):
    me = await bot.get_me()
    assert (me.id, me.username, me.is_bot, me.can_join_groups, me.supports_inline_queries) == (123456, "onevoice_bot", True, True, False)
    assert fake.calls[0] == ("getMe", {})  # Bot.initialize() called it, with an empty body
    assert "was rejected by the server" in str(await error_of(Bot("123456:wrong", base_url=fake.api_base).initialize(), InvalidToken))
    assert str(await error_of(bot.do_api_request("noSuchMethod"), EndPointNotFound)).startswith("Endpoint 'noSuchMethod' not found")
    async with aiohttp.ClientSession() as http:  # JSON bodies work too, and errors have Telegram's shape
        async with http.post(f"{fake.api_base}{fake.token}/sendmessage", json={"chat_id": GROUP, "text": "hi"}) as response:
            assert (await response.json())["result"]["text"] == "hi"
        async with http.post(f"{fake.api_base}nope/getMe") as response:
            assert (response.status, await response.json()) == (401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
        async with http.post(f"{fake.api_base}{fake.token}/frobnicate") as response:
            assert (response.status, await response.json()) == (404, {"ok": False, "error_code": 404, "description": "Not Found"})


async def test_forum_topics_and_their_errors(fake, bot):
    topic = await bot.create_forum_topic(GROUP, "crisis-20240501-recall", icon_color=16478047)
    assert fake.topics[topic.message_thread_id] == {
        "chat_id": GROUP,
        "name": "crisis-20240501-recall",
        "icon_color": 16478047,
        "closed": False,
    }
    sent = await bot.send_message(GROUP, "Card", message_thread_id=topic.message_thread_id, reply_markup=KEYBOARD)
    assert (sent.message_thread_id, sent.is_topic_message, sent.reply_markup) == (topic.message_thread_id, True, KEYBOARD)
    assert sent.reply_to_message.forum_topic_created.name == "crisis-20240501-recall"  # as Telegram does in a topic
    assert fake.messages_in(GROUP, topic.message_thread_id)[0]["reply_markup"] == KEYBOARD.to_dict()
    assert str(await error_of(bot.send_message(GROUP, "x", message_thread_id=999))) == "Message thread not found"
    assert await bot.edit_forum_topic(GROUP, topic.message_thread_id, name="drill-20240501-recall")
    assert await bot.close_forum_topic(GROUP, topic.message_thread_id) and fake.topics[topic.message_thread_id]["closed"]
    assert str(await error_of(bot.close_forum_topic(GROUP, topic.message_thread_id))) == "Topic_not_modified"  # PTB's capitalize()
    fake.bot_can_manage_topics = False
    assert str(await error_of(bot.create_forum_topic(GROUP, "x"))) == "Not enough rights to create a topic"
    assert (await bot.get_chat_member(GROUP, fake.bot_id)).can_manage_topics is False
    fake.chats[GROUP]["is_forum"] = False
    assert str(await error_of(bot.create_forum_topic(GROUP, "x"))) == "The chat is not a forum"
    not_forum = FakeTelegram(forum=False)
    assert not_forum.chats[GROUP]["is_forum"] is False and (await bot.get_chat(GROUP)).is_forum is None  # false: omitted


async def test_html_is_parsed_like_telegram(fake, bot):
    html = 'OK: <b>Recall</b> of <i>lot&nbsp;7</i> &amp; <a href="https://ex.com/?a=1&amp;b=2">notice</a> &lt;3 <tg-spoiler>s</tg-spoiler>'
    sent = await bot.send_message(GROUP, html, parse_mode="HTML", disable_web_page_preview=True)
    assert sent.text == "OK: Recall of lot&nbsp;7 & notice <3 s" == html_to_text(html)  # only &lt; &gt; &amp; &quot; are entities
    assert [(e.type, e.offset, e.length, e.url) for e in sent.entities] == [
        ("bold", 4, 6, None),
        ("italic", 14, 10, None),
        ("text_link", 27, 6, "https://ex.com/?a=1&b=2"),
        ("spoiler", 37, 1, None),
    ]
    assert fake.messages[-1]["text"] == html and fake.messages[-1]["disable_web_page_preview"] is True
    assert html_to_text("<pre><code class='language-py'>x &lt; 1</code></pre><blockquote expandable>q</blockquote>") == "x < 1q"
    assert (
        html_to_text("😀 <u>a</u>") == "😀 a" and (await bot.send_message(GROUP, "😀 <u>a</u>", parse_mode="HTML")).entities[0].offset == 3
    )
    cases = {
        "<blink>x</blink>": 'Can\'t parse entities: unsupported start tag "blink" at byte offset 0',
        "<b>bold": "Can't parse entities: can't find end tag corresponding to start tag \"b\"",
        "é <b>x</i>": 'Can\'t parse entities: unmatched end tag at byte offset 7, expected "</b>", found "</i>"',
        "x</b>": "Can't parse entities: unexpected end tag at byte offset 1",
        "1 < 2": 'Can\'t parse entities: unsupported start tag "" at byte offset 2',
        '<span class="x">s</span>': 'Can\'t parse entities: tag "span" must have class "tg-spoiler" at byte offset 0',
    }
    for bad, message in cases.items():
        assert str(await error_of(bot.send_message(GROUP, bad, parse_mode="HTML"))) == message
    assert str(await error_of(bot.send_message(GROUP, "a" * 4097))) == "Message is too long"
    assert (await bot.send_message(GROUP, "<b>" + "a" * 4096 + "</b>", parse_mode="HTML")).text == "a" * 4096  # counted after parsing
    assert str(await error_of(bot.send_message(GROUP, "<b> </b>", parse_mode="HTML"))) == "Message text is empty"
    bad_button = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="x" * 65)]])
    assert str(await error_of(bot.send_message(GROUP, "x", reply_markup=bad_button))) == "Button_data_invalid"
    assert len(fake.messages) == 3  # refused messages leave no trace but `calls`


async def test_a_429_is_a_retry_after_and_changes_nothing(fake, bot):
    fake.fail_next("sendMessage", retry_after=3)
    error = await error_of(bot.send_message(GROUP, "x"), RetryAfter)
    assert error.retry_after == dtm.timedelta(seconds=3) and fake.messages == []
    assert (await bot.send_message(GROUP, "x")).text == "x" and [c[0] for c in fake.calls].count("sendMessage") == 2
    fake.fail_next(None, status=502, times=2)
    assert "Bad Gateway" in str(await error_of(bot.get_me(), NetworkError))
    assert "Bad Gateway" in str(await error_of(bot.pin_chat_message(GROUP, 1), NetworkError))
    fake.fail_next("createForumTopic", status=400, description="Bad Request: not enough rights to create a topic")
    assert str(await error_of(bot.create_forum_topic(GROUP, "x"))) == "Not enough rights to create a topic" and fake.topics == {}


async def test_edits_pins_and_not_modified(fake, bot):
    sent = await bot.send_message(GROUP, "<b>Draft</b> v1", parse_mode="HTML", reply_markup=KEYBOARD)
    assert await bot.pin_chat_message(GROUP, sent.message_id) and fake.pins == [(GROUP, sent.message_id)]
    edited = await bot.edit_message_text("<b>Draft</b> v2", GROUP, sent.message_id, parse_mode="HTML", reply_markup=KEYBOARD)
    assert edited.text == "Draft v2" and edited.reply_markup == KEYBOARD and fake.current_text(GROUP, sent.message_id) == "<b>Draft</b> v2"
    same = bot.edit_message_text("<b>Draft</b> v2", GROUP, sent.message_id, parse_mode="HTML", reply_markup=KEYBOARD)
    assert str(await error_of(same)).startswith("Message is not modified: specified new message content and reply markup are exactly")
    assert (await bot.edit_message_text("<b>Draft</b> v2", GROUP, sent.message_id, parse_mode="HTML")).reply_markup is None  # dropped
    assert len(fake.edits) == 2 and fake.edits[0] == {
        "chat_id": GROUP,
        "message_id": sent.message_id,
        "text": "<b>Draft</b> v2",
        "parse_mode": "HTML",
        "reply_markup": KEYBOARD.to_dict(),
    }
    assert str(await error_of(bot.edit_message_text("x", GROUP, 9999))) == "Message to edit not found"
    assert str(await error_of(bot.pin_chat_message(GROUP, 9999))) == "Message to pin not found"


async def test_private_messages_need_the_user_to_have_started_the_bot(fake, bot):
    error = await error_of(bot.send_message(100001, "Your duty: review"), Forbidden)
    assert str(error) == "Forbidden: bot can't initiate conversation with a user" and fake.messages == []
    fake.command_update(100001, "/start", chat_id=100001)  # writing to the bot in private starts it
    assert 100001 in fake.started_bot and (await bot.send_message(100001, "Your duty: review")).chat.type == "private"
    assert (await bot.send_message("@brand_news", "Public line")).sender_chat.id == fake.channel_id  # a channel by @username


async def test_updates_have_telegrams_shapes(fake, bot):
    alice = fake.user(100001, "Alice", "alice_chen")
    topic = await bot.create_forum_topic(GROUP, "crisis-20240501-recall")
    text_mention = {"type": "text_mention", "offset": 39, "length": 3, "user": fake.user(100002, "Bob")}
    raw = fake.command_update(
        100003, "/assign@onevoice_bot legal @alice_chen Bob", thread_id=topic.message_thread_id, entities=[text_mention]
    )
    message = Update.de_json(raw, bot).message
    assert message.message_thread_id == topic.message_thread_id and message.is_topic_message and message.chat.is_forum
    assert message.reply_to_message.forum_topic_created is not None  # a topic message "replies" to the topic's opening
    assert {e.type: message.parse_entity(e) for e in message.entities} == {
        "bot_command": "/assign@onevoice_bot",
        "mention": "@alice_chen",
        "text_mention": "Bob",
    }
    assert message.entities[-1].user.id == 100002 and alice["username"] == "alice_chen"
    sent = await bot.send_message(GROUP, "Reason?", message_thread_id=topic.message_thread_id, reply_markup=KEYBOARD)
    press = Update.de_json(fake.callback_update(100001, "rj:st-1", thread_id=topic.message_thread_id), bot).callback_query
    assert (press.data, press.message.message_id, press.from_user.username) == ("rj:st-1", sent.message_id, "alice_chen")
    assert await press.answer("Noted") and fake.callback_answers[0]["text"] == "Noted"
    assert "Query is too old" in str(await error_of(press.answer()))  # answered once only
    reply = Update.de_json(fake.reply_update(100001, "Not accurate", sent.message_id), bot).message
    assert (reply.reply_to_message.message_id, reply.message_thread_id, reply.text) == (
        sent.message_id,
        topic.message_thread_id,
        "Not accurate",
    )
    other = Update.de_json(fake.command_update(100001, "/status", chat_id=-100999), bot).message
    assert other.chat.type == "supergroup" and not other.chat.is_forum and other.message_thread_id is None


async def test_commands_menu(fake, bot):
    commands = [BotCommand("declare", "Declare an incident"), BotCommand("assign", "Assign a role")]
    assert await bot.set_my_commands(commands)
    assert await bot.set_my_commands([BotCommand("declare", "宣布事件")], scope=BotCommandScopeAllGroupChats(), language_code="zh")
    assert fake.commands[1] == {
        "commands": [{"command": "declare", "description": "宣布事件"}],
        "language_code": "zh",
        "scope": {"type": "all_group_chats"},
    }
    assert await bot.get_my_commands() == tuple(commands)
    assert (await bot.get_my_commands(scope=BotCommandScopeAllGroupChats(), language_code="zh"))[0].description == "宣布事件"
    assert await bot.delete_my_commands() and await bot.get_my_commands() == ()
    assert str(await error_of(bot.set_my_commands([BotCommand("Declare", "x")]))) == "Bot_command_invalid"


async def test_webhook_delivery_checks_the_secret(fake, bot):
    received = []

    async def receive(request: web.Request) -> web.Response:
        if request.headers.get("X-Telegram-Bot-Api-Secret-Token") != "s3cret-Token_1":
            return web.Response(status=403)
        received.append(await request.json())
        return web.Response()

    app = web.Application()
    app.router.add_post("/telegram/webhook", receive)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        url = f"http://127.0.0.1:{runner.addresses[0][1]}/telegram/webhook"
        assert await bot.set_webhook(url, secret_token="s3cret-Token_1", allowed_updates=["message", "callback_query"])
        assert (await bot.get_webhook_info()).url == url and fake.webhook["secret_token"] == "s3cret-Token_1"
        update = fake.command_update(100001, "/status")
        assert [
            await fake.deliver_webhook(update),
            await fake.deliver_webhook(update, "wrong"),
            await fake.deliver_webhook(update, None),
        ] == [200, 403, 403]
        assert received == [update] and [status for _, status in fake.webhook_deliveries] == [200, 403, 403]
        assert "getUpdates method while webhook is active" in str(await error_of(bot.get_updates(), Exception))
        assert await bot.delete_webhook() and fake.webhook is None and (await bot.get_webhook_info()).url == ""
    finally:
        await runner.cleanup()


async def test_get_updates_with_offset_and_a_capped_wait(fake, bot):
    updates = [fake.command_update(100001, f"/note {i}") for i in range(3)]
    for update in updates:
        fake.queue_update(update)
    got = await bot.get_updates(timeout=0)
    assert [u.message.text for u in got] == ["/note 0", "/note 1", "/note 2"] and got[0].message.entities[0].type == "bot_command"
    assert [u.update_id for u in await bot.get_updates(offset=got[1].update_id, timeout=0)] == [got[1].update_id, got[2].update_id]
    start = time.monotonic()
    assert await bot.get_updates(offset=got[2].update_id + 1, timeout=30) == () and time.monotonic() - start < 2  # capped at 1 s
    assert fake.pending == []  # confirmed by the offset
    late = fake.command_update(100001, "/status")
    asyncio.get_running_loop().call_later(0.2, fake.queue_update, late)
    start = time.monotonic()
    assert [u.update_id for u in await bot.get_updates(timeout=5)] == [late["update_id"]] and time.monotonic() - start < 0.8


async def test_unconfirmed_updates_are_handed_out_again_and_an_edit_keeps_its_message(fake, bot):
    first, second = fake.command_update(100001, "/task call the regulator"), fake.command_update(100001, "/status")
    fake.queue_update(first)
    fake.queue_update(second)
    assert [u.update_id for u in await bot.get_updates(timeout=0)] == [first["update_id"], second["update_id"]]
    assert [u.update_id for u in await bot.get_updates(timeout=0)] == [first["update_id"], second["update_id"]]  # not confirmed
    assert [u.update_id for u in await bot.get_updates(offset=second["update_id"], timeout=0)] == [second["update_id"]]
    assert fake.confirmed == second["update_id"]
    edit = fake.edit_update(first, "/task call the regulator today")
    fake.queue_update(edit)
    got = (await bot.get_updates(offset=second["update_id"] + 1, timeout=0))[0]
    assert got.edited_message.message_id == first["message"]["message_id"] and got.update_id > second["update_id"]
    assert got.edited_message.text == "/task call the regulator today" and got.edited_message.entities[0].type == "bot_command"
    assert got.edited_message.edit_date is not None and got.message is None


async def test_a_ptb_application_polls_and_replies(fake):
    async def status(update, context):
        await update.message.reply_text(f"status of topic {update.message.message_thread_id}")

    app = Application.builder().token(fake.token).base_url(fake.api_base).build()
    app.add_handler(CommandHandler("status", status))
    async with app:
        await app.updater.start_polling(poll_interval=0, timeout=1)
        await app.start()
        fake.queue_update(
            fake.command_update(100001, "/status@onevoice_bot", thread_id=(await app.bot.create_forum_topic(GROUP, "t")).message_thread_id)
        )
        for _ in range(100):
            if fake.messages:
                break
            await asyncio.sleep(0.05)
        await app.updater.stop()
        await app.stop()
    thread_id = next(iter(fake.topics))
    assert [(m["text"], m["message_thread_id"]) for m in fake.messages] == [(f"status of topic {thread_id}", thread_id)]
    assert "deleteWebhook" in [c[0] for c in fake.calls]  # PTB's polling starts by deleting any webhook


async def test_fail_ratio_is_deterministic_for_a_seed(fake, bot):
    async def outcomes(seed: int) -> list[str]:
        fake.fail_ratio, fake.seed = 0.3, seed
        results = []
        for _ in range(60):
            try:
                await bot.get_me()
                results.append("ok")
            except RetryAfter:
                results.append("429")
            except NetworkError as error:
                results.append("502" if "Bad Gateway" in str(error) else "500")
        return results

    first, again, other = await outcomes(7), await outcomes(7), await outcomes(8)
    assert first == again != other
    failed = [r for r in first if r != "ok"]
    assert 8 <= len(failed) <= 30 and failed[:4] == ["429", "500", "429", "502"]
