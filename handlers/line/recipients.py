"""The e-mails of a publication to an e-mail target, one outbox row per address: how many reached their recipient."""

from sqlmodel import Session, col, select

from handlers.text.i18n import _
from storage.models import Outbox, Publication

LISTED = 10  # addresses named in a list, then how many more


def publication_of(row: Outbox) -> int | None:
    """The publication an e-mail was queued for; None for a mail queued by anything else."""
    publication = (row.result or {}).get("publication")
    return publication if isinstance(publication, int) else None


def recipients(session: Session, publication: Publication) -> list[Outbox]:
    """The outbox rows of a publication's e-mails, one per address."""
    # Only this attempt's: a failed publication published again has its earlier rows, queued before it was recorded again.
    # "mail" is the channel a Mail effect is queued on, named as standing.py names "publish": reading the outbox's rows
    # does not import the effects that write them.
    mine = (Outbox.incident_id == publication.incident_id, Outbox.kind == "mail", Outbox.created_at >= publication.at)
    rows = session.exec(select(Outbox).where(*mine).order_by(col(Outbox.id)))
    return [row for row in rows if publication_of(row) == publication.id]


def recipients_note(session: Session, publication: Publication) -> str:
    """How many of a publication's e-mails were delivered, and which addresses failed."""
    rows = recipients(session, publication)
    if not rows:
        return ""  # pruned long after delivery (ONEVOICE_RETENTION_DAYS): the publication's own state says the rest
    delivered = sum(1 for row in rows if row.state == "sent" and not (row.result or {}).get("cancelled"))
    failed = [str((row.payload or {}).get("to", "?")) for row in rows if row.state == "failed"]
    if failed:
        said = _("({delivered} of {total} e-mails delivered; not delivered to {addresses})")
        return said.format(delivered=delivered, total=len(rows), addresses=listed(failed))
    return _("({delivered} of {total} e-mails delivered)").format(delivered=delivered, total=len(rows))


def listed(addresses: list[str]) -> str:
    """Addresses for a message: the first few, then how many more."""
    more = len(addresses) - LISTED
    return ", ".join(addresses[:LISTED]) + (" " + _("and {n} more").format(n=more) if more > 0 else "")
