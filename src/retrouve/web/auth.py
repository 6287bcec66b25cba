"""Who is asking: server-side sessions, the login rate limiter, and the request context.

* **Sessions** live in memory (``SessionStore``), keyed by a random id sent in an HttpOnly,
  SameSite=Strict cookie. Keeping them server-side means logout and account changes take
  effect at once; a server restart logs everyone out, which is acceptable for a control room.
  The login page gets an *anonymous* session too, so that its form carries a CSRF token; the
  id is replaced on login (no session fixation).
* **Login rate limit** (``LoginLimiter``): failures counted per user name, per client
  address (across user names, attempts in flight included) and overall, over a sliding
  window; past a limit, attempts are refused without even checking the password, so a locked
  account cannot be brute-forced nor a list of names sprayed.
* **RequestContext**: user, role, how they authenticated, language, and (for the legal
  issue) the judicial case they work under. Routes depend on :func:`current_context` or on
  :func:`require_roles`. API calls may authenticate with ``Authorization: Bearer TOKEN``.

Everything hangs off ``app.state`` (see ``app.py``): no module-level state.
"""

from __future__ import annotations

import contextlib
import secrets
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Depends, Request

from retrouve.domain import Role
from retrouve.errors import Forbidden, LoginThrottled, NotAuthenticated
from retrouve.legal.accounts import Accounts, User
from retrouve.web.i18n import resolve_lang

Clock = Callable[[], float]
#: The header with which an API token request names its case (``X-Retrouve-Case: REF``).
CASE_HEADER = "X-Retrouve-Case"
#: Longest case reference (``retrouve.legal.cases``): a longer header is not a case.
_MAX_REF = 64


@dataclass
class Session:
    """One browser session. ``user_id`` is None on the login page (anonymous session)."""

    id: str
    csrf_token: str
    user_id: int | None
    created: float
    last_seen: float
    #: Wall-clock login time (aware): a password changed after it ends the session.
    logged_in_at: datetime | None = None
    #: Reference of the case the user works in (``POST /case/select``); checked again on
    #: every data request (``retrouve.web.case_scope``), so a closed case stops at once.
    active_case: str | None = None


@dataclass
class SessionStore:
    """Sessions in memory, bounded. Times are ``clock()`` seconds (monotonic by default).

    ``idle_s``: a session unused this long is gone (a control-room shift is ~8 h, but an
    unattended screen should not stay logged in); ``absolute_s``: maximum life of any session;
    ``anonymous_s``: life of a login-page session. ``max_sessions`` bounds memory: when full,
    the least recently used session is dropped — anonymous (login-page) sessions first and
    only among themselves, so a flood of cookie-less ``GET /login`` can never end an
    operator's session; logged-in sessions are bounded by the same number, separately.
    """

    clock: Clock = time.monotonic
    idle_s: float = 2 * 3600.0
    absolute_s: float = 12 * 3600.0
    anonymous_s: float = 15 * 60.0
    max_sessions: int = 10_000
    _items: OrderedDict[str, Session] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def create(self, user_id: int | None, logged_in_at: datetime | None = None) -> Session:
        now = self.clock()
        sess = Session(secrets.token_urlsafe(32), secrets.token_urlsafe(32), user_id, now, now,
                       logged_in_at)
        with self._lock:
            self._items[sess.id] = sess
            same = [k for k, v in self._items.items() if (v.user_id is None) == (user_id is None)]
            for sid in same[:max(0, len(same) - self.max_sessions)]:
                del self._items[sid]  # least recently used of the same kind first
        return sess

    def get(self, session_id: str | None) -> Session | None:
        """The live session with this id (touching it), or None."""
        if not session_id:
            return None
        now = self.clock()
        with self._lock:
            sess = self._items.get(session_id)
            if sess is None:
                return None
            life = self.absolute_s if sess.user_id is not None else self.anonymous_s
            if now - sess.last_seen > self.idle_s or now - sess.created > life:
                del self._items[session_id]
                return None
            sess.last_seen = now
            self._items.move_to_end(session_id)
            return sess

    def drop(self, session_id: str | None) -> None:
        if session_id:
            with self._lock:
                self._items.pop(session_id, None)

    def drop_user(self, user_id: int) -> None:
        """End every session of a user (password change, account disabled)."""
        with self._lock:
            for sid in [k for k, v in self._items.items() if v.user_id == user_id]:
                del self._items[sid]


