"""`onevoice run`: the platforms that are configured, the HTTP endpoints and the scheduler, in one asyncio process."""

import asyncio
import logging
import os
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack

from bot import logs
from bot.app import OneVoice
from bot.http import build_admin_app, build_app
from bot.listeners import Server, bind, http_server
from bot.outbox.scheduler import NudgeScheduler
from bot.readiness import Readiness
from bot.telegram.poller_lock import AlreadyPolling, hold_poller_lock
from config.settings import Settings
from handlers.line import names
from handlers.text.i18n import _

log = logging.getLogger(__name__)

Stop = Callable[[], Awaitable[None]]


class Refused(Exception):
    """The settings cannot work; the message says what to set."""


class _Started:
    """What `serve` needs from each platform it started."""

    def __init__(self, bot: OneVoice, settings: Settings, scheduler: NudgeScheduler, stack: AsyncExitStack, readiness: Readiness):
        self.bot, self.settings, self.scheduler, self.stack, self.readiness = bot, settings, scheduler, stack, readiness
        self.intake: list[Stop] = []  # what stops taking new work (polling, Socket Mode) first thing on SIGTERM


async def _start_slack(started: _Started):
    """Slack over HTTP (or Socket Mode with an app token); return the Bolt app to route, if any."""
    from bot.slack.delivery import SlackAdapter, web_client
    from bot.slack.front import SlackFront

    bot, settings = started.bot, started.settings
    await _reachable(settings.slack_api_url, "ONEVOICE_SLACK_API_URL", "Slack")
    client = web_client(settings.slack_bot_token.get_secret_value(), settings.slack_api_url)
    bot.attach(SlackAdapter(client, bot.config.slack.private_rooms, settings.slack_pace_seconds))
    started.readiness.platforms["slack"] = client.auth_test
    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None
    if secret is None and not settings.slack_app_token:
        raise Refused(_("SLACK_SIGNING_SECRET is needed to accept Slack requests over HTTP (or set SLACK_APP_TOKEN for Socket Mode)"))
    front = SlackFront(bot, client, secret or "socket-mode", on_work=started.scheduler.kick)
    if not settings.slack_app_token:
        return front.app, "Slack (HTTP)"
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    socket_mode = AsyncSocketModeHandler(front.app, settings.slack_app_token.get_secret_value(), web_client=client)
    await socket_mode.connect_async()
    started.intake.append(_once(socket_mode.close_async))
    started.stack.push_async_callback(started.intake[-1])
    return None, "Slack (Socket Mode)"


async def _start_telegram(started: _Started):
    """Telegram by webhook when a secret is set, else by long polling; return the application for the webhook route."""
    from bot.telegram.delivery import TelegramAdapter
    from bot.telegram.front import TelegramFront, build_application
    from bot.telegram.poller import TelegramPoller

    bot, settings = started.bot, started.settings
    polling = settings.telegram_webhook_secret is None
    if polling:
        try:
            started.stack.callback(hold_poller_lock(bot.engine))
        except AlreadyPolling as refusal:
            raise Refused(str(refusal)) from None
    token = settings.telegram_bot_token.get_secret_value()
    application = build_application(token, settings.telegram_api_url, settings.telegram_group_per_minute)
    front = TelegramFront(bot, application, on_work=started.scheduler.kick)
    await _initialize(application, settings)
    started.stack.push_async_callback(application.shutdown)
    bot.attach(TelegramAdapter(application.bot, bot.config))
    started.readiness.platforms["telegram"] = application.bot.get_me
    try:
        await front.register_commands()
    except Exception:  # the menu is a convenience; commands work without it
        log.warning("could not register the Telegram command menu", exc_info=True)
    await application.start()
    started.stack.push_async_callback(application.stop)
    if polling:  # each update is confirmed to Telegram only once decided (bot/telegram_poller.py)
        poller = TelegramPoller(application)
        await poller.start()
        started.intake.append(_once(poller.stop))
        started.stack.push_async_callback(started.intake[-1])
    return application, "Telegram (polling)" if polling else "Telegram (webhook)"


