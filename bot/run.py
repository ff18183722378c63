"""`onevoice run`: the platforms that are configured, the HTTP endpoints and the scheduler, in one asyncio process."""

import asyncio
import logging
import sys

import uvicorn

from bot.app import OneVoice
from bot.http import build_app
from bot.scheduler import NudgeScheduler
from bot.slack import SlackFront
from bot.slack_delivery import SlackAdapter, web_client
from config.settings import Settings

log = logging.getLogger(__name__)


async def serve(bot: OneVoice, settings: Settings) -> int:
    """Attach each configured platform, then serve until SIGTERM or SIGINT; return the exit code."""
    scheduler = NudgeScheduler(bot)
    slack = None
    socket_mode = None
    if settings.slack_bot_token:
        client = web_client(settings.slack_bot_token.get_secret_value(), settings.slack_api_url)
        bot.attach(SlackAdapter(client, bot.config.slack.private_rooms))
        secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None
        if secret is None and not settings.slack_app_token:
            print("onevoice: SLACK_SIGNING_SECRET is needed to accept Slack requests over HTTP", file=sys.stderr)
            return 2
        slack = SlackFront(bot, client, secret or "socket-mode", on_work=scheduler.kick)
        if settings.slack_app_token:
            from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

            socket_mode = AsyncSocketModeHandler(slack.app, settings.slack_app_token.get_secret_value())
    if not bot.deliverers:
        print("onevoice: no platform is configured: set SLACK_BOT_TOKEN (and SLACK_SIGNING_SECRET) — see README", file=sys.stderr)
        return 2
    server = uvicorn.Server(
        uvicorn.Config(
            build_app(bot, slack.app if slack and not socket_mode else None),
            host=settings.http_host,
            port=settings.http_port,
            log_level="warning",
            lifespan="off",
        )
    )
    await scheduler.run()  # what fell due while the bot was down
    scheduler.start()
    if socket_mode is not None:
        await socket_mode.connect_async()
    serving = asyncio.create_task(server.serve())  # uvicorn handles SIGTERM/SIGINT: it stops taking requests, then returns
    try:
        while not server.started and not serving.done():
            await asyncio.sleep(0.05)
        mode = "Socket Mode" if socket_mode else "HTTP"
        print(f"OneVoice running: http://{settings.http_host}:{settings.http_port} · Slack ({mode})", flush=True)
        await serving
    finally:
        if socket_mode is not None:
            await socket_mode.close_async()
        await scheduler.stop()
    return 0
