"""Drills: `drill <playbook> [sev] [scenario]` opens a DRILL incident whose scenario's injects arrive on time."""

import re

from config.scenarios import Scenario, for_playbook, scenarios_of
from handlers.core.context import Context
from handlers.core.errors import Refusal, UsageError
from handlers.core.ports import Reply
from handlers.core.verbs import verb
from handlers.drills import timetable
from handlers.incident import declare as incidents
from handlers.incident.severity import parse_severity
from handlers.text.formatting import duration_text
from handlers.text.i18n import N_, _
from handlers.text.markup import Message, fmt, lines, text

_SEVERITY_WORD = re.compile(r"^(sev)?[0-9]+$", re.IGNORECASE)


@verb(
    "drill",
    usage=N_("<playbook> [sev1-4] [scenario]"),
    summary=N_("Rehearse: open a DRILL incident; the scenario's injects arrive on time, nothing is published outside."),
    needs_incident=False,
)
def drill(ctx: Context) -> Reply:
    """Open a drill exactly as `declare` opens an incident, then schedule the scenario's injects."""
    scenarios = scenarios_of(ctx.config)
    words = ctx.args.split()
    if not words:
        raise UsageError(_choices(ctx, scenarios))
    playbook = ctx.config.playbooks.get(words[0].lower())
    if playbook is None:
        raise Refusal(lines(fmt(_("There is no playbook “{name}”."), name=words[0][:40]), _choices(ctx, scenarios), _usage()))
    severity, named = None, None
    for word in words[1:]:
        if _SEVERITY_WORD.match(word) and severity is None:
            severity = parse_severity(word)
            if severity is None:
                raise UsageError(fmt(_("“{word}” is not a severity: use `sev1` (critical) to `sev4` (minor)."), word=word[:20]))
        elif named is None:
            named = word.lower()
        else:
            raise UsageError(fmt(_("Unexpected “{word}”."), word=word[:40]))
    scenario = _scenario(ctx, scenarios, playbook.key, named)
    severity = severity or scenario.severity
    title = scenario.title.get(ctx.config.language)
    ctx.args = f"{playbook.key} {severity} {title}"
    declared = incidents.declare(ctx, drill=True)
    incident = ctx.incident
    incident.scenario = scenario.key
    ctx.session.add(incident)
    rows = timetable.schedule(ctx, scenario)
    span = duration_text(rows[-1].due_at - ctx.now)
    ctx.log("scenario", scenario.key, injects=len(rows))
    ctx.post(_briefing(ctx, scenario, len(rows), span))
    room = ctx.rooms()[0].name if ctx.rooms() else ""
    message = fmt(
        _("🧪 Drill #{id} “{title}” started ({playbook}, {sev}, scenario {scenario}): {count} injects over {span}. Room: {room}"),
        id=incident.id,
        title=incident.title,
        playbook=playbook.key,
        sev=severity,
        scenario=scenario.key,
        count=len(rows),
        span=span,
        room=room,
    )
    return Reply(message, private=False, incident_id=incident.id, declared=declared.declared)


def _scenario(ctx: Context, scenarios: dict[str, Scenario], playbook: str, named: str | None) -> Scenario:
    """The named scenario of the playbook, or its default; a refusal listing the choices otherwise."""
    mine = for_playbook(scenarios, playbook)
    if not mine:
        raise Refusal(lines(fmt(_("There is no drill scenario for the playbook “{name}” yet."), name=playbook), _choices(ctx, scenarios)))
    if named is None:
        return mine[0]
    chosen = next((s for s in mine if s.key == named), None)
    if chosen is None:
        raise Refusal(
            lines(
                fmt(_("The playbook “{playbook}” has no scenario “{name}”."), playbook=playbook, name=named[:60]),
                _choices(ctx, scenarios),
                _usage(),
            )
        )
    return chosen


def _choices(ctx: Context, scenarios: dict[str, Scenario]) -> Message:
    """Every playbook with its scenarios, the default first."""
    language = ctx.config.language
    rows = [text(_("Drill scenarios by playbook (the first is the default):"))]
    for key in ctx.config.playbooks:
        for scenario in for_playbook(scenarios, key):
            rows.append(
                fmt(
                    "• `{playbook}` `{key}` — {title} ({sev})",
                    playbook=key,
                    key=scenario.key,
                    title=scenario.title.get(language),
                    sev=scenario.severity,
                )
            )
    return lines(*rows)


def _usage() -> Message:
    return fmt(_("Usage: `{usage}`"), usage="/crisis drill " + _("<playbook> [sev1-4] [scenario]"))


def _briefing(ctx: Context, scenario: Scenario, count: int, span: str) -> Message:
    """What the drill room reads first: this is a drill, the situation, and how injects work."""
    return lines(
        fmt(_("🧪 **This is a drill.** Scenario: **{title}**"), title=scenario.title.get(ctx.config.language)),
        text(scenario.description.get(ctx.config.language)),
        fmt(
            _(
                "{count} injects will arrive here over {span}. Answer each as you would for real, then `/crisis answer i<n> <how>`. "
                "Nothing is published outside; the scorecard comes with `/crisis resolve`."
            ),
            count=count,
            span=span,
        ),
    )
