"""The first hour, as a newcomer lives it: which team is loaded, and startup failures a person can act on."""

import io
import os
import socket
import subprocess
import sys
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from config.load import STARTER
from tests.conftest import POSTGRES_URL, postgres_engine_or_skip, private_schema
from tests.e2e import forked_run

ROOT = Path(__file__).resolve().parent.parent.parent
ZH_TEAM = STARTER.read_text(encoding="utf-8").replace("language: en", "language: zh")
BROKEN = ZH_TEAM.replace("    bob:\n", "    bob:\n      name: Bob Li\n    bob:\n", 1)


def onevoice(folder: Path, *args: str, stdin: str = "", fresh: bool = False, **env: str) -> subprocess.CompletedProcess:
    """`onevoice ARGS` in a folder, with only the environment a newcomer has (no ONEVOICE_CONFIG) plus `env`: forked from
    an interpreter that imported the bot (tests/e2e/forked_run.py), or with `fresh`, `python -m bot.cli` started anew."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("ONEVOICE_", "SLACK_", "TELEGRAM_"))}
    clean |= {"PYTHONPATH": str(ROOT), "ONEVOICE_ADMIN_PORT": "0", "LANG": "C.UTF-8", **env}
    if not fresh:
        return forked_run.run(list(args), clean, folder, stdin, 90)
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args], input=stdin, capture_output=True, text=True, cwd=folder, env=clean, timeout=90
    )


def test_a_chinese_team_file_here_is_the_team_the_console_speaks_for(tmp_path):
    (tmp_path / "onevoice.yaml").write_text(ZH_TEAM, encoding="utf-8")
    done = onevoice(tmp_path, "console", "--as", "alice", stdin="help\ndeclare product-quality sev2 电池发热\n", fresh=True)
    assert done.returncode == 0, done.stderr
    assert "团队配置来自 onevoice.yaml" in done.stderr  # the file read is named
    assert "清单" in done.stdout and "法务" in done.stdout  # the declared room speaks Chinese, with that team
    assert "Checklist" not in done.stdout


def test_a_broken_team_file_is_the_same_error_in_check_config_and_console(tmp_path):
    (tmp_path / "onevoice.yaml").write_text(BROKEN, encoding="utf-8")
    checked = onevoice(tmp_path, "check-config")
    console = onevoice(tmp_path, "console", "--as", "alice", stdin="help\n")
    first = checked.stderr.splitlines()[0]
    assert "“bob”" in first and first.startswith("onevoice.yaml:")
    assert checked.returncode == 1 and console.returncode == 2
    assert console.stderr.splitlines()[0] == f"onevoice: {first}"
    assert len(console.stderr.splitlines()) <= 3 and console.stdout == ""


def test_no_team_file_says_demo_team_and_run_refuses_it(tmp_path):
    console = onevoice(tmp_path, "console", "--as", "alice", stdin="help\n")
    assert console.returncode == 0 and "shipped demo team" in console.stderr
    checked = onevoice(tmp_path, "check-config")
    assert checked.returncode == 1 and "`run` would refuse" in checked.stdout
    run = onevoice(tmp_path, "run", SLACK_BOT_TOKEN="xoxb-x", SLACK_SIGNING_SECRET="s")
    lines = run.stderr.splitlines()
    assert run.returncode == 2 and len(lines) <= 3 and "ONEVOICE_CONFIG" in lines[0] and "--demo-team" in run.stderr


def test_commands_that_only_read_create_no_database(tmp_path):
    for command in (["stats"], ["report", "1"]):
        done = onevoice(tmp_path, *command)
        assert done.returncode == 2 and "ONEVOICE_DATABASE_URL" in done.stderr and len(done.stderr.splitlines()) <= 3
        assert "Traceback" not in done.stderr
    assert list(tmp_path.iterdir()) == []


def _busy_port() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    return sock


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


SLACK = {"SLACK_BOT_TOKEN": "xoxb-x", "SLACK_SIGNING_SECRET": "s"}
DATABASE_FAILURES = {
    "notaurl": ("notaurl", "ONEVOICE_DATABASE_URL"),
    "mysql": ("mysql://root@127.0.0.1/onevoice", "ONEVOICE_DATABASE_URL"),
    "unreachable port": ("postgresql://postgres@127.0.0.1:{free}/test", "ONEVOICE_DATABASE_URL"),
    "unwritable sqlite": ("sqlite:///{tmp}/no-such-folder/onevoice.db", "ONEVOICE_DATABASE_URL"),
}


def _assert_acted_on(done: subprocess.CompletedProcess, setting: str) -> None:
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2, done.stderr
    assert 1 <= len(lines) <= 3, done.stderr
    assert setting in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("command", ["console", "run"])
@pytest.mark.parametrize("failure", sorted(DATABASE_FAILURES))
def test_a_bad_database_url_is_told_in_a_few_lines(tmp_path, command, failure):
    (tmp_path / "onevoice.yaml").write_text(STARTER.read_text(encoding="utf-8"), encoding="utf-8")
    url, setting = DATABASE_FAILURES[failure]
    url = url.format(free=_free_port(), tmp=tmp_path)
    _assert_acted_on(onevoice(tmp_path, command, stdin="help\n", ONEVOICE_DATABASE_URL=url, **SLACK), setting)


def test_a_missing_postgres_database_is_named(tmp_path):
    base, engine, _schema = postgres_engine_or_skip()
    base.dispose(), engine.dispose()
    url = POSTGRES_URL.rsplit("/", 1)[0] + "/onevoice_never_created"
    done = onevoice(tmp_path, "console", "--as", "alice", ONEVOICE_DATABASE_URL=url)
    _assert_acted_on(done, "ONEVOICE_DATABASE_URL")
    assert "onevoice_never_created" in done.stderr and "createdb" in done.stderr


@pytest.mark.parametrize("scheme", ["postgres://", "postgresql://"])
def test_postgres_urls_as_people_write_them_are_accepted(tmp_path, scheme):
    with private_schema() as (_engine, url):
        done = onevoice(tmp_path, "stats", ONEVOICE_DATABASE_URL=scheme + url.split("://", 1)[1])
    assert done.returncode == 0, done.stderr
    assert "Incidents (drills excluded): 0" in done.stdout


def test_a_missing_config_file_names_the_setting(tmp_path):
    done = onevoice(tmp_path, "console", ONEVOICE_CONFIG=str(tmp_path / "team.yaml"))
    _assert_acted_on(done, "ONEVOICE_CONFIG")
    assert "onevoice init" in done.stderr


def test_an_unreadable_config_file_names_the_setting(tmp_path):
    (tmp_path / "team.yaml").write_bytes(b"language: \xff\xfe\n")
    _assert_acted_on(onevoice(tmp_path, "run", ONEVOICE_CONFIG=str(tmp_path / "team.yaml"), **SLACK), "ONEVOICE_CONFIG")


def test_a_port_in_use_names_the_setting(tmp_path):
    (tmp_path / "onevoice.yaml").write_text(STARTER.read_text(encoding="utf-8"), encoding="utf-8")
    busy = _busy_port()
    try:
        port = str(busy.getsockname()[1])
        done = onevoice(tmp_path, "run", ONEVOICE_HTTP_PORT=port, ONEVOICE_DATABASE_URL=f"sqlite:///{tmp_path}/x.db", **SLACK)
    finally:
        busy.close()
    _assert_acted_on(done, "ONEVOICE_HTTP_PORT")


@pytest.mark.parametrize(
    ("platform", "env", "setting"),
    [
        ("telegram", {"TELEGRAM_BOT_TOKEN": "1:a", "ONEVOICE_TELEGRAM_API_URL": "http://127.0.0.1:{free}/"}, "ONEVOICE_TELEGRAM_API_URL"),
        ("slack", {**SLACK, "ONEVOICE_SLACK_API_URL": "http://127.0.0.1:{free}/api/"}, "ONEVOICE_SLACK_API_URL"),
    ],
)
def test_an_unreachable_platform_api_names_the_setting(tmp_path, platform, env, setting):
    (tmp_path / "onevoice.yaml").write_text(STARTER.read_text(encoding="utf-8"), encoding="utf-8")
    env = {key: value.format(free=_free_port()) for key, value in env.items()}
    done = onevoice(tmp_path, "run", ONEVOICE_HTTP_PORT=str(_free_port()), ONEVOICE_DATABASE_URL=f"sqlite:///{tmp_path}/x.db", **env)
    _assert_acted_on(done, setting)


def test_debug_shows_the_traceback_and_chinese_locale_the_words(tmp_path):
    assert "Traceback" in onevoice(tmp_path, "--debug", "stats", ONEVOICE_DATABASE_URL="notaurl").stderr
    zh = onevoice(tmp_path, "stats", ONEVOICE_DATABASE_URL="notaurl", LANG="zh_CN.UTF-8")
    assert zh.returncode == 2 and "不是数据库地址" in zh.stderr


def help_of(command: str) -> str:
    """`onevoice COMMAND --help` as the script prints it, from its parser in this process (a new Python costs seconds)."""
    from bot.cli import parser

    out = io.StringIO()
    with redirect_stdout(out), pytest.raises(SystemExit) as exited:
        parser().parse_args([command, "--help"])
    assert exited.value.code == 0
    return out.getvalue()


def test_version_and_each_help_lists_the_environment(tmp_path):
    assert onevoice(tmp_path, "--version", fresh=True).stdout.startswith("onevoice ")  # the script itself, in its own process
    for command, setting in [("run", "TELEGRAM_BOT_TOKEN"), ("console", "ONEVOICE_DATABASE_URL"), ("report", "ONEVOICE_REPORTS_DIR")]:
        said = help_of(command)
        assert "environment:" in said and setting in said and "ONEVOICE_CONFIG" in said and "exit codes" in said
    for command in ["demo", "signal", "init", "check-config", "stats", "db"]:
        assert "environment:" in help_of(command)


def test_report_with_a_word_is_a_clear_message(tmp_path):
    done = onevoice(tmp_path, "report", "abc")
    assert done.returncode == 2 and "not an incident number" in done.stderr and "lambda" not in done.stderr


def test_scripted_console_takes_verbs_without_the_slash_and_refuses_unknown_rooms(tmp_path):
    (tmp_path / "onevoice.yaml").write_text(STARTER.read_text(encoding="utf-8"), encoding="utf-8")
    typed = "help\nhello team\n:room \x1b[2Jnowhere\n:room newsroom\n"
    done = onevoice(tmp_path, "console", "--as", "alice", stdin=typed, ONEVOICE_DATABASE_URL=f"sqlite:///{tmp_path}/x.db")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "OneVoice commands" in out  # `help` without the slash
    assert "(there is no room #[2Jnowhere; rooms: lobby, newsroom, announcements)" in out and "\x1b" not in out
    assert "(now in #newsroom)" in out
    assert "Welcome to OneVoice" not in out  # scripted output as before: no greeting, no prompts of their own


async def test_a_telegram_token_refused_by_the_api_names_the_setting(tmp_path):
    import asyncio

    from tests.fakes.telegram_api import FakeTelegram

    (tmp_path / "onevoice.yaml").write_text(STARTER.read_text(encoding="utf-8"), encoding="utf-8")
    async with FakeTelegram() as fake:
        env = {"TELEGRAM_BOT_TOKEN": "999:not-the-token", "ONEVOICE_TELEGRAM_API_URL": fake.api_base}
        env["ONEVOICE_HTTP_PORT"] = str(_free_port())
        done = await asyncio.to_thread(onevoice, tmp_path, "run", ONEVOICE_DATABASE_URL=f"sqlite:///{tmp_path}/x.db", **env)
    _assert_acted_on(done, "TELEGRAM_BOT_TOKEN")
    assert "@BotFather" in done.stderr


def test_a_dangling_team_file_link_is_an_error_not_the_demo_team(tmp_path):
    (tmp_path / "onevoice.yaml").symlink_to(tmp_path / "teams" / "gone.yaml")
    for command in (["check-config"], ["console", "--as", "alice"]):
        done = onevoice(tmp_path, *command, stdin="help\n")
        lines = done.stderr.splitlines()
        assert done.returncode in (1, 2) and "onevoice.yaml" in done.stderr and len(lines) <= 3, done.stderr
        assert "demo team" not in done.stderr + done.stdout
