"""Fixtures shared by the domain tests of this folder."""

import pytest


@pytest.fixture
def room(chat) -> str:
    """The room of a freshly declared incident."""
    return chat.declare()[1]
