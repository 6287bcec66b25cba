"""Request body limits, applied before authentication and before any body byte is read.

FastAPI parses a form or JSON body *before* it solves the route's dependencies, so the login
requirement (a dependency) came after an unbounded read: a 1 GB anonymous POST was read into
memory whole. :class:`BodyLimitMiddleware` sits outside the routing and refuses

* a declared ``Content-Length`` above the route's limit with 413 at once, reading nothing;
* a body sent without a length (``Transfer-Encoding: chunked``) as soon as the bytes received
  pass the limit: it answers 413 itself, tells the application the client went away, and drops
  whatever the application still tries to send.

Limits are in bytes (:class:`BodyLimits`): page forms are small (the largest, the login form,
is a few hundred bytes); the JSON API's largest body is ``POST /api/analysis`` with a list of
recording ids. Nothing in the application takes uploads.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Final

from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: Paths whose bodies are JSON API calls (the larger limit).
API_PREFIX: Final = "/api"


@dataclass(frozen=True)
class BodyLimits:
    """Largest request body per kind of route, in bytes."""

    form_bytes: int = 64 * 1024
    api_bytes: int = 1024 * 1024

    def for_path(self, path: str) -> int:
        """The limit of a request to ``path`` (URL path, no query)."""
        if path == API_PREFIX or path.startswith(API_PREFIX + "/"):
            return self.api_bytes
        return self.form_bytes


def _declared_length(scope: Scope) -> int | None:
    """The ``Content-Length`` header as an int; -1 when malformed; None when absent."""
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                length = int(value)
            except ValueError:
                return -1
            return length if length >= 0 else -1
    return None


async def _refuse(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                            # The body was not read: the connection cannot be reused.
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


class BodyLimitMiddleware:
    """Pure ASGI: bounds every HTTP request body by :meth:`BodyLimits.for_path`."""

    def __init__(self, app: ASGIApp, limits: BodyLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limits.for_path(scope.get("path", ""))
        declared = _declared_length(scope)
        if declared == -1:
            await _refuse(send, 400, "malformed Content-Length")
            return
        if declared is not None and declared > limit:
            await _refuse(send, 413, f"request body over {limit} bytes")
            return
        received = 0
        answered = False  # the middleware sent the 413 itself
        started = False  # the application started its response

        async def counting_receive() -> Message:
            nonlocal received, answered
            if answered:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    answered = True
                    if not started:
                        await _refuse(send, 413, f"request body over {limit} bytes")
                    # The application sees a client that went away and stops reading.
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if answered:
                return  # the 413 is the answer; whatever the app says after it is dropped
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            # The application fails on the disconnect it was handed (ClientDisconnect): the
            # client already has its 413. Any other failure is the application's own.
            if not answered:
                raise
