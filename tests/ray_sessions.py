"""Local Ray nodes started by ``ray start`` for the tests and ``benchmarks/bench_executors.py``.

Each ``ray start`` runs in a session of its own (``start_new_session``), and every daemon it
leaves keeps that session id: the nodes are stopped by killing exactly those sessions'
processes, never with ``ray stop`` (which stops every Ray on the machine, another user's
included). Linux only (``/proc``).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path


def free_port() -> int:
    """A TCP port free on 127.0.0.1 just now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def ray_start(args: Sequence[str], env: dict[str, str], timeout_s: float = 180) -> int:
    """Run ``ray start ARGS`` in a new session; returns the session id its daemons keep.
    Raises RuntimeError with the tail of its output when it fails (after killing whatever it
    had started)."""
    cli = Path(sys.executable).with_name("ray")
    proc = subprocess.Popen(
        [str(cli), "start", *args],
        env=env,
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        out, _ = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        stop_sessions(frozenset({proc.pid}))  # what it started so far goes with it
        raise
    if proc.returncode != 0:
        stop_sessions(frozenset({proc.pid}))
        raise RuntimeError(f"ray start {' '.join(args)} failed: {out[-3000:]}")
    return proc.pid


def session_pids(sessions: frozenset[int]) -> list[int]:
    """The live processes whose session id is one of ``sessions``."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # Fields after the command (which may hold spaces) start at ")": state ppid pgrp sid.
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[3]) in sessions:
            pids.append(int(entry.name))
    return pids


def stop_sessions(sessions: frozenset[int]) -> None:
    """Kill every process of ``sessions`` (SIGKILL, retried while any is left, ~5 s)."""
    for _ in range(50):
        pids = session_pids(sessions)
        if not pids:
            return
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.1)
