"""Part of the fake Slack (slack_api.py): what the user sees of the bot's answers that do not go through the Web API —
the body of an acknowledgement (a slash command's answer) and what is POSTed to a request's `response_url`.

Slack shows both in the channel the request came from, whether or not the bot is a member there: ephemeral (to the
user alone) unless `response_type` is `in_channel`. A response_url takes at most five posts (then `used_url`).
"""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

from aiohttp import web

from .slack_requests import block_errors

RESPONSE_USES = 5


class Responses:
    """Acks and response_url posts shown as messages (mixed into FakeSlack, which holds `messages` and the faults)."""

    def show(self, channel: str, user: str | None, body: dict, via: str) -> dict:
        """Record an answer as the message Slack would show; `ephemeral` unless the body says `in_channel`."""
        ephemeral = body.get("response_type") != "in_channel"
        message = {"channel": channel, "ts": self.next_ts(), "text": body.get("text"), "blocks": body.get("blocks"), "mrkdwn": None}
        message.update(user=user if ephemeral else None, thread_ts=None, ephemeral=ephemeral, via=via)
        self.messages.append(message)
        return message

    def receive_ack(self, request_body: bytes, status: int, answer: str) -> dict | None:
        """What Slack does with the bot's HTTP answer to a slash command: a 200 with a message body shows it."""
        fields = dict(parse_qsl(request_body.decode("utf-8", "replace"), keep_blank_values=True))
        if "command" not in fields:
            return None  # buttons and forms: Slack shows nothing of an ack's body
        return self._ack_shown(fields, status, answer)

    def _ack_shown(self, fields: dict, status: int, answer) -> dict | None:
        if status != 200 or not answer or fields.get("trigger_id") in self.acked_triggers:
            return None  # one invocation, one answer: Slack uses the first ack of a command it redelivered
        self.acked_triggers.add(fields.get("trigger_id"))
        try:
            body = json.loads(answer) if isinstance(answer, str) else answer
        except ValueError:
            body = {"text": answer}  # a plain-text ack is shown as text
        if not isinstance(body, dict) or not (body.get("text") or body.get("blocks")):
            return None
        if body.get("blocks") is not None and (errors := block_errors(body["blocks"], 50)):
            self.refused_acks.append({"fields": fields, "body": body, "errors": errors})  # Slack shows the user an error
            return None
        self.acks.append(body)
        return self.show(fields.get("channel_id", ""), fields.get("user_id"), body, "ack")

    async def _response(self, request: web.Request) -> web.Response:
        name, body = request.match_info["name"], await request.json()
        fault = self._fault("response_url")
        self.response_log.append((name, body, fault[0] if fault else 200))
        if fault:
            return self._fault_response(*fault)
        self.response_uses[name] = self.response_uses.get(name, 0) + 1
        if self.response_uses[name] > RESPONSE_USES:
            return web.json_response({"ok": False, "error": "used_url"}, status=404)
        if body.get("blocks") is not None and block_errors(body["blocks"], 50):
            return web.json_response({"ok": False, "error": "invalid_blocks"}, status=400)
        if not body.get("text") and not body.get("blocks"):
            return web.json_response({"ok": False, "error": "no_text"}, status=400)
        self.responses.append(body)
        if name in self.response_targets:
            self.show(*self.response_targets[name], body, "response_url")
        return web.json_response({"ok": True})
