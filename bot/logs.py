"""Logging for `onevoice run`: text or JSON lines, the incident being handled and the worker on each record, secrets redacted."""

import contextlib
import json
import logging
import re
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import UTC, datetime

from config.settings import Settings

# The incident whose command, effect or nudge is being handled (asyncio.to_thread copies it into the worker thread).
incident: ContextVar[int | None] = ContextVar("incident", default=None)
_worker: dict[str, str | None] = {"id": None}
REDACTED = "[redacted]"
# Slack tokens, and a Telegram bot token wherever it shows (it sits in every Bot API URL: …/bot123456:ABC-…/getMe).
PATTERNS = (
    re.compile(r"\bx(?:ox[abposre]|app)-[A-Za-z0-9-]+"),
    re.compile(r"\b\d{5,}:[A-Za-z0-9_-]{20,}"),
    re.compile(r"(?<=bot)\d+:[\w-]+"),
)
NOISY = ("httpx", "apscheduler", "telegram.ext", "slack_sdk", "slack_bolt")  # they log every request at INFO


@contextlib.contextmanager
def about(incident_id: int | None) -> Iterator[None]:
    """Records logged inside carry this incident id."""
    token = incident.set(incident_id)
    try:
        yield
    finally:
        incident.reset(token)


def set_worker(worker: str) -> None:
    _worker["id"] = worker


class Redact(logging.Filter):
    """Replace every configured secret and anything shaped like a token, in the message and the traceback."""

    def __init__(self, secrets: list[str]):
        super().__init__()
        self.secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def clean(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        for pattern in PATTERNS:
            text = pattern.sub(REDACTED, text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = self.clean(record.getMessage()), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.clean(record.exc_text)
        if record.stack_info:
            record.stack_info = self.clean(record.stack_info)
        record.incident, record.worker = incident.get(), _worker["id"]
        return True


class JsonLines(logging.Formatter):
    """One JSON object per line: ts, level, logger, message, incident, worker (and the traceback as `exc`)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "incident": getattr(record, "incident", None),
            "worker": getattr(record, "worker", None),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False, default=str)


class Text(logging.Formatter):
    """The plain format, with the incident when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        found = getattr(record, "incident", None)
        return line if found is None else f"{line} [incident #{found}]"


def configure(settings: Settings) -> None:
    """Send every record to stderr through the redaction filter, as text or JSON lines."""
    handler = logging.StreamHandler()
    handler.addFilter(Redact(secrets_of(settings)))
    json_lines = settings.log_format.lower() == "json"
    handler.setFormatter(JsonLines() if json_lines else Text("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(settings.log_level.upper())
    for name in NOISY:  # quiet unless asked for DEBUG (then every request shows, its token redacted)
        logging.getLogger(name).setLevel(root.level if root.level <= logging.DEBUG else max(logging.WARNING, root.level))
    logging.captureWarnings(True)  # library warnings become records too: one format on stderr


def secrets_of(settings: Settings) -> list[str]:
    """Every secret value the settings hold, and the database password."""
    found = [value.get_secret_value() for value in settings.model_dump().values() if hasattr(value, "get_secret_value")]
    password = re.search(r"://[^:/@]+:([^@]+)@", settings.database_url)
    if password:
        found.append(password.group(1))
    return found
