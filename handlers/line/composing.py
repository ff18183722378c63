"""Help in writing a statement: playbook templates filled with the facts, and vetting."""

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time

from config.model import TEMPLATE_KINDS, Localized
from handlers.core.context import Context
from handlers.core.errors import UsageError
from handlers.core.verbs import ANYONE, PARTICIPANT, verb
from handlers.line import statements, vetting
from handlers.line.headline import default_headline
from handlers.line.kinds import KINDS, LATER, default_kind, split_kind
from handlers.line.kinds import kind_name as statement_kind_name
from handlers.line.targets import target_limits
from handlers.text.i18n import N_, _
from handlers.text.markup import Message, fmt, lines, static, text
from storage.models import Incident

_FIELDS = re.compile(r"\{(subject|title|date|next_update)\}")
# How a template names the matter when its playbook says nothing: the internal incident title never goes into public text.
MATTER = {"en": "this matter", "zh": "此事"}
BABEL_LOCALE = {"en": "en_GB", "zh": "zh_Hans_CN"}


def kind_name(kind: str) -> str:
    """A kind of statement in the team's language."""
    return statement_kind_name(kind)


def local_date(moment: datetime, timezone: str, language: str) -> str:
    """A date as the public reads it: '2 March 2026', '2026年3月2日'."""
    return format_date(moment.astimezone(ZoneInfo(timezone)).date(), format="long", locale=BABEL_LOCALE[language])


def promised_time(incident: Incident, now: datetime, timezone: str, language: str) -> str:
    """The next update's time for the public, with its date when it is not today, and the zone."""
    zone = ZoneInfo(timezone)
    assert incident.next_update_at is not None  # a time is promised only once the update clock runs
    due = incident.next_update_at.astimezone(zone)
    clock = format_time(due, format="HH:mm", locale=BABEL_LOCALE[language])
    moment = clock if due.date() == now.astimezone(zone).date() else f"{local_date(due, timezone, language)} {clock}"
    return _("{moment} {zone}").format(moment=moment, zone=due.tzname())


def fill(template: str, incident: Incident, now: datetime, timezone: str, language: str, subject: Localized | None = None) -> str:
    """A template with {subject} (also written {title}: the public wording, never the incident's internal title), {date}
    and {next_update} filled in; other braces are left as written."""
    public = subject.get(language) if subject else MATTER[language]
    values = {
        "subject": public,
        "title": public,
        "date": local_date(now, timezone, language),
        "next_update": promised_time(incident, now, timezone, language) if incident.next_update_at else "",
    }
    return _FIELDS.sub(lambda match: values[match.group(1)], template)


@verb(
    "template",
    usage=N_("[holding|update|apology|clarification|rebuttal|closing]"),
    summary=N_("Fill a playbook template as a starting draft."),
    who=(PARTICIPANT,),
    changes=False,
)
def template(ctx: Context) -> Message:
    """The playbook's template of a kind (§4 default) filled with the incident's facts, ready to edit and draft."""
    incident = ctx.incident
    words = ctx.args.lower().split()
    if len(words) > 1:
        raise UsageError(fmt(_("Unexpected “{word}”."), word=words[1][:40]))
    kind = words[0] if words else default_kind(statements.ever_approved(ctx.session, incident.id))
    playbook = ctx.config.playbooks[incident.playbook]
    if kind not in KINDS or kind not in TEMPLATE_KINDS or kind not in playbook.templates:
        available = ", ".join(k for k in TEMPLATE_KINDS if k in playbook.templates) or "—"
        raise UsageError(fmt(_("“{kind}” is not a template of this playbook; it has: {kinds}."), kind=kind[:40], kinds=available))
    language = ctx.config.language
    filled = fill(playbook.templates[kind].get(language), incident, ctx.now, ctx.config.timezone, language, playbook.public_subject)
    return lines(
        fmt(_("**{kind}** for #{id}, filled in:"), kind=kind_name(kind).capitalize(), id=incident.id),
        text(filled),
        fmt(
            _("Edit it as needed, then propose it with `/crisis draft {kind} <headline> | <text>` (without a headline: “{default}”)."),
            kind=kind,
            default=default_headline(ctx.config),
        ),
    )


@verb(
    "vet",
    usage=N_("[holding|update|apology|clarification|rebuttal|closing] <text>"),
    summary=N_("Check a proposed text against the line and the rules."),
    who=(ANYONE,),
    needs_incident=False,
    changes=False,
)
def vet_text(ctx: Context) -> Message:
    """Vet a text of a kind (`vet rebuttal <text>`; §4 default); inside an incident, also against its approved line."""
    kind, words = split_kind(ctx.args)
    if not words.strip() or words.strip() in KINDS:
        raise UsageError(_("Write the text to check after the verb."))
    current = statements.current_line(ctx.session, ctx.found.id) if ctx.found else None
    if kind is None:
        kind = default_kind(statements.ever_approved(ctx.session, ctx.found.id)) if ctx.found else LATER
    limits = target_limits(ctx.config)
    findings = vetting.vet(words, ctx.config.vet.values(), current.text if current else None, limits, kind)
    checked_as = fmt(_("Checked as: {kind}."), kind=kind_name(kind))
    if current is not None:
        against = fmt(_("Checked against the approved line v{n} of #{id}."), n=current.version, id=ctx.incident.id)
    elif ctx.found is not None:
        against = fmt(_("#{id} has no approved line yet, so consistency was not checked."), id=ctx.found.id)
    else:
        against = static(_("Not in an incident room, so consistency was not checked; name one with `/crisis #<id> vet …`."))
    return lines(vetting.render_findings(findings, limits), checked_as, against)
