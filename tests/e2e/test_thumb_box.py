"""The box over a result thumbnail, measured in Chromium: it must lie on the object (±1 px),
not be stretched over the letterbox bars of the 4:3 card. The clip's car is a wide crop."""

from __future__ import annotations

from typing import Any

from .conftest import ARTIFACTS, LiveServer, logged_in_context

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


def test_thumbnail_box_lies_on_the_object(browser: Any, live_server: LiveServer) -> None:
    context = logged_in_context(browser, live_server, live_server.operator)
    page = context.new_page()
    try:
        page.goto("/search?object=car")
        page.wait_for_function(
            "() => { const i = document.querySelector('li.hit img');"
            " return i && i.complete && i.naturalWidth > 0; }")
        m = page.evaluate(MEASURE)
        cw, ch = m["crop"]
        assert cw > ch, m  # a wide crop: letterbox bars above and below in the 4:3 card
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
        page.locator("li.hit").first.screenshot(path=str(ARTIFACTS / "thumb-box-wide.png"))
    finally:
        context.close()
