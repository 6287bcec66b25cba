"""The results list of the search page as the operator reads it: the heading with the total
("Résultats 1–20 sur 57"), where the pager may lead, and, in time order, the page's cards
regrouped under one heading per camera. Pure functions (no I/O).

Counts are *results*, one per object (the fragments of an object are one hit), the same
rows the pages list: ``SearchResult.total``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from retrouve.domain import Camera
from retrouve.search.engine import MAX_OFFSET
from retrouve.web.i18n import counter, translator
from retrouve.web.views import HitCard

#: Thousands separator of counts: a narrow no-break space in French, a comma in English.
_THOUSANDS = {"fr": "\u202f", "en": ","}


def number(n: int, lang: str) -> str:
    """``n`` with its thousands grouped (``12 345`` / ``12,345``)."""
    return f"{n:,}".replace(",", _THOUSANDS.get(lang, ","))


def count_heading(
    lang: str, *, total: int | None, offset: int, shown: int, at_least: bool = False
) -> str:
    """The results heading for a page of ``shown`` results from ``offset`` (0-based) out of
    ``total`` (None: not counted):

    - ``Aucun résultat`` / ``No results`` when the search has none;
    - ``1 résultat``, ``5 résultats`` when one page holds them all;
    - ``Résultats 1–20 sur 57`` (``sur au moins`` for a lower bound) otherwise, and
      ``Résultat 41 sur 41`` for a page of one;
    - past the last page: none here, but how many the search has.
    """
    t, tn = translator(lang), counter(lang)
    first, last = offset + 1, offset + shown
    if total is None:
        return t("results.count", first=first, last=last) if shown else t("results.none")
    if total == 0 and not at_least:
        return t("results.none")
    if shown == 0:
        return tn("results.past_end", total, total=number(total, lang))
    if offset == 0 and shown >= total and not at_least:
        return tn("results.all", total, total=number(total, lang))
    if shown == 1:
        key = "results.one_of_at_least" if at_least else "results.one_of"
        return t(key, first=number(first, lang), total=number(total, lang))
    key = "results.of_at_least" if at_least else "results.of_total"
    return t(key, first=number(first, lang), last=number(last, lang), total=number(total, lang))


def next_offset(
    *, offset: int, limit: int, shown: int, total: int | None, at_least: bool = False
) -> int | None:
    """The offset of the next page, None when this is the last one (the total says so; not
    counted, or a lower bound: a full page may have a next one) or when the next page lies
    beyond the deepest page the engine serves (``MAX_OFFSET``: narrow the search)."""
    following = offset + limit
    if following > MAX_OFFSET:
        return None
    if total is not None and not at_least:
        return following if following < total else None
    return following if shown == limit else None


@dataclass(frozen=True)
class CardGroup:
    """Results of one camera on this page, in the page's (time) order; ``zone`` the camera's
    own time zone (IANA name)."""

    camera_id: str
    camera_name: str
    zone: str
    cards: tuple[HitCard, ...]


def group_by_camera(cards: Sequence[HitCard], cameras: Mapping[str, Camera]) -> list[CardGroup]:
    """``cards`` (in time order) under one group per camera, groups in the order of their
    first card (the camera seen first comes first), cards keeping their order inside."""
    order: list[str] = []
    by_camera: dict[str, list[HitCard]] = {}
    for card in cards:
        if card.camera_id not in by_camera:
            order.append(card.camera_id)
            by_camera[card.camera_id] = []
        by_camera[card.camera_id].append(card)
    out = []
    for cam_id in order:
        cam = cameras.get(cam_id)
        mine = by_camera[cam_id]
        out.append(
            CardGroup(
                cam_id,
                cam.name if cam else mine[0].camera_name,
                cam.timezone if cam else "UTC",
                tuple(mine),
            )
        )
    return out
