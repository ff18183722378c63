"""Whether a session wrote anything in its transaction: rows flushed, or an INSERT, UPDATE or DELETE it executed."""

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState
from sqlmodel import Session

WROTE = "wrote"  # the session.info key, cleared when the transaction ends


def wrote(session: Session) -> bool:
    """True once the session's transaction has written, flushed or not (autoflush empties session.new, not this)."""
    return bool(session.info.get(WROTE) or session.new or session.dirty or session.deleted)


@event.listens_for(Session, "after_flush")
def _flushed(session: Session, _context) -> None:
    if session.new or session.dirty or session.deleted:
        session.info[WROTE] = True


@event.listens_for(Session, "do_orm_execute")
def _executed(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info[WROTE] = True


@event.listens_for(Session, "after_transaction_end")
def _ended(session: Session, transaction) -> None:
    if transaction.parent is None:  # the outermost transaction: the next one starts clean
        session.info.pop(WROTE, None)
