"""The review report as files: Markdown and a standalone HTML page with the timeline chart, written by the bot, never by handlers.

Why the bot side: the files go to a folder of this machine (ONEVOICE_REPORTS_DIR), which the platform-neutral domain
knows nothing about. `review` queues a REPORT effect; delivering it writes the files and posts the summary with their
place, so a crash between the two loses nothing (the effect waits in the outbox) and a retry just writes them again.
"""

import os
import re
import tempfile
from datetime import datetime
from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import Engine
from sqlmodel import Session

from bot.web import desk_report, reaction_chart
from bot.web.report_context import report_context
from config.model import Config
from config.settings import Settings
from handlers.desk import claims_report
from handlers.review import report
from handlers.text.i18n import _, speaking
from handlers.text.markup import Message, fmt, lines

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|!~])")


@cache
def templates() -> Environment:
    """The report's templates, loaded when the first report is written (not when this module is imported)."""
    environment = Environment(
        loader=FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
        keep_trailing_newline=True,
    )
    environment.filters["md"] = _markdown_text
    return environment


def _markdown_text(value: object) -> str:
    """User text in Markdown: no markup, no raw HTML, one line (tables and list items stay whole)."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(value or "").split()))


def reports_dir(engine: Engine, settings: Settings | None = None) -> Path:
    """ONEVOICE_REPORTS_DIR, else `reports/` beside the SQLite database, else `reports/` in the current folder."""
    if settings is not None and settings.reports_dir:
        return Path(settings.reports_dir)
    database = engine.url.database if engine.url.get_backend_name() == "sqlite" else None
    if database and database != ":memory:":
        return Path(database).resolve().parent / "reports"
    return Path.cwd() / "reports"


class ReportNotWritten(Exception):
    """The folder cannot take the report (a file stands there, no permission, disk full); the message says which."""


def write_report(session: Session, config: Config, incident_id: int, now: datetime, folder: Path) -> tuple[Path, Path] | None:
    """Write report-<id>.md and report-<id>.html into folder; return their paths, or None for an unknown incident.

    Raises ReportNotWritten when the folder cannot take them."""
    with speaking(config.language):
        review = report.gather(session, config, incident_id, now)
        if review is None:
            return None
        report.attach_scorecard(review, session, config)
        context = report_context(review, config)
        context.update(desk_report.context(session, config, review.incident, now))  # PRODUCT.md §10
        context["claims"] = claims_report.section(session, config, incident_id, now)
        context["reaction"] = reaction_chart.build(session, review.incident, now)  # §7: the partial reaction.*.j2 draws it
        markdown = templates().get_template("report.md.j2").render(context)
        html = templates().get_template("report.html.j2").render(context)
    paths = folder / f"report-{incident_id}.md", folder / f"report-{incident_id}.html"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for path, body in zip(paths, (markdown, html), strict=True):
            _replace_safely(path, body)
    except OSError as error:
        raise ReportNotWritten(f"cannot write the report into {folder}: {_why(folder, error)}") from None
    return paths


def _replace_safely(path: Path, body: str) -> None:
    """Write body to a new file of a random name beside path (created exclusively, never through a link), then rename it
    over path: a reader never sees half a report, and a link planted in the folder is never followed."""
    descriptor, partial = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)  # O_CREAT|O_EXCL|O_NOFOLLOW
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            os.fchmod(out.fileno(), 0o644)  # readable like any file written here (mkstemp makes it private)
            out.write(body)
        os.replace(partial, path)  # renames over a link at path itself, never into what it points to
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise


def _why(folder: Path, error: OSError) -> str:
    if isinstance(error, FileExistsError | NotADirectoryError) or (folder.exists() and not folder.is_dir()):
        return "a file stands where the folder should be"
    if isinstance(error, PermissionError):
        return "permission denied"
    return error.strerror or str(error)


def deliver_report(session: Session, config: Config, incident_id: int, now: datetime, summary: Message, folder: Path) -> Message:
    """Delivery of a REPORT effect: write the files into `folder` (the app's `OneVoice.reports`, handed to its outbox
    workers), and return the summary with their place, to post in the room.

    A folder that cannot take them fails the effect for good (retrying would fail the same way)."""
    from bot.outbox.adapter import Undeliverable  # here: the outbox imports this module for its REPORT effect

    try:
        paths = write_report(session, config, incident_id, now, folder)
    except ReportNotWritten as problem:
        raise Undeliverable(str(problem)) from None
    with speaking(config.language):
        if paths is None:
            return summary
        return lines(summary, fmt(_("📄 Full report: {md} · {html}"), md=str(paths[0]), html=str(paths[1])))
