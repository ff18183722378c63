"""The report's opening paragraph: what happened, what was said and when, and what missed its deadline, in plain words."""

from config.model import Config
from handlers.review.report import Review, playbook_title
from handlers.text.formatting import duration_text, moment_text, person_name
from handlers.text.i18n import _, ngettext
from handlers.text.labels import PHASE, REMINDER, SEVERITY, label

SAID = ("sent", "simulated")  # publication states in which the words went out (or would have, in a drill)


def narrative(review: Review, config: Config) -> list[str]:
    """A few sentences a communications director reads first, every figure taken from the review's metrics."""
    incident, figures, now = review.incident, review.metrics, review.now

    def at(moment) -> str:
        return moment_text(config, moment, now)

    said = [
        _("“{title}” was declared at {at} by {who}: {playbook}, {severity}.").format(
            title=incident.title,
            at=at(incident.declared_at),
            who=person_name(config, incident.declared_by),
            playbook=playbook_title(config, incident.playbook),
            severity=label(SEVERITY, incident.severity),
        )
    ]
    target = duration_text(figures.first_statement_target)
    if figures.first_statement is None:
        said.append(_("No statement was approved; the first one was due within {target}.").format(target=target))
    else:
        words = (
            _("The first approved statement (v{n}) came at {at}, {took} after the declaration: on time against its {target} target.")
            if figures.first_statement_on_time
            else _("The first approved statement (v{n}) came at {at}, {took} after the declaration: late against its {target} target.")
        )
        said.append(
            words.format(
                n=figures.first_statement_version,
                at=at(figures.first_statement_at),
                took=duration_text(figures.first_statement),
                target=target,
            )
        )
    out = [(p.sent_at or p.at, p.target) for v in review.versions for p in v.published if p.state in SAID]
    if out:
        first_at, _target = min(out)
        targets = ", ".join(dict.fromkeys(target for _at, target in sorted(out)))
        said.append(_("It was published from {at} to: {targets}.").format(at=at(first_at), targets=targets))
    updates = sum(1 for event in review.events if event.kind == "update")
    said.append(ngettext("{n} status update was posted.", "{n} status updates were posted.", updates).format(n=updates))
    if figures.missed_updates:
        missed = "; ".join(at(moment) for moment in figures.missed_updates)
        said.append(
            ngettext(
                "{n} update missed its deadline: {times}.", "{n} updates missed their deadline: {times}.", len(figures.missed_updates)
            ).format(n=len(figures.missed_updates), times=missed)
        )
    if review.nudges:
        kinds = ", ".join(dict.fromkeys(label(REMINDER, n.kind) for n in review.nudges))
        said.append(
            ngettext("OneVoice sent {n} reminder: {kinds}.", "OneVoice sent {n} reminders: {kinds}.", len(review.nudges)).format(
                n=len(review.nudges), kinds=kinds
            )
        )
    if incident.resolved_at:
        took = duration_text(incident.resolved_at - incident.declared_at)
        said.append(_("It was resolved at {at}, {took} after the declaration.").format(at=at(incident.resolved_at), took=took))
    else:
        said.append(_("It is still open: {phase}.").format(phase=label(PHASE, incident.phase)))
    counts = figures.checklist
    if sum(counts.values()):
        said.append(
            _("Checklist: {done} done, {skipped} skipped, {open} still open.").format(
                done=counts["done"], skipped=counts["skipped"], open=counts["open"]
            )
        )
    return said
