"""The full-frame view in Chromium: opened from a result card's "Image entière" button, the
whole frame at its stored size with the box on the object, zoomed with the button and the
keyboard (the box stays on the object), panned by dragging, and reset. Screenshots:
``test-artifacts/full-frame-fit.png`` (the frame fitted, its box) and
``full-frame-zoomed.png`` (zoomed in on the car with the wheel, its box on it).

The server and its 320×240 clip with a red "car" come from ``conftest.py``.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from .conftest import ARTIFACTS

#: The image's and the box's rendered rectangles (relative to the view), the natural size,
#: the zoom level shown, and the colour of the picture under the box's centre (drawn to a
#: canvas at full size).
MEASURE = """() => {
  const view = document.getElementById('frame-view');
  const img = view.querySelector('img'), rect = view.querySelector('svg.box rect');
  const i = img.getBoundingClientRect(), r = rect.getBoundingClientRect();
  const v = view.getBoundingClientRect();
  const c = document.createElement('canvas');
  c.width = img.naturalWidth; c.height = img.naturalHeight;
  const g = c.getContext('2d'); g.drawImage(img, 0, 0);
  const bx = +rect.getAttribute('x'), by = +rect.getAttribute('y');
  const bw = +rect.getAttribute('width'), bh = +rect.getAttribute('height');
  const px = g.getImageData(Math.round(bx + bw / 2), Math.round(by + bh / 2), 1, 1).data;
  // The picture and the box relative to the view (the page may scroll between two).
  return {natural: [img.naturalWidth, img.naturalHeight],
          img: [i.left - v.left, i.top - v.top, i.width, i.height],
          rect: [r.left - v.left, r.top - v.top, r.width, r.height],
          view: [v.left, v.top, v.width, v.height],
          box: [bx, by, bw, bh], centre: [px[0], px[1], px[2]],
          scale: +view.dataset.scale, level: document.getElementById('zoom-level').textContent};
}"""


def _box_on_object(m: dict[str, Any]) -> None:
    """The drawn box is the stored box scaled as the picture is (±1 px)."""
    k = m["img"][2] / m["natural"][0]
    assert abs(m["img"][3] / m["natural"][1] - k) < 1e-3, m  # aspect ratio kept
    want = (
        m["img"][0] + m["box"][0] * k,
        m["img"][1] + m["box"][1] * k,
        m["box"][2] * k,
        m["box"][3] * k,
    )
    for got, exp in zip(m["rect"], want, strict=True):
        assert abs(got - exp) <= 1.0, (m, want)


def _open_from_card(operator_page: Any) -> None:
    operator_page.goto("/search?object=car")
    card = operator_page.locator("ol.grid li.hit").first
    button = card.get_by_role("link", name=re.compile("Image entière"))
    button.click()
    operator_page.wait_for_url(re.compile(r"/frame/\d+\?"))
    operator_page.wait_for_function(
        "() => { const i = document.querySelector('#frame-view img');"
        " return i && i.complete && i.naturalWidth > 0; }"
    )


def test_open_zoom_pan_and_reset(operator_page: Any) -> None:
    _open_from_card(operator_page)
    fit = operator_page.evaluate(MEASURE)
    assert fit["natural"] == [320, 240], fit  # the stored frame, not a crop or a thumbnail
    assert fit["scale"] == 1 and fit["level"] == "100 %"
    # Fitted whole: as high as the view (75 % of the window), centred across its width.
    x, y, w, h = fit["img"]
    assert y == pytest.approx(0, abs=0.5) and h == pytest.approx(fit["view"][3], abs=1.0)
    assert x == pytest.approx((fit["view"][2] - w) / 2, abs=0.5) and x >= 0, fit
    assert fit["view"][3] <= 900 * 0.75 + 1
    _box_on_object(fit)
    red, green, blue = fit["centre"]
    assert red > 150 and green < 90 and blue < 90, fit  # the red car under the box
    ARTIFACTS.mkdir(exist_ok=True)
    operator_page.screenshot(path=str(ARTIFACTS / "full-frame-fit.png"), full_page=True)

    # The button zooms about the view's centre.
    operator_page.get_by_role("button", name=re.compile("Zoom avant")).click()
    once = operator_page.evaluate(MEASURE)
    assert once["scale"] == pytest.approx(1.5) and once["level"] == "150 %"
    assert once["img"][2] == pytest.approx(fit["img"][2] * 1.5, abs=0.5)
    _box_on_object(once)

    # The keyboard: "+" with the focus on the picture, then anywhere on the page.
    operator_page.focus("#frame-view")
    operator_page.keyboard.press("+")
    twice = operator_page.evaluate(MEASURE)
    assert twice["scale"] == pytest.approx(2.25) and twice["level"] == "225 %"
    _box_on_object(twice)
    # Arrow keys pan the zoomed picture (left arrow: the picture moves right).
    operator_page.keyboard.press("ArrowLeft")
    panned = operator_page.evaluate(MEASURE)
    assert panned["img"][0] > twice["img"][0], (twice, panned)
    _box_on_object(panned)

    # A drag pans too; the picture never leaves the view.
    v = panned["view"]
    operator_page.mouse.move(v[0] + v[2] / 2, v[1] + v[3] / 2)
    operator_page.mouse.down()
    operator_page.mouse.move(v[0] + v[2] / 2 - 80, v[1] + v[3] / 2 - 40, steps=4)
    operator_page.mouse.up()
    dragged = operator_page.evaluate(MEASURE)
    assert dragged["img"][0] < panned["img"][0], (panned, dragged)
    assert dragged["img"][0] <= 0.5 and dragged["img"][0] + dragged["img"][2] >= v[2] - 0.5, dragged
    _box_on_object(dragged)

    # "-" zooms out, "0" fits again.
    operator_page.keyboard.press("-")
    assert operator_page.evaluate(MEASURE)["scale"] == pytest.approx(1.5)
    operator_page.keyboard.press("0")
    back = operator_page.evaluate(MEASURE)
    assert back["scale"] == 1 and back["img"] == pytest.approx(fit["img"], abs=0.5)
    _box_on_object(back)


def test_the_wheel_zooms_at_the_cursor(operator_page: Any) -> None:
    _open_from_card(operator_page)
    fit = operator_page.evaluate(MEASURE)
    # A point a little right of the picture's centre (the zoomed picture can keep it under
    # the cursor without showing past its edges): the same picture point stays under it.
    x, y, w, h = fit["img"]
    u, v = 0.55, 0.5
    cx, cy = x + u * w, y + v * h
    operator_page.mouse.move(fit["view"][0] + cx, fit["view"][1] + cy)
    operator_page.mouse.wheel(0, -100)
    operator_page.wait_for_function(
        "() => +document.getElementById('frame-view').dataset.scale > 1"
    )
    z = operator_page.evaluate(MEASURE)
    assert z["scale"] == pytest.approx(1.5)
    zx, zy, zw, zh = z["img"]
    assert (cx - zx) / zw == pytest.approx(u, abs=0.002), (fit, z)
    assert (cy - zy) / zh == pytest.approx(v, abs=0.002), (fit, z)
    _box_on_object(z)
    # Wheel down zooms back out to the fit, never below it.
    operator_page.mouse.wheel(0, 100)
    operator_page.mouse.wheel(0, 100)
    operator_page.wait_for_function(
        "() => +document.getElementById('frame-view').dataset.scale === 1"
    )
    assert operator_page.evaluate(MEASURE)["img"] == pytest.approx(fit["img"], abs=0.5)
    # Three steps in over the car (3.4×), the cursor kept on it as an operator would (near
    # the picture's edge the zoom cannot keep it under the cursor).
    for _ in range(3):
        m = operator_page.evaluate(MEASURE)
        bx, by, bw, bh = m["rect"]
        operator_page.mouse.move(m["view"][0] + bx + bw / 2, m["view"][1] + by + bh / 2)
        operator_page.mouse.wheel(0, -100)
        operator_page.wait_for_function(
            "s => +document.getElementById('frame-view').dataset.scale > s", arg=m["scale"]
        )
    assert operator_page.evaluate(MEASURE)["scale"] == pytest.approx(1.5**3)
    # Anchored at the cursor, the 3.4× box now starts left of the view: two arrow presses
    # bring it in (each pans 60 px).
    operator_page.focus("#frame-view")
    operator_page.keyboard.press("ArrowLeft")
    operator_page.keyboard.press("ArrowLeft")
    close = operator_page.evaluate(MEASURE)
    _box_on_object(close)
    r = close["rect"]
    assert (
        r[0] >= 0
        and r[1] >= 0
        and r[0] + r[2] <= close["view"][2]
        and r[1] + r[3] <= close["view"][3]
    ), close
    ARTIFACTS.mkdir(exist_ok=True)
    operator_page.screenshot(path=str(ARTIFACTS / "full-frame-zoomed.png"), full_page=True)


def test_back_to_the_sequence_keeps_the_search(operator_page: Any) -> None:
    _open_from_card(operator_page)
    operator_page.get_by_role("link", name="Retour à la séquence").click()
    operator_page.wait_for_url(re.compile(r"/track/\d+\?.*object=car"))
    # And the thumbnail link of a card still opens the sequence, as before.
    operator_page.goto("/search?object=car")
    operator_page.locator("ol.grid li.hit a.thumb").first.click()
    operator_page.wait_for_url(re.compile(r"/track/\d+\?"))
    assert operator_page.locator("p.full-frame a").count() == 1
