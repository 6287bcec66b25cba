"""CSRF protection: every state-changing request made with a session cookie carries the
session's token, in the ``csrf_token`` form field or the ``X-CSRF-Token`` header.

The guard is installed as an application-wide dependency (``create_app``), so a new POST route
cannot forget it. API requests (``/api/…``) carrying ``Authorization: Bearer`` are exempt:
browsers never attach that header on their own (and no CORS is granted), so a forged
cross-site request cannot carry one; such a request is authenticated by its token alone. Forms
(``/login``, ``/logout``, ``/footage/…``) always need the token. SameSite=Strict cookies are
a second, independent barrier.
"""

from __future__ import annotations

import hmac

from fastapi import Request

from retrouve.errors import CsrfRejected
from retrouve.web.auth import bearer_token, session_of

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
FORM_FIELD = "csrf_token"
HEADER = "x-csrf-token"
API_PREFIX = "/api/"


async def csrf_guard(request: Request) -> None:
    """Dependency on every route: refuse unsafe requests whose token does not match."""
    if request.method in SAFE_METHODS:
        return
    if request.url.path.startswith(API_PREFIX) and bearer_token(request) is not None:
        return
    sess = session_of(request)
    if sess is None:
        raise CsrfRejected("no session")
    sent = request.headers.get(HEADER)
    if sent is None:
        ctype = request.headers.get("content-type", "")
        if ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            # Starlette caches the parsed form on the request: the route reads it again free.
            value = (await request.form()).get(FORM_FIELD)
            sent = value if isinstance(value, str) else None
    if not sent or not hmac.compare_digest(sent.encode(), sess.csrf_token.encode()):
        raise CsrfRejected("missing or wrong CSRF token")
