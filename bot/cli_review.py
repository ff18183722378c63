"""`onevoice report` and `onevoice stats`: what the review reads of past incidents, printed or written to files."""

import argparse
import sys
from pathlib import Path

from bot.cli_environment import database as _database
from bot.cli_environment import settings as _settings
from bot.cli_team import team as _team
from config.settings import Settings


def _clock(settings: Settings):
    from handlers.core.ports import OffsetClock, SystemClock

    return OffsetClock(settings.clock_start) if settings.clock_start else SystemClock()


LARGEST_ID = 2**31 - 1  # an incident number is a 32-bit integer in PostgreSQL


def incident_number(raw: str) -> int | None:
    """`12` or `#12` as an incident number, or None when it cannot be one."""
    digits = raw.strip().removeprefix("#")
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 10 or not 0 < int(digits) <= LARGEST_ID:
        return None
    return int(digits)


def cmd_report(args: argparse.Namespace) -> int:
    """Write an incident's review report (Markdown and HTML) and print where."""
    from bot.web.report_files import ReportNotWritten, reports_dir, write_report
    from storage.db import session

    number = incident_number(args.id)
    if number is None:
        print(f"onevoice: {args.id!r} is not an incident number (a whole number from 1, e.g. 12)", file=sys.stderr)
        return 2
    if args.out and Path(args.out).exists() and not Path(args.out).is_dir():
        print(f"onevoice: --out {args.out} is a file; name a folder (it is created if missing)", file=sys.stderr)
        return 2
    settings = _settings()
    config, _path = _team(args, settings)
    engine = _database(settings, migrate=False)  # reading never creates a database
    folder = Path(args.out) if args.out else reports_dir(engine, settings)
    try:
        with session(engine) as db:
            paths = write_report(db, config, number, _clock(settings).now(), folder)
    except ReportNotWritten as problem:
        print(f"onevoice: {problem}", file=sys.stderr)
        return 2
    if paths is None:
        print(f"onevoice: there is no incident #{number} in {engine.url}", file=sys.stderr)  # the URL's password masked
        return 1
    for path in paths:
        print(path)
    return 0


def _counted(counts: dict[str, int]) -> str:
    return ", ".join(f"{key} {n}" for key, n in counts.items()) or "—"


def cmd_stats(args: argparse.Namespace) -> int:
    """Print the metrics across incidents, drills excluded."""
    from handlers.review import report
    from handlers.text.formatting import duration_text
    from handlers.text.i18n import _, speaking
    from storage.db import session

    settings = _settings()
    config, _path = _team(args, settings)
    engine = _database(settings, migrate=False)  # reading never creates a database
    with session(engine) as db, speaking(config.language):
        stats = report.across(db, config, _clock(settings).now())
        median = stats.median_first_statement
        print(_("Incidents (drills excluded): {n}").format(n=stats.incidents))
        print(_("By playbook: {counts}").format(counts=_counted(stats.by_playbook)))
        print(_("By severity: {counts}").format(counts=_counted(stats.by_severity)))
        print(
            _("Median time to first approved statement: {median} ({n} of {total} incidents had one)").format(
                median=duration_text(median), n=len(stats.first_statements), total=stats.incidents
            )
        )
        kept = f"{stats.cadence_percent} %" if stats.cadence_percent is not None else "—"
        print(
            _("Update cadence kept: {kept} of {windows} windows ({percent})").format(
                kept=stats.cadence_kept, windows=stats.cadence_windows, percent=kept
            )
        )
        _desk_stats(db, config, _clock(settings).now())
        print(_claims_median(db))
        if reaction := _reaction_stats(db, _clock(settings).now()):
            print(reaction)
    return 0


def _desk_stats(db, config, now) -> None:
    """The desk's figures (PRODUCT.md §10): required stakeholder lists told on time, and the median inquiry answer time."""
    from handlers.desk import review as desk
    from handlers.text.formatting import duration_text
    from handlers.text.i18n import _

    figures = desk.across(db, config, now)
    percent = f"{figures.on_time_percent} %" if figures.on_time_percent is not None else "—"
    print(
        _("Stakeholder lists told by their deadline: {on_time} of {decided} ({percent})").format(
            on_time=figures.lists_on_time, decided=figures.lists_decided, percent=percent
        )
    )
    median = duration_text(figures.median_answer) if figures.median_answer is not None else "—"
    print(_("Median press inquiry answer time: {median} ({n} answered or declined)").format(median=median, n=len(figures.answer_times)))


def _claims_median(db) -> str:
    """The stats line about claims: the median time to a published answer of a false claim (drills excluded)."""
    from handlers.desk.claims_report import median_answer
    from handlers.text.formatting import duration_text
    from handlers.text.i18n import _

    median, count = median_answer(db)
    return _("Median time to answer a false claim: {median} ({n} claims answered)").format(median=duration_text(median), n=count)


def _reaction_stats(db, now) -> str:
    """§7: the median change in the four hours after a publication, across real incidents ('' when none had signals)."""
    from handlers.signals import landing
    from handlers.signals.followup import signed
    from handlers.text.i18n import _

    medians = landing.across(db, now)
    if not medians.publications:
        return ""
    ratio = f"×{medians.ratio:.2g}" if medians.ratio is not None else "—"
    shift = ("+" if (medians.shift or 0) > 0 else "") + signed(medians.shift) if medians.shift is not None else "—"
    words = _("Reaction in the 4 h after a publication (median of {n}): volume {ratio}, sentiment {shift}")
    return words.format(n=medians.publications, ratio=ratio, shift=shift)
