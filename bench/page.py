"""Requests per second for the public statement page, against a bare ASGI endpoint returning a constant.

A server subprocess (uvicorn, one process, on loopback) serves, from one ASGI app: `/bare` (a constant, no
framework), the page routes as wired in production (cache on), and the same routes with the cache off under
`/nocache`. The client (aiohttp, this process, a fixed number of concurrent requests, plain GETs without
If-None-Match so every answer is a full 200) runs each case for the same time:

- bare: the constant;
- page, hot: one page again and again, as in a traffic spike (served from the in-process cache, re-read every second);
- page, cache off, one page: every request reads the database and renders, the rows hot in SQLite's cache;
- page, cache off, many pages: round robin over all the seeded pages, every request a database read and a render.

Prints req/s for each and the ratio page/bare (target: the hot page ≥ 0.5 of the bare endpoint).
Run: python bench/page.py [--pages 1000] [--seconds 5] [--concurrency 32] [--rounds 3] [--database-url URL]
"""

import argparse
import asyncio
import itertools
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
from sqlalchemy import insert

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.app import OneVoice  # noqa: E402
from config.settings import Settings  # noqa: E402
from storage.models import Incident, Publication, Statement, TimelineEvent  # noqa: E402

LINE = "We are sorry 🙏 for the worry: lots 2 & 3 of the PB-20 power bank are off sale while we check them. 我们深表歉意。"
BARE_HEADERS = [(b"content-type", b"text/plain"), (b"content-length", b"3")]
TIMELINE = 30  # events per incident besides the approvals: the page reads the approval times from the timeline


def seed(database_url: str, pages: int) -> list[str]:
    """`pages` incidents, each with v1 superseded and v2 current, both published to the page; return their public ids."""
    bot = OneVoice(Settings(ONEVOICE_DATABASE_URL=database_url))
    start = datetime.now(UTC) - timedelta(hours=2)
    ids = [secrets.token_urlsafe(9) for _ in range(pages)]
    with bot.engine.begin() as connection:
        for n, public_id in enumerate(ids):
            incident_id = connection.execute(
                insert(Incident).returning(Incident.id),
                dict(
                    title=f"Battery overheating {n}",
                    slug=f"battery-{n}",
                    playbook="product-quality",
                    severity="sev2",
                    phase="responding",
                    drill=False,
                    declared_by="alice",
                    declared_at=start,
                    phase_changed_at=start,
                    next_update_at=start + timedelta(hours=3),
                    public_id=public_id,
                ),
            ).scalar_one()
            for version, state in ((1, "superseded"), (2, "approved")):
                at = start + timedelta(minutes=30 * version)
                statement_id = connection.execute(
                    insert(Statement).returning(Statement.id),
                    dict(
                        incident_id=incident_id,
                        version=version,
                        text=f"{LINE} v{version}",
                        author="carol",
                        created_at=at,
                        state=state,
                        decided_by="alice",
                        decided_at=at,
                    ),
                ).scalar_one()
                connection.execute(
                    insert(Publication),
                    dict(
                        incident_id=incident_id,
                        statement_id=statement_id,
                        target="website",
                        platform="page",
                        state="sent",
                        by="carol",
                        at=at,
                    )
                    | {"sent_at": at},
                )
                connection.execute(
                    insert(TimelineEvent), dict(incident_id=incident_id, at=at, actor="alice", kind="approved", text=f"v{version}", data={})
                )
            connection.execute(
                insert(TimelineEvent),
                [dict(incident_id=incident_id, at=start, actor="dave", kind="note", text=f"note {i}", data={}) for i in range(TIMELINE)],
            )
    bot.engine.dispose()
    return ids


