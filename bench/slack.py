"""Ack latency of `/crisis status` and `/crisis note …` over HTTP: OneVoice vs a bare slack-bolt app that only acks.

Both are served the same way — Starlette + uvicorn on loopback, each in its own process, the same signing secret —
and measured side by side in one run, requests interleaved (which of the two goes first alternates): OneVoice is the
real `onevoice run` process on the fake Slack Web API (tests/fakes/slack_api.py), with an open incident whose room the
commands are typed in; the bare app is a slack-bolt AsyncApp whose /crisis listener only calls ack(). The time measured
is what Slack waits for: from sending the signed request to the HTTP answer. Prints median and p99 per case and the
ratio OneVoice/bare (target: ≤ 1.5). Both include slack-bolt's own wait for the ack (its runner polls every 10 ms).
Run: python bench/slack.py [--runs 200] [--warmup 20]
"""

import argparse
import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from config.load import STARTER  # noqa: E402
from tests.fakes.slack_api import FakeSlack  # noqa: E402

SECRET = "bench-signing-secret"
CASES = {"status": lambda i: "status", "note": lambda i: f"note Observation {i}: 12 complaints & rising <fast>"}
TARGETS = ("onevoice", "bare")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve_bare(port: int, api_url: str) -> None:
    """The baseline: a slack-bolt AsyncApp that acks /crisis and does nothing else, served like OneVoice's."""
    import uvicorn
    from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient
    from starlette.applications import Starlette
    from starlette.routing import Route

    app = AsyncApp(signing_secret=SECRET, client=AsyncWebClient(token="xoxb-test", base_url=api_url), process_before_response=False)

    @app.command("/crisis")
    async def only_ack(ack) -> None:
        await ack()

    handler = AsyncSlackRequestHandler(app)

    async def events(request):
        return await handler.handle(request)

    starlette = Starlette(routes=[Route("/slack/events", events, methods=["POST"])])
    server = uvicorn.Server(uvicorn.Config(starlette, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))

    async def main() -> None:
        serving = asyncio.create_task(server.serve())
        while not server.started and not serving.done():
            await asyncio.sleep(0.05)
        print("bare running", flush=True)
        await serving

    asyncio.run(main())


async def started(process: subprocess.Popen, log: Path, line: str) -> None:
    deadline = time.monotonic() + 30
    while line not in log.read_text(errors="replace"):
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"could not start:\n{log.read_text(errors='replace')}")
        await asyncio.sleep(0.05)


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))]


async def run(runs: int, warmup: int) -> None:
    fake = FakeSlack(signing_secret=SECRET)
    await fake.start()
    fake.add_channel("newsroom", channel_id="C0NEWS", members=[fake.bot_user_id])
    folder = Path(tempfile.mkdtemp(prefix="onevoice-bench-"))
    (folder / "onevoice.yaml").write_text(STARTER.read_text(encoding="utf-8"), encoding="utf-8")
    ports = {"onevoice": free_port(), "bare": free_port()}
    env = {
        **os.environ,
        "ONEVOICE_CONFIG": str(folder / "onevoice.yaml"),
        "ONEVOICE_DATABASE_URL": f"sqlite:///{folder / 'onevoice.db'}",
        "SLACK_BOT_TOKEN": fake.token,
        "SLACK_SIGNING_SECRET": SECRET,
        "ONEVOICE_SLACK_API_URL": fake.api_url,
        "ONEVOICE_HTTP_PORT": str(ports["onevoice"]),
        "ONEVOICE_ADMIN_PORT": "0",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("SLACK_APP_TOKEN", None)
    logs = {name: folder / f"{name}.log" for name in TARGETS}
    commands = {
        "onevoice": [sys.executable, "-m", "bot.cli", "run"],
        "bare": [sys.executable, __file__, "--bare-port", str(ports["bare"]), "--api-url", fake.api_url],
    }
    processes = {}
    for name in TARGETS:
        with logs[name].open("w") as out:  # a file, not a pipe: an unread pipe would stall the server
            processes[name] = subprocess.Popen(commands[name], stdout=out, stderr=subprocess.STDOUT, cwd=folder, env=env)
    try:
        await started(processes["onevoice"], logs["onevoice"], "OneVoice running")
        await started(processes["bare"], logs["bare"], "bare running")
        async with aiohttp.ClientSession() as http:

            async def send(target: str, text: str, channel: str) -> float:
                body, headers = fake.slash_command("U0ALICE", text, channel)
                begun = time.perf_counter()
                async with http.post(f"http://127.0.0.1:{ports[target]}/slack/events", data=body, headers=headers) as response:
                    await response.read()
                elapsed = time.perf_counter() - begun
                if response.status != 200:
                    raise SystemExit(f"{target} answered {response.status} to {text!r}")
                return elapsed

            await send("onevoice", "declare outage sev2 Checkout failing", "C0GENERAL")
            ours = lambda: next((c for c in fake.channels.values() if c["name"].endswith("-checkout-failing") and c["pins"]), None)  # noqa: E731
            while not (room := ours()):  # the incident room, its card pinned
                await asyncio.sleep(0.05)
            timings = {(case, target): [] for case in CASES for target in TARGETS}
            for i in range(warmup + runs):
                for case, text in CASES.items():
                    order = TARGETS if i % 2 else TARGETS[::-1]
                    for target in order:
                        elapsed = await send(target, text(i), room["id"])
                        if i >= warmup:
                            timings[(case, target)].append(elapsed)
        notes = len([m for m in fake.messages if m["ephemeral"] and "Noted" in (m["text"] or "")])
        print(f"{runs} requests per case and target after {warmup} warm-up rounds; OneVoice answered {notes} notes in Slack")
        head = f"{'case':8} {'OneVoice: median':>17} {'p99':>9} {'bare bolt: median':>18} {'p99':>9}"
        print(f"{head} {'ratio (median)':>15} {'ratio (p99)':>12}")
        worst = 0.0
        for case in CASES:
            ours, bare = timings[(case, "onevoice")], timings[(case, "bare")]
            a, b, pa, pb = statistics.median(ours), statistics.median(bare), p99(ours), p99(bare)
            worst = max(worst, a / b)
            print(f"{case:8} {a * 1000:15.2f}ms {pa * 1000:7.2f}ms {b * 1000:16.2f}ms {pb * 1000:7.2f}ms {a / b:15.2f} {pa / pb:12.2f}")
        print(f"worst median ratio OneVoice/bare: {worst:.2f} (target ≤ 1.5)")
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
        await fake.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=200, help="measured requests per case and target")
    parser.add_argument("--warmup", type=int, default=20, help="rounds sent first and not measured")
    parser.add_argument("--bare-port", type=int, help=argparse.SUPPRESS)  # internal: serve the bare app on this port
    parser.add_argument("--api-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare_port:
        serve_bare(args.bare_port, args.api_url)
        return 0
    asyncio.run(run(args.runs, args.warmup))
    return 0


if __name__ == "__main__":
    sys.exit(main())
