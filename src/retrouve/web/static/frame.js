// Full-frame view (frame.html): zoom and pan the stage (the picture and its box overlay,
// one element, so the box stays on the object at every zoom). The stage is laid out fitted
// to the view's width (scale 1 = "fit"); zooming applies a CSS transform
// translate(x, y) scale(s) with its origin at the top left, clamped so the picture never
// leaves the view. Wheel and the zoom buttons zoom about a point (the cursor, the view's
// centre); dragging and the arrow keys pan; "+" / "=" / "-" / "0" work anywhere on the page
// (not while typing in a field, nor with Alt/Ctrl/⌘, which belong to the browser).
(function () {
  "use strict";
  var view = document.getElementById("frame-view");
  var stage = document.getElementById("frame-stage");
  var level = document.getElementById("zoom-level");
  var outline = stage.querySelector("svg.box rect");
  if (!view || !stage) { return; }
  var MIN = 1, MAX = 16, STEP = 1.5, PAN = 60;  // scales, factor per step, pixels per key
  var FIT_HEIGHT = 0.75;  // share of the window's height the fitted picture may take
  var W = parseFloat(view.getAttribute("data-width")) || 0;
  var H = parseFloat(view.getAttribute("data-height")) || 0;
  var s = 1, x = 0, y = 0;

  // Scale 1 is the whole picture fitted in the view's width and FIT_HEIGHT of the window:
  // the stage (and so the view, which wraps it) gets that size; CSS alone shows it at the
  // view's width.
  function fit() {
    if (!W || !H) { return; }
    var k = Math.min(view.clientWidth / W, window.innerHeight * FIT_HEIGHT / H);
    stage.style.width = Math.max(1, Math.floor(W * k)) + "px";
    view.style.height = Math.max(1, Math.floor(H * k)) + "px";
  }

  function clamp() {
    // The stage's untransformed size is the fitted picture's.
    var w = stage.offsetWidth * s, h = stage.offsetHeight * s;
    var vw = view.clientWidth, vh = view.clientHeight;
    x = w <= vw ? (vw - w) / 2 : Math.min(0, Math.max(vw - w, x));
    y = h <= vh ? (vh - h) / 2 : Math.min(0, Math.max(vh - h, y));
  }

  function apply() {
    clamp();
    stage.style.transform = "translate(" + x + "px, " + y + "px) scale(" + s + ")";
    // The outline stays 2 px on screen (non-scaling-stroke ignores the CSS scale), so at
    // any zoom it hides no more of the object's edge than at the fit.
    if (outline) { outline.style.strokeWidth = (2 / s) + "px"; }
    view.setAttribute("data-scale", String(s));
    view.classList.toggle("zoomed", s > 1);
    // The page's own wording of a percentage ("150 %" in French, "150%" in English).
    if (level) {
      level.textContent = (level.dataset.format || "{n} %").replace("{n}", String(Math.round(s * 100)));
    }
  }

  // Zoom to scale ``to`` keeping the view point (px, py) over the same picture point.
  function zoomTo(to, px, py) {
    to = Math.min(MAX, Math.max(MIN, to));
    if (px === undefined) { px = view.clientWidth / 2; py = view.clientHeight / 2; }
    x = px - (px - x) * (to / s);
    y = py - (py - y) * (to / s);
    s = to;
    apply();
  }

  function reset() { s = 1; x = 0; y = 0; apply(); }
  function pan(dx, dy) { x += dx; y += dy; apply(); }

  Array.prototype.forEach.call(document.querySelectorAll("[data-zoom]"), function (b) {
    b.addEventListener("click", function () {
      var what = b.getAttribute("data-zoom");
      if (what === "in") { zoomTo(s * STEP); }
      else if (what === "out") { zoomTo(s / STEP); }
      else { reset(); }
    });
  });

  view.addEventListener("wheel", function (e) {
    e.preventDefault();  // the page does not scroll while the picture zooms
    var r = view.getBoundingClientRect();
    zoomTo(s * (e.deltaY < 0 ? STEP : 1 / STEP), e.clientX - r.left, e.clientY - r.top);
  }, { passive: false });

  var drag = null;
  view.addEventListener("pointerdown", function (e) {
    if (e.button !== 0) { return; }
    drag = { id: e.pointerId, x: e.clientX, y: e.clientY };
    view.setPointerCapture(e.pointerId);
    view.classList.add("dragging");
  });
  view.addEventListener("pointermove", function (e) {
    if (!drag || e.pointerId !== drag.id) { return; }
    pan(e.clientX - drag.x, e.clientY - drag.y);
    drag.x = e.clientX; drag.y = e.clientY;
  });
  function endDrag(e) {
    if (!drag || e.pointerId !== drag.id) { return; }
    drag = null;
    view.classList.remove("dragging");
  }
  view.addEventListener("pointerup", endDrag);
  view.addEventListener("pointercancel", endDrag);

  function typing(el) {
    return !!el && (el.tagName === "INPUT" || el.tagName === "TEXTAREA" ||
      el.tagName === "SELECT" || el.isContentEditable);
  }

  document.addEventListener("keydown", function (e) {
    if (e.defaultPrevented || e.altKey || e.ctrlKey || e.metaKey || typing(e.target)) { return; }
    var onView = e.target === view;
    var done = true;
    switch (e.key) {
      case "+": case "=": zoomTo(s * STEP); break;
      case "-": case "_": zoomTo(s / STEP); break;
      case "0": reset(); break;
      // Arrows pan only with the focus on the picture (elsewhere they scroll the page).
      case "ArrowLeft": if (onView) { pan(PAN, 0); } else { done = false; } break;
      case "ArrowRight": if (onView) { pan(-PAN, 0); } else { done = false; } break;
      case "ArrowUp": if (onView) { pan(0, PAN); } else { done = false; } break;
      case "ArrowDown": if (onView) { pan(0, -PAN); } else { done = false; } break;
      default: done = false;
    }
    if (done) { e.preventDefault(); }
  });

  window.addEventListener("resize", function () { fit(); apply(); });
  fit();
  apply();
})();