async def _start_matrix(started: _Started) -> str:
    """Matrix by /sync inside this loop (bot/matrix/sync.py): each event decided before the stored token moves past it."""
    from bot.matrix.client import NotConnected
    from bot.matrix.start import start_matrix

    settings = started.settings
    if not settings.matrix_user_id or not (settings.matrix_access_token or settings.matrix_password):
        raise Refused(_("MATRIX_USER_ID and MATRIX_ACCESS_TOKEN (or MATRIX_PASSWORD) are needed with MATRIX_HOMESERVER"))
    await _reachable(settings.matrix_homeserver, "MATRIX_HOMESERVER", "Matrix")
    try:
        syncer = await start_matrix(started.bot, settings, started.stack, started.readiness, started.scheduler.kick)
    except Exception as problem:  # noqa: BLE001  (refused credentials, a refused first sync: a clear refusal, not a traceback)
        why = str(problem) if isinstance(problem, NotConnected) else f"{type(problem).__name__}: {str(problem)[:200]}"
        raise Refused(_("cannot connect to Matrix: {why}").format(why=why)) from None
    started.intake.append(_once(syncer.stop))
    started.stack.push_async_callback(started.intake[-1])
    return "Matrix (sync)"


async def _start_channels(started: _Started) -> list[str]:
    """E-mail when ONEVOICE_SMTP_URL is set, webhooks when a target is one (PRODUCT.md §11): outbox workers of their own."""
    from email_validator import EmailNotValidError, validate_email

    from bot.outbox.mail import MailChannel, server_of
    from bot.outbox.webhook import WebhookChannel

    bot, settings, modes = started.bot, started.settings, []
    if settings.smtp_url is not None:
        try:
            server = server_of(settings.smtp_url.get_secret_value())
        except ValueError as problem:
            raise Refused(_(str(problem))) from None  # the message names the setting, never its password
        try:
            validate_email(settings.mail_from or "", check_deliverability=False)
        except EmailNotValidError:
            raise Refused(_("ONEVOICE_MAIL_FROM must be the sender's address when ONEVOICE_SMTP_URL is set")) from None
        bot.attach(MailChannel(server, settings.mail_from), channel=True)
        modes.append(f"e-mail via {server.host}:{server.port}")
    if any(target.webhook for target in bot.config.broadcast):
        hooks = WebhookChannel(settings.public_url)
        started.stack.push_async_callback(hooks.close)
        bot.attach(hooks, channel=True)
        modes.append("webhooks")
    return modes


async def _reachable(url: str, setting: str, platform: str) -> None:
    """Refuse to start when the platform's API cannot even be connected to (a wrong URL, no network, a firewall)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        _reader, writer = await asyncio.wait_for(asyncio.open_connection(parts.hostname, port), timeout=10)
    except (OSError, TimeoutError) as error:
        why = os.strerror(error.errno) if getattr(error, "errno", None) else type(error).__name__
        message = _("cannot reach the {platform} API at {url} ({why}); check the network, or {setting}")
        raise Refused(message.format(platform=platform, url=url, why=why, setting=setting)) from None
    writer.close()


async def _initialize(application, settings: Settings) -> None:
    """Telegram's first call (getMe): a refused token or an unreachable API is a clear refusal, not a traceback."""
    from telegram.error import InvalidToken, NetworkError

    try:
        await application.initialize()
    except InvalidToken:
        raise Refused(_("Telegram refused TELEGRAM_BOT_TOKEN: copy the token again from @BotFather")) from None
    except NetworkError as error:
        message = _("cannot reach the {platform} API at {url} ({why}); check the network, or {setting}")
        why = str(error)[:100]
        raise Refused(
            message.format(platform="Telegram", url=settings.telegram_api_url, why=why, setting="ONEVOICE_TELEGRAM_API_URL")
        ) from None


def _once(stop: Stop) -> Stop:
    """A stop that may be called early (SIGTERM) and again by the exit stack."""
    done = []

    async def once() -> None:
        if not done:
            done.append(True)
            await stop()

    return once


