"""Slack as a delivery target: outbox effects become Web API calls, paced per channel, retried, never doubled."""

import asyncio
import hashlib
import json
import logging
import time
from urllib.parse import urlsplit

from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler, AsyncServerErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.outbox.adapter import RetryLater, Undeliverable, pin_soon, resumed, touched, wait_until
from bot.slack.render import blocks, escape, mrkdwn
from bot.slack.render import topic as slack_topic
from handlers.core.effects import Answer, OpenRoom
from handlers.text.markup import Message
from storage.models import Room

log = logging.getLogger(__name__)

PACE = 1.0  # seconds between two messages to one channel (Slack's ~1 message/s): ONEVOICE_SLACK_PACE_SECONDS's default
PACED_KEPT = 1000  # channels whose last post is remembered before the quiet ones are forgotten
MESSAGE_BLOCKS = 50  # Slack's limit of blocks in one message: a longer answer goes in pieces
LIST_PAGES = 1000  # conversations.list pages read at most (1,000 channels a page) when looking for a channel by name
# Error codes a caller handles itself (a name taken, a pin already there, a message deleted); every other refusal is
# for good at once: retrying an unknown 4xx cannot help.
HANDLED = {"name_taken", "already_pinned", "already_in_channel", "cant_invite_self", "message_not_found", "cant_update_message"}
TRANSIENT = {"internal_error", "fatal_error", "service_unavailable", "request_timeout", "ratelimited"}  # Slack's side: later
GONE = {"message_not_found", "cant_update_message"}  # the message to edit was deleted (or is no longer ours to edit)


RESPONSE_HOSTS = {"hooks.slack.com", "hooks.slack-gov.com"}  # where Slack's (and GovSlack's) response_urls live


def is_response_url(url: str, api_base: str) -> bool:
    """Whether a response_url is Slack's own (https on hooks.slack.com, or the host of the configured API base, as a
    test or a proxy sets it): the bot never POSTs to whatever URL a request names."""
    try:
        target, api = urlsplit(url), urlsplit(api_base)
    except ValueError:
        return False
    if target.scheme == "https" and target.hostname in RESPONSE_HOSTS and not target.username and not target.password:
        return True
    return bool(api.netloc) and (target.scheme, target.netloc) == (api.scheme, api.netloc)


def _in_place_retries() -> list:
    return [AsyncRateLimitErrorRetryHandler(max_retry_count=1), AsyncServerErrorRetryHandler(max_retry_count=1)]


def web_client(token: str, base_url: str) -> AsyncWebClient:
    """A Web API client on the configured base URL, retrying a 429 (after Retry-After) and a 5xx once in place."""
    return AsyncWebClient(token=token, base_url=base_url, retry_handlers=_in_place_retries())


