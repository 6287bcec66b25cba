"""Slow clients (slowloris): a request must arrive in time, or it gets 408 and the connection
is closed.

uvicorn bounds the *idle* time between two requests of a keep-alive connection
(``timeout_keep_alive``) but nothing else: a client that opens a connection and sends its
request head one byte every few seconds, or a complete head announcing ``Content-Length:
1000`` followed by a body that never comes, holds the connection (and the application task
waiting on ``receive()``) forever; a few hundred of them exhaust the file descriptors.

:class:`SlowClientH11Protocol` is uvicorn's h11 protocol with two deadlines, both on the event
loop's monotonic clock, in seconds (:class:`SlowClientLimits`):

* **head**: the whole request head (request line and headers) must be in within
  ``head_timeout_s``, counted from the opening of the connection for its first request, and
  from the first byte of the next request on a keep-alive connection;
* **body**: the whole body must be in within ``body_timeout_s`` of the end of the head. It is
  a total, not an inactivity timer: one byte every 29 s would otherwise never expire.

When a deadline passes, the server writes a minimal ``408 Request Timeout`` (``Connection:
close`` and the headers every response of the application carries, see
:mod:`retrouve.web.hosts`) unless a response has already started, tells the application the
client went away, and closes the connection. A fresh connection that sent nothing at all is
closed without an answer: there is no request to answer, as when a keep-alive connection
idles out.

Time the *application* takes is never counted: the body deadline stops as soon as the last
body byte is in, whatever the route does with it. (uvicorn stops reading past 64 KiB of body
the route has not taken yet; the routes read their bounded bodies, see ``limits.py``, at once,
so that pause does not eat into the deadline in practice.)

Under TLS, the handshake comes first and is bounded by asyncio's own handshake timeout
(60 s); the head deadline starts once the handshake is done (uvicorn makes the protocol only
then).
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import json
import logging
import os
from typing import Any, Final, Literal, cast

import h11
from uvicorn.config import Config
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.server import ServerState

from retrouve.web.hosts import SECURITY_HEADERS

log = logging.getLogger(__name__)

Phase = Literal["head", "body"]


@dataclasses.dataclass(frozen=True)
class SlowClientLimits:
    """Deadlines of one request, in seconds of the event loop's monotonic clock.

    ``hsts_max_age_s`` > 0 adds ``Strict-Transport-Security`` to the 408, as the application
    does on its own answers when cookies are Secure.
    """

    head_timeout_s: float = 10.0
    body_timeout_s: float = 30.0
    hsts_max_age_s: int = 0

    def __post_init__(self) -> None:
        if self.head_timeout_s <= 0 or self.body_timeout_s <= 0:
            raise ValueError(
                f"slow-client timeouts must be > 0 s, got head "
                f"{self.head_timeout_s} s and body {self.body_timeout_s} s"
            )


#: Body of the 408 (JSON like the other refusals made outside the routes, e.g. the 413).
_DETAIL: Final = {
    "head": "request head not received in time",
    "body": "request body not received in time",
}


def timeout_response(
    phase: Phase, limits: SlowClientLimits, extra_headers: list[tuple[bytes, bytes]] | None = None
) -> bytes:
    """The raw bytes of the 408 for a request whose ``phase`` came too late.

    Written straight to the transport rather than through h11: on a head timeout no request
    was parsed, and h11 refuses a response before a request.
    """
    body = json.dumps({"detail": _DETAIL[phase]}).encode()
    headers: list[tuple[bytes, bytes]] = list(extra_headers or [])
    headers += [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
        (b"cache-control", b"no-store"),
    ]
    headers += [(name.encode(), value.encode()) for name, value in SECURITY_HEADERS]
    if limits.hsts_max_age_s > 0:
        headers.append((b"strict-transport-security", f"max-age={limits.hsts_max_age_s}".encode()))
    head = b"HTTP/1.1 408 Request Timeout\r\n" + b"".join(
        name + b": " + value + b"\r\n" for name, value in headers
    )
    return head + b"\r\n" + body


class SlowClientH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with the head and body deadlines of :class:`SlowClientLimits`.

    The deadline follows h11's view of the client (``conn.their_state``), re-read after every
    batch of parsed events: ``IDLE`` with bytes of a head buffered (or a fresh connection) →
    head deadline; ``SEND_BODY`` → body deadline; anything else (request complete, closing,
    protocol switch) → none.
    """

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
        *,
        limits: SlowClientLimits | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.limits = limits or SlowClientLimits()
        self._deadline: asyncio.TimerHandle | None = None
        self._phase: Phase | None = None
        self._bytes_seen = False  # any byte on this connection yet

    # -------------------------------------------------------------- uvicorn's hooks
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        # uvicorn has no timer for the first request of a connection (timeout_keep_alive
        # starts after a response): the head deadline covers it from the start.
        self._arm("head")

    def data_received(self, data: bytes) -> None:
        if data:
            self._bytes_seen = True
        super().data_received(data)  # parses, then calls handle_events

    def handle_events(self) -> None:
        super().handle_events()
        self._follow_state()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel()
        super().connection_lost(exc)

    # -------------------------------------------------------------- the deadlines
    def _follow_state(self) -> None:
        if self.transport is None or self.transport.is_closing():
            self._cancel()
            return
        if self.transport.get_protocol() is not self:  # upgraded (WebSocket): not ours
            self._cancel()
            return
        state = self.conn.their_state
        if state is h11.IDLE:
            if self._phase == "body":  # cannot happen in h11's order; never keep a stale one
                self._cancel()
            # Between keep-alive requests the idle time is uvicorn's timeout_keep_alive (it
            # runs until a byte arrives): the next head deadline starts with the first byte
            # of that head, so keep-alive is not shortened to head_timeout_s.
            if self._phase is None and self.conn.trailing_data[0]:
                self._arm("head")
        elif state is h11.SEND_BODY:
            if self._phase != "body":
                self._arm("body")
        else:
            # DONE / MUST_CLOSE: the request is in, what follows is the application's time.
            self._cancel()

    def _arm(self, phase: Phase) -> None:
        self._cancel()
        delay = self.limits.head_timeout_s if phase == "head" else self.limits.body_timeout_s
        self._phase = phase
        self._deadline = self.loop.call_later(delay, self._expired, phase)

    def _cancel(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        self._deadline = None
        self._phase = None

    def _expired(self, phase: Phase) -> None:
        self._deadline = None
        self._phase = None
        if self.transport.is_closing():
            return
        cycle = self.cycle if phase == "body" else None
        if phase == "head" and self.cycle is not None and not self.cycle.response_complete:
            # A previous (pipelined) response is still being written: no room for a 408.
            answer = False
        elif phase == "head":
            answer = self._bytes_seen  # nothing sent at all: nothing to answer
        else:
            answer = cycle is not None and not cycle.response_started
        if answer:
            self.transport.write(
                timeout_response(phase, self.limits, list(self.server_state.default_headers))
            )
        if cycle is not None and not cycle.response_complete:
            # The route waiting on receive() gets http.disconnect now, and whatever it
            # still sends is dropped (RequestResponseCycle.send checks ``disconnected``).
            cycle.disconnected = True
            cycle.message_event.set()
        log.info(
            "slow client: %s not received within %.1f s; %s",
            phase,
            self.limits.head_timeout_s if phase == "head" else self.limits.body_timeout_s,
            "408 sent, connection closed" if answer else "connection closed",
        )
        self.transport.close()


def slow_client_protocol(limits: SlowClientLimits) -> type[asyncio.Protocol]:
    """What to give uvicorn as ``http=`` in one process: :class:`SlowClientH11Protocol` bound
    to ``limits``.

    A :func:`functools.partial`: uvicorn only ever calls it (``http_protocol_class(config=...,
    ...)``) and reads an optional ``alpn_protocols`` attribute with a default, so the cast is
    safe. Not for ``--workers N``: see :data:`WORKER_PROTOCOL`.
    """
    return cast("type[asyncio.Protocol]", functools.partial(SlowClientH11Protocol, limits=limits))


#: What to give uvicorn as ``http=`` with ``--workers N``: an import path, resolved by each
#: worker when it loads its config. Not the partial: uvicorn pickles its ``Config`` into each
#: spawned worker, and unpickling a reference to this module imports ``retrouve.web`` (the
#: whole application, 15 s on a loaded machine) *before* the worker starts answering its
#: parent's health check (5 s), so the parent killed and respawned workers forever. Resolved
#: from the string, the import happens after, like the app factory's.
WORKER_PROTOCOL: Final = f"{__name__}:WorkerSlowClientH11Protocol"


def limits_to_spec(limits: SlowClientLimits) -> dict[str, float]:
    """``limits`` as the ``slow_clients`` entry of ``retrouve serve``'s worker spec."""
    return dataclasses.asdict(limits)


@functools.cache
def limits_from_spec() -> SlowClientLimits:
    """The limits ``retrouve serve`` put in the worker spec (environment, read once per
    process); the defaults when the spec has none."""
    from retrouve.web.factory import SPEC_ENV

    raw = os.environ.get(SPEC_ENV)
    given = json.loads(raw).get("slow_clients") if raw else None
    if not given:
        return SlowClientLimits()
    return SlowClientLimits(
        head_timeout_s=float(given["head_timeout_s"]),
        body_timeout_s=float(given["body_timeout_s"]),
        hsts_max_age_s=int(given.get("hsts_max_age_s", 0)),
    )


class WorkerSlowClientH11Protocol(SlowClientH11Protocol):
    """:class:`SlowClientH11Protocol` with the limits of the worker spec (``--workers N``)."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop, limits=limits_from_spec())
