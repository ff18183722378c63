"""How an update is decided: its handlers run to completion, what they raised is what tells Telegram to send it again
(the webhook answers no 200, polling does not move the offset); and each fetched update's UNSURE_FOR clock."""

import contextvars
import logging
import weakref

from telegram import Update
from telegram.ext import Application, ContextTypes

from bot.outbox.unsure import UnsureCommits

log = logging.getLogger(__name__)

_FAILURES: contextvars.ContextVar[list] = contextvars.ContextVar("telegram_update_failures")
# each application's front's UnsureCommits: polling starts each fetched update's clock, which the front then reads
UNSURE: weakref.WeakKeyDictionary[Application, UnsureCommits] = weakref.WeakKeyDictionary()


async def decide_update(application: Application, update: Update) -> bool:
    """Run the update's handlers to completion; whether they finished (False: one raised, so Telegram should send it again)."""
    return not await update_failures(application, update)


async def update_failures(application: Application, update: Update) -> list[BaseException]:
    """Run the update's handlers to completion; what they raised (nothing: the update is decided)."""
    if _record_failure not in application.error_handlers:  # how a handler's failure is known here
        application.add_error_handler(_record_failure)
    failures: list = []
    token = _FAILURES.set(failures)
    try:
        await application.process_update(update)
    finally:
        _FAILURES.reset(token)
    if not failures and (unsure := UNSURE.get(application)) is not None:
        unsure.forget(f"telegram:{update.update_id}")  # decided: its clock is done with
    return failures


def updates_seen(application: Application, updates) -> None:
    """Updates fetched, not decided yet: each one's UNSURE_FOR clock starts now, though updates before it may hold it back
    (polling decides them in order, and fetches them again while one meets the database away)."""
    if (unsure := UNSURE.get(application)) is not None:
        for update in updates:
            unsure.seen(f"telegram:{update.update_id}")  # the event id every command, press or reply is decided under


async def _record_failure(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """PTB's error handler: log the failure and mark the update undecided for `decide_update`."""
    log.error("Telegram update %s failed", getattr(update, "update_id", "?"), exc_info=context.error)
    failures = _FAILURES.get(None)
    if failures is not None:
        failures.append(context.error)
