"""The retention purge inside ``retrouve serve``: run once at start-up, then every
``retention.run_every_s`` seconds (daily by default), in a worker thread so requests are never
blocked by a purge.

Times are monotonic seconds (``time.monotonic``), injectable for tests. A failing run is logged
and retried at the next period: the server stays up, and the next run catches up because the
plan is computed from the store's state, not from what the last run did.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

log = logging.getLogger("retrouve.retention")


class PeriodicPurge:
    """Calls ``run`` when due: at the first ``tick`` and then every ``every_s`` seconds."""

    def __init__(self, run: Callable[[], object], every_s: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if every_s <= 0:
            raise ValueError(f"retention period must be positive, got {every_s} s")
        self.run, self.every_s, self.clock = run, every_s, clock
        self.next_at: float | None = None
        self.runs = 0
        self.failures = 0

    def tick(self) -> bool:
        """Run if due; True when a run was attempted (failed or not)."""
        now = self.clock()
        if self.next_at is not None and now < self.next_at:
            return False
        self.next_at = now + self.every_s
        try:
            self.run()
            self.runs += 1
        except Exception:  # the server must survive a failed purge: logged, retried
            self.failures += 1
            log.exception("retention purge failed; retrying in %.0f s", self.every_s)
        return True

    async def loop(self, poll_s: float = 60.0) -> None:
        """Tick forever (until cancelled), the purge itself in a thread."""
        while True:
            await asyncio.to_thread(self.tick)
            await asyncio.sleep(min(poll_s, self.every_s))
