"""Rations per person or per room, kept in the process: how often someone may make the bot speak."""

import time
from collections.abc import Callable


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
