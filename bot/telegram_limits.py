"""Telegram budgets: per-person buckets for prompts and refusals, and a group budget that incident traffic gets first.

Telegram allows a bot about 20 messages a minute in one group. The outbox (cards, lines, pins, nudges) must never wait
behind questions and refusals: a question is posted in a group only while the group's budget has a reserve left for
incident traffic, and is otherwise turned down at once (privately), never queued in front of a card.
"""

import time
from collections.abc import Callable

from telegram.ext import AIORateLimiter

GROUP_RATE = 20  # messages a minute in one group (Telegram's limit)
INCIDENT_RESERVE = 8  # of those, always left for the outbox: a declaration (notice, topic, card, pin, mentions, roles, checklist) is 7


class IncidentFirstLimiter(AIORateLimiter):
    """PTB's limiter (30/s overall, 20/min per group, no retries: the outbox retries) that can tell whether a group has
    budget to spare beyond the incident traffic's reserve."""

    def __init__(self) -> None:
        super().__init__(overall_max_rate=30, overall_time_period=1, group_max_rate=GROUP_RATE, group_time_period=60, max_retries=0)

    def spare(self, chat_id: int | str) -> bool:
        """Whether one more optional message to this chat leaves the reserve untouched (private chats: always)."""
        if isinstance(chat_id, int) and chat_id > 0:
            return True
        return self._get_group_limiter(chat_id).has_capacity(INCIDENT_RESERVE + 1)


class TokenBuckets:
    """A token bucket per key (a Telegram user, a group): `burst` at once, refilled at `per_minute`.

    Kept in the process, not the database: they guard this process's own sending (its rate limiter is per process too)
    and cost nothing to check, so a flood of presses is turned away before it reaches the database. Buckets that are
    full again are forgotten, so a crowd of strangers cannot grow the table without bound.
    """

    def __init__(self, burst: float, per_minute: float, clock: Callable[[], float] = time.monotonic, most: int = 10_000):
        self.burst, self.rate, self.clock, self.most = burst, per_minute / 60.0, clock, most
        self._buckets: dict[object, tuple[float, float]] = {}  # key -> (tokens, when counted)

    def take(self, key: object) -> bool:
        """Spend one token of `key`'s bucket if it has one."""
        now = self.clock()
        tokens, then = self._buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - then) * self.rate)
        if tokens < 1:
            self._buckets[key] = (tokens, now)
            return False
        self._buckets[key] = (tokens - 1, now)
        if len(self._buckets) > self.most:
            self._forget_full(now)
        return True

    def _forget_full(self, now: float) -> None:
        for key, (tokens, then) in list(self._buckets.items()):
            if tokens + (now - then) * self.rate >= self.burst:
                del self._buckets[key]
