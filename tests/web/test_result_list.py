"""The results list's wording and shape (``web/result_list.py``): the count heading in both
languages, where the pager leads, the per-camera groups of a time-ordered page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from retrouve.domain import Camera
from retrouve.search.engine import MAX_OFFSET
from retrouve.web.result_list import count_heading, group_by_camera, next_offset, number
from retrouve.web.views import HitCard


@pytest.mark.parametrize(
    ("total", "offset", "shown", "at_least", "fr", "en"),
    [
        (0, 0, 0, False, "Aucun résultat", "No results"),
        (1, 0, 1, False, "1 résultat", "1 result"),
        (5, 0, 5, False, "5 résultats", "5 results"),
        (57, 0, 20, False, "Résultats 1–20 sur 57", "Results 1–20 of 57"),
        (57, 20, 20, False, "Résultats 21–40 sur 57", "Results 21–40 of 57"),
        (57, 40, 17, False, "Résultats 41–57 sur 57", "Results 41–57 of 57"),
        # The last page holds one result: its position (the operator is on page 3 of 3).
        (41, 40, 1, False, "Résultat 41 sur 41", "Result 41 of 41"),
        (9, 0, 1, True, "Résultat 1 sur au moins 9", "Result 1 of at least 9"),
        (12_345, 0, 20, False, "Résultats 1–20 sur 12\u202f345", "Results 1–20 of 12,345"),
        (
            20_000,
            0,
            20,
            True,
            "Résultats 1–20 sur au moins 20\u202f000",
            "Results 1–20 of at least 20,000",
        ),
        # A full list that is only a lower bound is never called complete.
        (3, 0, 3, True, "Résultats 1–3 sur au moins 3", "Results 1–3 of at least 3"),
        (
            57,
            60,
            0,
            False,
            "Aucun résultat sur cette page : la recherche en compte 57",
            "No results on this page: the search has 57",
        ),
    ],
)
def test_count_heading(
    total: int, offset: int, shown: int, at_least: bool, fr: str, en: str
) -> None:
    got = [
        count_heading(lang, total=total, offset=offset, shown=shown, at_least=at_least)
        for lang in ("fr", "en")
    ]
    assert got == [fr, en]


def test_count_heading_without_a_total_keeps_the_range() -> None:
    assert count_heading("fr", total=None, offset=20, shown=20) == "Résultats 21 à 40"
    assert count_heading("en", total=None, offset=0, shown=0) == "No results"


@pytest.mark.parametrize(
    ("offset", "limit", "shown", "total", "at_least", "expected"),
    [
        (0, 20, 20, 57, False, 20),
        (20, 20, 20, 57, False, 40),
        (40, 20, 17, 57, False, None),  # the last page
        (20, 20, 20, 40, False, None),  # a full last page: the total says there is no next
        (0, 20, 20, None, False, 20),  # not counted: a full page may have a next one
        (0, 20, 19, None, False, None),
        (0, 20, 20, 20, True, 20),  # a lower bound: as if not counted
        (MAX_OFFSET - 10, 20, 20, 50_000, False, None),  # beyond the deepest page served
        (MAX_OFFSET - 20, 20, 20, 50_000, False, MAX_OFFSET),
    ],
)
def test_next_offset(
    offset: int, limit: int, shown: int, total: int | None, at_least: bool, expected: int | None
) -> None:
    assert (
        next_offset(offset=offset, limit=limit, shown=shown, total=total, at_least=at_least)
        == expected
    )


def test_number_groups_thousands() -> None:
    assert [number(n, "fr") for n in (7, 1234, 1_000_000)] == [
        "7",
        "1\u202f234",
        "1\u202f000\u202f000",
    ]
    assert number(1234, "en") == "1,234"


def _card(track_id: int, camera: str, minute: int) -> HitCard:
    start = datetime(2026, 1, 4, 9, minute, tzinfo=UTC)
    return HitCard(
        track_id=track_id,
        href=f"/track/{track_id}",
        thumb_url=None,
        overlay=None,
        camera_id=camera,
        camera_name=camera.upper(),
        start=start,
        duration_s=5.0,
        object="car",
        attributes=(),
        plate=None,
        score=0.5,
    )


def test_group_by_camera_keeps_time_order_inside_and_orders_groups_by_first_card() -> None:
    cards = [
        _card(1, "port", 0),
        _card(2, "nord", 1),
        _card(3, "port", 2),
        _card(4, "gone", 3),
        _card(5, "nord", 4),
        _card(6, "port", 5),
    ]
    cameras = {
        "port": Camera("port", "Port", "UTC"),
        "nord": Camera("nord", "Rue du Nord", "Europe/Paris"),
    }
    groups = group_by_camera(cards, cameras)
    assert [(g.camera_id, g.camera_name, g.zone) for g in groups] == [
        ("port", "Port", "UTC"),
        ("nord", "Rue du Nord", "Europe/Paris"),
        # A camera no longer registered: the card's own name, and UTC.
        ("gone", "GONE", "UTC"),
    ]
    assert [[c.track_id for c in g.cards] for g in groups] == [[1, 3, 6], [2, 5], [4]]
    for g in groups:
        starts = [c.start for c in g.cards]
        assert starts == sorted(starts)
    # Every card once: keyboard navigation walks them all.
    assert sorted(c.track_id for g in groups for c in g.cards) == [1, 2, 3, 4, 5, 6]
    assert group_by_camera([], cameras) == []
    assert groups[0].cards[0].start + timedelta(minutes=2) == groups[0].cards[1].start
