"""The one ASGI app: Slack events, health and readiness (Telegram and signals join it later)."""

import asyncio
import hmac
import json
import logging

from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from telegram import Update

from bot.app import OneVoice
from bot.page import page_routes
from bot.signals_http import signal_endpoint

log = logging.getLogger(__name__)


def build_app(
    bot: OneVoice, slack_app=None, telegram=None, telegram_secret: str | None = None, signals_secret: str | None = None, on_work=None
) -> Starlette:
    """Routes for the platforms that are configured, and the probes."""

    async def healthz(_request: Request) -> Response:
        return JSONResponse({"ok": True})

    async def readyz(_request: Request) -> Response:
        try:
            await asyncio.to_thread(_ping, bot)
        except Exception as error:  # noqa: BLE001  (any failure means not ready; the reason is logged, not shown)
            log.warning("not ready: database unreachable (%s)", type(error).__name__)
            return JSONResponse({"ok": False, "database": "unreachable"}, status_code=503)
        return JSONResponse({"ok": True, "database": "ok", "platforms": sorted(bot.deliverers)})

    routes = [Route("/healthz", healthz), Route("/readyz", readyz), *page_routes(bot)]
    if slack_app is not None:
        handler = AsyncSlackRequestHandler(slack_app)

        async def slack_events(request: Request) -> Response:
            return await handler.handle(request)

        routes.append(Route("/slack/events", slack_events, methods=["POST"]))
    if telegram is not None and telegram_secret:
        routes.append(Route("/telegram/webhook", _telegram_webhook(telegram, telegram_secret), methods=["POST"]))
    if signals_secret:
        routes.append(Route("/signals", signal_endpoint(bot, signals_secret, on_work or (lambda: None)), methods=["POST"]))
    return Starlette(routes=routes)


def _telegram_webhook(application, secret: str):
    """Updates pushed by Telegram, accepted only with the secret token set on the webhook."""
    expected = secret.encode()

    async def webhook(request: Request) -> Response:
        given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "").encode()
        if not hmac.compare_digest(given, expected):
            return JSONResponse({"ok": False}, status_code=403)
        try:
            data = json.loads(await request.body())
            update = Update.de_json(data, application.bot)
        except (ValueError, TypeError, KeyError):
            return JSONResponse({"ok": False, "error": "not a Telegram update"}, status_code=400)
        await application.update_queue.put(update)
        return JSONResponse({"ok": True})

    return webhook


def _ping(bot: OneVoice) -> None:
    with bot.engine.connect() as connection:
        connection.execute(text("SELECT 1"))
