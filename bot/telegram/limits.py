"""Telegram budgets: per-person buckets for prompts and refusals, and a group budget that incident traffic gets first.

Telegram allows a bot about 20 messages a minute in one group. The outbox (cards, lines, pins, nudges) must never wait
behind questions and refusals: a question is posted in a group only while the group's budget has a reserve left for
incident traffic, and is otherwise turned down at once (privately), never queued in front of a card.
"""

import asyncio

from telegram.ext import AIORateLimiter

from bot.outbox.adapter import ASIDE_STEP, may_wait_aside, touched, wait_until

GROUP_RATE = 20  # messages a minute in one group (Telegram's limit): the default of ONEVOICE_TELEGRAM_GROUP_PER_MINUTE
INCIDENT_RESERVE = 8  # of those, always left for the outbox: a declaration (notice, topic, card, pin, mentions, roles, checklist) is 7


class IncidentFirstLimiter(AIORateLimiter):
    """PTB's limiter (30/s overall, `group_rate`/min per group, no retries: the outbox retries) that can tell whether a
    group has budget to spare beyond the incident traffic's reserve."""

    def __init__(self, group_rate: int = GROUP_RATE) -> None:
        super().__init__(overall_max_rate=30, overall_time_period=1, group_max_rate=group_rate, group_time_period=60, max_retries=0)

    async def process_request(self, callback, args, kwargs, endpoint, data, rate_limit_args):
        """PTB's pacing; but an outbox row that has sent nothing yet waits for a spent group budget aside, so the batch's
        other lanes (DMs, other chats) send meanwhile (bot/outbox/lanes.py)."""
        group = _group(data.get("chat_id"))

        def spent() -> float:  # how long to look again later: the budget refills continuously
            return 0.0 if self._get_group_limiter(group).has_capacity(1) else ASIDE_STEP

        # Checked again each time the turn comes back: another lane of the batch may have spent the refill meanwhile.
        while group is not None and may_wait_aside() and spent():
            await wait_until(spent, asyncio.sleep)
        touched()  # from here the row may have reached Telegram: it keeps the batch's turn until it is done
        return await super().process_request(callback, args, kwargs, endpoint, data, rate_limit_args)

    def spare(self, chat_id: int | str) -> bool:
        """Whether one more optional message to this chat leaves the reserve untouched (private chats: always)."""
        if isinstance(chat_id, int) and chat_id > 0:
            return True
        return self._get_group_limiter(chat_id).has_capacity(INCIDENT_RESERVE + 1)


def _group(chat_id) -> int | str | None:
    """The group a request goes to, as PTB's limiter tells one (a negative id, or a channel's @name); None: a person."""
    if isinstance(chat_id, str):
        try:
            chat_id = int(chat_id)
        except ValueError:
            return chat_id
    return chat_id if isinstance(chat_id, int) and chat_id < 0 else None
