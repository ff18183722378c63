"""The "webhook" outbox channel: the approved version as JSON POSTed to a target, signed, with a stable delivery id.

The receiver verifies `X-OneVoice-Signature: sha256=<hex>` (HMAC-SHA256 of the raw body with the shared secret) and
de-duplicates on `X-OneVoice-Delivery`, which is the same on every attempt of one outbox row. The secret is read from its
environment variable at each delivery, never stored or logged. 2xx is delivered; 408, 429 and 5xx are retried (a
Retry-After is honoured); any other answer fails at once.
"""

import hashlib
import hmac
import os
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import aiohttp

from bot.outbox.adapter import RetryLater, Undeliverable

TIMEOUT = 30.0  # seconds for one POST, connection included
LONGEST_WAIT = 3600.0  # a Retry-After beyond this is read as this: the attempts' cap still gives up in time
SHORTEST_WAIT = 1.0  # "Retry-After: 0" must not spend every attempt in one pass
RETRIED = frozenset({408, 429})


def delivery_id_of(row_id: int, created_at: datetime) -> str:
    """The delivery id: the same on every attempt of one outbox row, different between databases."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"onevoice:webhook:{row_id}:{created_at.isoformat()}"))


def signature_of(secret: str, body: bytes) -> str:
    """The value of X-OneVoice-Signature for a body."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def wait_of(header: str | None, now: datetime | None = None) -> float | None:
    """Seconds a Retry-After asks for (a number or an HTTP date), within LONGEST_WAIT; None when absent or unreadable."""
    if not header:
        return None
    header = header.strip()
    if header.isascii() and header.isdigit():  # "²" is a digit to str.isdigit, not to float
        return min(max(float(header), SHORTEST_WAIT), LONGEST_WAIT)
    try:
        moment = parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return min(max(SHORTEST_WAIT, (moment - (now or datetime.now(UTC))).total_seconds()), LONGEST_WAIT)


class WebhookChannel:
    """POSTs Webhook effects; `page_base` is the public address the page links are made from."""

    platform = "webhook"

    def __init__(self, page_base: str | None = None, environ: Mapping[str, str] = os.environ, timeout: float = TIMEOUT):
        self.page_base, self.environ, self.timeout = page_base, environ, timeout
        self.http: aiohttp.ClientSession | None = None

    async def post_webhook(self, url: str, body: bytes, secret_env: str, delivery_id: str) -> dict:
        """POST one signed body; RetryLater on 408/429/5xx or a network fault, Undeliverable on any other answer."""
        secret = self.environ.get(secret_env)
        if not secret:
            raise Undeliverable(f"{secret_env} is not set, so the webhook cannot be signed")
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "X-OneVoice-Signature": signature_of(secret, body),
            "X-OneVoice-Delivery": delivery_id,
            "User-Agent": "OneVoice",
        }
        if self.http is None or self.http.closed:
            self.http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
        try:
            async with self.http.post(url, data=body, headers=headers, allow_redirects=False) as response:
                status, retry_after = response.status, response.headers.get("Retry-After")
        except (aiohttp.ClientError, TimeoutError, OSError) as error:
            raise RetryLater(f"webhook unreachable: {type(error).__name__}") from None
        if 200 <= status < 300:
            return {"message_id": delivery_id, "status": status}
        if status in RETRIED or status >= 500:
            raise RetryLater(f"HTTP {status}", after=wait_of(retry_after))
        raise Undeliverable(f"HTTP {status}")

    async def close(self) -> None:
        """Close the connection pool (shutdown)."""
        if self.http is not None:
            await self.http.close()
