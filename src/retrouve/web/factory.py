"""The application factory of ``retrouve serve --workers N``: each uvicorn worker process
builds its own services and app from what the command put in the environment.

Worker processes are started by uvicorn (spawned, so nothing is inherited but the
environment), hence the hand-over through one environment variable, :data:`SPEC_ENV`, a JSON
object: ``data_dir`` (the command's ``--data-dir``, or null for the usual sources),
``secure_cookies``, ``allowed_hosts`` (the Host names the command computed) and
``slow_clients`` (the deadlines of :mod:`retrouve.web.slow_clients`, read by the workers'
protocol, :class:`~retrouve.web.slow_clients.WorkerSlowClientH11Protocol`). Every other
setting comes from the environment and settings file as for any command. The name does
not start with ``RETROUVE_``: it is not a setting.

Sessions, CSRF tokens and the login limiter are in the store, so the workers share them; the
retention purge runs once, in the command's own process, not in each worker.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from retrouve.config import load_settings
from retrouve.services import build_services

SPEC_ENV = "_RETROUVE_SERVE_SPEC"


def spec(data_dir: Path | None, secure_cookies: bool, allowed_hosts: tuple[str, ...] = (),
         slow_clients: Mapping[str, float] | None = None) -> str:
    """The value of :data:`SPEC_ENV` for the workers (``slow_clients``: the fields of a
    :class:`~retrouve.web.slow_clients.SlowClientLimits`, seconds)."""
    return json.dumps({"data_dir": None if data_dir is None else str(data_dir),
                       "secure_cookies": secure_cookies, "allowed_hosts": list(allowed_hosts),
                       "slow_clients": None if slow_clients is None else dict(slow_clients)})


def app_from_env() -> FastAPI:
    """Build one worker's app (uvicorn calls it with ``factory=True``)."""
    from retrouve.web.app import create_app

    raw = os.environ.get(SPEC_ENV)
    if raw is None:
        raise RuntimeError(f"{SPEC_ENV} is not set: start the server with `retrouve serve`")
    given: dict[str, Any] = json.loads(raw)
    data_dir = given.get("data_dir")
    settings = load_settings(data_dir=None if data_dir is None else Path(data_dir))
    services = build_services(settings)
    web = settings.web.model_copy(update={"secure_cookies": bool(given["secure_cookies"])})
    return create_app(services, web, allowed_hosts=tuple(given.get("allowed_hosts", ())))
