"""Where a version stands on each broadcast target, computed here only: `publish`, `line`, the card and the report say the
same words (issue 21). One status per target and outlet: sent / waiting / not connected here / to post by hand / failed
(and, for a version's history, cancelled or rehearsed in a drill)."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from config.model import Config
from handlers.line.recipients import recipients_note
from handlers.text.formatting import when
from handlers.text.i18n import N_, _
from handlers.text.markup import Message, fmt, text
from storage.models import Incident, Outbox, Publication

SENT, WAITING, OFFLINE, BY_HAND, FAILED, CANCELLED, REHEARSED = "sent", "waiting", "offline", "by_hand", "failed", "cancelled", "drill"
# A publication row's state → its status; "queued" is waiting until its platform accepts or refuses it for good.
_OF_STATE = {"sent": SENT, "queued": WAITING, "offline": OFFLINE, "by_hand": BY_HAND, "failed": FAILED, "cancelled": CANCELLED}
WORDS = {
    SENT: N_("sent"),
    WAITING: N_("waiting"),
    OFFLINE: N_("not connected here"),
    BY_HAND: N_("to post by hand"),
    FAILED: N_("failed"),
    CANCELLED: N_("cancelled (superseded before sending)"),
    REHEARSED: N_("drill: not sent outside"),
}
ADDRESS_MAX = 500  # Publication.url
OUTLETS = {
    "slack": "Slack",
    "telegram": "Telegram",
    "matrix": "Matrix",
    "console": N_("console"),
    "page": N_("page"),
    "manual": N_("by hand"),
    "mail": N_("e-mail"),
    "webhook": N_("webhook"),
}


@dataclass(frozen=True)
class Standing:
    """One version on one outlet of one target: its status, when it got there, its link, and what went wrong."""

    target: str
    platform: str
    status: str
    at: datetime | None = None
    url: str | None = None
    retrying: bool = False
    error: str | None = None
    note: str = ""  # an e-mail target's recipients: how many were delivered, which were refused


def status_of(row: Publication) -> str:
    """A publication row's status key (a drill's row is a rehearsal; an unknown state reads as waiting, never as sent)."""
    if row.state == "simulated":
        return REHEARSED
    return _OF_STATE.get(row.state, WAITING)


def word(status: str) -> str:
    """A status in the reader's language."""
    return _(WORDS[status]) if status in WORDS else status


def outlet(platform: str) -> str:
    """Where a target posts, in the reader's language: Slack, Telegram, page, by hand…"""
    return _(OUTLETS[platform]) if platform in OUTLETS else platform


def standings(session: Session, statement_id: int) -> list[Standing]:
    """Where one version stands on each outlet it was published to, in the order it was published."""
    rows = list(session.exec(select(Publication).where(Publication.statement_id == statement_id).order_by(col(Publication.id))))
    waiting = [row.id for row in rows if row.state == "queued"]
    retried: dict[int, Outbox] = {}
    if waiting:  # a queued publication's outbox row tells whether its platform already refused once (retrying)
        incident = rows[0].incident_id
        for outbox in session.exec(
            select(Outbox).where(Outbox.incident_id == incident, col(Outbox.kind).in_(("publish", "webhook")), Outbox.attempts > 0)
        ):
            if outbox.payload.get("publication_id") in waiting:
                retried[outbox.payload["publication_id"]] = outbox
    return [
        Standing(
            row.target,
            row.platform,
            status_of(row),
            row.sent_at or row.at,
            row.url,
            row.id in retried,
            row.error or (retried[row.id].error if row.id in retried else None),
            recipients_note(session, row) if row.platform == "mail" else "",
        )
        for row in rows
    ]


def _one(config: Config, standing: Standing, now: datetime | None) -> str:
    said = word(standing.status)
    if standing.status == SENT:
        said = f"{said} {when(config, standing.at, now)}"
    elif standing.retrying:
        said = _("{status} (retrying)").format(status=said)
    if standing.status == SENT and standing.platform == "page" and not standing.url:
        said = _("{status} — no public address: set ONEVOICE_PUBLIC_URL").format(status=said)
    said = " ".join(filter(None, (said, standing.note)))
    return f"{said} {standing.url}" if standing.url else said


def render_standings(config: Config, shown: Iterable[Standing], now: datetime | None = None) -> Message:
    """'Targets: newsroom: sent 03-02 09:05 (console), not connected here (Slack) · weibo: to post by hand'."""
    by_target: dict[str, list[Standing]] = {}
    for standing in shown:
        by_target.setdefault(standing.target, []).append(standing)
    if not by_target:
        return text(_("Not published yet."))
    parts = []
    for target, outlets in by_target.items():
        if len(outlets) == 1:
            said = _one(config, outlets[0], now)
        else:  # a target on several platforms: each outlet's own status, named
            said = _(", ").join(_("{status} ({outlet})").format(status=_one(config, s, now), outlet=outlet(s.platform)) for s in outlets)
        parts.append(_("{target}: {status}").format(target=target, status=said))
    return fmt(_("Targets: {where}"), where=" · ".join(parts))


def page_address(public_url: str | None, public_id: str | None) -> str | None:
    """The page's full address, `<public url>/s/<id>`, when both are known."""
    base = (public_url or "").strip().rstrip("/")
    if not base or not public_id or len(base) > ADDRESS_MAX - 30:
        return None  # an address longer than a publication can record is no address to hand out
    return f"{base}/s/{public_id}"


def page_lines(session: Session, incident: Incident, first: bool = False) -> Message:
    """The public page's address once it exists (PRODUCT.md §4); without ONEVOICE_PUBLIC_URL, how to give it one."""
    if incident.public_id is None or incident.drill:
        return Message()
    address = session.exec(
        select(Publication.url)
        .where(Publication.incident_id == incident.id, Publication.platform == "page", col(Publication.url).is_not(None))
        .order_by(col(Publication.id).desc())
    ).first()
    if address is None:
        return fmt(
            _(
                "🌐 #{id} has a public page but no public address: set ONEVOICE_PUBLIC_URL to this server's public base address,"
                " restart, then publish to the page again."
            ),
            id=incident.id,
        )
    if first:
        return fmt(_("🌐 The public page of #{id} is at {address} (also as JSON and an Atom feed)."), id=incident.id, address=address)
    return fmt(_("🌐 Public page: {address}"), address=address)
