"""One Telegram poller per database: `getUpdates` allows a single consumer, so a second poller is refused at start."""

import fcntl
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine, text

REFUSAL = (
    "another OneVoice is already polling Telegram for this database; "
    "run several replicas in webhook mode: set TELEGRAM_WEBHOOK_SECRET (see README, Running several replicas)"
)


class AlreadyPolling(Exception):
    """Another process holds the poller lock for this database."""


def hold_poller_lock(engine: Engine) -> Callable[[], None]:
    """Take the lock for the life of the process (PostgreSQL: an advisory lock on a dedicated connection; SQLite: flock on a
    file beside the database); return what releases it. Raise AlreadyPolling when another process holds it."""
    if engine.dialect.name == "postgresql":
        return _advisory(engine)
    database = engine.url.database
    if not database or database == ":memory:":
        return lambda: None
    return _flock(Path(database).with_name(Path(database).name + ".telegram-poller.lock"))


def _advisory(engine: Engine) -> Callable[[], None]:
    connection = engine.connect()  # held, not returned to the pool: the lock lives as long as this session
    key = "SELECT pg_try_advisory_lock(hashtext('onevoice-telegram-poller:' || current_database() || ':' || current_schema()))"
    taken = connection.execute(text(key)).scalar()
    connection.commit()  # a session-level lock outlives the transaction; the connection is not left idle in one
    if not taken:
        connection.close()
        raise AlreadyPolling(REFUSAL)
    return connection.close  # closing the session releases the lock (so does the process dying)


def _flock(path: Path) -> Callable[[], None]:
    handle = path.open("a")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise AlreadyPolling(REFUSAL) from None
    return handle.close
