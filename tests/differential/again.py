"""Run the differential suite; run the comparisons that differed once more, on fresh servers.

Every case of a phase runs on both servers at once, so on a loaded 2-core machine a server's
scheduling delay can push a timing-sensitive case (a 2 s cancel timeout, a rate-limit period)
past its margin. Those comparisons get one more try, alone and on new servers, where the load
is a handful of cases. A difference that is real differs both times and fails the run; the
first run's failures stay in the log above the second, its server logs in
``artifacts/differential/`` and the second's in ``artifacts/differential/again/``.

Usage: ``python tests/differential/again.py [pytest arguments]`` (tox -e differential)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile

import servers

_TESTS_FAILED = 1  # pytest's exit code when some tests failed (others: usage, interrupted)


def main(argv: list[str]) -> int:
    with tempfile.TemporaryDirectory() as cache:
        command = [sys.executable, "-m", "pytest", "tests/differential", "-o",
                   f"cache_dir={cache}", *argv]
        first = subprocess.call(command)
        if first != _TESTS_FAILED:
            return first
        print("\ndifferential: the comparisons above that differed run once more, alone, "
              "on fresh servers", flush=True)
        again = os.path.join(servers.LOG_DIR, "again")
        return subprocess.call([*command, "--last-failed"],
                               env={**os.environ, "DIFFERENTIAL_LOG_DIR": again})


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
