"""The two HTTP listeners of `onevoice run`: public (platforms, signals, pages) and internal (readiness, metrics),
each a uvicorn server whose connections must send their headers in time and hold only so much."""

import contextlib
import logging
import socket

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from bot.bodies import HEADER_BYTES
from config.settings import Settings

log = logging.getLogger(__name__)


class Server(uvicorn.Server):
    """uvicorn without its own signal capture: OneVoice stops it, then closes the platforms and the scheduler in order."""

    @contextlib.contextmanager
    def capture_signals(self):
        yield


class HeaderDeadline(H11Protocol):
    """uvicorn's h11 protocol, with a deadline for each request's headers (uvicorn has none: one byte a second held a
    connection open for as long as the client liked)."""

    header_seconds = 5.0

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self._deadline = None
        self._arm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm()  # the next request on this kept-alive connection gets its own deadline

    def connection_lost(self, exc) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        super().connection_lost(exc)

    def _arm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        self._deadline = self.loop.call_later(self.header_seconds, self._headers_late)

    def _headers_late(self) -> None:
        waiting = self.cycle is None or self.cycle.response_complete  # no request in progress: its headers never came
        if not waiting or self.transport.is_closing():
            return
        started = bool(self.conn.trailing_data[0])  # part of a request arrived (an idle connection is just closed)
        if started:
            client = self.client[0] if self.client else "?"
            log.warning("closed a connection from %s: request headers not complete within %g s", client, self.header_seconds)
        self.transport.close()


def with_header_deadline(seconds: float) -> type[HeaderDeadline]:
    """The protocol class uvicorn builds per connection, with this deadline."""
    return type("HeaderDeadline", (HeaderDeadline,), {"header_seconds": seconds})


def http_server(app, host: str, port: int, settings: Settings, grace: float) -> Server:
    """A uvicorn server for app (whose bodies build_app gates): headers bounded in size and time, connections counted."""
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        http=with_header_deadline(settings.http_header_seconds),
        h11_max_incomplete_event_size=HEADER_BYTES,
        limit_concurrency=settings.http_max_connections,  # beyond it, 503 at once instead of a process that slows for all
        timeout_keep_alive=5,
        log_level="warning",
        lifespan="off",
        log_config=None,
        timeout_graceful_shutdown=grace,
    )
    return Server(config)


def bind(host: str, port: int) -> socket.socket:
    """A listening socket, bound before anything starts, so a port in use is refused with a clear message."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.create_server((host, port), family=family, backlog=2048)
    # Accepted connections inherit this. asyncio sets it only on sockets made with proto IPPROTO_TCP (create_server's is
    # 0), and without it every answer written in two parts waits ~40 ms for the client's delayed ACK (Nagle).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock
