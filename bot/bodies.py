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

log = logging.getLogger(__name__)

KIB = 1024
# The largest body each route accepts. Slack's biggest requests (a form submission carrying its whole view) stay well
# under 1 MiB; a Telegram update is at most a few tens of KiB; a signal is a few fields. Other routes take no body.
LIMITS = {"/slack/events": 1024 * KIB, "/telegram/webhook": 256 * KIB, "/signals": 64 * KIB}
OTHER_LIMIT = 4 * KIB
HEADER_BYTES = 16 * KIB  # the request line and headers together; Slack's and Telegram's are well under 2 KiB
# Slack's and Telegram's payloads nest about ten levels; nothing honest comes near this.
MAX_DEPTH = 32
OFF_LOOP = 64 * KIB  # a bigger body is checked in a thread, so a flood of them does not stall the event loop
# How each route's body is parsed downstream, so the depth check looks where the parser will.
SHAPES = {"/slack/events": "slack", "/telegram/webhook": "json", "/signals": "json"}

_NOT_BRACKETS = bytes(c for c in range(256) if c not in b"[]{}")
_LEVELS = bytes.maketrans(b"[{]}", b"(())")  # arrays and objects nest alike
_STRINGS = re.compile(rb'"[^"]*"')  # once escaped quotes are gone, a string runs to the next quote
_FORM_ESCAPES = [(f"%{ord(c):02{case}}".encode(), c.encode()) for c in '[]{}"\\' for case in "Xx"]
_NAME_ESCAPES = [(f"%{ord(c):02{case}}".encode(), c.encode()) for c in "payload" for case in "Xx"]


class Malformed(ValueError):
    """A body the route cannot take; the message says why, in one line."""


def nests_deeper(text: bytes | str, max_depth: int = MAX_DEPTH) -> bool:
    """Whether JSON text nests arrays and objects deeper than max_depth (brackets inside strings not counted).

    Every step runs at C speed on any input up to the body limits: a check must not cost more than the parse it guards."""
    data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    data = data.replace(b"\\\\", b"").replace(b'\\"', b"")  # escaped backslashes and quotes neither open nor close a string
    data = _STRINGS.sub(b"", data).translate(None, _NOT_BRACKETS)  # the brackets outside strings
    if data.count(b"[") + data.count(b"{") <= max_depth:
        return False
    data = data.translate(_LEVELS)
    too_many = b"(" * (max_depth + 1)
    for depth in range(max_depth + 1):  # each pass removes the innermost level of every group
        if too_many in data:
            return True
        inner = data.replace(b"()", b"")
        if inner == data:
            return depth + data.count(b"(") > max_depth  # what is left: stray closes, then groups never closed
        data = inner
    return True


def parse_json(body: bytes | str, max_depth: int = MAX_DEPTH):
    """json.loads with a depth limit checked first, and every failure (huge integers included) a Malformed."""
    if nests_deeper(body, max_depth):
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
        return nests_deeper(body)
    if shape == "slack":  # a form whose `payload` field is JSON (buttons, forms, shortcuts)
        return any(nests_deeper(_form_value(value)) for value in _payload_fields(body))
    return False


def _payload_fields(body: bytes) -> list[bytes]:
    """The first and the last `payload` field of a form (parsers keep one or the other), however its name is escaped."""
    for escaped, letter in _NAME_ESCAPES:
        body = body.replace(escaped, letter)
    joined, name = b"&" + body, b"&payload="
    found = []
    for at in {joined.find(name), joined.rfind(name)} - {-1}:
        end = joined.find(b"&", at + len(name))
        found.append(joined[at + len(name) : end if end >= 0 else None])
    return found


def _form_value(value: bytes) -> bytes:
    """Enough of a form value's decoding for nests_deeper: its brackets, quotes and backslashes."""
    for escaped, plain in _FORM_ESCAPES:
        value = value.replace(escaped, plain)
    return value


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
        body, more = bytearray(), True
        try:
            async with asyncio.timeout(self.body_seconds):
                while more and len(body) <= limit:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        return  # the client left: nobody to answer
                    body += message.get("body", b"")
                    more = message.get("more_body", False)
        except TimeoutError:
            await _refuse(scope, send, 408, f"body not received within {self.body_seconds:g} s")
            return
        if len(body) > limit:  # the stream passed the limit: what else it holds is never read
            await _refuse(scope, send, 413, f"body over {limit} bytes")
            return
        content_type = headers.get(b"content-type", b"").decode("latin-1").lower()
        body = bytes(body)
        shape = (path, body, content_type)
        if await asyncio.to_thread(too_deep, *shape) if len(body) > OFF_LOOP else too_deep(*shape):
            await _refuse(scope, send, 400, f"JSON nested deeper than {MAX_DEPTH} levels")
            return
        await self.app(scope, _replay(body, receive), send)


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
