"""The one ASGI app: Slack events, the Telegram webhook, signals, statement pages, health, readiness and metrics."""

import asyncio
import logging

from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.app import OneVoice
from bot.metrics import CONTENT_TYPE
from bot.page import page_routes
from bot.readiness import Readiness
from bot.signals_http import signal_endpoint
from bot.slack import signed_by_slack, unreadable
from bot.telegram_webhook import telegram_webhook

log = logging.getLogger(__name__)


def build_app(
    bot: OneVoice,
    slack_app=None,
    telegram=None,
    telegram_secret: str | None = None,
    signals_secret: str | None = None,
    on_work=None,
    readiness: Readiness | None = None,
) -> Starlette:
    """Routes for the platforms that are configured, the probes and the metrics."""
    readiness = readiness or Readiness(bot.engine)

    async def healthz(_request: Request) -> Response:
        return JSONResponse({"ok": True})  # liveness: the process answers; /readyz says whether it should get traffic

    async def readyz(_request: Request) -> Response:
        ready, found = await readiness.check()
        return JSONResponse(found, status_code=200 if ready else 503)

    async def metrics(_request: Request) -> Response:
        return Response(await asyncio.to_thread(bot.metrics.render), media_type=CONTENT_TYPE)

    routes = [Route("/healthz", healthz), Route("/readyz", readyz), Route("/metrics", metrics), *page_routes(bot)]
    if slack_app is not None:
        handler = AsyncSlackRequestHandler(slack_app)

        async def slack_events(request: Request) -> Response:
            body = await request.body()
            if unreadable(body, request.headers.get("content-type")):  # Bolt would fail on it before checking the signature
                secret = bot.settings.slack_signing_secret
                signed = secret is not None and signed_by_slack(secret.get_secret_value(), body, request.headers)
                return JSONResponse({"ok": False, "error": "unreadable body"}, status_code=400 if signed else 401)
            return await handler.handle(request)

        routes.append(Route("/slack/events", slack_events, methods=["POST"]))
    if telegram is not None and telegram_secret:
        routes.append(Route("/telegram/webhook", telegram_webhook(telegram, telegram_secret), methods=["POST"]))
    if signals_secret:
        routes.append(Route("/signals", signal_endpoint(bot, signals_secret, on_work or (lambda: None)), methods=["POST"]))
    app = Starlette(routes=routes)
    app.add_middleware(_Counted, metrics=bot.metrics)
    return app


class _Counted:
    """Count each HTTP request by its route's pattern (so /s/<id> is one label) and status."""

    def __init__(self, app, metrics):
        self.app, self.metrics = app, metrics

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = {"code": 500}

        async def sending(message):
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", None) or "other"
            self.metrics.http.labels(path, str(status["code"])).inc()
