"""Request bodies at the edge: bounded in size and time before any route reads them, and JSON bounded in depth.

Every request passes `BodyGate` first, signed or not: a body over its route's limit is refused from its
Content-Length (or as soon as the stream passes the limit) with 413, a body that does not arrive within the deadline
with 408, and JSON (or Slack's `payload=` field) nested deeper than MAX_DEPTH with 400. Each refusal is one log line
and closes the connection, so nothing the client still sends is read.
"""

import asyncio
import json
import logging
import re
from urllib.parse import parse_qsl

log = logging.getLogger(__name__)

KIB = 1024
# The largest body each route accepts. Slack's biggest requests (a form submission carrying its whole view) stay well
# under 1 MiB; a Telegram update is at most a few tens of KiB; a signal is a few fields. Other routes take no body.
LIMITS = {"/slack/events": 1024 * KIB, "/telegram/webhook": 256 * KIB, "/signals": 64 * KIB}
OTHER_LIMIT = 4 * KIB
HEADER_BYTES = 16 * KIB  # the request line and headers together; Slack's and Telegram's are well under 2 KiB
# Slack's and Telegram's payloads nest about ten levels; nothing honest comes near this.
MAX_DEPTH = 32
# How each route's body is parsed downstream, so the depth check looks where the parser will.
SHAPES = {"/slack/events": "slack", "/telegram/webhook": "json", "/signals": "json"}

_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"?|[\[\]{}]', re.DOTALL)  # a string (skipped whole, brackets inside it do not count), or a bracket


class Malformed(ValueError):
    """A body the route cannot take; the message says why, in one line."""


def depth_of(text: bytes | str) -> int:
    """How deeply JSON arrays and objects nest in text (brackets inside strings not counted); cheap on any input."""
    data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    depth = deepest = 0
    for token in _TOKENS.finditer(data):
        bracket = token.group()
        if bracket in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        elif bracket in (b"]", b"}"):
            depth = max(0, depth - 1)
    return deepest


def parse_json(body: bytes | str, max_depth: int = MAX_DEPTH):
    """json.loads with a depth limit checked first, and every failure (huge integers included) a Malformed."""
    if depth_of(body) > max_depth:
        raise Malformed(f"JSON nested deeper than {max_depth} levels")
    try:
        return json.loads(body)
    except json.JSONDecodeError as error:
        raise Malformed(f"not JSON: {error.msg} at {error.pos}") from None
    except (ValueError, RecursionError) as error:  # e.g. an integer of more than 4,300 digits
        raise Malformed(f"not JSON: {str(error).splitlines()[0][:100]}") from None


def too_deep(path: str, body: bytes, content_type: str) -> bool:
    """Whether the JSON this route will parse out of body nests deeper than MAX_DEPTH."""
    shape = SHAPES.get(path)
    if shape == "json" or (shape == "slack" and (content_type.startswith("application/json") or body.startswith(b"{"))):
        return depth_of(body) > MAX_DEPTH
    if shape == "slack" and b"payload" in body:  # a form whose `payload` field is JSON (buttons, forms, shortcuts)
        fields = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
        return any(depth_of(value) > MAX_DEPTH for name, value in fields if name == "payload")
    return False


class BodyGate:
    """ASGI middleware: read each request's body within its route's size limit and the deadline, then hand it on."""

    def __init__(self, app, body_seconds: float = 10.0, limits: dict[str, int] | None = None):
        self.app, self.body_seconds = app, body_seconds
        self.limits = LIMITS if limits is None else limits

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path, limit = scope["path"], self.limits.get(scope["path"], OTHER_LIMIT)
        if sum(len(name) + len(value) for name, value in scope["headers"]) > HEADER_BYTES:  # h11 bounds only what it buffers
            await _refuse(scope, send, 431, f"headers over {HEADER_BYTES} bytes")
            return
        headers = {name.lower(): value for name, value in scope["headers"]}
        declared = headers.get(b"content-length", b"")
        if declared and (not declared.isdigit() or int(declared) > limit):  # refused before a byte of it is read
            await _refuse(scope, send, 413, f"body over {limit} bytes")
            return
        body = bytearray()
        try:
            async with asyncio.timeout(self.body_seconds):
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        return  # the client left: nobody to answer
                    body += message.get("body", b"")
                    if len(body) > limit:
                        await _refuse(scope, send, 413, f"body over {limit} bytes")
                        return
                    if not message.get("more_body", False):
                        break
        except TimeoutError:
            await _refuse(scope, send, 408, f"body not received within {self.body_seconds:g} s")
            return
        content_type = headers.get(b"content-type", b"").decode("latin-1").lower()
        if too_deep(path, bytes(body), content_type):
            await _refuse(scope, send, 400, f"JSON nested deeper than {MAX_DEPTH} levels")
            return
        await self.app(scope, _replay(bytes(body), receive), send)


def _replay(body: bytes, receive):
    """A receive that gives the body already read, then waits on the client as the original would (disconnect)."""
    given = False

    async def replayed():
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


async def _refuse(scope, send, status: int, reason: str) -> None:
    """Answer status with the reason as JSON and close the connection (what the client still sends is never read)."""
    client = scope.get("client") or ("?", 0)
    log.warning("refused %s %s from %s: %s (%s)", scope["method"], scope["path"], client[0], reason, status)
    payload = json.dumps({"ok": False, "error": reason}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()), (b"connection", b"close")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
