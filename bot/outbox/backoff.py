"""How long an effect waits between its tries: a first short wait, each later one longer, until they add up to about
GIVE_UP_AFTER over ATTEMPTS tries."""

ATTEMPTS = 8  # tries before an effect is given up
GIVE_UP_AFTER = 1800.0  # seconds the backoff between those tries adds up to, about
FIRST_WAIT = 2.0  # seconds before the first retry: a blip passes quickly, a long outage is waited out by the later ones


def growth(waits: int, total: float, first: float = FIRST_WAIT) -> float:
    """The factor by which each wait exceeds the one before, so that `waits` waits from `first` add up to `total`."""
    low, high = 1.0, max(2.0, total / first)
    for _step in range(60):  # bisection: the sum grows with the factor
        middle = (low + high) / 2
        low, high = (middle, high) if sum(first * middle**i for i in range(waits)) < total else (low, middle)
    return high
