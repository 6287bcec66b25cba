"""Who is asking: server-side sessions, the login rate limiter, and the request context.

* **Sessions** live in the database (``SessionStore`` over the store's ``web_sessions``),
  keyed by a random id sent in an HttpOnly, SameSite=Strict cookie (the table holds its
  SHA-256). Keeping them server-side means logout and account changes take effect at once;
  in the database, every process of ``retrouve serve --workers N`` sees the same sessions
  and CSRF tokens, and a restart keeps them.
  The login page gets an *anonymous* session too, so that its form carries a CSRF token; the
  id is replaced on login (no session fixation).
* **Login rate limit** (``LoginLimiter``): failures counted per user name, per client
  address (across user names, attempts in flight included) and overall, over a sliding
  window, in the database too (``login_attempts``); past a limit, attempts are refused
  without even checking the password, so a locked account cannot be brute-forced nor a list
  of names sprayed.
* **RequestContext**: user, role, how they authenticated, language, and (for the legal
  issue) the judicial case they work under. Routes depend on :func:`current_context` or on
  :func:`require_roles`. API calls may authenticate with ``Authorization: Bearer TOKEN``.

Everything hangs off ``app.state`` (see ``app.py``): no module-level state.
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Depends, Request

from retrouve.domain import Role
from retrouve.errors import Forbidden, LoginThrottled, NotAuthenticated
from retrouve.legal.accounts import Accounts, User
from retrouve.store.db import Store
from retrouve.store.login_attempts import AttemptLimit, Blocked
from retrouve.store.web_sessions import WebSessionRow
from retrouve.web.i18n import resolve_lang

Clock = Callable[[], float]
#: The header with which an API token request names its case (``X-Retrouve-Case: REF``).
CASE_HEADER = "X-Retrouve-Case"
#: Longest case reference (``retrouve.legal.cases``): a longer header is not a case.
_MAX_REF = 64


@dataclass
class Session:
    """One browser session. ``user_id`` is None on the login page (anonymous session).
    ``created`` and ``last_seen`` are the web clock's seconds."""

    id: str
    csrf_token: str
    user_id: int | None
    created: float
    last_seen: float
    #: Wall-clock login time (aware): a password changed after it ends the session.
    logged_in_at: datetime | None = None
    #: The judicial case the user works under in this session (a case reference), if any;
    #: changed through :meth:`SessionStore.set_active_case` (stored, so every process sees it).
    active_case: str | None = None


def _key(session_id: str) -> str:
    """The stored key of a session: SHA-256 of the cookie's value."""
    return hashlib.sha256(session_id.encode()).hexdigest()


@dataclass
class SessionStore:
    """Sessions in the database (``web_sessions``), shared by every server process, bounded.
    Times are ``clock()`` seconds: wall-clock epoch seconds by default, the same on every
    process and machine (a monotonic clock is per machine).

    ``idle_s``: a session unused this long is gone (a control-room shift is ~8 h, but an
    unattended screen should not stay logged in); ``absolute_s``: maximum life of any session;
    ``anonymous_s``: life of a login-page session. ``max_sessions`` bounds the table: when
    full, the least recently used session is dropped — anonymous (login-page) sessions first
    and only among themselves, so a flood of cookie-less ``GET /login`` can never end an
    operator's session; logged-in sessions are bounded by the same number, separately.
    ``touch_s``: use is recorded at most this often per session (one write per request
    otherwise), so "idle" is measured to within ``touch_s``.
    """

    store: Store
    clock: Clock = time.time
    idle_s: float = 2 * 3600.0
    absolute_s: float = 12 * 3600.0
    anonymous_s: float = 15 * 60.0
    max_sessions: int = 10_000
    touch_s: float = 1.0

    def create(self, user_id: int | None, logged_in_at: datetime | None = None) -> Session:
        now = self.clock()
        sess = Session(secrets.token_urlsafe(32), secrets.token_urlsafe(32), user_id, now, now,
                       logged_in_at)
        life = self.absolute_s if user_id is not None else self.anonymous_s
        self.store.add_web_session(
            WebSessionRow(_key(sess.id), sess.csrf_token, user_id, now, now, logged_in_at),
            keep=self.max_sessions, stale_seen_before=now - self.idle_s,
            stale_created_before=now - life)
        return sess

    def get(self, session_id: str | None) -> Session | None:
        """The live session with this id (touching it), or None."""
        if not session_id:
            return None
        now = self.clock()
        key = _key(session_id)
        row = self.store.web_session(key)
        if row is None:
            return None
        life = self.absolute_s if row.user_id is not None else self.anonymous_s
        if now - row.last_seen > self.idle_s or now - row.created > life:
            self.store.drop_web_session(key)
            return None
        if now - row.last_seen >= self.touch_s:
            self.store.touch_web_session(key, now)
        return Session(session_id, row.csrf_token, row.user_id, row.created,
                       max(now, row.last_seen), row.logged_in_at, row.active_case)

    def set_active_case(self, sess: Session, case_ref: str | None) -> None:
        """Record the case ``sess`` works under (None: none), for every process."""
        self.store.set_web_session_case(_key(sess.id), case_ref)
        sess.active_case = case_ref

    def drop(self, session_id: str | None) -> None:
        if session_id:
            self.store.drop_web_session(_key(session_id))

    def drop_user(self, user_id: int) -> None:
        """End every session of a user (password change, account disabled)."""
        self.store.drop_user_web_sessions(user_id)


