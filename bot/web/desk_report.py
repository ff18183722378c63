"""The review report's "Stakeholders" and "Press inquiries" sections (PRODUCT.md §10): rows for the templates, every
text in the team's language and every time in the team's words (formatting.when)."""

from datetime import datetime

from sqlmodel import Session

from config.model import Config
from handlers.desk import review as desk_review
from handlers.text.formatting import duration_text, person_name, when
from handlers.text.i18n import _
from storage.models import Incident


def context(session: Session, config: Config, incident: Incident, now: datetime) -> dict:
    """`desk` for the report templates: the lists with their deadlines and who was told when, and the inquiries."""
    desk = desk_review.gather(session, config, incident)

    def at(moment: datetime | None) -> str:
        return when(config, moment, now)

    how = {"mail": _("e-mail"), "call": _("call or reply"), "simulated": _("e-mail (drill: not sent)")}
    outcome = {"pending": _("pending"), "sent": _("delivered"), "failed": _("refused")}
    lists = []
    for listed in desk.lists:
        audience = config.stakeholders[listed.key]
        lists.append(
            {
                "title": audience.title.get(config.language),
                "required": _("yes") if listed.required else _("no"),
                "deadline": at(listed.deadline),
                "told_at": at(listed.told_at),
                "verdict": _verdict(listed),
                "told": [
                    (
                        t.contact,
                        how.get(t.how, t.how),
                        f"v{t.version}" if t.version else "—",
                        at(t.at),
                        person_name(config, t.by),
                        outcome.get(t.outcome or "", ""),
                        t.note or "",
                    )
                    for t in listed.told
                ],
            }
        )
    inquiries = []
    for q in desk.inquiries:
        took = desk_review.answer_time(q)
        state = {"answered": _("answered with v{n}").format(n=q.version), "declined": _("declined: {reason}").format(reason=q.reason)}
        on_time = "" if q.due_at is None or q.answered_at is None else _("on time") if q.answered_at <= q.due_at else _("late")
        inquiries.append(
            (
                f"Q{q.number}",
                q.outlet,
                q.question,
                at(q.created_at),
                at(q.due_at),
                state.get(q.state, _("open")),
                at(q.answered_at),
                duration_text(took) if took is not None else "—",
                on_time,
                person_name(config, q.answered_by) if q.answered_by else "—",
            )
        )
    labels = {
        "stakeholders": _("Stakeholders"),
        "list": _("List"),
        "required": _("Required"),
        "deadline": _("Deadline"),
        "told_at": _("First told"),
        "verdict": _("Against the deadline"),
        "contact": _("Contact"),
        "how": _("How"),
        "version": _("Version"),
        "when": _("When"),
        "outcome": _("Outcome"),
        "note": _("Note"),
        "inquiries": _("Press inquiries"),
        "outlet": _("Outlet"),
        "question": _("Question"),
        "logged": _("Logged"),
        "answer": _("Answer"),
        "answered": _("Answered"),
        "took": _("Took"),
        "on_time": _("On time"),
    }
    return {"desk": {"labels": labels, "lists": lists, "inquiries": inquiries, "shown": bool(lists or inquiries)}}


def _verdict(listed: desk_review.ListReview) -> str:
    if listed.deadline is None:
        return _("no deadline")
    if listed.told_at is None:
        return _("not told")
    span = duration_text(abs(listed.deadline - listed.told_at))
    return _("on time, {span} before").format(span=span) if listed.told_at <= listed.deadline else _("late by {span}").format(span=span)
