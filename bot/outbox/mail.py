"""The "mail" outbox channel: each Mail effect as one plain-text UTF-8 e-mail to one address, over SMTP (aiosmtplib).

What "never twice" means here. The row is marked delivered as soon as the server answers 250 to the end of DATA; a
failure after that (QUIT, the connection closing) changes nothing. A connection lost before that answer is retried:
if the server had in fact taken the message (it answered, but the answer never arrived), the retry sends it again
with the same Message-ID, derived from the outbox row, so the receiving system can recognise the duplicate. That
window — the server's 250 in flight, or a crash between it and our commit — is the only one in which a second copy
can leave; SMTP offers no way to close it.
"""

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP, SMTPUTF8
from email.utils import format_datetime
from urllib.parse import unquote, urlsplit

import aiosmtplib
from pydantic import SecretStr
from sqlalchemy import Engine
from sqlmodel import col, select

from bot.outbox.adapter import RetryLater, Undeliverable
from handlers.core.effects import Mail
from handlers.line import outlets
from handlers.text.i18n import N_, speaking
from storage.db import session as new_session
from storage.models import Publication

log = logging.getLogger(__name__)

TIMEOUT = 30.0  # seconds for each SMTP step: a server that hangs is retried, not waited on forever
SETTLE_BATCH = 100  # waiting e-mail publications read per transaction by the settle sweep


class Refused(Undeliverable):
    """The server refused the address or the message for good (a 5xx answer): retrying cannot help."""


@dataclass(frozen=True)
class Server:
    """Where and how to send: host, port, TLS from the start (smtps) or STARTTLS, and the login if any."""

    host: str
    port: int
    tls: bool
    starttls: bool | None  # True: required (a login never crosses in the clear); None: used when offered
    username: str | None = None
    password: SecretStr | None = None

    def __repr__(self) -> str:  # the password never reaches a log line
        return f"Server({self.host}:{self.port}, tls={self.tls}, starttls={self.starttls}, user={self.username!r})"


def server_of(url: str) -> Server:
    """Read ONEVOICE_SMTP_URL (smtp://user:password@host:587, smtps://…, smtp://host:port); ValueError names no secret."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ValueError(N_("ONEVOICE_SMTP_URL must look like smtp://user:password@host:587 or smtps://user:password@host:465"))
    try:
        port = parts.port or (465 if parts.scheme == "smtps" else 587)
    except ValueError:
        raise ValueError(N_("ONEVOICE_SMTP_URL has a port that is not a number")) from None
    username = unquote(parts.username) if parts.username else None
    password = SecretStr(unquote(parts.password)) if parts.password else None
    tls = parts.scheme == "smtps"
    return Server(parts.hostname, port, tls, None if tls or not username else True, username, password)


def message_id_of(row_id: int, created_at: datetime, sender: str) -> str:
    """A Message-ID that is the same on every attempt of one outbox row, and differs between databases."""
    stamp = uuid.uuid5(uuid.NAMESPACE_URL, f"onevoice:mail:{row_id}:{created_at.isoformat()}").hex
    domain = sender.rsplit("@", 1)[-1].strip("<> ") or "onevoice.invalid"
    return f"<{stamp}.{row_id}@{domain}>"


def compose(mail: Mail, sender: str, message_id: str, date: datetime) -> tuple[bytes, bool]:
    """The message as sent, and whether it needs SMTPUTF8 (an address that is not ASCII). The body travels in base64:
    decoded it is the approved text byte for byte, whatever its line endings, dots, "From " lines or characters."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = mail.to
    headline = mail.subject
    message["Subject"] = " ".join(headline.split())  # one line: a header cannot carry a break
    message["Date"] = format_datetime(date)
    message["Message-ID"] = message_id
    message.set_content(mail.body.encode("utf-8"), maintype="text", subtype="plain", cte="base64", params={"charset": "utf-8"})
    international = not (mail.to.isascii() and sender.isascii())
    return message.as_bytes(policy=SMTPUTF8 if international else SMTP), international


