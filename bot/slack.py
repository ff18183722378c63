"""Slack in: slash commands, buttons and forms become neutral commands; answers go back ephemeral or in channel.

Every request is acknowledged at once (Slack allows 3 s); the command runs after the ack.
"""

import asyncio
import hashlib
import hmac
import json
import logging
import re
import time
from urllib.parse import parse_qsl

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.app import OneVoice
from bot.slack_render import ACTION_PREFIX, blocks, button_command, mrkdwn, unescape
from config.model import SEVERITIES
from handlers.i18n import _, speaking
from handlers.markup import Message
from handlers.ports import Command, Reply, RoomRef, UserRef

log = logging.getLogger(__name__)

PLATFORM = "slack"
BUTTON_VALUE_LIMIT = 2000  # Slack's limit for a button's value: what a real click can carry
PROMPT_VIEW, DECLARE_VIEW = "ov_prompt", "ov_declare"


class SlackFront:
    """The Bolt app: listeners that translate, never decide."""

    def __init__(self, bot: OneVoice, client: AsyncWebClient, signing_secret: str, on_work=None):
        self.bot, self.client = bot, client
        self.on_work = on_work or (lambda: None)  # something was decided: wake the delivery loop
        quiet = logging.getLogger("onevoice.slack_bolt")
        quiet.setLevel(logging.ERROR)  # Bolt warns that SLACK_BOT_TOKEN is unused when a client is given: it is meant
        self.app = AsyncApp(signing_secret=signing_secret, client=client, process_before_response=False, logger=quiet)
        self.app.command(bot.config.slack.command)(self.on_command)
        self.app.action(re.compile(f"^{ACTION_PREFIX}"))(self.on_button)
        self.app.view(PROMPT_VIEW)(self.on_prompt)
        self.app.view(DECLARE_VIEW)(self.on_declare_form)
        self.app.event("app_mention")(self.on_mention)

    async def on_command(self, ack, body: dict) -> None:
        """`/crisis <verb> …`: ack within Slack's 3 s, then run."""
        await ack()
        channel = body.get("channel_id", "")
        command = Command(
            UserRef(PLATFORM, body["user_id"], body.get("user_name", "")),
            unescape(body.get("text", "")),
            RoomRef(PLATFORM, channel, direct=channel.startswith("D")),
            event_id=f"slack:{body.get('trigger_id') or body.get('response_url')}",
        )
        await self._run(command, body["user_id"], channel, body.get("trigger_id"))

    async def on_button(self, ack, body: dict) -> None:
        """A button carries a command; one that needs more words (a reason) opens a form first."""
        await ack()
        action = body["actions"][0]
        text, prompt = button_command(action.get("value", ""))
        channel = (body.get("channel") or body.get("container") or {}).get("id") or body.get("container", {}).get("channel_id", "")
        if prompt:
            if len(text) > BUTTON_VALUE_LIMIT:  # not one of our buttons, and too long to carry through a form
                log.info("ignored a button whose command is %d characters long", len(text))
                return
            await self._ask(body["trigger_id"], text, prompt, channel)
            return
        event = f"slack:action:{body.get('trigger_id')}:{action.get('action_ts', '')}"
        command = Command(UserRef(PLATFORM, body["user"]["id"]), text, RoomRef(PLATFORM, channel, direct=channel.startswith("D")), event)
        await self._run(command, body["user"]["id"], channel, body.get("trigger_id"))

    async def on_prompt(self, ack, body: dict) -> None:
        """The form a button opened: its command plus the words typed."""
        await ack()
        meta = _metadata(body)
        if not isinstance(meta.get("command"), str) or not isinstance(meta.get("channel"), str):
            log.warning("a form came back without the command it was opened for; ignored")
            return
        typed = _single_value(body["view"]["state"]["values"])
        user = body["user"]["id"]
        command = Command(
            UserRef(PLATFORM, user), f"{meta['command']} {typed}".strip(), RoomRef(PLATFORM, meta["channel"]), _view_event(body)
        )
        await self._run(command, user, meta["channel"], None)

    async def on_declare_form(self, ack, body: dict) -> None:
        """The declare form: playbook, severity and title become `declare <playbook> <sev> <title>`."""
        await ack()
        values = body["view"]["state"]["values"]
        picked = {action: _value(field) for block in values.values() for action, field in block.items()}
        text = f"declare {picked.get('playbook', '')} {picked.get('severity', '')} {picked.get('title', '')}".strip()
        channel = _metadata(body).get("channel")
        user = body["user"]["id"]
        room = RoomRef(PLATFORM, channel if isinstance(channel, str) else "")
        await self._run(Command(UserRef(PLATFORM, user), text, room, _view_event(body)), user, "", None)

    async def on_mention(self, event: dict, body: dict) -> None:
        """ "@OneVoice" in a channel: the command overview, in that channel (once, whichever replica Slack retries on)."""
        seen = f"slack:event:{body['event_id']}" if body.get("event_id") else None
        command = Command(UserRef(PLATFORM, event.get("user", "")), "help", RoomRef(PLATFORM, event.get("channel", "")), seen)
        reply = await asyncio.to_thread(self.bot.handle, command)
        if reply.data.get("duplicate"):
            return
        await self.client.chat_postMessage(channel=event.get("channel", ""), text=mrkdwn(reply.message), blocks=blocks(reply.message))

    async def _run(self, command: Command, user: str, channel: str, trigger_id: str | None) -> None:
        reply = await asyncio.to_thread(self.bot.handle, command)
        if reply.data.get("form") == "declare" and trigger_id:
            await self._declare_form(trigger_id, channel)
            return
        if not reply.echoed and not reply.data.get("duplicate"):
            await self._answer(reply, user, channel)
        self.on_work()

    async def _answer(self, reply: Reply, user: str, channel: str) -> None:
        """Private answers as ephemeral messages (a DM in a DM), public ones in the channel."""
        message = reply.message
        try:
            if reply.private and channel and not channel.startswith("D"):
                await self.client.chat_postEphemeral(channel=channel, user=user, text=mrkdwn(message), blocks=blocks(message))
            else:
                await self.client.chat_postMessage(
                    channel=channel if channel and not reply.private else user, text=mrkdwn(message), blocks=blocks(message)
                )
        except Exception:  # the decision is committed; a lost answer is logged, not raised back to Slack
            log.exception("could not answer a Slack command")

    async def _ask(self, trigger_id: str, command: str, prompt: str, channel: str) -> None:
        with speaking(self.bot.config.language):
            view = {
                "type": "modal",
                "callback_id": PROMPT_VIEW,
                "private_metadata": json.dumps({"command": command, "channel": channel}),
                "title": {"type": "plain_text", "text": "OneVoice"},
                "submit": {"type": "plain_text", "text": _("Send")},
                "blocks": [_input("answer", "text", prompt.capitalize(), multiline=True)],
            }
        await self.client.views_open(trigger_id=trigger_id, view=view)

    async def _declare_form(self, trigger_id: str, channel: str) -> None:
        config = self.bot.config
        with speaking(config.language):
            playbooks = [(key, p.title.get(config.language)) for key, p in config.playbooks.items()]
            view = {
                "type": "modal",
                "callback_id": DECLARE_VIEW,
                "private_metadata": json.dumps({"channel": channel}),
                "title": {"type": "plain_text", "text": _("Declare an incident")[:24]},
                "submit": {"type": "plain_text", "text": _("Declare")},
                "blocks": [
                    _select("playbook", _("Playbook"), playbooks),
                    _select("severity", _("Severity"), [(s, s) for s in SEVERITIES]),
                    _input("title", "title", _("Title")),
                ],
            }
        await self.client.views_open(trigger_id=trigger_id, view=view)


