"""`/readyz`: the database answers and each platform is reachable (platform checks cached, so probes don't hammer the APIs)."""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from sqlalchemy import Engine, text

log = logging.getLogger(__name__)

DATABASE_TIMEOUT = 2.0
PLATFORM_TIMEOUT = 3.0
CACHE_SECONDS = 10.0


class Readiness:
    """Whether this replica should get traffic: not while stopping, nor with the database or a platform unreachable."""

    def __init__(self, engine: Engine, cache_seconds: float = CACHE_SECONDS):
        self.engine, self.cache_seconds = engine, cache_seconds
        self.stopping = False
        self.platforms: dict[str, Callable[[], Awaitable[object]]] = {}  # name -> a cheap authenticated call (auth.test, getMe)
        self._cached: dict[str, tuple[float, str]] = {}

    async def check(self) -> tuple[bool, dict]:
        """(ready, what each check found)."""
        if self.stopping:
            return False, {"ok": False, "shutting_down": True}
        found = {"database": await self._database()}
        for name, probe in self.platforms.items():
            found[name] = await self._platform(name, probe)
        ready = all(state == "ok" for state in found.values())
        failed = sorted(name for name, state in found.items() if state != "ok")
        return ready, {"ok": ready, **found, "platforms": sorted(self.platforms), **({"failed": failed} if failed else {})}

    async def _database(self) -> str:
        try:
            await asyncio.wait_for(asyncio.to_thread(_select_one, self.engine), DATABASE_TIMEOUT)
        except Exception as error:  # noqa: BLE001  (any failure means not ready; the reason is logged, not shown)
            log.warning("not ready: database unreachable (%s)", type(error).__name__)
            return "unreachable"
        return "ok"

    async def _platform(self, name: str, probe) -> str:
        at, state = self._cached.get(name, (float("-inf"), ""))
        if time.monotonic() - at < self.cache_seconds:
            return state
        try:
            await asyncio.wait_for(probe(), PLATFORM_TIMEOUT)
            state = "ok"
        except Exception as error:  # noqa: BLE001
            log.warning("not ready: %s unreachable (%s)", name, type(error).__name__)
            state = "unreachable"
        self._cached[name] = (time.monotonic(), state)
        return state


def _select_one(engine: Engine) -> None:
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
