// Sequence view: start the video a few seconds before the sighting and draw the track's box
// over it. Observations are [t, x0, y0, x1, y1, conf] in recording seconds and pixels of the
// original frame; video time + data.origin = recording time.
(function () {
  "use strict";
  var video = document.getElementById("player");
  var box = document.getElementById("track-box");
  var holder = document.getElementById("track-data");
  if (!video || !box || !holder) { return; }
  var data = JSON.parse(holder.textContent);
  var obs = data.observations || [];
  // Beyond this gap (s) between analysed frames the object is not interpolated (it left).
  var MAX_GAP = 2.0;
  var start = Math.max(0, data.t_start - 3 - data.origin);

  video.addEventListener("loadedmetadata", function () {
    // The #t= fragment already does this in most browsers; this covers the others.
    if (video.currentTime < 0.01 && start > 0) { video.currentTime = start; }
    place();
  });

  function at(t) {
    if (!obs.length || t < obs[0][0] - 0.5 || t > obs[obs.length - 1][0] + 0.5) { return null; }
    var lo = 0, hi = obs.length - 1;
    while (hi - lo > 1) {
      var mid = (lo + hi) >> 1;
      if (obs[mid][0] <= t) { lo = mid; } else { hi = mid; }
    }
    var a = obs[lo], b = obs[hi];
    if (t <= a[0] || a === b) { return a.slice(1, 5); }
    if (t >= b[0]) { return b.slice(1, 5); }
    if (b[0] - a[0] > MAX_GAP) { return null; }
    var k = (t - a[0]) / (b[0] - a[0]);
    return [1, 2, 3, 4].map(function (i) { return a[i] + k * (b[i] - a[i]); });
  }

  function place() {
    var r = at(video.currentTime + data.origin);
    var vw = video.videoWidth || data.width, vh = video.videoHeight || data.height;
    if (!r || !vw || !vh || !data.width) { box.hidden = true; return; }
    // The picture is letterboxed inside the element (object-fit: contain).
    var cw = video.clientWidth, ch = video.clientHeight;
    var s = Math.min(cw / vw, ch / vh);
    var ox = (cw - vw * s) / 2, oy = (ch - vh * s) / 2;
    var k = s * vw / data.width;  // the clip may be scaled from the original frame
    box.style.left = (ox + r[0] * k) + "px";
    box.style.top = (oy + r[1] * k) + "px";
    box.style.width = ((r[2] - r[0]) * k) + "px";
    box.style.height = ((r[3] - r[1]) * k) + "px";
    box.hidden = false;
  }

  function loop() {
    place();
    if (!video.paused && !video.ended) { window.requestAnimationFrame(loop); }
  }
  video.addEventListener("play", loop);
  video.addEventListener("seeked", place);
  video.addEventListener("timeupdate", place);
  window.addEventListener("resize", place);
})();