def _input(block_id: str, action_id: str, label: str, multiline: bool = False) -> dict:
    element = {"type": "plain_text_input", "action_id": action_id, "multiline": multiline}
    return {"type": "input", "block_id": block_id, "label": {"type": "plain_text", "text": label[:2000]}, "element": element}


def _select(action_id: str, label: str, options: list[tuple[str, str]]) -> dict:
    choices = [{"text": {"type": "plain_text", "text": text[:75]}, "value": value} for value, text in options[:100]]
    element = {"type": "static_select", "action_id": action_id, "options": choices}
    return {"type": "input", "block_id": action_id, "label": {"type": "plain_text", "text": label}, "element": element}


def _value(field: dict) -> str:
    if field.get("type") == "static_select":
        return (field.get("selected_option") or {}).get("value", "")
    return (field.get("value") or "").strip()


def _single_value(values: dict) -> str:
    return next((_value(field) for block in values.values() for field in block.values()), "")


def _metadata(body: dict) -> dict:
    """What we stored in a form when opening it; {} when it does not read as ours."""
    try:
        meta = json.loads(body["view"].get("private_metadata") or "{}")
    except ValueError:
        return {}
    return meta if isinstance(meta, dict) else {}


def _view_event(body: dict) -> str:
    view = body["view"]
    return f"slack:view:{view.get('id', '')}:{view.get('hash', '')}:{body.get('trigger_id', '')}"


def rendered(message: Message) -> dict:
    """The Slack form of a neutral message (for tests and the bench)."""
    return {"text": mrkdwn(message), "blocks": blocks(message)}


def unreadable(body: bytes, content_type: str | None) -> bool:
    """A body Slack never sends and Bolt cannot parse: not UTF-8, or JSON (or a `payload=` field) that is not an object."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return True
    if content_type == "application/json" or text.startswith("{"):
        raw = text  # Bolt's own test for a JSON body
    elif "payload" in text:
        raw = dict(parse_qsl(text, keep_blank_values=True)).get("payload")
        if raw is None:
            return False
    else:
        return False
    try:
        return not isinstance(json.loads(raw), dict)
    except ValueError:
        return True


def signed_by_slack(secret: str, body: bytes, headers) -> bool:
    """Slack's v0 signature over the raw bytes, within five minutes (slack_sdk's verifier needs a UTF-8 body)."""
    stamp, signature = headers.get("x-slack-request-timestamp", ""), headers.get("x-slack-signature", "")
    if not stamp.isdigit() or abs(time.time() - int(stamp)) > 300:
        return False
    expected = hmac.new(secret.encode(), b"v0:" + stamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(f"v0={expected}", signature)
