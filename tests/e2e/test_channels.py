"""E-mail and webhooks end to end: the real `onevoice run` process with ONEVOICE_SMTP_URL and a webhook target attaches
both channels; `publish` from Slack reaches a real SMTP server (aiosmtpd) and a real HTTP receiver (aiohttp) on loopback."""

import asyncio
import email
import hashlib
import hmac
import json
from email.policy import default as parsing

import pytest
from aiohttp import web
from aiosmtpd.smtp import SMTP as SmtpServer

from tests.e2e import slack_process
from tests.e2e.slack_process import ALICE, BOB, CAROL

start_slack_bot = slack_process.start_slack_bot  # the fixture

LINE = "We are sorry 🙏 for the worry & <b>care</b>.\n.A line with a dot\n电池安全。Next update at 11:00."
SECRET = "e2e-cms-secret"


class Inbox:
    def __init__(self):
        self.mails: list[tuple[list[str], email.message.EmailMessage]] = []
        self.refuse = {"gone@b.example": "550 5.1.1 No such user"}

    async def handle_RCPT(self, server, session, envelope, address, options):
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.mails.append((list(envelope.rcpt_tos), email.message_from_bytes(envelope.original_content, policy=parsing)))
        return "250 OK"


@pytest.fixture
async def outside(monkeypatch):
    """The SMTP server and the webhook receiver; the bot's environment points at them."""
    inbox, posts = Inbox(), []
    smtp = await asyncio.get_running_loop().create_server(lambda: SmtpServer(inbox, hostname="mx.test"), "127.0.0.1", 0)

    async def hook(request: web.Request) -> web.Response:
        posts.append((dict(request.headers), await request.read()))
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/hooks", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    monkeypatch.setenv("ONEVOICE_SMTP_URL", f"smtp://127.0.0.1:{smtp.sockets[0].getsockname()[1]}")
    monkeypatch.setenv("ONEVOICE_MAIL_FROM", "desk@onevoice.example")
    monkeypatch.setenv("CMS_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv(slack_process.PACE_SETTING, slack_process.QUICK_PACE)
    targets = (
        "  - {name: press-release, email: [desk@a.example, gone@b.example]}\n"
        f'  - {{name: cms, webhook: "http://127.0.0.1:{runner.addresses[0][1]}/hooks", secret_env: CMS_WEBHOOK_SECRET}}\n'
    )
    yield inbox, posts, targets
    await runner.cleanup()
    smtp.close()


async def test_publish_from_slack_mails_each_address_and_posts_the_signed_webhook(start_slack_bot, outside, monkeypatch):
    inbox, posts, targets = outside
    original = slack_process.SlackBot.__init__

    def with_targets(self, folder, config_extra="", app_token=None):
        original(self, folder, config_extra, app_token)
        text = self.config.read_text(encoding="utf-8")
        self.config.write_text(text.replace("broadcast:", "broadcast:\n" + targets.rstrip("\n"), 1), encoding="utf-8")

    monkeypatch.setattr(slack_process.SlackBot, "__init__", with_targets)
    bot = await start_slack_bot()
    assert "e-mail via 127.0.0.1:" in bot.output() and "webhooks" in bot.output()
    room = (await bot.declare(settled=False))["id"]
    await bot.command(CAROL, f"draft {LINE}", room)
    await bot.message(BOB, "Draft v1")
    await bot.command(BOB, "approve", room)
    await bot.wait_for(lambda: bot.query("SELECT count(*) FROM approval")[0][0] == 1, what="Bob's approval")
    await bot.command(ALICE, "approve", room)
    await bot.message(room, "Approved line of #1 — v1", 15)
    await bot.command(CAROL, "publish press-release cms", room)
    await bot.message(room, "The e-mail to gone@b.example was not delivered (refused: 550 5.1.1 No such user)", 20)
    await bot.wait_for(lambda: inbox.mails and posts, 20, "the mail and the webhook")
    [(to, mail)] = inbox.mails
    assert to == ["desk@a.example"] and mail.get_payload(decode=True) == LINE.encode("utf-8")
    [(headers, body)] = posts
    assert headers["X-OneVoice-Signature"] == "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert json.loads(body)["text"] == LINE
    assert SECRET not in bot.output()  # the secret is read at delivery, never logged
