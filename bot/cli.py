"""The `onevoice` command."""

import argparse
import asyncio
import gc
import logging
import shutil
import sys
import traceback
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from bot.cli_environment import database as _database
from bot.cli_environment import epilog
from bot.cli_environment import settings as _settings
from bot.cli_failures import CANNOT_START, DemoTeamRefused, explain, language_of_environment
from bot.cli_review import cmd_report, cmd_stats
from bot.cli_team import team as _team
from bot.cli_team import told_team as _told_team
from bot.cli_team import warnings as _warnings
from config.load import STARTER, ConfigError, find_config
from handlers.text.i18n import _, speaking


def cmd_demo(args: argparse.Namespace) -> int:
    """Run the scripted crisis on the console."""
    from bot.console.demo import run_demo

    return asyncio.run(run_demo(language=args.language, out=sys.stdout))


def cmd_console(args: argparse.Namespace) -> int:
    """Chat with the bot in the terminal."""
    from bot.app import OneVoice
    from bot.console.front import run_console

    settings = _settings()
    config, path = _team(args, settings)
    _database(settings).dispose()
    _told_team(config, path)
    bot = OneVoice(settings, config=config, migrate=False)
    speaker = args.as_ or next(iter(bot.config.team.people), None)
    if speaker not in bot.config.team.people:
        with speaking(config.language):
            said = _("no team member {name}; team: {team}").format(name=repr(speaker), team=", ".join(bot.config.team.people))
        print(f"onevoice: {said}", file=sys.stderr)
        return CANNOT_START
    try:
        asyncio.run(run_console(bot, speaker))
    finally:
        bot.engine.dispose()  # closed before the process's teardown (see main), SQLite's write-ahead log folded back
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """Serve Slack and Telegram as configured, the HTTP endpoints and the scheduler."""
    from bot import logs
    from bot.app import OneVoice
    from bot.run import serve

    settings = _settings()
    config, path = _team(args, settings)
    if path is None and not (args.demo_team or settings.demo_team):
        raise DemoTeamRefused()
    logs.configure(settings)  # JSON lines or text, secrets redacted, from here on
    _database(settings).dispose()
    warnings = _warnings(config, path, settings)
    with speaking(config.language):
        bot = OneVoice(settings, config=config, migrate=False)
        try:
            return asyncio.run(serve(bot, settings, warnings))
        finally:
            bot.engine.dispose()  # connections closed now (SQLite folds its write-ahead log back), not whenever teardown reaches them


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
    """Validate exactly the config `run` and `console` would load, name each error with its line, then warn."""
    settings = _settings()
    if find_config(args.path, settings.config_path) is None:
        with speaking(language_of_environment()):
            print(_("no onevoice.yaml here and ONEVOICE_CONFIG is not set: `console` would use the shipped demo team, `run` would refuse."))
            print(_("Write your team's file with `onevoice init`."))
        return 1
    try:
        config, path = _team(args, settings, args.path)
    except ConfigError as error:
        with speaking(getattr(args, "language", None) or language_of_environment()):
            for problem in error.problems:
                print(problem.said(_), file=sys.stderr)
            print(_("{n} error(s) in {file}").format(n=len(error.problems), file=error.problems[0].file), file=sys.stderr)
        return 1
    with speaking(config.language):
        print(
            _("{path}: OK — {people} people, {roles} roles, {playbooks} playbooks").format(
                path=path, people=len(config.team.people), roles=len(config.team.roles), playbooks=len(config.playbooks)
            )
        )
    for line in _warnings(config, path, settings):
        print(line, file=sys.stderr)
    return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    """Apply the database migrations."""
    _database(_settings()).dispose()
    with speaking(language_of_environment()):
        print(_("Database is up to date."))
    return 0


def _version() -> str:
    try:
        return version("onevoice")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown"


def parser() -> argparse.ArgumentParser:
    """The command-line grammar; each subcommand's --help ends with the environment it reads."""
    top = argparse.ArgumentParser(prog="onevoice", description="OneVoice: one approved voice in a crisis.")
    top.add_argument("--version", action="version", version=f"onevoice {_version()}")
    top.add_argument("--debug", action="store_true", help="print the full traceback of a failure")
    debug = argparse.ArgumentParser(add_help=False)
    debug.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="print the full traceback of a failure")
    sub = top.add_subparsers(dest="command", required=True)

    def command(name: str, **kwargs) -> argparse.ArgumentParser:
        shape = argparse.RawDescriptionHelpFormatter
        return sub.add_parser(name, parents=[debug], epilog=epilog(name), formatter_class=shape, **kwargs)

    demo = command("demo", help="a scripted crisis on the console (SQLite, no tokens)")
    demo.add_argument("--language", choices=["en", "zh"], default="en")
    demo.set_defaults(run=cmd_demo)
    console = command("console", help="chat with the bot in the terminal")
    console.add_argument("--as", dest="as_", metavar="NAME", help="the team member typing")
    console.set_defaults(run=cmd_console)
    run = command("run", help="serve the configured platforms, the HTTP endpoints and the scheduler")
    run.add_argument("--demo-team", action="store_true", help="serve the shipped demo team when no onevoice.yaml is found")
    run.set_defaults(run=cmd_run)
    signal = command("signal", help="send a signed test signal to a running instance")
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
    init = command("init", help="write a starter onevoice.yaml")
    init.add_argument("path", nargs="?", default="onevoice.yaml")
    init.add_argument("--force", action="store_true")
    init.set_defaults(run=cmd_init)
    check = command("check-config", help="validate the config file run and console would load (or the one named)")
    check.add_argument("path", nargs="?")
    check.set_defaults(run=cmd_check_config)
    report = command("report", help="write an incident's review report (Markdown and HTML)")
    report.add_argument("id", help="the incident number, e.g. 12")
    report.add_argument(
        "--out", metavar="DIR", help="the folder to write into (default: ONEVOICE_REPORTS_DIR, or reports/ beside the database)"
    )
    report.set_defaults(run=cmd_report)
    stats = command("stats", help="metrics across incidents, drills excluded")
    stats.set_defaults(run=cmd_stats)
    db = command("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="apply migrations").set_defaults(run=cmd_db_upgrade)
    return top


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `onevoice` script: a startup failure is a few lines naming the setting, exit code 2."""
    if argv is None:  # the process's own command line (tests call main with theirs, in their process)
        try:
            return _main(None)
        finally:
            # The process ends here: its objects need no more garbage collection. Python's teardown otherwise walks
            # every object of every module several times (0.3 s quiet, 2 s on a loaded machine) before the exit is seen.
            gc.freeze()
    return _main(argv)


def _main(argv: list[str] | None) -> int:
    """Run one command; a startup failure is a few lines naming the setting, exit code 2."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = parser().parse_args(argv)
    try:
        return args.run(args)
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # noqa: BLE001  (a person reads this: the traceback only with --debug)
        if args.debug:
            traceback.print_exc()
        with speaking(getattr(args, "language", None) or language_of_environment()):
            lines = explain(error)
            if lines is None:
                lines = [_("unexpected {kind}: {error}").format(kind=type(error).__name__, error=str(error)[:300])]
                lines.append(_("Run it again with --debug for the full traceback, and report it."))
            print("onevoice: " + "\n".join(lines), file=sys.stderr)
        return CANNOT_START if explain(error) is not None else 1


if __name__ == "__main__":
    sys.exit(main())
