"""What every platform adapter offers the delivery loop."""

from typing import Protocol

from handlers.markup import Message
from handlers.ports import Capability
from storage.models import Room


class RetryLater(Exception):
    """The platform asked us to wait (429, 5xx, retry_after); the effect stays queued."""

    def __init__(self, reason: str, after: float | None = None):
        super().__init__(reason)
        self.after = after


class Undeliverable(Exception):
    """The platform refused for good (unknown channel, no rights); retrying cannot help."""


class Adapter(Protocol):
    """A platform: turns neutral effects into API calls. Returns ids it created."""

    platform: str
    capabilities: frozenset[Capability]

    async def open_room(self, room: Room, payload: dict, card: Message) -> dict: ...

    async def post(self, room: Room | None, to: str | None, message: Message) -> dict: ...

    async def edit_card(self, room: Room, card: Message) -> dict: ...

    async def invite(self, room: Room, users: list[str]) -> dict: ...

    async def dm(self, to: str, message: Message) -> dict: ...

    async def pin(self, room: Room, message_id: str | None, message: Message) -> dict: ...  # post and pin, or edit in place

    async def publish(self, to: str, text: str) -> dict: ...

    async def edit_message(
        self, to: str, message_id: str, message: Message
    ) -> dict: ...  # a message posted with `post(None, to, …)`  # the approved text exactly as given: no markup, no escaping visible
