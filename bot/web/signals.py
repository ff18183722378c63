"""`POST /signals`: alerts from monitoring tools, signed with HMAC-SHA256, size-limited, validated, rate-limited."""

import asyncio
import hashlib
import hmac
import logging

from pydantic import ValidationError
from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.app import OneVoice
from bot.bodies import LIMITS, Malformed, parse_json
from handlers.signals.intake import RateLimited, SignalIn, receive
from storage.db import session

log = logging.getLogger(__name__)

MAX_BODY = LIMITS["/signals"]  # enforced by the body gate before this route reads a byte
HEADER = "X-OneVoice-Signature"


def signature(secret: str, body: bytes) -> str:
    """The header value a sender puts on a body: sha256=<hex HMAC>."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signal_endpoint(bot: OneVoice, secret: str, on_work):
    """The route's handler: 401 unsigned, 413 too big, 422 not a signal, 429 too many, 202 accepted."""

    async def endpoint(request: Request) -> Response:
        body = await request.body()
        if not hmac.compare_digest(request.headers.get(HEADER, "").encode(), signature(secret, body).encode()):
            log.warning("refused POST /signals: missing or wrong %s (401)", HEADER)
            return JSONResponse({"error": f"missing or wrong {HEADER}"}, status_code=401)
        try:
            incoming = SignalIn.model_validate(parse_json(body))
        except Malformed as error:  # signed but broken: too deep, a huge integer, not JSON at all
            log.warning("refused POST /signals: %s (422)", error)
            return JSONResponse({"error": str(error)}, status_code=422)
        except ValidationError as error:
            problems = [
                {"field": ".".join(map(str, e["loc"])), "problem": e["msg"]} for e in error.errors(include_url=False, include_input=False)
            ]
            log.warning("refused POST /signals: not a signal (%s) (422)", ", ".join(p["field"] or "body" for p in problems))
            return JSONResponse({"error": "not a signal", "problems": problems}, status_code=422)
        try:
            signal, new = await asyncio.to_thread(_receive, bot, incoming)
        except RateLimited:
            return JSONResponse(
                {"error": "too many signals from this source; try again in a minute"}, status_code=429, headers={"Retry-After": "60"}
            )
        on_work()
        status = "new" if new else "updated"
        return JSONResponse(
            {"signal": signal.id, "status": status, "count": signal.count, "playbook": signal.playbook, "severity": signal.severity},
            status_code=202,
        )

    return endpoint


def _receive(bot: OneVoice, incoming: SignalIn):
    with session(bot.engine) as db:
        if bot.engine.dialect.name == "postgresql":
            # The same alert reaching two replicas at once: the second waits, then finds the first's row and counts a repeat
            # (SQLite serialises writers already). Released at commit.
            db.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"onevoice-signal:{incoming.key()}"})
        return receive(db, bot.deps, incoming)