@dataclass
class LoginLimiter:
    """Sliding-window count of failed logins, kept in the database (``login_attempts``) so
    that every server process counts the same attempts. Times are ``clock()`` seconds
    (wall-clock epoch seconds by default, as the sessions'). Three limits over ``window_s``:

    * ``max_failures`` per user name (guessing one account, from anywhere);
    * ``address_max_failures`` per client address, whatever the names (a password spray);
      attempts whose password is still being checked count too (key ``try:``), so a burst
      of parallel guesses over many names cannot all pass before the first failure is
      counted. None: the same as ``max_failures``. A success releases its attempt: a
      control room logging in together is not throttled by its own successes;
    * ``global_max_failures`` from all addresses together (a distributed spray): past it,
      an address with a failure of its own in the window is refused, an address without one
      may still try (one bad actor cannot lock the control room out). None: no global limit.

    Each rule is an :class:`~retrouve.store.login_attempts.AttemptLimit` over keys
    (:meth:`_limits`), checked and charged atomically across processes by the store. The
    table keeps only attempts a window can still count (older ones are deleted as attempts
    come), which bounds it under a spray of user names; an attempt in flight whose process
    died counts until it leaves the window.
    """

    store: Store
    clock: Clock = time.time
    max_failures: int = 5
    window_s: float = 300.0
    address_max_failures: int | None = None
    global_max_failures: int | None = None
    #: Password checks running at once *in this process* (argon2 takes ~64 MiB and ~50 ms
    #: each): a burst of logins queues instead of exhausting the process's memory.
    max_concurrent_checks: int = 4
    _checks: threading.BoundedSemaphore = field(init=False)

    def __post_init__(self) -> None:
        self._checks = threading.BoundedSemaphore(self.max_concurrent_checks)
        if self.address_max_failures is None:
            self.address_max_failures = self.max_failures

    @contextlib.contextmanager
    def checking(self) -> Iterator[None]:
        """Hold one of the :attr:`max_concurrent_checks` password-check slots."""
        with self._checks:
            yield

    @staticmethod
    def _keys(name: str, address: str) -> tuple[str, str, str]:
        """The user name's, the address's failures, the address's attempts in flight."""
        return f"user:{name.casefold()}", f"addr:{address}", f"try:{address}"

    def _limits(self, name: str, address: str, now: float) -> list[AttemptLimit]:
        since = now - self.window_s
        user_key, addr_key, try_key = self._keys(name, address)
        assert self.address_max_failures is not None
        limits = [AttemptLimit(user_key, since, self.max_failures),
                  AttemptLimit(addr_key, since, self.address_max_failures, also=(try_key,))]
        if self.global_max_failures is not None and self.store.login_blocked(
                [AttemptLimit(addr_key, since, 1)]) is not None:
            # Past the global ceiling only addresses that failed themselves are refused.
            limits.append(AttemptLimit(_GLOBAL, since, self.global_max_failures))
        return limits

    def _refuse(self, blocked: Blocked | None, now: float) -> None:
        if blocked is None:
            return
        if blocked.in_flight:
            # Full only of checks still running (a control room logging in together behind
            # one address): they end within seconds, not when the window has passed.
            raise LoginThrottled(IN_FLIGHT_RETRY_S)
        raise LoginThrottled(max(1, int(self.window_s - (now - blocked.oldest)) + 1))

    def check(self, name: str, address: str) -> None:
        """Raise :class:`LoginThrottled` if any limit is reached."""
        now = self.clock()
        self._refuse(self.store.login_blocked(self._limits(name, address, now)), now)

    def attempt(self, name: str, address: str) -> None:
        """Check (as :meth:`check`) and count this attempt before the password is verified,
        atomically (across processes too): against the *user name* (parallel guesses at one
        account cannot all pass the check before any is counted) and, until :meth:`failed`
        or :meth:`succeeded`, as in flight from the *address* (nor can parallel guesses
        over many names)."""
        now = self.clock()
        user_key, _addr_key, try_key = self._keys(name, address)
        self._refuse(self.store.charge_login_attempt(
            (user_key, try_key), now, unless=self._limits(name, address, now),
            forget_before=now - self.window_s), now)

    def failed(self, name: str, address: str, counted: bool = False) -> None:
        """Count a failed login; ``counted``: :meth:`attempt` already charged the user name
        (and its attempt in flight ends here)."""
        user_key, addr_key, try_key = self._keys(name, address)
        now = self.clock()
        keys = (addr_key,) if counted else (user_key, addr_key)
        if self.global_max_failures is not None:
            keys = (*keys, _GLOBAL)
        # The attempt in flight becomes a failure in one transaction: between the two, a
        # parallel attempt from the address would find neither and slip through.
        self.store.charge_login_attempt(keys, now, forget_before=now - self.window_s,
                                        release=try_key if counted else None)

    def succeeded(self, name: str, address: str = "") -> None:
        """Forget the user's failures and end the attempt in flight from ``address``. The
        address's failures stay: one valid account must not let an attacker reset the
        counter for guessing others."""
        user_key, _addr_key, try_key = self._keys(name, address)
        if address:
            self.store.release_login_attempt(try_key)
        self.store.forget_login_attempts(user_key)


