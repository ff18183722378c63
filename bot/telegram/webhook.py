"""`POST /telegram/webhook`: an update is decided and committed before Telegram gets its 200."""

import hmac
import json
import logging

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from telegram import Update
from telegram.ext import Application

from bot.telegram.updates import decide_update

log = logging.getLogger(__name__)


def telegram_webhook(application: Application, secret: str):
    """Updates pushed by Telegram, accepted only with the secret token set on the webhook."""
    expected = secret.encode()

    async def webhook(request: Request) -> Response:
        given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "").encode()
        if not hmac.compare_digest(given, expected):
            return JSONResponse({"ok": False}, status_code=403)
        try:
            data = json.loads(await request.body())
            if not isinstance(data, dict):
                raise TypeError("an update is a JSON object")
            update = Update.de_json(data, application.bot)
        except (ValueError, TypeError, KeyError, AttributeError):  # AttributeError: PTB met a non-object where one belongs
            return JSONResponse({"ok": False, "error": "not a Telegram update"}, status_code=400)
        if not await decide_update(application, update):  # a 500: Telegram sends it again, and its dedup key spares a double
            return JSONResponse({"ok": False, "error": "the update could not be handled; send it again"}, status_code=500)
        return JSONResponse({"ok": True})

    return webhook
