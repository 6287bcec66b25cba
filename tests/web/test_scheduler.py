"""The retention purge inside the server: due at start-up and then once per period; a failing
run is counted and retried, never fatal; the app's lifespan starts and stops the loop."""

from __future__ import annotations

import threading

import pytest
from fastapi.testclient import TestClient

from retrouve.services import Services
from retrouve.web import create_app
from retrouve.web.scheduler import PeriodicPurge


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_runs_at_start_then_once_per_period() -> None:
    clock, calls = Clock(), []
    purge = PeriodicPurge(lambda: calls.append(clock.t), 86_400, clock)
    assert purge.tick() and calls == [1000.0]
    clock.t += 86_399
    assert not purge.tick() and len(calls) == 1
    clock.t += 1
    assert purge.tick() and calls == [1000.0, 87_400.0]


def test_a_failing_run_is_retried_next_period() -> None:
    clock = Clock()

    def boom() -> None:
        raise OSError("disk full")

    purge = PeriodicPurge(boom, 10, clock)
    assert purge.tick() and purge.failures == 1 and purge.runs == 0
    clock.t += 10
    assert purge.tick() and purge.failures == 2


def test_period_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        PeriodicPurge(lambda: None, 0)


def test_the_server_lifespan_runs_the_purge(populated: Services) -> None:
    ran = threading.Event()
    purge = PeriodicPurge(ran.set, 3600)
    with TestClient(create_app(populated, purge=purge)):
        assert ran.wait(10)
    assert purge.runs == 1
