"""Keep the ``k`` best views of a track that are at least ``spacing_s`` apart in time.

Two samples a few hundred milliseconds apart are nearly the same picture: a second opinion
from a model is worth something only from a view that differs (another angle as the vehicle
turns, another distance, no pedestrian in front). So a new view near in time to a kept one
replaces it only when better; otherwise the worst kept view makes room when the new one is
better. Used for the plate views (:mod:`retrouve.analysis.plate_views`) and the type and
colour views (:mod:`retrouve.analysis.track_builder`). Times are recording seconds; quality
is any number where larger is better.
"""

from __future__ import annotations

from collections.abc import MutableSequence
from typing import Protocol, TypeVar


class View(Protocol):
    """Anything with a time (recording seconds) and a quality (larger is better)."""

    @property
    def t(self) -> float: ...

    @property
    def quality(self) -> float: ...


V = TypeVar("V", bound=View)


def admits(views: MutableSequence[V], t: float, quality: float, k: int, spacing_s: float) -> bool:
    """Whether a view of ``quality`` at ``t`` would be kept among ``views``."""
    close = [v for v in views if abs(v.t - t) < spacing_s]
    if close:
        return quality > max(v.quality for v in close)
    return len(views) < k or quality > min(v.quality for v in views)


def keep(views: MutableSequence[V], view: V, k: int, spacing_s: float) -> None:
    """Add ``view`` to ``views`` in place (call after :func:`admits` said yes): the views
    within ``spacing_s`` of it go, or else the worst when ``k`` are already kept."""
    close = [v for v in views if abs(v.t - view.t) < spacing_s]
    if close:
        for v in close:
            views.remove(v)
    elif len(views) >= k:
        views.remove(min(views, key=lambda v: v.quality))
    views.append(view)


def offer(views: MutableSequence[V], view: V, k: int, spacing_s: float) -> bool:
    """:func:`keep` ``view`` if :func:`admits` it; whether it was kept."""
    if not admits(views, view.t, view.quality, k, spacing_s):
        return False
    keep(views, view, k, spacing_s)
    return True


__all__ = ["View", "admits", "keep", "offer"]
