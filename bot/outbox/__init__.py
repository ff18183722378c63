"""The outbox worker and its table of effect kinds (worker.py, effects.py), and what it says when it gives up (notices.py)."""

from bot.outbox.worker import Deliverer

__all__ = ["Deliverer"]
