"""What the kinds about the world outside the team say (PRODUCT.md §7, §10): a stakeholder list's deadline, an overdue
press inquiry, an unanswered claim, and how a published statement lands. Their records are in kinds.py."""

from typing import Any

from sqlmodel import select

from handlers.nudges import kinds
from handlers.nudges.saying import Late, Said, Words, entry
from handlers.nudges.subjects import Aftermath, Audience, ClaimRef, Question
from handlers.text.formatting import when
from handlers.text.i18n import _
from handlers.text.markup import Message, fmt
from storage.models import Claim, Inquiry


def _audience_title(said: Late[Audience]) -> str:
    audience = said.config.stakeholders.get(said.subject.key)
    return audience.title.get(said.config.language) if audience else said.subject.key


def stakeholder_deadline(said: Late[Audience]) -> Said:
    words = _(
        "the {title} list had to be told by {at} ({late} late). Clear it: `/crisis notify {key}` or `/crisis notified {key} <contact>`"
    )
    values = {
        "title": _audience_title(said),
        "at": when(said.config, said.nudge.first_due_at, said.now),
        "late": said.late,
        "key": said.subject.key,
    }
    return fmt(words, **values), [said.button(_("Notify {title}").format(title=_audience_title(said)))]


def stakeholder_deadline_sponsor(said: Late[Audience]) -> Message:
    words = _("the {title} list, due to be told by {at}, has not been told")
    return fmt(words, title=_audience_title(said), at=when(said.config, said.nudge.first_due_at, said.now))


def _inquiry(said: Late[Question]) -> Inquiry | None:
    query = select(Inquiry).where(Inquiry.incident_id == said.incident.id, Inquiry.number == said.subject.n)
    return said.session.exec(query).first()


def inquiry_overdue(said: Late[Question]) -> Said:
    found = _inquiry(said)
    key = said.subject.format()
    words = _("press inquiry {n} from {outlet} is {late} past its deadline. Clear it: `/crisis answer {key}`, or decline it with a reason")
    values = {"n": key.upper(), "outlet": found.outlet if found else "—", "late": said.late, "key": key}
    return fmt(words, **values), [said.button(_("Answer with the line"))]


def _claim(said: Late[ClaimRef]) -> Claim | None:
    query = select(Claim).where(Claim.incident_id == said.incident.id, Claim.number == said.subject.n)
    return said.session.exec(query).first()


def claim_unanswered(said: Late[ClaimRef]) -> Said:
    claim, key = _claim(said), said.subject.format()
    values = {"n": key.upper(), "text": claim.text[:200] if claim else "", "reach": f"{claim.reach if claim else 0:,}", "late": said.late}
    if said.escalated:
        words = _("claim {n} “{text}” (reach {reach}) is still unanswered, {late} past its deadline. The team needs a rebuttal.")
        return fmt(words, **values), []
    words = _("claim {n} “{text}” (reach {reach}) has no published answer ({late} late). Answer it: `/crisis rebut {key}`, then publish.")
    return fmt(words, key=key, **values), [said.button(_("Rebut {n}").format(n=key.upper()))]


def claim_unanswered_sponsor(said: Late[ClaimRef]) -> Message:
    claim = _claim(said)
    return fmt(_("claim {n} “{text}” is spreading unanswered"), n=said.subject.format().upper(), text=claim.text[:200] if claim else "")


def not_landing(said: Late[Aftermath]) -> Said:
    words = _(
        "v{version} is not landing: negative volume {before} → {after} in the hour since it went out. "
        "See `/crisis reaction`; answer what people say with a new version (`/crisis draft`) or check the claims (`/crisis claims`)."
    )
    reading = said.nudge.reason.removeprefix("figures:").split("→")
    before, after = reading if len(reading) == 2 else ("?", "?")  # the figures as judged when it was decided
    return fmt(words, version=said.subject.version, before=before, after=after), [said.button(_("Reaction"))]


# The words of every kind above, by the name stored in `nudge.kind` (the reaction follow-up is scripted: it has none).
WORDS: dict[str, Words[Any]] = dict(
    [
        entry(kinds.STAKEHOLDER_DEADLINE, stakeholder_deadline, stakeholder_deadline_sponsor),
        entry(kinds.INQUIRY_OVERDUE, inquiry_overdue),
        entry(kinds.CLAIM_UNANSWERED, claim_unanswered, claim_unanswered_sponsor),
        entry(kinds.NOT_LANDING, not_landing),
    ]
)
