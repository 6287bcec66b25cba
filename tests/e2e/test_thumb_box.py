"""The box over a result thumbnail, measured in Chromium: it must lie on the object (±1 px),
not be stretched over the letterbox bars of the 4:3 card. The shared clip's car is a wide
crop; a second clip on the same camera (inside the case's hour) adds a tall "person"."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from clips import BLUE, Moving, make_clip

from .conftest import ARTIFACTS, CAMERA, LiveServer, logged_in_context

#: A tall blue shape (the fake detector calls it a person) 5..8 s of a 10 s clip.
TALL = Moving(BLUE, (24, 90), (40, 60), (200, 60), 5.0, 8.0)

#: What the page gives: the card, the image's content box (object-fit: contain, from its
#: natural size), the crop (viewBox) and the overlay rectangle's rendered box.
MEASURE = """() => {
  const a = document.querySelector('li.hit a.thumb');
  const img = a.querySelector('img'), svg = a.querySelector('svg.box');
  const rect = svg.querySelector('rect');
  const c = a.getBoundingClientRect(), r = rect.getBoundingClientRect();
  const vb = svg.viewBox.baseVal;
  const s = Math.min(c.width / img.naturalWidth, c.height / img.naturalHeight);
  const iw = img.naturalWidth * s, ih = img.naturalHeight * s;
  return {cw: c.width, ch: c.height, img: [(c.width - iw) / 2, (c.height - ih) / 2, iw, ih],
          crop: [vb.width, vb.height],
          box: [+rect.getAttribute('x'), +rect.getAttribute('y'),
                +rect.getAttribute('width'), +rect.getAttribute('height')],
          drawn: [r.left - c.left, r.top - c.top, r.width, r.height]};
}"""


@pytest.fixture(scope="module")
def with_tall(live_server: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> LiveServer:
    """The live server with a second, analysed clip holding a tall object."""
    services = live_server.services
    clip = make_clip(Path(tmp_path_factory.mktemp("tall")) / "tall.mp4", seconds=10.0, fps=10,
                     objects=[TALL])
    assert services.catalogue.ingest(str(clip.path), CAMERA.id,
                                     "2026-01-04T10:20:00+01:00").added
    services.analyser.analyse()
    return live_server


@pytest.mark.parametrize(("query", "shape"), [("car", "wide"), ("person", "tall")])
def test_thumbnail_box_lies_on_the_object(browser: Any, with_tall: LiveServer, query: str,
                                          shape: str) -> None:
    context = logged_in_context(browser, with_tall, with_tall.operator)
    page = context.new_page()
    try:
        page.goto(f"/search?object={query}")
        page.wait_for_function(
            "() => { const i = document.querySelector('li.hit img');"
            " return i && i.complete && i.naturalWidth > 0; }")
        m = page.evaluate(MEASURE)
        cw, ch = m["crop"]
        # Wide: bars above and below in the 4:3 card; tall: left and right.
        assert (cw > ch) if shape == "wide" else (ch > cw), m
        scale = min(m["cw"] / cw, m["ch"] / ch)
        left, top = (m["cw"] - cw * scale) / 2, (m["ch"] - ch * scale) / 2
        # The image's content box is the crop fitted in the card (the JPEG is the crop).
        for got, want in zip(m["img"], (left, top, cw * scale, ch * scale), strict=True):
            assert abs(got - want) <= 1.0, m
        # And the drawn box is where the object lies in that image.
        x, y, w, h = m["box"]
        want_box = (left + x * scale, top + y * scale, w * scale, h * scale)
        for got, want in zip(m["drawn"], want_box, strict=True):
            assert abs(got - want) <= 1.0, (m, want_box)
        ARTIFACTS.mkdir(exist_ok=True)
        page.locator("li.hit").first.screenshot(path=str(ARTIFACTS / f"thumb-box-{shape}.png"))
    finally:
        context.close()
