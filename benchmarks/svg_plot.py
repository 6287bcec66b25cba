"""A small self-contained SVG line plot, for benchmark figures without matplotlib.

Usage: python benchmarks/svg_plot.py OUT.svg CSV [CSV...]

Reads ``search_scale.csv`` files (columns ``tracks``, ``backend``, ``query``, ``p95_ms``)
and draws p95 latency (ms) against the number of tracks, both axes logarithmic, one line per
query kind, solid for SQLite and dashed for PostgreSQL (by the first word of ``backend``, so
runs of different dates can be told apart as ``sqlite 2026-12-02``; other backends dotted).
A label's parenthesised tail (``sqlite 2026-12-03 (load 1.2-3.4)``: each size's load
average) does not split a run's line.
No dependency beyond the standard library: matplotlib is not one of the project's
(``bench_search_scale.py`` uses it when it is installed and falls back to this).
"""

from __future__ import annotations

import csv
import math
import sys
from collections import defaultdict
from pathlib import Path
from xml.sax.saxutils import escape

W, H = 800, 460
LEFT, RIGHT, TOP, BOTTOM = 70, 230, 30, 50
PALETTE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)
DASH = {"sqlite": "", "postgresql": "6,4"}


def _dash(backend: str) -> str:
    """The line style of a backend label (its first word: ``sqlite 2026-12-02`` is SQLite's);
    other labels dotted."""
    return DASH.get(backend.split()[0], "2,2")


def _decades(lo: float, hi: float) -> list[float]:
    """Powers of ten (and their 2 and 5 multiples) spanning ``[lo, hi]``."""
    out = []
    for e in range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1):
        for m in (1, 2, 5):
            v = m * 10.0**e
            if lo <= v <= hi:
                out.append(v)
    return out


def _label(v: float) -> str:
    if v >= 1e6:
        return f"{v / 1e6:g} M"
    if v >= 1e3:
        return f"{v / 1e3:g} k"
    return f"{v:g}"


def render(rows: list[dict[str, str]], title: str) -> str:
    """The SVG text of the plot of ``rows`` (dicts with tracks, backend, query, p95_ms)."""
    series: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
    for r in rows:
        # One line per run: the label without its per-size load average, "(load …)".
        run = r["backend"].split(" (")[0]
        series[(r["query"], run)].append((float(r["tracks"]), float(r["p95_ms"])))
    xs = [x for pts in series.values() for x, _ in pts]
    ys = [max(y, 0.1) for pts in series.values() for _, y in pts]
    x0, x1 = math.log10(min(xs) / 1.3), math.log10(max(xs) * 1.3)
    y0, y1 = math.log10(min(ys) / 1.5), math.log10(max(ys) * 1.5)
    pw, ph = W - LEFT - RIGHT, H - TOP - BOTTOM

    def px(x: float) -> float:
        return LEFT + (math.log10(x) - x0) / (x1 - x0) * pw

    def py(y: float) -> float:
        return TOP + ph - (math.log10(max(y, 0.1)) - y0) / (y1 - y0) * ph

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
        f'font-family="sans-serif" font-size="11">',
        f'<rect width="{W}" height="{H}" fill="white"/>',
        f'<text x="{LEFT}" y="18" font-size="13">{escape(title)}</text>',
        f'<rect x="{LEFT}" y="{TOP}" width="{pw}" height="{ph}" fill="none" stroke="#333"/>',
    ]
    for v in _decades(10**x0, 10**x1):
        out.append(
            f'<line x1="{px(v):.1f}" y1="{TOP}" x2="{px(v):.1f}" y2="{TOP + ph}" '
            f'stroke="#ddd"/><text x="{px(v):.1f}" y="{TOP + ph + 15}" '
            f'text-anchor="middle">{_label(v)}</text>'
        )
    for v in _decades(10**y0, 10**y1):
        out.append(
            f'<line x1="{LEFT}" y1="{py(v):.1f}" x2="{LEFT + pw}" y2="{py(v):.1f}" '
            f'stroke="#ddd"/><text x="{LEFT - 5}" y="{py(v) + 4:.1f}" '
            f'text-anchor="end">{_label(v)}</text>'
        )
    out.append(
        f'<text x="{LEFT + pw / 2}" y="{H - 12}" text-anchor="middle">'
        "tracks in the index (log)</text>"
    )
    out.append(
        f'<text x="16" y="{TOP + ph / 2}" text-anchor="middle" '
        f'transform="rotate(-90 16 {TOP + ph / 2})">p95 latency, ms (log)</text>'
    )
    queries = list(dict.fromkeys(q for q, _ in series))
    for (query, backend), pts in sorted(series.items()):
        colour = PALETTE[queries.index(query) % len(PALETTE)]
        pts.sort()
        path = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in pts)
        dash = _dash(backend)
        out.append(
            f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"'
            + (f' stroke-dasharray="{dash}"' if dash else "")
            + "/>"
        )
        out += [
            f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3" fill="{colour}"/>' for x, y in pts
        ]
    ly = TOP + 5
    for i, query in enumerate(queries):
        colour = PALETTE[i % len(PALETTE)]
        out.append(
            f'<line x1="{W - RIGHT + 12}" y1="{ly + 4}" x2="{W - RIGHT + 36}" '
            f'y2="{ly + 4}" stroke="{colour}" stroke-width="2"/><text '
            f'x="{W - RIGHT + 42}" y="{ly + 8}">{escape(query)}</text>'
        )
        ly += 17
    for backend in sorted({b for _, b in series}):
        dash = _dash(backend)
        ly += 6
        out.append(
            f'<line x1="{W - RIGHT + 12}" y1="{ly + 4}" x2="{W - RIGHT + 36}" '
            f'y2="{ly + 4}" stroke="#333" stroke-width="2"'
            + (f' stroke-dasharray="{dash}"' if dash else "")
            + f'/><text x="{W - RIGHT + 42}" y="{ly + 8}">{backend}</text>'
        )
        ly += 11
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    rows: list[dict[str, str]] = []
    for name in argv[1:]:
        with Path(name).open(newline="") as f:
            rows += list(csv.DictReader(f))
    Path(argv[0]).write_text(render(rows, "Search p95 latency against index size"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
