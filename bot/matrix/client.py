"""The Matrix client: matrix-nio's AsyncClient with its own retrying turned off (the outbox retries, with its caps), and
each failure turned into the outbox's outcome: `RetryLater` (M_LIMIT_EXCEEDED with retry_after_ms, 5xx, the network)
or `Undeliverable` (a refusal: no rights, no such room, a bad request)."""

import asyncio
import logging
import time
import weakref

from aiohttp import ClientError
from nio import AsyncClient, AsyncClientConfig, ErrorResponse, LoginResponse, WhoamiResponse

from bot.outbox.adapter import RetryLater, Throttled, Undeliverable, touched, wait_until
from handlers.text.i18n import _

log = logging.getLogger(__name__)

DEVICE_NAME = "OneVoice"
REQUEST_SECONDS = 30.0  # one call other than /sync (whose long poll is added to this)
PACE_SECONDS = 10.0  # a rate limit's wait up to this long is waited in the call; a longer one is the outbox's to wait
LIMITED_TRIES = 4  # tries of one call under the rate limit before the effect goes back to the outbox
_NOT_BEFORE: "weakref.WeakKeyDictionary[AsyncClient, float]" = weakref.WeakKeyDictionary()  # client → when it may call again


class NotConnected(Exception):
    """The homeserver refused the bot's credentials or cannot be reached; the message says which setting to check."""


def make_client(homeserver: str, user_id: str, sync_seconds: float = 30.0) -> AsyncClient:
    """A client that returns every 429 and timeout to its caller at once: no end-to-end encryption, no store on disk."""
    config = AsyncClientConfig(
        encryption_enabled=False,
        store_sync_tokens=False,  # the token lives in our database, advanced only once its events are decided
        max_limit_exceeded=0,
        max_timeouts=0,
        request_timeout=REQUEST_SECONDS + sync_seconds,
    )
    return AsyncClient(homeserver.rstrip("/"), user_id, store_path=None, config=config)


async def connect(client: AsyncClient, token: str | None, password: str | None) -> None:
    """Use the access token (checked with whoami), or log in with the password; NotConnected says what went wrong."""
    try:
        if token:
            client.access_token = token
            who = await client.whoami()
            if not isinstance(who, WhoamiResponse):
                raise NotConnected(_("the homeserver refused MATRIX_ACCESS_TOKEN ({why})").format(why=_said(who)))
            if who.user_id != client.user:  # client.user is MATRIX_USER_ID; nio sets user_id from the answer
                told = _("MATRIX_ACCESS_TOKEN belongs to {user}, not to MATRIX_USER_ID {wanted}")
                raise NotConnected(told.format(user=who.user_id, wanted=client.user))
            client.user_id = who.user_id
            client.device_id = who.device_id or client.device_id
            return
        logged = await client.login(password=password, device_name=DEVICE_NAME)
        if not isinstance(logged, LoginResponse):
            raise NotConnected(_("the homeserver refused MATRIX_PASSWORD for {user} ({why})").format(user=client.user, why=_said(logged)))
    except (ClientError, OSError, TimeoutError) as error:
        told = _("cannot reach the Matrix homeserver at {url} ({why}); check MATRIX_HOMESERVER")
        raise NotConnected(told.format(url=client.homeserver, why=type(error).__name__)) from None


async def call(client: AsyncClient, method: str, *args, **kwargs):
    """One client call; its error response raised as the outbox's RetryLater or Undeliverable. A short wait the server
    asks for (M_LIMIT_EXCEEDED) is waited here, and every call of this client waits it too, so a burst is paced instead
    of each queued effect spending an attempt on the same 429; a long one goes back to the outbox."""
    for tries in range(1, LIMITED_TRIES + 1):
        await _paced(client, method)
        touched()  # from here the effect may have reached the server: its row keeps the outbox batch's turn until done
        try:
            response = await getattr(client, method)(*args, **kwargs)
        except (ClientError, OSError, TimeoutError) as error:
            raise RetryLater(f"{method}: {type(error).__name__}") from None
        if not isinstance(response, ErrorResponse):
            return response
        problem = failure(method, response)
        if not isinstance(problem, RetryLater) or response.status_code != "M_LIMIT_EXCEEDED":
            raise problem
        _NOT_BEFORE[client] = time.monotonic() + (problem.after or 1.0)  # every call of this client waits it, long or not
        if tries == LIMITED_TRIES or (problem.after or 0) > PACE_SECONDS:
            raise problem
    raise AssertionError("unreachable")  # the loop returns or raises


async def alive(client: AsyncClient) -> None:
    """The readiness probe: one whoami, never paced (a probe must answer within its own short timeout)."""
    who = await client.whoami()
    if isinstance(who, ErrorResponse):
        raise failure("whoami", who)


async def _paced(client: AsyncClient, method: str) -> None:
    """Wait out the last rate limit the server named for this client (never longer than PACE_SECONDS)."""
    wait = _NOT_BEFORE.get(client, 0.0) - time.monotonic()
    if wait > PACE_SECONDS:  # never tried: back to the outbox until then, no attempt spent on a limit known already
        raise Throttled(f"{method}: rate limited", after=wait)
    if wait > 0:  # aside: the other lanes of an outbox batch send meanwhile (before this row sent anything)
        await wait_until(lambda: _NOT_BEFORE.get(client, 0.0) - time.monotonic(), asyncio.sleep)


def failure(method: str, response: ErrorResponse) -> RetryLater | Undeliverable:
    """What an error response means for the outbox: wait (and how long), or give up."""
    status = getattr(getattr(response, "transport_response", None), "status", None)
    said = f"{method}: {_said(response)}"
    if response.status_code == "M_LIMIT_EXCEEDED" or status == 429:
        return RetryLater(said, after=(response.retry_after_ms or 1000) / 1000)
    if status is None or status >= 500:  # no answer we could read, or the server's own trouble
        return RetryLater(said)
    return Undeliverable(said)


def _said(response) -> str:
    """An error response in a line: its errcode and message (never a token)."""
    if isinstance(response, ErrorResponse):
        return f"{response.status_code or 'error'}: {response.message}"[:300]
    return type(response).__name__