def serve(database_url: str, port: int) -> None:
    """The server subprocess: the bare constant, the page routes, and the page routes with the cache off."""
    import uvicorn
    from starlette.applications import Starlette

    from bot.web.page import page_routes

    bot = OneVoice(Settings(ONEVOICE_DATABASE_URL=database_url), migrate=False)
    cached, uncached = Starlette(routes=page_routes(bot)), Starlette(routes=page_routes(bot, cache_seconds=0))

    async def app(scope, receive, send):
        path = scope["path"]
        if path == "/bare":
            await send({"type": "http.response.start", "status": 200, "headers": BARE_HEADERS})
            await send({"type": "http.response.body", "body": b"ok\n"})
        elif path.startswith("/nocache/"):
            await uncached({**scope, "path": path.removeprefix("/nocache")}, receive, send)
        else:
            await cached(scope, receive, send)

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="off")


async def load(base: str, paths, seconds: float, concurrency: int) -> tuple[float, int]:
    """Requests per second over `seconds` with `concurrency` requests in flight; and how many were not 200."""
    done = failed = 0
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def worker(deadline: float) -> None:
            nonlocal done, failed
            while time.monotonic() < deadline:
                async with http.get(base + next(paths)) as response:
                    await response.read()
                    done, failed = done + 1, failed + (response.status != 200)

        await asyncio.gather(*(worker(time.monotonic() + min(1.0, seconds)) for _ in range(concurrency)))  # warm up
        done = failed = 0
        started = time.monotonic()
        await asyncio.gather(*(worker(started + seconds) for _ in range(concurrency)))
        return done / (time.monotonic() - started), failed


async def wait_up(base: str) -> None:
    async with aiohttp.ClientSession() as http:
        for _ in range(300):
            try:
                async with http.get(base + "/bare") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                await asyncio.sleep(0.1)
    raise SystemExit("the server did not start")


async def measure(base: str, ids: list[str], seconds: float, concurrency: int, rounds: int) -> dict[str, float]:
    """Each case in turn, `rounds` times over (so a busy moment on the machine hits every case alike); the median of each."""
    await wait_up(base)
    cases = {
        "bare ASGI endpoint (constant)": lambda: itertools.repeat("/bare"),
        "page, hot (one page, cache on)": lambda: itertools.repeat(f"/s/{ids[0]}"),
        "page, cache off, one page (db hot)": lambda: itertools.repeat(f"/nocache/s/{ids[0]}"),
        f"page, cache off, {len(ids):,} pages (cold-ish)": lambda: itertools.cycle(f"/nocache/s/{i}" for i in ids),
    }
    rates: dict[str, list[float]] = {label: [] for label in cases}
    for _round in range(rounds):
        for label, paths in cases.items():
            rate, failed = await load(base, paths(), seconds, concurrency)
            rates[label].append(rate)
            if failed:
                print(f"  ({label}: {failed} answers were not 200)")
    return {label: statistics.median(values) for label, values in rates.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database-url", help="default: SQLite in a temporary folder (a fresh one per run)")
    parser.add_argument("--serve", type=int, metavar="PORT", help=argparse.SUPPRESS)  # the server subprocess
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp(prefix='onevoice-bench-')}/bench.db"
    if args.serve:
        serve(url, args.serve)
        return
    ids = seed(url, args.pages)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, __file__, "--serve", str(port), "--database-url", url])
    try:
        rates = asyncio.run(measure(f"http://127.0.0.1:{port}", ids, args.seconds, args.concurrency, args.rounds))
    finally:
        server.terminate()
        server.wait(timeout=10)
    bare = next(iter(rates.values()))
    print(f"{args.concurrency} concurrent requests, loopback, one uvicorn process; median of {args.rounds} x {args.seconds:g} s per case")
    for label, rate in rates.items():
        print(f"{label:<40} {rate:>9,.0f} req/s   ratio page/bare {rate / bare:5.2f}")
    hot = list(rates.values())[1] / bare
    print(f"target hot page ≥ 0.5 of bare: {'met' if hot >= 0.5 else 'NOT met'} ({hot:.2f})")


if __name__ == "__main__":
    main()