class MailChannel:
    """Sends Mail effects: one connection and one recipient per e-mail, the outcome of each on its own outbox row."""

    platform = "mail"

    def __init__(self, server: Server, sender: str, timeout: float = TIMEOUT):
        self.server, self.sender, self.timeout = server, sender, timeout

    async def send_mail(self, mail: Mail, message_id: str, date: datetime) -> dict:
        """Send one e-mail; RetryLater on a 4xx or a lost connection, Refused on a 5xx."""
        try:
            message, international = compose(mail, self.sender, message_id, date)
        except (ValueError, TypeError) as error:  # an address or a header no e-mail can carry: no retry makes it one
            raise Refused(f"cannot be written as an e-mail: {_said(error)}") from None
        client = aiosmtplib.SMTP(
            hostname=self.server.host,
            port=self.server.port,
            use_tls=self.server.tls,
            start_tls=self.server.starttls,
            username=self.server.username,
            password=self.server.password.get_secret_value() if self.server.password else None,
            timeout=self.timeout,
        )
        try:
            await client.connect()
        except aiosmtplib.SMTPAuthenticationError as error:
            raise RetryLater(f"the mail server refused the login ({error.code})") from None
        except (aiosmtplib.SMTPException, OSError) as error:
            raise RetryLater(f"cannot reach the mail server: {type(error).__name__}: {_said(error)}") from None
        try:
            _errors, said = await client.sendmail(self.sender, [mail.to], message, mail_options=["SMTPUTF8"] if international else [])
        except aiosmtplib.SMTPRecipientsRefused as refused:
            first = refused.recipients[0]
            raise _answer(first.code, f"{first.code} {first.message}") from None
        except aiosmtplib.SMTPResponseException as error:
            raise _answer(error.code, f"{error.code} {error.message}") from None
        except (aiosmtplib.SMTPNotSupported, ValueError) as error:  # an address it cannot take (SMTPUTF8), or no address
            raise Refused(f"refused: {_said(error)}") from None
        except (aiosmtplib.SMTPException, OSError) as error:  # dropped mid-way: the server did not say it took the message
            raise RetryLater(f"the mail server connection was lost: {type(error).__name__}: {_said(error)}") from None
        finally:
            await _close(client)
        return {"message_id": message_id, "accepted": said[:200]}


def _answer(code: int, said: str) -> Exception:
    """A 5xx refuses for good; anything else (4xx: try later) is retried."""
    said = " ".join(said.split())[:200]
    return Refused(f"refused: {said}") if 500 <= code < 600 else RetryLater(f"deferred: {said}")


def _said(error: Exception) -> str:
    return " ".join(str(error).split())[:200]


async def _close(client: aiosmtplib.SMTP) -> None:
    """QUIT politely; a failure here changes nothing about what was sent."""
    if not client.is_connected:
        return
    try:
        await client.quit()
    except Exception:  # noqa: BLE001  (the outcome is already known; only the socket is left to close)
        client.close()


def settle_waiting(engine: Engine, now: datetime, language: str, batch: int = SETTLE_BATCH, stop=lambda: False) -> int:
    """Settle every e-mail publication still waiting although none of its e-mails is: two workers finishing its last two
    at the same instant each saw the other's still pending (each settles before its row is recorded). One short
    transaction per publication; return how many were settled."""
    settled, after = 0, 0
    while not stop():
        with new_session(engine) as session:
            waiting = select(Publication.id).where(
                Publication.state == "queued", Publication.platform == "mail", col(Publication.id) > after
            )
            page = list(session.exec(waiting.order_by(col(Publication.id)).limit(batch)))
        for publication in page:
            with new_session(engine) as session, speaking(language):
                outlets.settle(session, publication, now)
                settled += session.get_one(Publication, publication).state != "queued"
                session.commit()
        if len(page) < batch:
            break
        after = page[-1]
    if settled:
        log.warning("settled %d e-mail publications left waiting after their last e-mails", settled)
    return settled
