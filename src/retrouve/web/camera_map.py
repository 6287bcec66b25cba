"""An offline plan of cameras drawn from their stored latitude and longitude, as inline SVG.

No map tiles and nothing fetched from anywhere: the plan is a local projection of the cameras'
positions, enough for an operator to see which camera lies where and the order in which a
vehicle or a person passed them. :func:`plan` is the geometry (pure, unit-tested);
:func:`plan_svg` draws it (markers with their names, the sightings' numbers, a scale bar in
metres, a north arrow).

Projection: local equirectangular around the cameras' centre. ``x`` metres east =
``R · Δλ · cos φ₀``, ``y`` metres north = ``R · Δφ`` (radians; ``R`` the mean Earth radius,
``φ₀`` the centre latitude). Over the few kilometres a town's cameras span the error is far
below a marker's size. Longitudes are taken relative to the first positioned camera and
wrapped to ±180°, so cameras either side of the antimeridian stay neighbours. The plan is
then scaled uniformly (north up, same metres per pixel both ways) to fit a
:data:`WIDTH` × :data:`HEIGHT` drawing with :data:`MARGIN` around it; a bounding box smaller
than :data:`MIN_SPAN_M` (one camera, or several at one spot) is widened to it so the scale bar
still means something.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from retrouve.domain import Camera

#: Mean Earth radius (metres, IUGG).
EARTH_RADIUS_M = 6_371_008.8
#: Drawing size in SVG user units (the page scales it to its width).
WIDTH, HEIGHT = 640.0, 400.0
#: Room kept around the markers (labels, north arrow, scale bar), SVG units.
MARGIN = 56.0
#: Smallest span shown (metres): a lone camera sits in a 100 m plan.
MIN_SPAN_M = 100.0
#: Cameras drawn at the same spot (within this many SVG units) are fanned out on a circle of
#: :data:`FAN_RADIUS` so that each marker and label stays visible.
SAME_SPOT = 6.0
FAN_RADIUS = 16.0
#: Sighting numbers drawn beside a marker before ``+n``, and their spacing (SVG units).
#: Average width of a label character (SVG units; the label font is 17 px) and the room kept
#: between a label and the plan's edge, to cut names that would run past it.
LABEL_CHAR = 9.5
LABEL_PAD = 6.0
MAX_BADGES = 8
BADGE_STEP = 22.0


@dataclass(frozen=True)
class Marker:
    """A camera on the plan: ``x``/``y`` in SVG units (y down), ``east_m``/``north_m`` its
    projected position in metres from the plan's centre; ``numbers`` the sightings (1-based,
    in time order) seen by this camera."""

    camera_id: str
    name: str
    x: float
    y: float
    east_m: float
    north_m: float
    numbers: tuple[int, ...] = ()


@dataclass(frozen=True)
class ScaleBar:
    """A round length (``metres``: 1, 2 or 5 × 10ⁿ) and its length in SVG units."""

    metres: float
    length: float

    @property
    def label(self) -> str:
        return f"{self.metres / 1000:g} km" if self.metres >= 1000 else f"{self.metres:g} m"


@dataclass(frozen=True)
class CameraPlan:
    """The plan: positioned markers, cameras without a (valid) position, metres per SVG unit,
    the scale bar and the path of the sightings (marker centres in time order)."""

    markers: tuple[Marker, ...]
    unknown: tuple[Camera, ...]
    metres_per_unit: float
    scale: ScaleBar | None
    path: tuple[tuple[float, float], ...] = ()
    width: float = WIDTH
    height: float = HEIGHT


def has_position(camera: Camera) -> bool:
    """A latitude in [-90, 90] and a longitude in [-180, 180], both finite."""
    lat, lon = camera.latitude, camera.longitude
    return (
        lat is not None
        and lon is not None
        and math.isfinite(lat)
        and math.isfinite(lon)
        and -90.0 <= lat <= 90.0
        and -180.0 <= lon <= 180.0
    )


def _wrap(degrees: float) -> float:
    """An angle difference in [-180, 180)."""
    return (degrees + 180.0) % 360.0 - 180.0


def project(cameras: Sequence[Camera]) -> list[tuple[float, float]]:
    """Positions (east, north) in metres of positioned ``cameras`` around their centre
    (the middle of their bounding box), in the order given."""
    if not cameras:
        return []
    lon_ref = cameras[0].longitude or 0.0
    lats = [c.latitude or 0.0 for c in cameras]
    lons = [_wrap((c.longitude or 0.0) - lon_ref) for c in cameras]
    lat0 = (min(lats) + max(lats)) / 2
    lon0 = (min(lons) + max(lons)) / 2
    # cos φ₀ floored: at a pole every longitude is one point, never a division by zero.
    k = math.radians(1.0) * EARTH_RADIUS_M
    cos0 = max(math.cos(math.radians(lat0)), 1e-6)
    return [
        ((lon - lon0) * k * cos0, (lat - lat0) * k) for lat, lon in zip(lats, lons, strict=True)
    ]


def _nice(metres: float) -> float:
    """The largest 1, 2 or 5 × 10ⁿ not above ``metres`` (> 0)."""
    power = 10.0 ** math.floor(math.log10(metres))
    return next(step * power for step in (5.0, 2.0, 1.0) if step * power <= metres)


def plan(
    cameras: Sequence[Camera],
    sightings: Sequence[str] = (),
    *,
    width: float = WIDTH,
    height: float = HEIGHT,
    margin: float = MARGIN,
) -> CameraPlan:
    """The plan of ``cameras``; ``sightings`` the camera id of each sighting in time order
    (numbered 1, 2…; ids of unknown or unpositioned cameras get no badge and no path point)."""
    placed = [c for c in cameras if has_position(c)]
    unknown = tuple(c for c in cameras if not has_position(c))
    metres = project(placed)
    inner_w, inner_h = width - 2 * margin, height - 2 * margin
    if metres:
        xs, ys = [m[0] for m in metres], [m[1] for m in metres]
        span_x = max(max(xs) - min(xs), MIN_SPAN_M)
        span_y = max(max(ys) - min(ys), MIN_SPAN_M)
        per_unit = max(span_x / inner_w, span_y / inner_h)
    else:
        per_unit = MIN_SPAN_M / min(inner_w, inner_h)
    numbers: dict[str, list[int]] = {}
    for n, cam in enumerate(sightings, start=1):
        numbers.setdefault(cam, []).append(n)
    spots = _fanned([(width / 2 + e / per_unit, height / 2 - n / per_unit) for e, n in metres])
    markers = tuple(
        Marker(
            c.id,
            c.name,
            round(x, 1),
            round(y, 1),
            round(e, 1),
            round(n, 1),
            tuple(numbers.get(c.id, ())),
        )
        for c, (x, y), (e, n) in zip(placed, spots, metres, strict=True)
    )
    where = {m.camera_id: (m.x, m.y) for m in markers}
    path = tuple(where[cam] for cam in sightings if cam in where)
    scale = None
    if markers:
        target = _nice(per_unit * inner_w / 4)
        scale = ScaleBar(target, round(target / per_unit, 1))
    return CameraPlan(markers, unknown, per_unit, scale, path, width, height)


def _fanned(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """``points`` with those at one spot spread on a small circle (first one at the top)."""
    groups: list[list[int]] = []
    for i, (x, y) in enumerate(points):
        for g in groups:
            gx, gy = points[g[0]]
            if math.hypot(x - gx, y - gy) < SAME_SPOT:
                g.append(i)
                break
        else:
            groups.append([i])
    out = list(points)
    for g in groups:
        if len(g) < 2:
            continue
        cx, cy = points[g[0]]
        for k, i in enumerate(g):
            angle = 2 * math.pi * k / len(g) - math.pi / 2
            out[i] = (cx + FAN_RADIUS * math.cos(angle), cy + FAN_RADIUS * math.sin(angle))
    return out


@dataclass(frozen=True)
class PlanText:
    """The words of the drawing, in the page's language."""

    title: str
    description: str
    north: str  # the letter of the north arrow ("N")
    scale: str  # the scale bar's accessible name ("échelle")


