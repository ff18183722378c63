"""Webhook broadcast targets against a real HTTP receiver (aiohttp on loopback): signed with the secret, one delivery id
across retries and never posted again after a 2xx, 404 failed at once with the room told, Retry-After honoured."""

import hashlib
import hmac
import json
from datetime import timedelta

import pytest
from aiohttp import web

from bot.outbox.webhook import WebhookChannel, wait_of
from bot.outbox.worker import Deliverer
from config.model import BroadcastTarget
from handlers.line import outlets
from tests.bot.test_delivery import FlakyChat
from tests.bot.test_publish import TRICKY, approved_line

SECRET = "s3cret-of-the-cms"
HEADLINE = "Battery recall: what we know ⚡ 电池召回"


class Receiver:
    """A CMS hook that answers each POST with the next scripted status (then 200), and keeps what it was sent."""

    def __init__(self):
        self.got: list[tuple[dict, bytes]] = []
        self.answers: list[tuple[int, dict]] = []

    async def hook(self, request: web.Request) -> web.Response:
        self.got.append((dict(request.headers), await request.read()))
        status, headers = self.answers.pop(0) if self.answers else (200, {})
        return web.Response(status=status, headers=headers, text="ok")


@pytest.fixture
async def receiver():
    hooks = Receiver()
    app = web.Application()
    app.router.add_post("/hooks/onevoice", hooks.hook)
    hooks.bridge = Receiver()  # a second target on the same host (a Weibo bridge)
    app.router.add_post("/hooks/bridge", hooks.bridge.hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    hooks.url = f"http://127.0.0.1:{runner.addresses[0][1]}/hooks/onevoice"
    yield hooks
    await runner.cleanup()


@pytest.fixture
def desk(chat, receiver, monkeypatch):
    chat.config.broadcast.append(BroadcastTarget(name="cms", webhook=receiver.url, secret_env="CMS_WEBHOOK_SECRET"))
    chat.deps.channels.add("webhook")
    monkeypatch.setattr(outlets, "headline_of", lambda statement, config: HEADLINE)
    return chat


OPEN: list[WebhookChannel] = []


@pytest.fixture(autouse=True)
async def _closed_after():
    """Each test's connection pools closed at its end, as `run` closes its own on shutdown."""
    yield
    while OPEN:
        await OPEN.pop().close()


def hook_worker(chat, environ=None, attempts: int = 8) -> Deliverer:
    channel = WebhookChannel("https://status.example/", environ={"CMS_WEBHOOK_SECRET": SECRET} if environ is None else environ)
    OPEN.append(channel)
    return Deliverer(chat.engine, chat.deps, channel, attempts=attempts)


async def told(chat) -> list[str]:
    room_adapter = FlakyChat()
    await Deliverer(chat.engine, chat.deps, room_adapter).deliver_pending()
    return [detail for kind, detail in room_adapter.calls if kind == "post"]


async def test_the_post_is_signed_with_the_secret_and_carries_the_approved_version(desk, receiver, clock):
    room = await approved_line(desk, FlakyChat(), TRICKY)
    assert desk.say("carol", "publish website cms", room).ok
    worker = hook_worker(desk)
    assert await worker.deliver_pending() == 1
    [(headers, body)] = receiver.got
    expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["X-OneVoice-Signature"], expected)
    assert headers["Content-Type"].startswith("application/json") and len(headers["X-OneVoice-Delivery"]) >= 16
    sent = json.loads(body)
    assert set(sent) == {"incident", "version", "kind", "headline", "text", "approved_at", "approved_by", "published_at", "page_url"}
    assert sent["text"] == TRICKY and sent["headline"] == HEADLINE and sent["version"] == 1 and sent["kind"] == "holding"
    assert sent["approved_by"] in ("Alice Chen", "Bob Li") and sent["approved_at"] and sent["published_at"]
    assert sent["page_url"] == f"https://status.example/s/{sent['incident']}" and len(sent["incident"]) >= 12
    assert "Battery overheating" not in body.decode()  # the internal incident title never leaves
    clock.advance(timedelta(hours=1))
    assert await worker.deliver_pending() == 0 and len(receiver.got) == 1
    assert "cms: sent" in desk.say("carol", "published", room).message.plain()


async def test_a_500_then_a_200_posts_the_same_delivery_twice_and_then_never_again(desk, receiver, clock):
    receiver.answers = [(500, {})]
    room = await approved_line(desk, FlakyChat(), TRICKY)
    assert desk.say("carol", "publish cms", room).ok
    worker = hook_worker(desk)
    assert await worker.deliver_pending() == 0 and len(receiver.got) == 1
    assert "cms: waiting" in desk.say("carol", "published", room).message.plain()
    clock.advance(timedelta(minutes=5))
    assert await worker.deliver_pending() == 1
    clock.advance(timedelta(hours=2))
    assert await worker.deliver_pending() == 0
    assert len(receiver.got) == 2
    (first, first_body), (second, second_body) = receiver.got
    assert first["X-OneVoice-Delivery"] == second["X-OneVoice-Delivery"] and first_body == second_body
    assert first["X-OneVoice-Signature"] == second["X-OneVoice-Signature"]


