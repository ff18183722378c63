"""Slack in: slash commands, buttons, forms and @mentions become neutral commands, decided before Slack is told OK.

Bolt runs each listener to its end before answering (process_before_response): the command is decided and committed in a
worker thread first, then acknowledged, well within Slack's 3 s. A process that dies before the commit never said OK, so
Slack shows the user a failure instead of losing the command. A slash command's answer rides in the ack itself; other
answers (buttons, forms, @mentions, answers too big for an ack) are an outbox effect written in the command's transaction
and delivered through the request's `response_url` (SlackAdapter.answer), retried like every effect.
"""

import asyncio
import json
import logging
import re

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.app import OneVoice
from bot.rations import TokenBuckets
from bot.slack.delivery import is_response_url
from bot.slack.render import ACTION_PREFIX, blocks, button_command, mrkdwn, unescape
from config.model import SEVERITIES
from handlers.core.effects import Answer
from handlers.core.ports import Command, Reply, RoomRef, UserRef
from handlers.text.i18n import _, speaking
from handlers.text.markup import Message

log = logging.getLogger(__name__)

PLATFORM = "slack"
BUTTON_VALUE_LIMIT = 2000  # Slack's limit for a button's value: what a real click can carry
PROMPT_VIEW, DECLARE_VIEW = "ov_prompt", "ov_declare"
ACK_BLOCKS, ACK_TEXT = 50, 40_000  # a message's limits: a longer answer goes by response_url, in pieces
FORM_ERROR = 150  # characters of an inline form error