def plan_svg(p: CameraPlan, text: PlanText) -> Markup:
    """Inline SVG of ``p`` (no ``xmlns`` needed inline, no URL at all: nothing to load)."""
    w, h = p.width, p.height
    out = [
        f'<svg class="camera-map" viewBox="0 0 {w:g} {h:g}" role="img" '
        f'aria-labelledby="cmap-title cmap-desc">',
        f'<title id="cmap-title">{escape(text.title)}</title>',
        f'<desc id="cmap-desc">{escape(text.description)}</desc>',
        f'<rect class="cm-bg" x="0" y="0" width="{w:g}" height="{h:g}"></rect>',
    ]
    if len(p.path) > 1:
        pts = " ".join(f"{x:g},{y:g}" for x, y in p.path)
        out.append(f'<polyline class="cm-path" points="{pts}"></polyline>')
    for m in p.markers:
        out.append(_marker(m, w))
    # North arrow, top right.
    nx, ny = w - 28, 14
    out.append(
        f'<g class="cm-north"><path d="M{nx:g},{ny + 26:g} L{nx:g},{ny + 6:g} '
        f'M{nx - 5:g},{ny + 12:g} L{nx:g},{ny + 4:g} L{nx + 5:g},{ny + 12:g}"></path>'
        f'<text x="{nx:g}" y="{ny + 40:g}" text-anchor="middle">'
        f"{escape(text.north)}</text></g>"
    )
    if p.scale is not None:
        x0, y0, length = 16.0, h - 18, p.scale.length
        out.append(
            f'<g class="cm-scale" aria-label="{escape(text.scale)} {p.scale.label}">'
            f'<path d="M{x0:g},{y0 - 6:g} V{y0:g} H{x0 + length:g} V{y0 - 6:g}">'
            f'</path><text x="{x0 + length / 2:g}" y="{y0 - 9:g}" '
            f'text-anchor="middle">{escape(p.scale.label)}</text></g>'
        )
    out.append("</svg>")
    return Markup("".join(out))