async def test_a_404_fails_at_once_and_the_room_is_told(desk, receiver, clock):
    receiver.answers = [(404, {})]
    room = await approved_line(desk, FlakyChat(), TRICKY)
    assert desk.say("carol", "publish cms", room).ok
    worker = hook_worker(desk)
    await worker.deliver_pending()
    clock.advance(timedelta(hours=2))
    await worker.deliver_pending()
    assert len(receiver.got) == 1
    assert [p for p in await told(desk) if "v1 could not be published to cms: HTTP 404" in p]
    assert "cms: failed" in desk.say("carol", "published", room).message.plain()
    assert desk.say("carol", "publish cms", room).ok  # fixed on the CMS side: published again on request
    await worker.deliver_pending()
    assert len(receiver.got) == 2


async def test_retry_after_is_honoured(desk, receiver, clock):
    receiver.answers = [(429, {"Retry-After": "120"}), (503, {})]
    room = await approved_line(desk, FlakyChat(), TRICKY)
    assert desk.say("carol", "publish cms", room).ok
    worker = hook_worker(desk)
    await worker.deliver_pending()
    clock.advance(timedelta(seconds=100))
    await worker.deliver_pending()
    assert len(receiver.got) == 1  # asked to wait two minutes: not yet
    clock.advance(timedelta(seconds=21))
    await worker.deliver_pending()
    assert len(receiver.got) == 2


async def test_an_unset_secret_sends_nothing_unsigned_and_the_room_is_told(desk, receiver):
    room = await approved_line(desk, FlakyChat(), TRICKY)
    assert desk.say("carol", "publish cms", room).ok
    await hook_worker(desk, environ={}).deliver_pending()
    assert receiver.got == []
    assert [p for p in await told(desk) if "could not be published to cms: CMS_WEBHOOK_SECRET is not set" in p]


async def test_a_receiver_that_is_down_is_retried_then_given_up_with_the_room_told(desk, receiver, clock):
    desk.config.broadcast[-1] = BroadcastTarget(name="cms", webhook="http://127.0.0.1:9/hooks", secret_env="CMS_WEBHOOK_SECRET")
    room = await approved_line(desk, FlakyChat(), TRICKY)
    assert desk.say("carol", "publish cms", room).ok
    worker = hook_worker(desk, attempts=2)
    await worker.deliver_pending()
    clock.advance(timedelta(hours=1))
    await worker.deliver_pending()
    posts = await told(desk)
    assert [p for p in posts if "could not be published to cms: webhook unreachable" in p]
    assert SECRET not in " ".join(posts)


async def test_a_drill_posts_to_no_webhook(desk, receiver):
    reply = desk.say("alice", "drill product-quality")
    room = desk.room_of(reply.incident_id)
    assert desk.say("carol", "draft We are sorry. This is a drill. Next update at 11:00.", room).ok
    desk.say("bob", "approve", room)
    desk.say("alice", "approve", room)
    assert "Nothing was sent outside" in desk.say("carol", "publish cms", room).message.plain()
    assert await hook_worker(desk).deliver_pending() == 0 and receiver.got == []


async def test_a_version_superseded_before_its_post_is_never_posted(desk, receiver):
    room = await approved_line(desk, FlakyChat(), "We are sorry. Version one. Next update at 11:00.")
    assert desk.say("carol", "publish cms", room).ok
    desk.say("carol", "draft We are sorry. Version two. Next update at 12:00.", room)
    desk.say("bob", "approve", room)
    desk.say("alice", "approve", room)
    await hook_worker(desk).deliver_pending()
    assert receiver.got == []


def test_retry_after_reads_seconds_and_dates_within_bounds():
    from datetime import UTC, datetime

    now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert wait_of("30") == 30 and wait_of("999999") == 3600 and wait_of(None) is None and wait_of("soon") is None
    assert wait_of("0") == 1  # never a hot loop through every attempt
    assert wait_of("Mon, 02 Mar 2026 09:01:00 GMT", now) == 60 and wait_of("Mon, 02 Mar 2026 08:00:00 GMT", now) == 1


async def test_a_receiver_that_is_down_holds_up_no_other_target(desk, receiver, clock):
    bridge = receiver.url.replace("/hooks/onevoice", "/hooks/bridge")
    desk.config.broadcast.append(BroadcastTarget(name="bridge", webhook=bridge, secret_env="CMS_WEBHOOK_SECRET"))
    receiver.answers = [(503, {}), (503, {})]
    room = await approved_line(desk, FlakyChat(), TRICKY)
    assert desk.say("carol", "publish cms bridge", room).ok
    worker = hook_worker(desk)
    assert await worker.deliver_pending() == 1  # the bridge, although the CMS before it waits for its retry
    assert len(receiver.got) == 1 and len(receiver.bridge.got) == 1
    clock.advance(timedelta(hours=1))
    await worker.deliver_pending()
    clock.advance(timedelta(hours=1))
    await worker.deliver_pending()
    assert len(receiver.got) == 3 and len(receiver.bridge.got) == 1
    assert receiver.got[0][0]["X-OneVoice-Delivery"] != receiver.bridge.got[0][0]["X-OneVoice-Delivery"]