async def serve(bot: OneVoice, settings: Settings, warnings: list[str] = ()) -> int:
    """Attach each configured platform, then serve until SIGTERM or SIGINT; return the exit code; warn once running."""
    logs.set_worker(bot.worker)
    try:
        sockets = _bind(settings)
    except Refused as problem:
        print(f"onevoice: {problem}", file=sys.stderr)
        return 2
    scheduler = NudgeScheduler(bot)
    readiness = Readiness(bot.engine)
    async with AsyncExitStack() as stack:
        for sock in sockets.values():
            stack.callback(sock.close)
        started = _Started(bot, settings, scheduler, stack, readiness)
        slack_app = telegram = None
        modes = []
        try:
            if settings.slack_bot_token:
                slack_app, mode = await _start_slack(started)
                modes.append(mode)
            if settings.telegram_bot_token:
                telegram, mode = await _start_telegram(started)
                modes.append(mode)
            if settings.matrix_homeserver:
                modes.append(await _start_matrix(started))
        except Refused as problem:
            print(f"onevoice: {problem}", file=sys.stderr)
            return 2
        if modes:
            try:
                modes += await _start_channels(started)
            except Refused as problem:
                print(f"onevoice: {problem}", file=sys.stderr)
                return 2
        if not modes:
            told = _("no platform is configured: set SLACK_BOT_TOKEN, TELEGRAM_BOT_TOKEN and/or MATRIX_HOMESERVER (see README)")
            print("onevoice: " + told, file=sys.stderr)
            return 2
        secret = settings.telegram_webhook_secret.get_secret_value() if settings.telegram_webhook_secret else None
        signals = settings.signals_secret.get_secret_value() if settings.signals_secret else None
        seconds = settings.http_body_seconds
        # The Chinese-name tagger (1.6 s of CPU) is built before the first request is served: built by a Chinese draft, it
        # would be built inside that command's transaction (holding SQLite's write lock) and past Slack's 3 s.
        await asyncio.to_thread(names.warm, list(bot.config.vet.values()))
        app = build_app(bot, slack_app, telegram, secret, signals, on_work=scheduler.kick, body_seconds=seconds)
        grace = max(1.0, settings.shutdown_seconds / 4)  # requests in flight get a quarter of the budget
        server = http_server(app, settings.http_host, settings.http_port, settings, grace)
        admin = None
        if "admin" in sockets:
            admin = http_server(build_admin_app(bot, readiness, seconds), settings.admin_host, settings.admin_port, settings, 1.0)
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for stop in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(stop, stopping.set)
        scheduler.start()  # at once it catches up on what fell due while the bot was down, while requests are served
        stack.push_async_callback(scheduler.stop)
        serving = asyncio.create_task(server.serve(sockets=[sockets["public"]]))
        probing = asyncio.create_task(admin.serve(sockets=[sockets["admin"]])) if admin else None
        tasks = [serving, probing] if probing else [serving]
        while not all(s.started for s in (server, admin) if s) and not any(task.done() for task in tasks):
            await asyncio.sleep(0.01)  # uvicorn says it started only by this flag; a few loop turns, not a twentieth of a second
        where = f"http://{settings.http_host}:{settings.http_port}"
        inside = f"readiness and metrics on http://{settings.admin_host}:{settings.admin_port}" if admin else "no internal listener"
        print(f"OneVoice running: {where} · {inside} · {' · '.join(modes)}", flush=True)
        for line in warnings:  # through the log, so JSON logs stay one object per line
            log.warning("%s", line)
        signalled = asyncio.create_task(stopping.wait())
        await asyncio.wait([serving, signalled], return_when=asyncio.FIRST_COMPLETED)
        if stopping.is_set():
            await _shut_down(started, server, time.monotonic() + settings.shutdown_seconds)
        signalled.cancel()
        await serving
        if admin is not None:  # last: /readyz answers 503 to the orchestrator for the whole shutdown
            admin.should_exit = True
            await probing
    return 0


def _bind(settings: Settings) -> dict:
    """The public listening socket and, unless ONEVOICE_ADMIN_PORT is 0, the internal one; a port in use is refused."""
    wanted = {"public": (settings.http_host, settings.http_port, "ONEVOICE_HTTP_PORT")}
    if settings.admin_port:
        wanted["admin"] = (settings.admin_host, settings.admin_port, "ONEVOICE_ADMIN_PORT (0 turns the internal listener off)")
    sockets = {}
    for name, (host, port, setting) in wanted.items():
        try:
            sockets[name] = bind(host, port)
        except OSError as error:
            for sock in sockets.values():
                sock.close()
            why = os.strerror(error.errno) if error.errno else str(error)
            message = _("cannot listen on {host}:{port} ({why}); choose another with {setting}")
            raise Refused(message.format(host=host, port=port, why=why, setting=setting)) from None
    return sockets


async def _shut_down(started: _Started, server: Server, deadline: float) -> None:
    """SIGTERM: not ready at once, take no new work, let the delivery in progress finish (or hand its leases back), in time."""
    log.warning("stopping: taking no new work; delivery in progress gets until the deadline")
    started.readiness.stopping = True
    started.bot.stop_taking_work()
    for stop in started.intake:
        try:
            await asyncio.wait_for(stop(), max(0.1, deadline - time.monotonic()) / 2)
        except Exception:  # noqa: BLE001  (stopping must go on: the exit stack tries again)
            log.warning("could not stop an intake cleanly", exc_info=True)
    server.should_exit = True  # uvicorn stops accepting, answers the requests in flight within its graceful timeout
    await started.scheduler.stop(grace=max(0.5, deadline - time.monotonic() - 1.5))
