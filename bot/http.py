"""The two ASGI apps: the public one (Slack events, the Telegram webhook, signals, statement pages, liveness) and the
internal one (readiness and metrics), each behind the body gate of bot/bodies.py."""

import asyncio
import logging
import re

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.app import OneVoice
from bot.bodies import LIMITS, BodyGate
from bot.metrics import CONTENT_TYPE
from bot.readiness import Readiness
from bot.web.page import page_routes
from bot.web.signals import signal_endpoint

log = logging.getLogger(__name__)

_SLACK_STAMP = re.compile(r"[0-9]{1,12}")  # Unix seconds, as Slack sends them


def build_app(
    bot: OneVoice,
    slack_app=None,
    telegram=None,
    telegram_secret: str | None = None,
    signals_secret: str | None = None,
    on_work=None,
    body_seconds: float = 10.0,
) -> Starlette:
    """The public routes: the platforms that are configured, signals, statement pages and liveness."""

    async def healthz(_request: Request) -> Response:
        return JSONResponse({"ok": True})  # liveness: the process answers; /readyz (internal) says whether it should get traffic

    routes = [Route("/healthz", healthz), *page_routes(bot)]
    if slack_app is not None:  # each platform's modules loaded only when it is served: a second less to start on one
        from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler

        from bot.slack.shapes import signed_by_slack, unreadable

        handler = AsyncSlackRequestHandler(slack_app)

        async def slack_events(request: Request) -> Response:
            body = await request.body()
            if unreadable(body, request.headers.get("content-type")):  # Bolt would fail on it before checking the signature
                secret = bot.settings.slack_signing_secret
                signed = secret is not None and signed_by_slack(secret.get_secret_value(), body, request.headers)
                return JSONResponse({"ok": False, "error": "unreadable body"}, status_code=400 if signed else 401)
            return await handler.handle(request)

        routes.append(Route("/slack/events", _slack_stamp_checked(slack_events), methods=["POST"]))
    if telegram is not None and telegram_secret:
        from bot.telegram.webhook import telegram_webhook

        routes.append(Route("/telegram/webhook", telegram_webhook(telegram, telegram_secret), methods=["POST"]))
    if signals_secret:
        routes.append(Route("/signals", signal_endpoint(bot, signals_secret, on_work or (lambda: None)), methods=["POST"]))
    return _gated(Starlette(routes=routes), bot, body_seconds)


def _slack_stamp_checked(endpoint):
    """The endpoint, after refusing a Slack timestamp that is not a number as unsigned (slack_sdk's int() would fail on it)."""

    async def checked(request: Request) -> Response:
        stamp = request.headers.get("x-slack-request-timestamp")
        if stamp is not None and not _SLACK_STAMP.fullmatch(stamp):
            log.warning("refused POST /slack/events: malformed X-Slack-Request-Timestamp (401)")
            return JSONResponse({"ok": False, "error": "unsigned"}, status_code=401)
        return await endpoint(request)

    return checked


def build_admin_app(bot: OneVoice, readiness: Readiness | None = None, body_seconds: float = 10.0) -> Starlette:
    """The internal routes, for the orchestrator and Prometheus only: readiness, metrics (and liveness again)."""
    readiness = readiness or Readiness(bot.engine)

    async def healthz(_request: Request) -> Response:
        return JSONResponse({"ok": True})

    async def readyz(_request: Request) -> Response:
        ready, found = await readiness.check()
        return JSONResponse(found, status_code=200 if ready else 503)

    async def metrics(_request: Request) -> Response:
        return Response(await asyncio.to_thread(bot.metrics.render), media_type=CONTENT_TYPE)

    routes = [Route("/healthz", healthz), Route("/readyz", readyz), Route("/metrics", metrics)]
    return _gated(Starlette(routes=routes), bot, body_seconds)


def _gated(app: Starlette, bot: OneVoice, body_seconds: float) -> Starlette:
    """Bodies bounded before any route reads them; every request counted, refusals included."""
    app.add_middleware(BodyGate, body_seconds=body_seconds)
    app.add_middleware(_Counted, metrics=bot.metrics)  # added last, so outermost: it sees the gate's 413s and 408s
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
            path = getattr(route, "path", None) or (scope["path"] if scope["path"] in LIMITS else "other")  # the gate answers unrouted
            self.metrics.http.labels(path, str(status["code"])).inc()
