"""`onevoice run`: the platforms that are configured, the HTTP endpoints and the scheduler, in one asyncio process."""

import asyncio
import contextlib
import logging
import signal
import sys
from contextlib import AsyncExitStack

import uvicorn

from bot.app import OneVoice
from bot.http import build_app
from bot.scheduler import NudgeScheduler
from config.settings import Settings

log = logging.getLogger(__name__)


class _Server(uvicorn.Server):
    """uvicorn without its own signal capture: OneVoice stops it, then closes the platforms and the scheduler in order."""

    @contextlib.contextmanager
    def capture_signals(self):
        yield


class Refused(Exception):
    """The settings cannot work; the message says what to set."""


async def _start_slack(bot: OneVoice, settings: Settings, scheduler: NudgeScheduler, stack: AsyncExitStack):
    """Slack over HTTP (or Socket Mode with an app token); return the Bolt app to route, if any."""
    from bot.slack import SlackFront
    from bot.slack_delivery import SlackAdapter, web_client

    client = web_client(settings.slack_bot_token.get_secret_value(), settings.slack_api_url)
    bot.attach(SlackAdapter(client, bot.config.slack.private_rooms))
    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None
    if secret is None and not settings.slack_app_token:
        raise Refused("SLACK_SIGNING_SECRET is needed to accept Slack requests over HTTP (or set SLACK_APP_TOKEN for Socket Mode)")
    front = SlackFront(bot, client, secret or "socket-mode", on_work=scheduler.kick)
    if not settings.slack_app_token:
        return front.app, "Slack (HTTP)"
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    socket_mode = AsyncSocketModeHandler(front.app, settings.slack_app_token.get_secret_value(), web_client=client)
    await socket_mode.connect_async()
    stack.push_async_callback(socket_mode.close_async)
    return None, "Slack (Socket Mode)"


async def _start_telegram(bot: OneVoice, settings: Settings, scheduler: NudgeScheduler, stack: AsyncExitStack):
    """Telegram by webhook when a secret is set, else by long polling; return the application for the webhook route."""
    from bot.telegram import TelegramFront, build_application
    from bot.telegram_delivery import TelegramAdapter

    polling = settings.telegram_webhook_secret is None
    application = build_application(settings.telegram_bot_token.get_secret_value(), settings.telegram_api_url, polling)
    front = TelegramFront(bot, application, on_work=scheduler.kick)
    await application.initialize()
    stack.push_async_callback(application.shutdown)
    bot.attach(TelegramAdapter(application.bot, bot.config))
    try:
        await front.register_commands()
    except Exception:  # the menu is a convenience; commands work without it
        log.warning("could not register the Telegram command menu", exc_info=True)
    await application.start()
    stack.push_async_callback(application.stop)
    if polling:
        await application.updater.start_polling(drop_pending_updates=False)
        stack.push_async_callback(application.updater.stop)
    return application, "Telegram (polling)" if polling else "Telegram (webhook)"


async def serve(bot: OneVoice, settings: Settings) -> int:
    """Attach each configured platform, then serve until SIGTERM or SIGINT; return the exit code."""
    scheduler = NudgeScheduler(bot)
    async with AsyncExitStack() as stack:
        slack_app = telegram = None
        modes = []
        try:
            if settings.slack_bot_token:
                slack_app, mode = await _start_slack(bot, settings, scheduler, stack)
                modes.append(mode)
            if settings.telegram_bot_token:
                telegram, mode = await _start_telegram(bot, settings, scheduler, stack)
                modes.append(mode)
        except Refused as problem:
            print(f"onevoice: {problem}", file=sys.stderr)
            return 2
        if not modes:
            print("onevoice: no platform is configured: set SLACK_BOT_TOKEN and/or TELEGRAM_BOT_TOKEN (see README)", file=sys.stderr)
            return 2
        secret = settings.telegram_webhook_secret.get_secret_value() if settings.telegram_webhook_secret else None
        signals = settings.signals_secret.get_secret_value() if settings.signals_secret else None
        app = build_app(bot, slack_app, telegram, secret, signals, on_work=scheduler.kick)
        server = _Server(uvicorn.Config(app, host=settings.http_host, port=settings.http_port, log_level="warning", lifespan="off"))
        loop = asyncio.get_running_loop()
        for stop in (signal.SIGTERM, signal.SIGINT):  # stop taking requests; the exit stack then releases everything
            loop.add_signal_handler(stop, setattr, server, "should_exit", True)
        await scheduler.run()  # what fell due while the bot was down
        scheduler.start()
        stack.push_async_callback(scheduler.stop)
        serving = asyncio.create_task(server.serve())
        while not server.started and not serving.done():
            await asyncio.sleep(0.05)
        print(f"OneVoice running: http://{settings.http_host}:{settings.http_port} · {' · '.join(modes)}", flush=True)
        await serving
    return 0