class SlackAdapter:
    """Delivers effects to one Slack workspace."""

    platform = "slack"

    def __init__(self, client: AsyncWebClient, private_rooms: bool = False, pace: float | None = None):
        self.client, self.private_rooms = client, private_rooms
        self.pace = pace  # seconds between two messages to one channel; None: PACE, read at each post
        self._last_post: dict[str, float] = {}  # each channel's last slot booked
        self._posted: dict[str, float] = {}  # and when its last message really went

    async def _call(self, method: str, **params) -> dict:
        """One Web API call; a platform refusal is for good, a rate limit or outage is for later."""
        touched()  # from here the effect may have reached Slack: its row keeps the batch's turn until it is done
        try:
            response = await self.client.api_call(method, json=params)
        except SlackApiError as error:
            status = error.response.status_code
            code = error.response.get("error", "") if isinstance(error.response.data, dict) else ""
            if status == 429:
                raise RetryLater(f"{method}: rate limited", after=float(error.response.headers.get("Retry-After", 1))) from None
            if status >= 500 or (status < 400 and code in TRANSIENT):  # an HTTP 4xx is final, whatever its code
                raise RetryLater(f"{method}: {code or f'HTTP {status}'}") from None
            if code in HANDLED:
                raise
            raise Undeliverable(f"{method}: {code or f'HTTP {status}'}") from None
        return response.data

    async def _paced(self, channel: str) -> None:
        """Keep to about one message a second per channel (or the pace set)."""
        pace = PACE if self.pace is None else self.pace
        now = time.monotonic()
        slot = max(now, self._last_post.get(channel, 0) + pace)
        # The slot is booked before waiting: two messages waiting side by side for one channel each get their own.
        self._last_post[channel] = slot
        if slot > now:
            await wait_until(lambda: slot - time.monotonic(), asyncio.sleep)  # aside: the batch's other lanes send meanwhile

        # A wait aside ends when the batch's turn comes back, maybe long after its slot, when a message booked later for
        # this channel has just gone: never closer than the pace to the last one that really went.
        def late() -> float:
            return self._posted.get(channel, -pace) + pace - time.monotonic()

        while late() > 0:
            await wait_until(late, asyncio.sleep)
        self._posted[channel] = time.monotonic()
        self._last_post[channel] = max(self._last_post.get(channel, 0.0), self._posted[channel])  # a late one moves the next slot
        if len(self._posted) > PACED_KEPT:  # every DM is a channel: forget those whose pace has long run out
            quiet = [name for name, at in self._last_post.items() if at < self._posted[channel] - 10 * pace]
            for name in quiet:
                self._last_post.pop(name, None)
                self._posted.pop(name, None)

    async def _post(self, channel: str, message: Message) -> dict:
        await self._paced(channel)
        data = await self._call("chat.postMessage", channel=channel, text=mrkdwn(message), blocks=blocks(message), unfurl_links=False)
        return {"message_id": data["ts"], "channel": data.get("channel", channel)}

    async def open_room(self, room: Room, effect: OpenRoom, card: Message) -> dict:
        """Create the channel (or find the one an interrupted attempt made), set the topic, post and pin the card."""
        progress, topic = {}, slack_topic(effect.topic)
        try:
            channel = room.external_id or await self._create_channel(room.name, topic, effect.private)
            progress["external_id"] = channel
            if not room.card_message_id:
                await self._call("conversations.setTopic", channel=channel, topic=topic)
            card_ts = room.card_message_id or (await self._post(channel, card))["message_id"]
            progress["card_message_id"] = card_ts
            await self._pin(channel, card_ts)
        except RetryLater as wait:
            wait.progress = progress  # a retry resumes from here: never a second channel or card
            raise
        return {"external_id": channel, "card_message_id": card_ts}

    async def _create_channel(self, name: str, topic: str, private: bool) -> str:
        for attempt in range(1, 10):
            candidate = name if attempt == 1 else f"{name[:76]}-{attempt}"
            try:
                data = await self._call("conversations.create", name=candidate, is_private=private or self.private_rooms)
                return data["channel"]["id"]
            except SlackApiError as error:
                if error.response.get("error") != "name_taken":
                    raise Undeliverable(f"conversations.create: {error.response.get('error')}") from None
            ours = await self._channel_with_topic(candidate, topic)
            if ours:
                return ours  # created before a crash: never a second channel for one incident
        raise Undeliverable(f"conversations.create: no free name near {name}")

    async def _channel_with_topic(self, name: str, topic: str) -> str | None:
        """The channel of that name and topic, looked for on every page of the workspace's channels."""
        cursor = ""
        for _page in range(LIST_PAGES):
            more = {"cursor": cursor} if cursor else {}
            data = await self._call("conversations.list", types="public_channel,private_channel", limit=1000, exclude_archived=True, **more)
            for channel in data.get("channels", []):
                if channel.get("name") == name and channel.get("topic", {}).get("value", "") == topic[:250]:
                    return channel["id"]
            cursor = (data.get("response_metadata") or {}).get("next_cursor") or ""
            if not cursor:
                return None
        log.warning("stopped looking for channel %s after %d pages of channels", name, LIST_PAGES)
        return None

    async def _pin(self, channel: str, ts: str) -> None:
        try:
            await self._call("pins.add", channel=channel, timestamp=ts)
        except SlackApiError as error:
            if error.response.get("error") != "already_pinned":
                raise Undeliverable(f"pins.add: {error.response.get('error')}") from None

    async def post(self, room: Room | None, to: str | None, message: Message) -> dict:
        return await self._post(room.external_id if room else to, message)

    async def edit_card(self, room: Room, card: Message) -> dict:
        return await self._edit_pinned(room.external_id, room.card_message_id, card)

    async def _edit_pinned(self, channel: str, ts: str, message: Message) -> dict:
        """Edit a pinned message in place; when it was deleted, post and pin a fresh one (its id is returned)."""
        try:
            await self._call("chat.update", channel=channel, ts=ts, text=mrkdwn(message), blocks=blocks(message))
        except SlackApiError as error:
            if error.response.get("error") not in GONE:
                raise Undeliverable(f"chat.update: {error.response.get('error')}") from None
            log.warning("pinned message %s in %s is gone: posting a fresh one", ts, channel)
            posted = await self._post(channel, message)
            await pin_soon(self._pin, channel, posted["message_id"])
            return posted
        return {"message_id": ts}

    async def invite(self, room: Room, users: list[str]) -> dict:
        try:
            await self._call("conversations.invite", channel=room.external_id, users=",".join(users))
        except SlackApiError as error:
            if error.response.get("error") not in ("already_in_channel", "cant_invite_self"):
                raise Undeliverable(f"conversations.invite: {error.response.get('error')}") from None
        return {"invited": users}

    async def dm(self, to: str, message: Message) -> dict:
        return await self._post(to, message)

    async def pin(self, room: Room, message_id: str | None, message: Message) -> dict:
        if message_id:
            return await self._edit_pinned(room.external_id, message_id, message)
        posted = await self._post(room.external_id, message)
        await pin_soon(self._pin, room.external_id, posted["message_id"])
        return posted

    async def edit_message(self, to: str, message_id: str, message: Message) -> dict:
        try:
            await self._call("chat.update", channel=to, ts=message_id, text=mrkdwn(message), blocks=blocks(message))
        except SlackApiError as error:
            raise Undeliverable(f"chat.update: {error.response.get('error')}") from None
        return {"message_id": message_id}

    async def publish(self, to: str, text: str) -> dict:
        """The approved text as sent: no mrkdwn, only Slack's three escapes, which Slack shows back as typed."""
        await self._paced(to)
        data = await self._call("chat.postMessage", channel=to, text=escape(text), mrkdwn=False, unfurl_links=False)
        return {"message_id": data["ts"]}

    async def answer(self, effect: Answer) -> dict:
        """The answer to a command: through its response_url (which works where the bot is not a member), else by the bot."""
        message, private, url = effect.message, effect.private and not effect.in_channel, effect.response_url
        if url and not is_response_url(url, self.client.base_url):
            log.warning("a response_url outside Slack was not used: %.80s", url)
        elif url:
            try:
                return await self._respond(url, message, private)
            except Undeliverable as gone:  # expired (after 30 min) or used up: the bot says it instead
                log.info("answering by the bot instead: %s", gone)
        channel = effect.channel or ""
        if not private and channel and not channel.startswith("D"):
            try:
                return await self._post(channel, message)
            except Undeliverable:  # a channel the bot cannot post in: the asker still hears the answer
                log.info("answer for %s not postable in %s; sent by direct message", effect.to, channel)
        return await self._post(effect.to, message)

    async def _respond(self, url: str, message: Message, private: bool) -> dict:
        """POST the message to a response_url, in pieces of at most 50 blocks (Slack allows a few posts to one URL); a
        retry resumes from the first piece not yet shown (the count shown is kept as progress), so none shows twice."""
        rendered = blocks(message)
        pieces = [rendered[i : i + MESSAGE_BLOCKS] for i in range(0, len(rendered), MESSAGE_BLOCKS)]
        fingerprint = hashlib.sha256(json.dumps([url, pieces]).encode()).hexdigest()[:24]
        earlier = resumed().get("pieces") or {}
        shown = earlier.get("shown", 0) if earlier.get("of") == fingerprint else 0
        client = AsyncWebhookClient(url, timeout=10, retry_handlers=_in_place_retries())
        for index in range(shown, len(pieces)):
            piece = pieces[index]
            text = mrkdwn(message) if len(pieces) == 1 else "\n".join(b["text"]["text"] for b in piece if "text" in b)
            body = {"response_type": "ephemeral" if private else "in_channel", "replace_original": False, "text": text, "blocks": piece}
            touched()  # shown from here on: the row keeps the batch's turn (a fallback post must not wait aside half out)
            response = await client.send_dict(body)
            if response.status_code == 429 or response.status_code >= 500:
                wait = RetryLater(f"response_url: HTTP {response.status_code}", after=_retry_after(response.headers))
                wait.progress = {"pieces": {"of": fingerprint, "shown": index}} if index else {}
                raise wait
            if response.status_code != 200:
                raise Undeliverable(f"response_url: HTTP {response.status_code} {response.body[:100]}")
        return {"via": "response_url", "pieces": len(pieces)}


def _retry_after(headers) -> float | None:
    value = (headers or {}).get("Retry-After")
    return float(value) if value and value.isdigit() else None
