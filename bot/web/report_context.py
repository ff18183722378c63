"""What the review report's templates show: the incident's figures, timeline, scorecard and labels, every text already in
the team's language (bot/web/report_files.py writes the files from it)."""

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.web import chart as report_chart
from config.model import Config
from handlers.line.kinds import kind_name
from handlers.line.standing import outlet, word
from handlers.review import report
from handlers.review.narrative import narrative
from handlers.review.report import Review, playbook_title
from handlers.text.formatting import day_text, duration_text, moment_text, person_name, role_name, zone_name
from handlers.text.i18n import _
from handlers.text.labels import OUTCOME, PHASE, SEVERITY, label

HTML_LANG = {"en": "en", "zh": "zh-Hans"}
SECTIONS: list[str] = ["desk.html.j2"]  # partial templates other features add to the page, in order (claims and reaction sit by the chart)


def report_context(review: Review, config: Config) -> dict:
    """What the templates show, every text already in the team's language."""
    incident, figures, zone = review.incident, review.metrics, ZoneInfo(config.timezone)
    language = config.language

    def at(moment: datetime | None) -> str:
        return moment_text(config, moment, review.now)

    def who(key: str) -> str:
        return "OneVoice" if key == "onevoice" else person_name(config, key)

    def stamp(moment: datetime) -> str:  # the timeline's short form: its heading names the zone
        local = moment.astimezone(zone)
        return f"{day_text(local, local.year != review.now.astimezone(zone).year)} {local:%H:%M}"

    def role(key: str) -> str:
        return role_name(config, key)

    metrics_rows = [
        (_("Time until the team was in place"), duration_text(figures.assembled) if figures.assembled else _("not yet")),
        (_("Time to first approved statement"), report.first_statement_text(figures)),
        (_("Update cadence kept"), report.cadence_text(figures)),
        (_("Checklist completion"), report.checklist_text(figures) + (f" ({figures.checklist_percent} %)" if figures.checklist else "")),
    ] + [
        (_("Time to approval of v{n}").format(n=a.version), f"{duration_text(a.wait)} ({label(OUTCOME, a.outcome)})")
        for a in figures.approvals
    ]
    return {
        "lang": HTML_LANG.get(language, "en"),
        "labels": _labels(zone_name(zone, incident.declared_at)),
        "narrative": ("" if language == "zh" else " ").join(narrative(review, config)),
        "heading": _("{report}: #{id} {title}").format(report=_("Review report"), id=incident.id, title=incident.title),
        "sections": SECTIONS,
        "cross": "M-6 -4 L-4 -6 L0 -2 L4 -6 L6 -4 L2 0 L6 4 L4 6 L0 2 L-4 6 L-6 4 L-2 0 Z",  # an X, filled
        "incident": incident,
        "title": incident.title,
        "playbook": playbook_title(config, incident.playbook),
        "severity": label(SEVERITY, incident.severity),
        "phase": label(PHASE, incident.phase),
        "drill": incident.drill,
        "declared_by": person_name(config, incident.declared_by),
        "declared_at": at(incident.declared_at),
        "resolved_at": at(incident.resolved_at),
        "closed_at": at(incident.closed_at),
        "summary": incident.summary or "",
        "generated": at(review.now),
        "metrics": metrics_rows,
        "phases": [(label(PHASE, p), duration_text(span)) for p, span in figures.phases.items() if span],
        "timeline": [(stamp(e.at), who(e.actor), _kind(e.kind), _event_text(e, config, role)) for e in review.events],
        "roles": [
            (role(h.role), person_name(config, h.person), at(h.assigned_at), at(h.acked_at), at(h.ended_at) if h.ended_at else "")
            for h in review.holdings
        ],
        "versions": [
            {
                "number": v.number,
                "kind": kind_name(v.kind),
                "state": label(OUTCOME, next((a.outcome for a in figures.approvals if a.version == v.number), "pending")),
                "author": person_name(config, v.author),
                "drafted": at(v.drafted_at),
                "decided": at(v.decided_at),
                "reason": v.reason or "",
                "text": v.text,
                "approvals": [(role(r), person_name(config, p), at(when)) for r, p, when in v.approvals],
                "published": [(p.target, outlet(p.platform), word(p.status), at(p.sent_at or p.at), p.url or "") for p in v.published],
            }
            for v in review.versions
        ],
        "checklist": [
            (
                i.number,
                i.title,
                person_name(config, i.owner_person) if i.owner_person else role(i.owner_role or ""),
                _state(i.state),
                i.reason or "",
            )
            for i in review.checklist
        ],
        "went_well": [(lesson.text, person_name(config, lesson.author)) for lesson in review.lessons if lesson.kind == "went_well"],
        "to_improve": [(lesson.text, person_name(config, lesson.author)) for lesson in review.lessons if lesson.kind != "went_well"],
        "actions": [
            (f"A{a.number}", a.text, person_name(config, a.owner), at(a.due_at), _state(a.state), at(a.done_at)) for a in review.actions
        ],
        "chart": report_chart.build(review, config),
        "scorecard": scorecard_rows(review.scorecard),
    }


