"""`python -m offchain.worker`: run one worker from Settings (environment / .env) until SIGINT or SIGTERM.

`run_worker(settings)` is the same entry point the CLI's `tessera worker run` calls. It returns the exit
status: 0 after a clean stop, 2 when a `TesseraError` (its one-line message names the fix) stopped it.
"""

from __future__ import annotations

import logging
import signal
import sys

from offchain.errors import TesseraError
from offchain.settings import Settings
from offchain.worker.logsetup import configure_logging
from offchain.worker.service import Worker

log = logging.getLogger("offchain.worker")


def run_worker(settings: Settings, *, configure_logs: bool = True) -> int:
    """Build, set up and run a `Worker` in the foreground; SIGINT/SIGTERM stop it gracefully."""
    if configure_logs:
        configure_logging(settings.log_level, json_lines=settings.log_json)
    worker = Worker(settings)
    previous = {}

    def _stop(signum: int, _frame: object) -> None:
        log.info("signal %s: stopping", signal.Signals(signum).name)
        worker.request_stop()

    for sig in (signal.SIGINT, signal.SIGTERM):
        previous[sig] = signal.signal(sig, _stop)
    try:
        worker.setup()
        worker.run()
    except TesseraError as err:
        log.error("%s", err)
        return 2
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        worker.close()
    return 0


def main() -> int:
    return run_worker(Settings())


if __name__ == "__main__":
    sys.exit(main())
