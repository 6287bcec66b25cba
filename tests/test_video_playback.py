"""Playback media logic: browser-playability of originals, window streams."""

from __future__ import annotations

from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path

import av
import pytest

from clips import CODEC, RED, Moving, make_clip, make_still, render
from retrouve.domain import Recording
from retrouve.errors import MediaError
from retrouve.video import window as st
from retrouve.video.decode import sample_frames
from retrouve.video.playability import PlaybackPolicy, browser_playable
from retrouve.video.window import remux_or_transcode

needs_x264 = pytest.mark.skipif(CODEC != "libx264", reason="PyAV built without libx264")
OBJ = (Moving(RED, (40, 40), (0, 60), (260, 120), 0.0, 30.0),)


def encode(path: Path, codec: str, seconds: float = 6.0, fps: int = 10,
           options: dict[str, str] | None = None, pix_fmt: str = "yuv420p",
           fmt: str | None = None) -> Path:
    """A clip of ``codec`` in the container given by ``fmt`` or the suffix; frame i at i/fps."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w", format=fmt) as out:
        vs = out.add_stream(codec, rate=fps)
        assert isinstance(vs, av.VideoStream)
        vs.width, vs.height, vs.pix_fmt = 320, 240, pix_fmt
        vs.options = {"g": str(fps), **(options or {})}
        for i in range(round(seconds * fps)):
            frame = av.VideoFrame.from_ndarray(render((320, 240), OBJ, i / fps), format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, fps)
            out.mux(vs.encode(frame))
        out.mux(vs.encode(None))
    return path


def rec_of(path: Path, is_image: bool = False) -> Recording:
    return Recording(
        id="r1", camera_id="cam1", path=str(path), sha256="0" * 64, size_bytes=1,
        start=datetime(2026, 1, 4, 9, 0, tzinfo=UTC), duration_s=0.0 if is_image else 6.0,
        fps=10.0, width=320, height=240, codec="?", is_image=is_image,
    )


def decoded_times(data: bytes, tmp: Path, suffix: str) -> tuple[str, list[float]]:
    """Codec name and frame times (media seconds) of a streamed window, read back by PyAV."""
    out = tmp / f"window.{suffix}"
    out.write_bytes(data)
    with av.open(str(out)) as c:
        vs = c.streams.video[0]
        return vs.codec_context.name, [float(f.time) for f in c.decode(vs) if f.time is not None]


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Clips shared by the module (encoding them is most of the test time)."""
    d = tmp_path_factory.mktemp("media")
    make_clip(d / "long.mp4", seconds=30.0, fps=10, objects=OBJ, gop=20)
    encode(d / "mpeg4.avi", "mpeg4", options={"qscale": "3"})
    encode(d / "vp8.webm", "libvpx", options={"deadline": "realtime", "cpu-used": "8",
                                              "lag-in-frames": "0", "b": "300k"})
    make_still(d / "still.png")
    if CODEC == "libx264":
        x264 = {"preset": "ultrafast"}
        encode(d / "bframes.mp4", "libx264", options={"preset": "veryfast", "bf": "2"})
        encode(d / "h264.mkv", "libx264", options=x264)
        encode(d / "h264.ts", "libx264", options=x264, fmt="mpegts")
        encode(d / "raw.h264", "libx264", options=x264, fmt="h264")
        encode(d / "yuv444.mp4", "libx264", options=x264, pix_fmt="yuv444p")
    return d


# ------------------------------------------------------------------ playability
def test_browser_playable(media: Path) -> None:
    assert browser_playable(rec_of(media / "long.mp4")) is (CODEC == "libx264")
    assert browser_playable(rec_of(media / "vp8.webm"))
    assert not browser_playable(rec_of(media / "mpeg4.avi"))  # MPEG-4 part 2, AVI
    assert browser_playable(rec_of(media / "still.png", is_image=True))
    assert not browser_playable(rec_of(media / "still.tiff", is_image=True))
    assert not browser_playable(rec_of(media / "missing.mp4"))


@needs_x264
def test_browser_playable_checks_container_pixels_and_policy(media: Path) -> None:
    assert not browser_playable(rec_of(media / "h264.mkv"))  # Matroska is not WebM
    assert not browser_playable(rec_of(media / "yuv444.mp4"))  # 4:4:4 is not 4:2:0
    no_h264 = PlaybackPolicy(mp4_codecs=frozenset({"vp9"}), prefer="webm")
    assert not browser_playable(rec_of(media / "long.mp4"), no_h264)


