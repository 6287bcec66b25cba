"""Journal entries of the web: logins (and failures), logouts, case selection, result views.

Every entry is written before the answer goes out; if it cannot be written the request fails
(no action without its entry). Views are journalled once per viewing, not per request: a
``<video>`` element sends many byte-range requests for one clip and a results page loads a
thumbnail per hit, so :class:`ViewLog` remembers, per user, case and object, when a view was
last journalled and skips repeats within :attr:`ViewLog.window_s` (monotonic seconds). A
search marks its hits' thumbnails as seen (the ``search`` entry lists them) and a track page
its thumbnail and clip (the ``result-view`` entry of the page covers what it plays).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from fastapi import Request

from retrouve.legal import journal as j
from retrouve.legal.cases import Actor
from retrouve.services import Services
from retrouve.web.case_scope import InCase

#: The role written for a failed login (the name tried is no actor yet).
ANONYMOUS = "anonymous"


@dataclass
class ViewLog:
    """Which (user, case, view, object) were journalled recently; bounded in memory."""

    clock: Callable[[], float] = time.monotonic
    window_s: float = 600.0
    max_keys: int = 100_000
    _seen: OrderedDict[tuple[str, str, str, str], float] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def first(self, key: tuple[str, str, str, str]) -> bool:
        """True (and remember it) unless ``key`` was seen within the window."""
        now = self.clock()
        with self._lock:
            last = self._seen.get(key)
            if last is not None and now - last < self.window_s:
                return False
            self._remember(key, now)
            return True

    def forget(self, key: tuple[str, str, str, str]) -> None:
        """Undo :meth:`first` when the entry could not be written (retry next time)."""
        with self._lock:
            self._seen.pop(key, None)

    def seen(self, keys: Iterable[tuple[str, str, str, str]]) -> None:
        """Mark views as journalled (by an entry that covers them)."""
        now = self.clock()
        with self._lock:
            for key in keys:
                self._remember(key, now)

    def _remember(self, key: tuple[str, str, str, str], now: float) -> None:
        # Caller holds the lock.
        self._seen[key] = now
        self._seen.move_to_end(key)
        while len(self._seen) > self.max_keys:
            self._seen.popitem(last=False)


def _services(request: Request) -> Services:
    svc: Services = request.app.state.services
    return svc


def _views(request: Request) -> ViewLog:
    log: ViewLog = request.app.state.views
    return log


def viewed(request: Request, work: InCase, view: str, *, track_id: int | None = None,
           recording_id: str | None = None, covers: tuple[str, ...] = (),
           frame_t: float | None = None) -> None:
    """Journal that ``work``'s user viewed a track (or a whole recording) as ``view``, unless
    the same view was journalled within the window. ``covers``: other views of the same track
    this one shows (a track page plays its clip), marked as seen. ``frame_t``: the recording
    second of the one frame shown (the full-frame view); each distinct time is its own view."""
    obj = f"track:{track_id}" if track_id is not None else f"recording:{recording_id}"
    user, ref = work.actor.name, work.case.ref
    views = _views(request)
    key = (user, ref, view if frame_t is None else f"{view}@{frame_t:.3f}", obj)
    if views.first(key):
        event = j.ResultViewed(case=ref, view=view, track_id=track_id,
                               recording_id=recording_id, frame_t=frame_t)
        try:
            with _services(request).journal.action(work.actor, event,
                                                   f"journal a {view} view in case {ref}"):
                pass
        except BaseException:
            views.forget(key)
            raise
    views.seen((user, ref, other, obj) for other in covers)


def original_viewed(request: Request, work: InCase, recording_id: str, *, route: str,
                    served: str, size: int, track_id: int | None = None) -> None:
    """Journal a whole original file served to ``work``'s user (``view-original``): which
    recording, through which ``route``, and ``served`` (``whole`` or the inclusive byte range
    ``start-end``) of ``size`` bytes. A repeat of the same range by the same user in the same
    case within the view window (a player re-reading) is not journalled again; every other
    range is, so the journal lists every part of the original that left."""
    key = (work.actor.name, work.case.ref, "view-original",
           f"recording:{recording_id}:{route}:{served}")
    views = _views(request)
    if not views.first(key):
        return
    event = j.OriginalViewed(case=work.case.ref, recording_id=recording_id, route=route,
                             bytes=served, size=size, track_id=track_id)
    try:
        with _services(request).journal.action(
                work.actor, event, f"journal a whole-original view in case {work.case.ref}"):
            pass
    except BaseException:
        views.forget(key)
        raise


def searched(request: Request, work: InCase, track_ids: Iterable[int]) -> None:
    """After a journalled search: its hits' thumbnails count as viewed (the entry lists them)."""
    _views(request).seen((work.actor.name, work.case.ref, "thumbnail", f"track:{i}")
                         for i in track_ids)


def chronology_viewed(request: Request, work: InCase, track_ids: Sequence[int], *,
                      with_rejected: bool = False, thumbnails: bool = False) -> None:
    """Journal a case's chronology page (``chronology-view``: the tracks shown, in order),
    every time it is shown, as a search is. ``thumbnails``: the page shows their thumbnails
    (the entry lists them, so their requests are not journalled again)."""
    event = j.ChronologyViewed(case=work.case.ref, track_ids=tuple(track_ids),
                               with_rejected=with_rejected)
    with _services(request).journal.action(
            work.actor, event, f"journal a chronology view in case {work.case.ref}"):
        pass
    if thumbnails:
        _views(request).seen((work.actor.name, work.case.ref, "thumbnail", f"track:{i}")
                             for i in track_ids)


def logged_in(request: Request, actor: Actor, address: str) -> None:
    with _services(request).journal.action(actor, j.LoggedIn(address=address),
                                           f"journal the login of {actor.name}"):
        pass


def login_failed(request: Request, tried: str, address: str, reason: str) -> None:
    """Journal a refused login: the name tried (as the entry's user, role ``anonymous``)."""
    services = _services(request)
    event = j.LoginFailed(tried=tried, address=address, reason=reason)
    with services.store.transaction("journal a failed login") as tx:
        services.journal.record_as(tx, tried, ANONYMOUS, event)


def logged_out(request: Request, actor: Actor) -> None:
    with _services(request).journal.action(actor, j.LoggedOut(),
                                           f"journal the logout of {actor.name}"):
        pass


def case_selected(request: Request, actor: Actor, ref: str) -> None:
    with _services(request).journal.action(actor, j.CaseSelected(case=ref),
                                           f"journal {actor.name} selecting case {ref}"):
        pass