def fit_label(name: str, room: float) -> str:
    """``name`` cut to the characters that fit in ``room`` SVG units (at :data:`LABEL_CHAR`
    units a character, a generous average for the 17 px label font), ending with "…" when
    cut; at least one character and the ellipsis."""
    fits = max(2, int(room // LABEL_CHAR))
    return name if len(name) <= fits else name[: fits - 1].rstrip() + "…"


def _marker(m: Marker, width: float) -> str:
    # Label and badges right of the marker, or left of it past 60 % of the width (they stay
    # inside the plan); badges always read left to right in time order, above the label.
    right = m.x <= width * 0.6
    lx = m.x + 11 if right else m.x - 11
    anchor = "start" if right else "end"
    # A name longer than the room left to the plan's edge is cut with "…" (it was clipped
    # mid-word by the SVG's edge); the whole name stays in the label's <title> (tooltip,
    # screen readers).
    room = (width - lx if right else lx) - LABEL_PAD
    label = fit_label(m.name, room)
    whole = f"<title>{escape(m.name)}</title>" if label != m.name else ""
    body = [
        f'<circle class="cm-cam" cx="{m.x:g}" cy="{m.y:g}" r="7"></circle>',
        f'<text class="cm-label" x="{lx:g}" y="{m.y + 5:g}" text-anchor="{anchor}">'
        f"{whole}{escape(label)}</text>",
    ]
    shown = m.numbers[:MAX_BADGES]
    more = len(m.numbers) - len(shown)
    step, first = BADGE_STEP, m.x + 13
    if not right:
        first = m.x - 13 - step * (len(shown) - 1) - (step if more else 0)
    by = m.y - 19
    for k, n in enumerate(shown):
        bx = first + step * k
        body.append(
            f'<circle class="cm-badge" cx="{bx:g}" cy="{by:g}" r="10"></circle>'
            f'<text class="cm-badge-n" x="{bx:g}" y="{by + 4.5:g}" '
            f'text-anchor="middle">{n}</text>'
        )
    if more:
        bx = first + step * len(shown) - 8
        body.append(f'<text class="cm-badge-more" x="{bx:g}" y="{by + 5:g}">+{more}</text>')
    return f'<g class="cm-marker" data-camera="{escape(m.camera_id)}">{"".join(body)}</g>'


@dataclass(frozen=True)
class MapView:
    """What a page shows: the SVG (None when no camera has a position) and the cameras
    listed beside it as of unknown position."""

    svg: Markup | None
    unknown: tuple[Camera, ...]


def map_view(cameras: Sequence[Camera], sightings: Sequence[str], t: Callable[..., str]) -> MapView:
    """The plan of ``cameras`` (``sightings``: as for :func:`plan`) drawn with the words of
    ``t`` (the page's translator: ``map.*`` keys of ``i18n_chrono.py``)."""
    p = plan(cameras, sightings)
    if not p.markers:
        return MapView(None, p.unknown)
    desc = (
        t("map.desc_sightings", cameras=len(p.markers), sightings=len(p.path))
        if p.path
        else t("map.desc", cameras=len(p.markers))
    )
    text = PlanText(
        title=t("map.title"), description=desc, north=t("map.north"), scale=t("map.scale")
    )
    return MapView(plan_svg(p, text), p.unknown)


__all__ = [
    "CameraPlan",
    "MapView",
    "Marker",
    "PlanText",
    "ScaleBar",
    "fit_label",
    "has_position",
    "map_view",
    "plan",
    "plan_svg",
    "project",
]