#: Retry-After (s) when an address is refused only for its attempts in flight: a few
#: password checks (~50 ms each, :attr:`LoginLimiter.max_concurrent_checks` at a time).
IN_FLIGHT_RETRY_S = 2

#: The key every failure is also charged to when a global ceiling is set.
_GLOBAL = "all:"


@dataclass(frozen=True)
class RequestContext:
    """The caller of one request.

    ``via`` says how they authenticated (``session`` needs CSRF tokens on POST, ``token``
    does not: a bearer header is never sent implicitly by a browser). ``case`` is the
    reference of the judicial case the user says they work under: the session's active case,
    or the :data:`CASE_HEADER` of a token request. It is a claim until
    :func:`retrouve.web.case_scope.in_case` has checked that the user may work in it.
    """

    user: User
    via: Literal["session", "token"]
    lang: str
    session: Session | None = None
    case: str | None = None

    @property
    def role(self) -> Role:
        return self.user.role

    @property
    def csrf_token(self) -> str:
        return self.session.csrf_token if self.session else ""

    def has_role(self, *roles: str) -> bool:
        return self.user.role in roles


def client_address(request: Request) -> str:
    """The peer address (behind a reverse proxy: uvicorn's --proxy-headers sets it)."""
    return request.client.host if request.client else "unknown"


def bearer_token(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer`` header, "" if the header is malformed."""
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def session_of(request: Request) -> Session | None:
    state = request.app.state
    sess: Session | None = state.sessions.get(request.cookies.get(state.config.cookie_name))
    return sess


def cookie_settings(request: Request) -> dict[str, Any]:
    """Keyword arguments of ``Response.set_cookie`` for the session cookie (no ``max_age``:
    the browser forgets it on close; the server enforces the idle and absolute limits)."""
    config = request.app.state.config
    return {"key": config.cookie_name, "path": "/", "httponly": True, "samesite": "strict",
            "secure": config.secure_cookies}


def optional_context(request: Request) -> RequestContext | None:
    """The caller, or None when anonymous. A bad bearer token is anonymous even if a session
    cookie is also sent: a request says who it is one way only."""
    state = request.app.state
    accounts: Accounts = state.accounts
    lang = resolve_lang(request)
    token = bearer_token(request)
    if token is not None:
        user = accounts.user_for_token(token) if token else None
        claimed = (request.headers.get(CASE_HEADER) or "").strip()[:_MAX_REF + 1] or None
        return RequestContext(user, "token", lang, case=claimed) if user else None
    sess = session_of(request)
    if sess is None or sess.user_id is None:
        return None
    # Re-read the account on every request: disabling it or changing its role is immediate.
    user = accounts.by_id(sess.user_id)
    changed_since = (sess.logged_in_at is None
                     or (user is not None and user.password_changed_at > sess.logged_in_at))
    if user is None or user.disabled or changed_since:
        state.sessions.drop(sess.id)
        return None
    return RequestContext(user, "session", lang, sess, case=sess.active_case)


def current_context(request: Request) -> RequestContext:
    """Dependency: the authenticated caller, else :class:`NotAuthenticated`."""
    ctx = optional_context(request)
    if ctx is None:
        raise NotAuthenticated()
    request.state.context = ctx
    return ctx


def require_roles(*roles: str) -> Callable[..., Coroutine[Any, Any, RequestContext]]:
    """Dependency factory: the caller, who must have one of ``roles`` (else 403)."""

    async def dependency(
        ctx: Annotated[RequestContext, Depends(current_context)],
    ) -> RequestContext:
        if not ctx.has_role(*roles):
            raise Forbidden(roles)
        return ctx

    return dependency


#: Route parameter types: ``ctx: Ctx`` for any logged-in user, ``ctx: AdminCtx`` for admins.
Ctx = Annotated[RequestContext, Depends(current_context)]
AdminCtx = Annotated[RequestContext, Depends(require_roles(Role.ADMIN))]