def scorecard_rows(scorecard: list | None) -> list[tuple[str, str, str, str]]:
    """Drills: one row per scorecard milestone: verdict, milestone, reached after, target."""
    rows = []
    for milestone in scorecard or []:
        mark = {True: "✅", False: "❌"}.get(milestone.met, "⏳")
        if milestone.elapsed is not None:
            reached = duration_text(milestone.elapsed)
        else:
            reached = _("not yet") if milestone.met is None else _("not reached")
        rows.append((mark, milestone.label, reached, duration_text(milestone.target)))
    return rows


def _event_text(event, config: Config, role) -> str:
    if event.kind == "role":
        return f"{role(event.text)} → {person_name(config, event.data.get('person'))}"
    if event.kind in ("approved", "approval", "publish", "published", "publish_sent", "publish_failed") and event.data.get("version"):
        return f"v{event.data['version']} {event.text if not event.text.startswith('v') else ''}".strip()
    return event.text


def _state(state: str) -> str:
    names = {"open": _("open"), "done": _("done"), "skipped": _("skipped")}
    return names.get(state, state)


def _kind(kind: str) -> str:
    names = {
        "declared": _("declared"),
        "role": _("role given"),
        "ack": _("role accepted"),
        "phase": _("phase"),
        "severity": _("severity"),
        "task": _("task added"),
        "done": _("task done"),
        "skip": _("task skipped"),
        "undo": _("task reopened"),
        "note": _("note"),
        "update": _("update"),
        "draft": _("draft"),
        "approval": _("approval"),
        "approved": _("approved"),
        "rejected": _("rejected"),
        "publish": _("publish"),
        "published": _("published"),
        "lesson": _("lesson"),
        "action": _("action"),
        "action_done": _("action done"),
        "forced_close": _("forced close"),
        "signal": _("signal"),
        "snooze": _("reminder snoozed"),
        "notify": _("stakeholders notified"),
        "notified": _("stakeholder call recorded"),
        "inquiry": _("press inquiry"),
        "inquiry_answered": _("press inquiry answered"),
        "inquiry_declined": _("press inquiry declined"),
        "claim": _("claim logged"),
        "verify": _("claim checked"),
        "rebut": _("claim answered"),
        "claim_published": _("claim answer published"),
        "claim_reach": _("claim reach updated"),
        "mail_failed": _("e-mail refused"),
    }
    return names.get(kind, kind)


def _labels(zone: str) -> dict[str, str]:
    return {
        "report": _("Review report"),
        "drill": _("DRILL"),
        "summary": _("Summary"),
        "facts": _("Facts"),
        "playbook": _("Playbook"),
        "severity": _("Severity"),
        "phase": _("Phase"),
        "declared": _("Declared"),
        "resolved": _("Resolved"),
        "closed": _("Closed"),
        "metrics": _("Metrics"),
        "metric": _("Metric"),
        "value": _("Value"),
        "phases": _("Time in each phase"),
        "chart": _("Timeline chart"),
        "timeline": _("Timeline"),
        "when": _("When ({zone})").format(zone=zone),
        "who": _("Who"),
        "what": _("What"),
        "roles": _("Roles and who held them"),
        "role": _("Role"),
        "person": _("Person"),
        "assigned": _("Assigned"),
        "acked": _("Accepted"),
        "ended": _("Handed off"),
        "statements": _("Statement versions"),
        "author": _("Author"),
        "drafted": _("Drafted"),
        "decided": _("Decided"),
        "approvers": _("Approved by"),
        "where": _("Published to"),
        "reason": _("Reason"),
        "checklist": _("Checklist outcome"),
        "owner": _("Owner"),
        "state": _("State"),
        "lessons": _("Lessons"),
        "went_well": _("Went well"),
        "to_improve": _("To improve"),
        "actions": _("Follow-up actions"),
        "due": _("Due"),
        "done_at": _("Done"),
        "scorecard": _("Drill scorecard"),
        "milestone": _("Milestone"),
        "reached": _("Reached after"),
        "target": _("Target"),
        "generated": _("Generated"),
        "none": _("none"),
        "legend": _("Legend"),
        "narrative": _("What happened"),
        "times_in": _("Times on the chart are in {zone}; each mark is labelled and the legend names every colour.").format(zone=zone),
    }
