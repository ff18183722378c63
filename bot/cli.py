"""The `onevoice` command."""

import argparse
import asyncio
import logging
import shutil
import sys
from pathlib import Path

from config.load import STARTER, ConfigError, load_config
from config.settings import Settings


def _settings() -> Settings:
    return Settings()


def cmd_demo(args: argparse.Namespace) -> int:
    """Run the scripted crisis on the console."""
    from bot.console.demo import run_demo

    return asyncio.run(run_demo(language=args.language, out=sys.stdout))


def cmd_console(args: argparse.Namespace) -> int:
    """Chat with the bot in the terminal."""
    from bot.app import OneVoice
    from bot.console.front import run_console

    settings = _settings()
    bot = OneVoice(settings)
    speaker = args.as_ or next(iter(bot.config.team.people), None)
    if speaker not in bot.config.team.people:
        print(f"onevoice: no team member {speaker!r}; team: {', '.join(bot.config.team.people)}", file=sys.stderr)
        return 2
    asyncio.run(run_console(bot, speaker))
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """Serve Slack (and later Telegram), the HTTP endpoints and the scheduler."""
    from bot import logs
    from bot.app import OneVoice
    from bot.run import serve

    settings = _settings()
    logs.configure(settings)  # JSON lines or text, secrets redacted, from here on
    return asyncio.run(serve(OneVoice(settings), settings))


def cmd_signal(args: argparse.Namespace) -> int:
    """Send a correctly signed test signal to a running instance."""
    import json
    import urllib.error
    import urllib.request

    from bot.web.signals import HEADER, signature

    settings = _settings()
    if settings.signals_secret is None:
        print("onevoice: set ONEVOICE_SIGNALS_SECRET to the secret the running instance uses", file=sys.stderr)
        return 2
    fields = {
        "source": args.source,
        "title": args.title,
        "summary": args.summary,
        "url": args.url,
        "volume": args.volume,
        "baseline": args.baseline,
        "sentiment": args.sentiment,
        "keywords": args.keyword,
        "dedup_key": args.dedup_key,
    }
    body = json.dumps({k: v for k, v in fields.items() if v not in (None, [])}, ensure_ascii=False).encode()
    url = args.to or f"http://{settings.http_host}:{settings.http_port}/signals"
    headers = {"Content-Type": "application/json", HEADER: signature(settings.signals_secret.get_secret_value(), body)}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, body, headers, method="POST"), timeout=10) as response:
            print(response.status, response.read().decode())
            return 0
    except urllib.error.HTTPError as error:
        print(error.code, error.read().decode(), file=sys.stderr)
    except urllib.error.URLError as error:
        print(f"onevoice: cannot reach {url}: {error.reason}", file=sys.stderr)
    return 1


def cmd_init(args: argparse.Namespace) -> int:
    """Write a starter onevoice.yaml."""
    target = Path(args.path)
    if target.exists() and not args.force:
        print(f"onevoice: {target} exists; use --force to overwrite it", file=sys.stderr)
        return 1
    shutil.copyfile(STARTER, target)
    print(f"Wrote {target}. Edit the team, then run: onevoice check-config {target}")
    return 0


def cmd_check_config(args: argparse.Namespace) -> int:
    """Validate a config file and name each error with its line."""
    path = args.path or _settings().config_path or "onevoice.yaml"
    if not Path(path).exists():
        print(f"{path}: no such file (onevoice init writes a starter one)", file=sys.stderr)
        return 1
    try:
        config = load_config(path)
    except ConfigError as error:
        for problem in error.problems:
            print(problem, file=sys.stderr)
        print(f"{len(error.problems)} error(s) in {path}", file=sys.stderr)
        return 1
    print(f"{path}: OK — {len(config.team.people)} people, {len(config.team.roles)} roles, {len(config.playbooks)} playbooks")
    return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    """Apply the database migrations."""
    from storage.db import make_engine, upgrade

    upgrade(make_engine(_settings().database_url))
    print("Database is up to date.")
    return 0


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
    from storage.db import make_engine, session, upgrade

    number = incident_number(args.id)
    if number is None:
        print(f"onevoice: {args.id!r} is not an incident number (a whole number from 1, e.g. 12)", file=sys.stderr)
        return 2
    if args.out and Path(args.out).exists() and not Path(args.out).is_dir():
        print(f"onevoice: --out {args.out} is a file; name a folder (it is created if missing)", file=sys.stderr)
        return 2
    settings = _settings()
    config = load_config(settings.config_path)
    engine = make_engine(settings.database_url)
    upgrade(engine)
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
    from storage.db import make_engine, session, upgrade

    settings = _settings()
    config = load_config(settings.config_path)
    engine = make_engine(settings.database_url)
    upgrade(engine)
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
    return 0


def parser() -> argparse.ArgumentParser:
    """The command-line grammar."""
    top = argparse.ArgumentParser(prog="onevoice", description="OneVoice: one approved voice in a crisis.")
    sub = top.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="a scripted crisis on the console (SQLite, no tokens)")
    demo.add_argument("--language", choices=["en", "zh"], default="en")
    demo.set_defaults(run=cmd_demo)
    console = sub.add_parser("console", help="chat with the bot in the terminal")
    console.add_argument("--as", dest="as_", metavar="NAME", help="the team member typing")
    console.set_defaults(run=cmd_console)
    run = sub.add_parser("run", help="serve the configured platforms, the HTTP endpoints and the scheduler")
    run.set_defaults(run=cmd_run)
    signal = sub.add_parser("signal", help="send a signed test signal to a running instance")
    signal.add_argument("--title", required=True)
    signal.add_argument("--source", default="onevoice-cli")
    signal.add_argument("--summary")
    signal.add_argument("--url")
    signal.add_argument("--volume", type=float)
    signal.add_argument("--baseline", type=float)
    signal.add_argument("--sentiment", type=float)
    signal.add_argument("--keyword", action="append", default=[])
    signal.add_argument("--dedup-key")
    signal.add_argument("--to", help="the /signals URL (default: from ONEVOICE_HTTP_HOST/PORT)")
    signal.set_defaults(run=cmd_signal)
    init = sub.add_parser("init", help="write a starter onevoice.yaml")
    init.add_argument("path", nargs="?", default="onevoice.yaml")
    init.add_argument("--force", action="store_true")
    init.set_defaults(run=cmd_init)
    check = sub.add_parser("check-config", help="validate a config file")
    check.add_argument("path", nargs="?")
    check.set_defaults(run=cmd_check_config)
    report = sub.add_parser("report", help="write an incident's review report (Markdown and HTML)")
    report.add_argument("id", help="the incident number, e.g. 12")
    report.add_argument(
        "--out", metavar="DIR", help="the folder to write into (default: ONEVOICE_REPORTS_DIR, or reports/ beside the database)"
    )
    report.set_defaults(run=cmd_report)
    stats = sub.add_parser("stats", help="metrics across incidents, drills excluded")
    stats.set_defaults(run=cmd_stats)
    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="apply migrations").set_defaults(run=cmd_db_upgrade)
    return top


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `onevoice` script."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = parser().parse_args(argv)
    try:
        return args.run(args)
    except ConfigError as error:
        print(f"onevoice: invalid configuration:\n{error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
