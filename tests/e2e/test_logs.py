"""Structured logs: `ONEVOICE_LOG_FORMAT=json` gives one JSON object per line, with the incident and worker, and no secret."""

import io
import json
import logging

from bot import logs
from config.settings import Settings
from tests.e2e import telegram_process
from tests.e2e.telegram_process import ALICE, BOB, GROUP

start_telegram_bot = telegram_process.start_telegram_bot

TOKEN = "987654321:AAHsecretTOKENvalue-abcdefghij"  # shaped like a real bot token: it sits in every Bot API URL
SIGNALS = "signals-secret-for-the-log-test"


async def test_json_logs_carry_incidents_and_no_secrets(start_telegram_bot, monkeypatch):
    monkeypatch.setenv("ONEVOICE_LOG_FORMAT", "json")
    monkeypatch.setenv("ONEVOICE_LOG_LEVEL", "DEBUG")  # every request logged, with its URL: the token must still not show
    monkeypatch.setenv("ONEVOICE_SIGNALS_SECRET", SIGNALS)
    bot = await start_telegram_bot("webhook", token=TOKEN)
    bot.allowed_tracebacks.append('"level": "ERROR"')  # JSON records carry their traceback inside, never as raw lines
    thread = await bot.declare()
    bot.fake.fail_next("sendMessage", 500, times=1)  # a failing delivery: retried, and logged with its incident
    await bot.command(BOB, "/crisis ack", thread=thread)
    await bot.wait_for(lambda: "deferred" in bot.output(), 20, "the failed send deferred")  # before another answer takes the fault
    await bot.command(ALICE, "/crisis frobnicate", chat=GROUP)
    await bot.wait_for(lambda: bot.pending_effects() == 0 and "deferred" in bot.output(), 20, "the failed send retried")
    await bot.stop()

    records = []
    for line in bot.output().splitlines():
        if line.startswith("OneVoice running"):  # the one line printed on stdout (shares the file here)
            continue
        records.append(json.loads(line))  # every other line is one JSON object
    assert records and all({"ts", "level", "logger", "message", "incident", "worker"} <= set(r) for r in records)
    commands = [r for r in records if r["message"].startswith("command ")]
    assert {r["incident"] for r in commands if " declare " in r["message"] or " ack " in r["message"]} == {1}
    assert any(r["incident"] is None for r in commands if " unknown " in r["message"])  # not about any incident
    deferred = [r for r in records if "deferred" in r["message"]]
    assert deferred and all(r["incident"] == 1 for r in deferred)
    assert all(r["worker"] and str(bot.process.pid) in r["worker"] for r in records if r["logger"].startswith("bot."))
    assert any("/bot[redacted]/" in r["message"] for r in records), "the request log should show, redacted"
    output = bot.output()
    for secret in (TOKEN, TOKEN.split(":")[1], SIGNALS, telegram_process.SECRET):
        assert secret not in output


def test_secrets_are_redacted_in_text_logs_and_tracebacks(monkeypatch):
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1234-5678-abcdef")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "plain-signing-secret")
    monkeypatch.setenv("ONEVOICE_DATABASE_URL", "postgresql+psycopg://onevoice:db-password-42@db/onevoice")
    root = logging.getLogger()
    kept = (list(root.handlers), root.level)
    try:
        logs.configure(Settings())
        out = io.StringIO()
        root.handlers[0].setStream(out)
        log = logging.getLogger("bot.test")
        log.warning("posting with %s and %s", "xoxb-1234-5678-abcdef", "xapp-1-A0-777-zzz")
        with logs.about(7):
            try:
                raise RuntimeError("signature plain-signing-secret refused for postgresql://onevoice:db-password-42@db")
            except RuntimeError:
                log.exception("failed calling https://api.telegram.org/bot123456:ABCdefGHIjklMNOpqrSTUvwx/getMe")
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in kept[0]:
            root.addHandler(handler)
        root.setLevel(kept[1])
    text = out.getvalue()
    for secret in ("xoxb-1234", "xapp-1-A0", "plain-signing-secret", "db-password-42", "ABCdefGHI"):
        assert secret not in text, text
    assert "[incident #7]" in text and "RuntimeError" in text and text.count("[redacted]") >= 5
