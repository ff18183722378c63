"""What a handler decides must be said or done on a platform: one frozen dataclass per kind of effect.

An effect is queued as an outbox row: its class's `kind` in the `kind` column, its fields as JSON in `payload` (a
message as `Message.to_json`, a field left at None not written). Reading takes the same shape back, so rows queued by
an older version (the same keys) still deliver. The class also says how a notice names it when it is given up.
"""

import dataclasses
from dataclasses import dataclass
from typing import ClassVar, Self

from handlers.text.i18n import N_
from handlers.text.markup import Message


@dataclass(frozen=True)
class Effect:
    """One effect; subclasses name their kind, the words a give-up notice uses, and the command that redoes it."""

    kind: ClassVar[str]
    what: ClassVar[str]  # N_(): "Could not deliver {what}"
    redo: ClassVar[str | None] = None  # the command that does it again ({n}: the incident number)
    quoted: ClassVar[bool] = True  # a give-up notice quotes the message (never an answer: it is the asker's alone)

    def payload(self) -> dict:
        """The JSON of the outbox row."""
        stored = {}
        for spec in dataclasses.fields(self):
            value = getattr(self, spec.name)
            if value is None or (value is False and spec.default is False):
                continue  # absent keys read back as the default: the shape rows have always had
            stored[spec.name] = value.to_json() if isinstance(value, Message) else list(value) if isinstance(value, tuple) else value
        return stored

    @classmethod
    def from_payload(cls, payload: dict) -> Self:
        """The effect an outbox row holds (KeyError or TypeError when a field it needs is missing)."""
        read = {}
        for spec in dataclasses.fields(cls):
            if spec.name not in payload:
                continue
            value = payload[spec.name]
            read[spec.name] = Message.from_json(value) if spec.type is Message else tuple(value) if spec.type == tuple[str, ...] else value
        return cls(**read)


@dataclass(frozen=True)
class OpenRoom(Effect):
    """Create the incident room (a Slack channel, a Telegram forum topic), post and pin the card."""

    kind = "open_room"
    what = N_("the incident room")
    redo = "/crisis #{n} status"

    name: str
    topic: str
    private: bool
    drill: bool


@dataclass(frozen=True)
class Post(Effect):
    """A message to the incident room, or to `to` (a room id outside the incident)."""

    kind = "post"
    what = N_("a message")

    message: Message
    to: str | None = None
    notice: bool = False  # a give-up notice itself: if it cannot be delivered either, it is only logged


@dataclass(frozen=True)
class RefreshCard(Effect):
    """Re-render the pinned card and edit it in place."""

    kind = "refresh_card"
    what = N_("the card update")
    redo = "/crisis #{n} status"


@dataclass(frozen=True)
class Invite(Effect):
    """Bring people into the incident room (their platform ids); a platform that cannot add members mentions them."""

    kind = "invite"
    what = N_("the invitations to the room")
    redo = "/crisis #{n} roles"

    users: tuple[str, ...]


@dataclass(frozen=True)
class DM(Effect):
    """A direct message to one person (`to` is their platform id)."""

    kind = "dm"
    what = N_("a direct message")

    message: Message
    to: str


@dataclass(frozen=True)
class RefreshLine(Effect):
    """Post and pin the approved line, or edit the pinned one in place."""

    kind = "refresh_line"
    what = N_("the pinned approved line")
    redo = "/crisis #{n} line"


@dataclass(frozen=True)
class Publish(Effect):
    """The approved text, verbatim, to a broadcast channel (`to`), for the publication row `publication_id`."""

    kind = "publish"
    what = N_("the publication")

    publication_id: int
    to: str


@dataclass(frozen=True)
class Edit(Effect):
    """Edit in place the message an earlier Post delivered (`ref`: that post's outbox row)."""

    kind = "edit"
    what = N_("an update of an earlier message")

    message: Message
    ref: int


@dataclass(frozen=True)
class Report(Effect):
    """Write the incident's review report files, then post `message` and where they are to the room."""

    kind = "report"
    what = N_("the review report")
    redo = "/crisis #{n} review"

    message: Message


@dataclass(frozen=True)
class Answer(Effect):
    """The answer to a command, by the route its platform named (Slack: the request's response_url, else by the bot;
    Telegram: by DM when private, else in the chat it was asked in, under the command — a refusal never in a group)."""

    kind = "answer"
    what = N_("an answer to a command")
    quoted = False

    message: Message
    to: str  # the person who asked
    private: bool = True
    channel: str | None = None  # where it was asked
    response_url: str | None = None
    in_channel: bool = False  # said in the channel whatever the reply's privacy (the help an @mention asks for)
    thread: int | None = None  # Telegram: the forum topic it was asked in
    reply_to: int | None = None  # Telegram: the command's message, which the answer replies to
    refused: bool = False  # a refusal (not on the team, not permitted): by DM only, never said in a group


@dataclass(frozen=True)
class Mail(Effect):
    """One plain-text UTF-8 e-mail to one address (PRODUCT.md §10, §11): the subject a version's headline, the body
    its approved text byte for byte. Queued on the outbox's "mail" channel: `ctx.emit("mail", Mail(...))`."""

    kind = "mail"
    what = N_("an e-mail")
    quoted = False

    to: str
    subject: str
    body: str
    statement_id: int | None = None  # the version it carries (notify, answer): held back if it owes a countersignature by then


@dataclass(frozen=True)
class Webhook(Effect):
    """The approved version as signed JSON, POSTed to a webhook target (PRODUCT.md §11) for the publication row
    `publication_id`; signed with the secret in the environment variable `secret_env` (its name only is stored).
    Queued on the outbox's "webhook" channel."""

    kind = "webhook"
    what = N_("a webhook delivery")
    quoted = False

    publication_id: int
    to: str  # the target's address (named `to`: each target is a delivery lane of its own, so one down holds up no other)
    secret_env: str
