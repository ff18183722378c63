"""The public headline of a version (PRODUCT.md §4); never the internal incident title."""

from config.model import Config
from storage.models import Statement


def headline_of(statement: Statement, config: Config) -> str:
    """The public headline approved with this version (never the internal incident title)."""
    return str(getattr(statement, "headline", None) or "")