@dataclass
class LoginLimiter:
    """Sliding-window count of failed logins per user name, per client address and overall.

    Times are ``clock()`` seconds. Three limits over ``window_s``:

    * ``max_failures`` per user name (guessing one account, from anywhere);
    * ``address_max_failures`` per client address, whatever the names (a password spray);
      attempts whose password is still being checked count too, so a burst of parallel
      guesses over many names cannot all pass before the first failure is counted. None: the
      same as ``max_failures``. A success releases its attempt: a control room logging in
      together is not throttled by its own successes;
    * ``global_max_failures`` from all addresses together (a distributed spray): past it,
      an address with a failure of its own in the window is refused, an address without one
      may still try (one bad actor cannot lock the control room out). None: no global limit.
    """

    clock: Clock = time.monotonic
    max_failures: int = 5
    window_s: float = 300.0
    address_max_failures: int | None = None
    global_max_failures: int | None = None
    max_keys: int = 50_000
    #: Password checks running at once (argon2 takes ~64 MiB and ~50 ms each): a burst of
    #: logins queues instead of exhausting memory.
    max_concurrent_checks: int = 4
    _fails: OrderedDict[str, deque[float]] = field(default_factory=OrderedDict)
    #: Attempts still being checked, per address key (their start times).
    _pending: dict[str, deque[float]] = field(default_factory=dict)
    #: For each user-name key, the address keys of its attempts still being checked.
    _pending_of: dict[str, deque[str]] = field(default_factory=dict)
    _global: deque[float] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)
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
    def _keys(name: str, address: str) -> tuple[str, str]:
        return f"user:{name.casefold()}", f"addr:{address}"

    def _expire(self, q: deque[float], now: float) -> deque[float]:
        while q and now - q[0] >= self.window_s:
            q.popleft()
        return q

    def _recent(self, key: str, now: float) -> deque[float]:
        q = self._fails.get(key)
        if q is None:
            return deque()
        self._expire(q, now)
        if not q:
            del self._fails[key]
        return q

    def _retry(self, oldest: float, now: float) -> int:
        return max(1, int(self.window_s - (now - oldest)) + 1)

    def check(self, name: str, address: str) -> None:
        """Raise :class:`LoginThrottled` if any limit is reached."""
        now = self.clock()
        with self._lock:
            self._refuse_if_over(name, address, now)

    def _refuse_if_over(self, name: str, address: str, now: float) -> None:
        # Caller holds the lock.
        user_key, addr_key = self._keys(name, address)
        users = self._recent(user_key, now)
        if len(users) >= self.max_failures:
            raise LoginThrottled(self._retry(users[0], now))
        addrs = self._recent(addr_key, now)
        pending = self._expire(self._pending.get(addr_key, deque()), now)
        assert self.address_max_failures is not None
        if len(addrs) + len(pending) >= self.address_max_failures:
            oldest = min(q[0] for q in (addrs, pending) if q)
            raise LoginThrottled(self._retry(oldest, now))
        overall = self._expire(self._global, now)
        if (self.global_max_failures is not None and len(overall) >= self.global_max_failures
                and addrs):
            raise LoginThrottled(self._retry(overall[0], now))

    def attempt(self, name: str, address: str) -> None:
        """Check (as :meth:`check`) and count this attempt, atomically, before the password
        is verified: against the *user name* (parallel guesses at one account cannot all
        pass the check before any is counted) and, until :meth:`failed` or
        :meth:`succeeded`, against the *address* (nor can parallel guesses over many
        names)."""
        now = self.clock()
        with self._lock:
            self._refuse_if_over(name, address, now)
            user_key, addr_key = self._keys(name, address)
            self._record((user_key,), now)
            self._pending.setdefault(addr_key, deque()).append(now)
            self._pending_of.setdefault(user_key, deque()).append(addr_key)
            self._bound()

    def _release(self, user_key: str) -> list[str]:
        """End the pending attempts of ``user_key``; their address keys. Caller holds the lock."""
        released = list(self._pending_of.pop(user_key, ()))
        for addr_key in released:
            q = self._pending.get(addr_key)
            if q:
                q.popleft()
            if not q:
                self._pending.pop(addr_key, None)
        return released

    def failed(self, name: str, address: str, counted: bool = False) -> None:
        """Count a failed login; ``counted``: :meth:`attempt` already charged the user name."""
        user_key, addr_key = self._keys(name, address)
        now = self.clock()
        with self._lock:
            if counted:
                self._release(user_key)
            self._record((addr_key,) if counted else (user_key, addr_key), now)
            self._global.append(now)
            if self.global_max_failures is not None:
                while len(self._global) > self.global_max_failures:
                    self._global.popleft()

    def _record(self, keys: tuple[str, ...], now: float) -> None:
        for key in keys:
            limit = self.max_failures if key.startswith("user:") else self.address_max_failures
            q = self._fails.setdefault(key, deque(maxlen=limit))
            q.append(now)
            self._fails.move_to_end(key)
        self._bound()

    def _bound(self) -> None:
        # Bounded memory under a spray of user names: forget the oldest keys.
        while len(self._fails) > self.max_keys:
            self._fails.popitem(last=False)
        while len(self._pending_of) > self.max_keys:
            self._release(next(iter(self._pending_of)))

    def succeeded(self, name: str) -> None:
        """Forget the user's failures and release its pending attempts. The address's
        failures stay: one valid account must not let an attacker reset the counter for
        guessing others."""
        user_key = self._keys(name, "")[0]
        with self._lock:
            self._release(user_key)
            self._fails.pop(user_key, None)


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
