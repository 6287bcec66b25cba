"""Footage as NVRs export it, made from the synthetic clips of ``clips.py``: stream-copy
remuxes (MPEG-TS with a shifted clock, MP4 with its index first), byte-for-byte concatenated
segments, H.265, display-matrix rotation, and a PNG decompression bomb.

Times: ``shift_s`` is the first packet's presentation time in seconds (the FFmpeg CLI starts
MPEG-TS clocks at 1.4 s). Nothing here decodes; every helper returns the path it wrote.
"""

from __future__ import annotations

import struct
import zlib
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from clips import RED, Moving, render


def remux(src: Path, dst: Path, options: dict[str, str] | None = None) -> Path:
    """Stream-copy ``src``'s video into ``dst`` (container from its suffix) with muxer
    ``options``, e.g. ``{"movflags": "+faststart"}`` for an MP4 whose index comes first."""
    with av.open(str(src)) as inp, av.open(str(dst), "w", options=options or {}) as out:
        vs = inp.streams.video[0]
        ost = out.add_stream_from_template(vs)
        for pkt in inp.demux(vs):
            if pkt.size == 0 or pkt.dts is None:
                continue
            pkt.stream = ost
            out.mux(pkt)
    return dst


def to_ts(src: Path, dst: Path, shift_s: float = 1.4) -> Path:
    """Stream-copy ``src``'s video into MPEG-TS, the clock starting at ``shift_s``."""
    with av.open(str(src)) as inp, av.open(str(dst), "w", format="mpegts") as out:
        vs = inp.streams.video[0]
        ost = out.add_stream_from_template(vs)
        for pkt in inp.demux(vs):
            if pkt.size == 0 or pkt.pts is None or pkt.dts is None:
                continue
            shift = int(shift_s / pkt.time_base) if pkt.time_base is not None else 0
            pkt.pts += shift
            pkt.dts += shift
            pkt.stream = ost
            out.mux(pkt)
    return dst


def concat(parts: list[Path], dst: Path) -> Path:
    """Byte-for-byte concatenation (an NVR export of several segments)."""
    dst.write_bytes(b"".join(p.read_bytes() for p in parts))
    return dst


def x265_clip(path: Path, seconds: float = 3.0, fps: int = 25) -> Path:

    objs = (Moving(RED, (40, 40), (10, 100), (260, 100), 0.0, seconds),)
    with av.open(str(path), "w") as c:
        st = c.add_stream("libx265", rate=fps)
        assert isinstance(st, av.VideoStream)
        st.width, st.height, st.pix_fmt = 320, 240, "yuv420p"
        st.options = {"preset": "ultrafast", "x265-params": "keyint=25:bframes=0:log-level=0"}
        for i in range(round(seconds * fps)):
            fr = av.VideoFrame.from_ndarray(render((320, 240), objs, i / fps), format="rgb24")
            fr.pts, fr.time_base = i, Fraction(1, fps)
            for p in st.encode(fr):
                c.mux(p)
        for p in st.encode():
            c.mux(p)
    return path


def rotated_clip(path: Path, degrees: int, seconds: float = 2.0, fps: int = 10) -> Path:
    """A 320×240 clip whose display matrix turns it ``degrees`` counter-clockwise; a red
    block marks the top-left corner of the coded picture."""
    with av.open(str(path), "w") as c:
        st = c.add_stream("libx264", rate=fps)
        assert isinstance(st, av.VideoStream)
        st.width, st.height, st.pix_fmt = 320, 240, "yuv420p"
        st.options = {"preset": "ultrafast", "crf": "16", "g": str(fps), "bf": "0"}
        st.set_display_rotation(degrees)
        img = np.full((240, 320, 3), 128, np.uint8)
        img[:40, :60] = (220, 20, 20)
        for i in range(round(seconds * fps)):
            fr = av.VideoFrame.from_ndarray(img, format="rgb24")
            fr.pts, fr.time_base = i, Fraction(1, fps)
            for p in st.encode(fr):
                c.mux(p)
        for p in st.encode():
            c.mux(p)
    return path


def png_header_only(path: Path, width: int, height: int) -> Path:
    """A valid PNG of ``width``×``height`` grey pixels, compressed (a decompression bomb:
    16000² is ~250 KB on disk, 768 MB decoded)."""
    row = b"\x00" + b"\x80" * width
    comp = zlib.compressobj(9)
    data = b"".join(comp.compress(row) for _ in range(height)) + comp.flush()

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body))
            + kind
            + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )
    return path