# ---------------------------------------------------------------------- windows
@needs_x264
def test_remux_window_is_fragmented_rebased_and_small(
    media: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(st, "CHUNK_BYTES", 512)  # make the incremental yielding visible
    clip = remux_or_transcode(media / "long.mp4", 10.5, 16.5)
    assert (clip.mode, clip.target, clip.media_type) == ("remux", "mp4", "video/mp4")
    # Key frames every 2 s: the window starts at the one before 10.5 s.
    assert clip.offset_s == pytest.approx(10.0)
    chunks = list(clip)
    data = b"".join(chunks)
    assert len(chunks) > 2 and data[4:8] == b"ftyp" and b"moof" in data
    assert len(data) < (media / "long.mp4").stat().st_size / 3
    codec, times = decoded_times(data, tmp_path, "mp4")
    assert codec == "h264"
    assert times[0] == pytest.approx(0.0, abs=1e-6)
    assert clip.offset_s + times[-1] == pytest.approx(16.5, abs=0.11)


@needs_x264
@pytest.mark.parametrize("name", ["long.mp4", "bframes.mp4", "h264.mkv", "h264.ts"])
def test_window_file_is_a_plain_seekable_mp4_of_the_window(
    media: Path, tmp_path: Path, name: str
) -> None:
    """The range-served cut: a whole MP4 with its index (no fragments), the window alone from
    the key frame before it, the same bytes each time (so byte ranges of two requests fit)."""
    cut = st.remux_window_file(media / name, 2.5, 4.5, duration_s=6.0)
    assert cut is not None and cut.media_type == "video/mp4" and cut.codec == "h264"
    again = st.remux_window_file(media / name, 2.5, 4.5, duration_s=6.0)
    assert again is not None and again.data == cut.data and again.offset_s == cut.offset_s
    assert b"moof" not in cut.data and b"moov" in cut.data
    assert cut.offset_s <= 2.5 and cut.offset_s >= 1.0
    _, times = decoded_times(cut.data, tmp_path, "mp4")
    # Cut in decode order: with B-frames a few frames past the end come along (playback.md).
    assert 4.35 <= cut.offset_s + times[-1] <= 5.0
    stream = remux_or_transcode(media / name, 2.5, 4.5)
    stream.close()
    assert stream.offset_s == pytest.approx(cut.offset_s)  # the player's origin either way


def test_window_file_is_none_when_it_must_be_streamed(media: Path) -> None:
    # MPEG-4 part 2 needs a transcode; a window over the byte cap is streamed too.
    assert st.remux_window_file(media / "mpeg4.avi", 1.0, 3.0, duration_s=6.0) is None
    assert st.remux_window_file(media / "long.mp4", 10.0, 20.0, duration_s=30.0,
                                max_bytes=1000) is None


@needs_x264
@pytest.mark.parametrize("name", ["bframes.mp4", "h264.mkv", "h264.ts"])
def test_remux_offset_maps_media_time_to_recording_time(
    media: Path, tmp_path: Path, name: str
) -> None:
    """offset + media time == recording time, with B-frames (dts < pts), from Matroska, and
    from MPEG-TS (whose seeks land on any frame and must be walked back)."""
    clip = remux_or_transcode(media / name, 3.3, 4.5)
    assert clip.mode == "remux"
    _, times = decoded_times(b"".join(clip), tmp_path, "mp4")
    # Key frames every second: the first frame shown is the one at 3.0 s.
    assert clip.offset_s + times[0] == pytest.approx(3.0, abs=1e-3)
    # The end is cut in decode order: B-frame reordering may add a few frames past t_to.
    assert 4.4 <= clip.offset_s + times[-1] <= 5.0


def analysis_times(path: Path, t0: float, t1: float) -> list[float]:
    """Every frame time the analysis sees in ``[t0, t1]`` (``video.decode`` time rules)."""
    return [f.t for f in sample_frames(path, t0, t1 + 1e-6, sample_fps=1000.0)]


@pytest.mark.parametrize(
    "name",
    ["mpeg4.avi",  # MPEG-4 part 2 in AVI: no browser plays it
     pytest.param("raw.h264", marks=needs_x264),  # no timestamps to copy
     pytest.param("yuv444.mp4", marks=needs_x264)],  # 4:4:4 does not play everywhere
)
def test_transcoded_window_matches_analysis_times(media: Path, tmp_path: Path, name: str) -> None:
    """Transcoded frames sit at the recording times the analysis gave them (so track
    times line up on the player), from the first frame at ``t_from`` (half a frame early
    counts, as in ``video.decode``)."""
    clip = remux_or_transcode(media / name, 2.05, 4.0)
    assert clip.mode == "transcode"
    codec, times = decoded_times(b"".join(clip), tmp_path, clip.target)
    assert codec in ("h264", "vp8")
    assert times[0] == pytest.approx(0.0)
    want = analysis_times(media / name, 2.05 - 0.5 / 25, 4.0)
    assert clip.offset_s == pytest.approx(want[0])
    assert [round(clip.offset_s + t, 3) for t in times] == pytest.approx(want, abs=2e-3)


def test_webm_remux_and_webm_preference(media: Path, tmp_path: Path) -> None:
    clip = remux_or_transcode(media / "vp8.webm", 1.0, 3.0)
    assert (clip.mode, clip.media_type) == ("remux", "video/webm")
    codec, times = decoded_times(b"".join(clip), tmp_path, "webm")
    assert codec == "vp8" and clip.offset_s + times[0] == pytest.approx(1.0)
    # A browser without H.264: H.264 footage is transcoded to VP8 WebM.
    no_h264 = PlaybackPolicy(mp4_codecs=frozenset({"vp9"}), prefer="webm")
    clip = remux_or_transcode(media / "long.mp4", 5.0, 6.0, policy=no_h264)
    assert (clip.mode, clip.target, clip.codec) == ("transcode", "webm", "libvpx")
    codec, times = decoded_times(b"".join(clip), tmp_path, "webm")
    assert codec == "vp8" and len(times) == 11


def test_window_errors_and_abandon(media: Path, tmp_path: Path) -> None:
    with pytest.raises(MediaError, match=r"nothing\.mp4"):
        remux_or_transcode(tmp_path / "nothing.mp4", 0.0, 1.0)
    with pytest.raises(ValueError, match="ends before"):
        remux_or_transcode(media / "mpeg4.avi", 3.0, 1.0)
    clip = remux_or_transcode(media / "mpeg4.avi", 1.0, 3.0)
    clip.close()  # never iterated: releases the file, twice is harmless
    clip.close()
    assert list(clip) == []
