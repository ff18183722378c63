"""E-mail and webhook targets (PRODUCT.md §11): what each recipient is sent, how each fared, and the room told."""

import json
import secrets
from datetime import datetime

from sqlmodel import Session, select

from config.model import BroadcastTarget, Config
from handlers.core.context import Context, in_every_room, queue
from handlers.core.effects import Mail, Post, Webhook
from handlers.line.headline import headline_of, mail_subject
from handlers.line.recipients import listed, publication_of, recipients
from handlers.text.i18n import _
from handlers.text.markup import Message, fmt
from storage.models import Incident, Outbox, Publication, Statement, TimelineEvent

OUTSIDE = ("mail", "webhook")  # the outbox channels that leave the chat platforms
TOLD_EACH = 3  # addresses of one publication told one by one; beyond, one summary when it settles (a dead server: no flood)


def kind_of(target: BroadcastTarget) -> str | None:
    """The outbox channel of a target outside the chat platforms ("mail" or "webhook"); None for the others."""
    return "mail" if target.email else "webhook" if target.webhook else None


def queue_outside(ctx: Context, statement: Statement, target: BroadcastTarget, publication: Publication) -> int:
    """Queue one Mail per address, or the signed POST, for a publication; return how many recipients."""
    if target.webhook and target.secret_env:
        if ctx.incident.public_id is None:
            ctx.incident.public_id = secrets.token_urlsafe(9)  # the receiver's id for the incident: unguessable, as the page's
        ctx.emit("webhook", Webhook(publication_id=publication.id, to=target.webhook, secret_env=target.secret_env))
        return 1
    subject = mail_subject(statement, ctx.config)
    for address in dict.fromkeys(target.email or ()):  # each address in a lane of its own: a refusal holds up no other
        row = ctx.emit("mail", Mail(to=address, subject=subject, body=statement.text))
        row.result = {"publication": publication.id}  # kept by every outcome the worker writes (see bot/outbox/effects.py)
    return len(dict.fromkeys(target.email or ()))


def settle(session: Session, publication_id: int, now: datetime, settled: dict[int, str] | None = None) -> bool:
    """Once every e-mail of a publication is delivered or given up, the publication is sent (any delivered) or failed;
    `settled` gives the state of rows being decided in this step. Return whether the rooms were sent a summary."""
    # Locked (PostgreSQL): a worker and the scheduler's sweep settling at once must not both record and tell it.
    publication = session.get(Publication, publication_id, with_for_update=True, populate_existing=True)
    if publication is None or publication.state != "queued":
        return False
    rows = recipients(session, publication)
    states = [(settled or {}).get(row.id, row.state) for row in rows]
    if "pending" in states:
        return False
    failed = [str((row.payload or {}).get("to", "?")) for row, state in zip(rows, states, strict=True) if state == "failed"]
    publication.state = "sent" if "sent" in states else "failed"
    publication.sent_at = now if publication.state == "sent" else None
    publication.error = f"not delivered to {', '.join(failed)}"[:500] if failed else None
    session.add(publication)
    version = session.get_one(Statement, publication.statement_id).version
    kind = "publish_sent" if publication.state == "sent" else "publish_failed"
    counts = {"version": version, "recipients": len(rows), "delivered": states.count("sent")}
    session.add(
        TimelineEvent(incident_id=publication.incident_id, at=now, actor="onevoice", kind=kind, text=publication.target, data=counts)
    )
    if len(failed) <= TOLD_EACH:
        return False  # each was told on its own
    summary = fmt(
        _("⚠ v{n} reached {delivered} of {total} addresses of {target}; not delivered to {addresses}. See `/crisis published`."),
        n=version,
        delivered=counts["delivered"],
        total=len(rows),
        target=publication.target,
        addresses=listed(failed),
    )
    return bool(in_every_room(session, publication.incident_id, now, Post(summary, notice=True)))


def mail_not_delivered(
    session: Session, config: Config, platforms: list[str], row: Outbox, mail: Mail | None, reason: str, now: datetime
) -> bool:
    """An e-mail was refused or given up: record it on its publication and tell the incident's rooms (or the triage room)
    which address; return whether anyone was told."""
    address = mail.to if mail is not None else str((row.payload or {}).get("to", "?"))
    if row.incident_id is not None:  # each recipient's outcome outlives the outbox row (pruned after the retention days)
        failed = TimelineEvent(
            incident_id=row.incident_id, at=now, actor="onevoice", kind="mail_failed", text=address, data={"reason": reason[:200]}
        )
        session.add(failed)
    publication = publication_of(row)
    if publication is not None:
        summarised = settle(session, publication, now, {row.id: "failed"})
        if _failed_before(session, publication, row.id) >= TOLD_EACH:
            return summarised  # enough said one by one: the summary at the end names the rest
    notice = fmt(
        _("⚠ The e-mail to {address} was not delivered ({reason}); attempts: {attempts}. Check the address, then send it again."),
        address=address,
        reason=reason[:200],
        attempts=row.attempts,
    )
    if row.incident_id is not None and in_every_room(session, row.incident_id, now, Post(notice, notice=True)):
        return True
    told = False
    for platform in platforms:
        triage = getattr(config.triage_room, platform, None) if config.triage_room else None
        if triage is not None:
            queue(session, row.incident_id, platform, Post(notice, to=str(triage), notice=True), now)
            told = True
    return told


def _failed_before(session: Session, publication_id: int, row_id: int) -> int:
    """How many other e-mails of a publication were given up already."""
    publication = session.get(Publication, publication_id)
    return sum(1 for row in recipients(session, publication) if row.state == "failed" and row.id != row_id) if publication else 0


def webhook_body(session: Session, config: Config, publication_id: int, page_base: str | None) -> bytes:
    """The JSON a webhook target receives for a publication (PRODUCT.md §11), the same bytes on every attempt."""
    publication = session.get_one(Publication, publication_id)
    statement = session.get_one(Statement, publication.statement_id)
    incident = session.get_one(Incident, publication.incident_id)
    page = session.exec(
        select(Publication.id).where(Publication.incident_id == incident.id, Publication.platform == "page", Publication.state == "sent")
    ).first()
    approver = config.team.people.get(statement.decided_by or "")
    body = {
        "incident": incident.public_id,
        "version": statement.version,
        "kind": statement.kind or "update",
        "headline": headline_of(statement, config),
        "text": statement.text,
        "approved_at": statement.decided_at.isoformat() if statement.decided_at else None,
        "approved_by": approver.name if approver else statement.decided_by,
        "published_at": publication.at.isoformat(),
        "page_url": f"{page_base.rstrip('/')}/s/{incident.public_id}" if page and page_base and incident.public_id else None,
    }
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def sending_note(counts: dict[str, int]) -> Message:
    """What `publish` says about its e-mail targets: how many recipients each."""
    if not counts:
        return Message()
    listed = ", ".join(_("{target}: {n} recipients").format(target=name, n=n) for name, n in counts.items())
    return fmt(_("✉️ E-mailing {targets}."), targets=listed)
