"""Forked replicas do not share one string hash seed: a bug that needs two replicas to order a set differently can show."""

import os

from tests.e2e.forked_run import replica_seed, server_for


def test_neighbouring_replicas_fork_from_servers_with_different_hash_seeds():
    first, second = (server_for({**os.environ, **replica_seed(index)}) for index in (0, 1))
    assert first is server_for({**os.environ, **replica_seed(2)})  # replicas 0 and 2 share a server, 1 has its own
    assert first is not second
    assert first.probe is not None and second.probe is not None
    assert first.probe != second.probe  # what hash("onevoice") is in each server, and so in every child it forks