class SlackFront:
    """The Bolt app: listeners that translate, never decide."""

    def __init__(self, bot: OneVoice, client: AsyncWebClient, signing_secret: str, on_work=None):
        self.bot, self.client = bot, client
        self.on_work = on_work or (lambda: None)  # something was decided: wake the delivery loop
        self._after_ack: set[asyncio.Task] = set()  # forms being opened after the ack (a reference keeps each task alive)
        self.mentions = TokenBuckets(burst=2, per_minute=2)  # public answers to @mentions, per person: no channel flooding
        quiet = logging.getLogger("onevoice.slack_bolt")
        quiet.setLevel(logging.ERROR)  # Bolt warns that SLACK_BOT_TOKEN is unused when a client is given: it is meant
        self.app = AsyncApp(signing_secret=signing_secret, client=client, process_before_response=True, logger=quiet)
        self.app.command(bot.config.slack.command)(self.on_command)
        self.app.action(re.compile(f"^{ACTION_PREFIX}"))(self.on_button)
        self.app.view(PROMPT_VIEW)(self.on_prompt)
        self.app.view(DECLARE_VIEW)(self.on_declare_form)
        self.app.event("app_mention")(self.on_mention)

    async def on_command(self, ack, body: dict) -> None:
        """`/crisis <verb> …`: decided and committed, then acknowledged with the answer in the ack."""
        channel, user, url = body.get("channel_id", ""), body["user_id"], body.get("response_url")
        command = Command(
            UserRef(PLATFORM, user, body.get("user_name", "")),
            unescape(body.get("text", "")),
            RoomRef(PLATFORM, channel, direct=channel.startswith("D")),
            event_id=f"slack:{body.get('trigger_id') or url}",
            acked_once=True,  # Slack never sends a slash command again once it got its 200 (events and clicks it does)
        )

        acks: list[tuple[Reply, dict]] = []  # the ack's body, rendered once while deciding: checked there, sent here

        def too_big_for_the_ack(reply: Reply) -> Answer | None:
            if reply.form:
                return None
            shown = in_ack(reply)
            if fits(shown):
                acks.append((reply, shown))
                return None
            return _route(reply, url, user, channel)

        reply = await self._decide(command, too_big_for_the_ack)
        if reply.form == "declare" and body.get("trigger_id"):
            await ack()
            self._soon(self._declare_form(body["trigger_id"], channel, url))
        elif reply.echoed or reply.answer_queued:
            await ack()
        else:  # the reply decided (not one put in its place when the commit failed): its body as rendered then
            await ack(**next((shown for decided, shown in acks if decided is reply), None) or in_ack(reply))

    async def on_button(self, ack, body: dict) -> None:
        """A button carries a command; one that needs more words (a reason) opens a form first."""
        action = body["actions"][0]
        text, prompt = button_command(action.get("value", ""))
        channel = (body.get("channel") or body.get("container") or {}).get("id") or body.get("container", {}).get("channel_id", "")
        user, url = body["user"]["id"], body.get("response_url")
        if prompt:
            if len(text) > BUTTON_VALUE_LIMIT:  # not one of our buttons, and too long to carry through a form
                log.info("ignored a button whose command is %d characters long", len(text))
                await ack()
                return
            pressed = Command(UserRef(PLATFORM, user), text, RoomRef(PLATFORM, channel, direct=channel.startswith("D")))
            refusal = await asyncio.to_thread(self.bot.refusal_before_asking, pressed)  # the presser first, then the form
            await ack()
            self._soon(self._respond_now(url, refusal) if refusal else self._ask(body["trigger_id"], text, prompt, channel, url))
            return
        event = f"slack:action:{body.get('trigger_id')}:{action.get('action_ts', '')}"
        command = Command(UserRef(PLATFORM, user), text, RoomRef(PLATFORM, channel, direct=channel.startswith("D")), event)
        reply = await self._decide(command, lambda reply: None if reply.form else _route(reply, url, user, channel))
        await ack()
        if reply.form == "declare" and body.get("trigger_id"):
            self._soon(self._declare_form(body["trigger_id"], channel, url))
        elif _unanswered(reply):  # nothing was written (the database is away): say so, as well as can be
            self._soon(self._respond_now(url, reply))

    async def on_prompt(self, ack, body: dict) -> None:
        """The form a button opened: its command plus the words typed."""
        meta = _metadata(body)
        if not isinstance(meta.get("command"), str) or not isinstance(meta.get("channel"), str):
            log.warning("a form came back without the command it was opened for; ignored")
            await ack()
            return
        typed = _single_value(body["view"]["state"]["values"])
        user, channel = body["user"]["id"], meta["channel"]
        command = Command(UserRef(PLATFORM, user), f"{meta['command']} {typed}".strip(), RoomRef(PLATFORM, channel), _view_event(body))
        reply = await self._decide(command, lambda reply: _route(reply, _url(meta), user, channel))
        await self._close_form(ack, reply, "answer")

    async def on_declare_form(self, ack, body: dict) -> None:
        """The declare form: playbook, severity and title become `declare <playbook> <sev> <title>`."""
        values = body["view"]["state"]["values"]
        picked = {action: _value(field) for block in values.values() for action, field in block.items()}
        text = f"declare {picked.get('playbook', '')} {picked.get('severity', '')} {picked.get('title', '')}".strip()
        meta = _metadata(body)
        channel = meta.get("channel") if isinstance(meta.get("channel"), str) else ""
        user = body["user"]["id"]
        command = Command(UserRef(PLATFORM, user), text, RoomRef(PLATFORM, channel), _view_event(body))
        reply = await self._decide(command, lambda reply: _route(reply, _url(meta), user, ""))
        await self._close_form(ack, reply, "title")

    async def on_mention(self, event: dict, body: dict) -> None:
        """ "@OneVoice" in a channel: the command overview, in that channel (once, whichever replica Slack retries on)."""
        seen = f"slack:event:{body['event_id']}" if body.get("event_id") else None
        user, channel = event.get("user", ""), event.get("channel", "")
        if not self.mentions.take(user):
            log.info("a mention by %s in %s was not answered: the help was posted for them a moment ago", user, channel)
            return
        command = Command(UserRef(PLATFORM, user), "help", RoomRef(PLATFORM, channel), seen)
        await self._decide(command, lambda reply: Answer(reply.message, to=user, private=reply.private, channel=channel, in_channel=True))
        # Bolt acknowledges the event when this returns: after the answer is committed to the outbox

    async def _decide(self, command: Command, answer) -> Reply:
        """Decide and commit the command (and its answer still to send) off the event loop; wake the delivery if it queued
        anything (a status or a refusal wrote nothing to deliver: no delivery pass to compete with the next command)."""
        reply = await asyncio.to_thread(self.bot.handle, command, answer)
        if reply.work:  # once the answer is on its way: waking the scheduler costs more than deciding a note
            asyncio.get_running_loop().call_soon(self.on_work)
        return reply

    async def _close_form(self, ack, reply: Reply, block_id: str) -> None:
        """Close the form once decided; when nothing could be written, keep it open with the reason under the field."""
        if _unanswered(reply):
            await ack(response_action="errors", errors={block_id: reply.message.plain()[:FORM_ERROR]})
        else:
            await ack()

    def _soon(self, work) -> None:
        """Run after the ack: what needs no decision (opening a form, a best-effort word)."""
        task = asyncio.create_task(work)
        self._after_ack.add(task)
        task.add_done_callback(self._after_ack.discard)

    async def _respond_now(self, url: str | None, reply: Reply) -> None:
        if not url or not is_response_url(url, self.client.base_url):
            return
        try:
            await AsyncWebhookClient(url, timeout=10).send_dict({**in_ack(reply), "replace_original": False})
        except Exception:  # nothing was changed, and the user can click again
            log.warning("could not tell a Slack user that nothing was changed", exc_info=True)

    async def _ask(self, trigger_id: str, command: str, prompt: str, channel: str, url: str | None) -> None:
        with speaking(self.bot.config.language):
            view = {
                "type": "modal",
                "callback_id": PROMPT_VIEW,
                "private_metadata": json.dumps({"command": command, "channel": channel, "response_url": url}),
                "title": {"type": "plain_text", "text": "OneVoice"},
                "submit": {"type": "plain_text", "text": _("Send")},
                "blocks": [_input("answer", "text", prompt.capitalize(), multiline=True)],
            }
        await self._open(trigger_id, view)

    async def _declare_form(self, trigger_id: str, channel: str, url: str | None) -> None:
        config = self.bot.config
        with speaking(config.language):
            playbooks = [(key, p.title.get(config.language)) for key, p in config.playbooks.items()]
            view = {
                "type": "modal",
                "callback_id": DECLARE_VIEW,
                "private_metadata": json.dumps({"channel": channel, "response_url": url}),
                "title": {"type": "plain_text", "text": _("Declare an incident")[:24]},
                "submit": {"type": "plain_text", "text": _("Declare")},
                "blocks": [
                    _select("playbook", _("Playbook"), playbooks),
                    _select("severity", _("Severity"), [(s, s) for s in SEVERITIES]),
                    _input("title", "title", _("Title")),
                ],
            }
        await self._open(trigger_id, view)

    async def _open(self, trigger_id: str, view: dict) -> None:
        try:
            await self.client.views_open(trigger_id=trigger_id, view=view)
        except Exception:  # nothing was decided yet: the user sees no form and can ask again
            log.exception("could not open a Slack form")


def fits(body: dict) -> bool:
    """Whether an acknowledgement's body (`in_ack`) is small enough to carry the answer (one message's limits)."""
    return len(body["blocks"]) <= ACK_BLOCKS and len(body["text"]) <= ACK_TEXT


def in_ack(reply: Reply) -> dict:
    """The answer as an acknowledgement's body: ephemeral unless public (its mrkdwn rendered once, for text and blocks)."""
    message = reply.message
    shown = mrkdwn(message)
    return {"response_type": "ephemeral" if reply.private else "in_channel", "text": shown, "blocks": blocks(message, shown)}


def _route(reply: Reply, url: str | None, user: str, channel: str) -> Answer:
    """The answer to send later: by the request's response_url (works where the bot is not a member), else to the user."""
    return Answer(reply.message, to=user, private=reply.private, channel=channel, response_url=url)


def _url(meta: dict) -> str | None:
    url = meta.get("response_url")
    return url if isinstance(url, str) else None


def _unanswered(reply: Reply) -> bool:
    """Nothing was queued to answer (the database could not be written), and the reply is not the room post or a repeat."""
    return not (reply.echoed or reply.answer_queued or reply.duplicate)


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
