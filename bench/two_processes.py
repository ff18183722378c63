"""Two `onevoice console` processes on one PostgreSQL schema share 1,000 due nudges: each fires exactly once in total.

The load tests/e2e/test_two_processes.py carried before the suite was made fast (it now shares 500). Prints how the
work split and how long it took; exits 1 when a nudge was lost or fired twice (tests/e2e/console_processes.py).
Run: python bench/two_processes.py [--nudges 1000]
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.conftest import private_schema  # noqa: E402
from tests.e2e.console_processes import share  # noqa: E402


def main(args) -> int:
    started = time.monotonic()
    with private_schema() as (engine, url), tempfile.TemporaryDirectory(prefix="onevoice-two-") as folder:
        processes, outputs, per_process, states = share(Path(folder), engine, url, args.nudges)
    total = per_process[0] + per_process[1]
    held = {
        "clean exits": all(p.returncode == 0 for p in processes) and not any("Traceback" in out for out in outputs),
        "every nudge delivered": sorted(int(n) for n in total) == list(range(1, args.nudges + 1)),
        "none twice": set(total.values()) == {1},
        "both shared the work": all(sum(counts.values()) > 0 for counts in per_process),
        "all fired": states == {"fired"},
    }
    split = " / ".join(str(sum(counts.values())) for counts in per_process)
    print(f"{args.nudges} nudges over two processes: {split} fired, {time.monotonic() - started:.0f} s")
    for name, ok in held.items():
        print(f"  {'ok  ' if ok else 'FAIL'} {name}")
    return 0 if all(held.values()) else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nudges", type=int, default=1000)
    sys.exit(main(parser.parse_args()))
