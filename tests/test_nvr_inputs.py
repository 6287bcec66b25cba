"""NVR containers and lying files (issue 12): MPEG-TS, PTS resets, resolution changes,
rotation metadata, content sniffing and decompression bombs.

Every clip is generated here with PyAV from the synthetic clips of ``clips.py``: a stream-copy
remux to MPEG-TS (with the 1.4 s clock start the FFmpeg CLI gives, or a 10 h one), two TS
segments concatenated byte for byte (what NVRs and ``cat`` produce), a segment at another
resolution, a clip with a display matrix (``VideoStream.set_display_rotation``).

| input | expected |
|---|---|
| H.264 / H.265 in TS, clock from 1.4 s or 10 h | duration within a frame, first frame t = 0 |
| TS in one GOP at 2 fps (the "truncated" refusal) | ingested, decodes after a seek |
| two TS segments, PTS reset | duration = sum, one discontinuity, times monotonic < duration |
| second segment at 640×480 (stored 320×240) | frames scaled to 320×240, boxes inside |
| display matrix 90° | stored 240×320, frames upright |
| MP4 named .jpg / JPEG named .mp4 | video / still by content |
| 16000×16000 PNG | ImageTooLarge before decoding, well under a second |
"""

from __future__ import annotations

import io
import math
import time
from fractions import Fraction
from itertools import pairwise
from pathlib import Path

import av
import pytest
from sqlalchemy import select

from clips import BLUE, GREEN, RED, Clip, Moving, copy_as, make_clip, make_still
from conftest import make_services
from nvr_clips import concat, png_header_only, rotated_clip, to_ts, x265_clip
from retrouve.catalogue.probe import probe
from retrouve.catalogue.sniff import sniff_still
from retrouve.config import Settings
from retrouve.domain import Camera
from retrouve.errors import ImageTooLarge, InputError, MediaError
from retrouve.export.cut import cut_master
from retrouve.store import schema as s
from retrouve.video.decode import sample_frames
from retrouve.video.orient import displayed_size, quarter_turns
from retrouve.video.playability import PlaybackPolicy
from retrouve.video.timeline import PacketSpan, Timeline
from retrouve.video.window import remux_or_transcode

CAM = Camera("cam1", "Quai", "Europe/Paris", 48.8, 2.3, "quai")
HAS_X265 = "libx265" in av.codecs_available


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("nvr")


CAR = Moving(RED, (60, 30), (0, 40), (260, 40), 0.0, 4.0)
MAN = Moving(BLUE, (30, 60), (280, 140), (20, 140), 0.0, 4.0)


@pytest.fixture(scope="module")
def good(folder: Path) -> Clip:
    return make_clip(folder / "good.mp4", seconds=4.0, fps=25, objects=[CAR])


@pytest.fixture(scope="module")
def long_gop(folder: Path) -> Clip:
    """2 fps, one key frame for the whole 20 s (the clip the old probe called truncated)."""
    return make_clip(folder / "gop.mp4", seconds=20.0, fps=2, gop=100,
                     objects=[Moving(GREEN, (40, 40), (10, 10), (250, 150), 0.0, 20.0)])


# ------------------------------------------------------------------ time base, pure
def test_timeline_maps_resets_and_jumps_to_frame_order() -> None:
    tl = Timeline(Fraction(1, 90000), 25.0, origin=126000)
    ticks = [126000 + i * 3600 for i in range(5)] + [126000 + i * 3600 for i in range(3)]
    ticks += [ticks[-1] + 3600 * 25 * 60]  # a one-minute jump
    times = [tl.place(p) for p in ticks]
    assert times[:5] == pytest.approx([0.0, 0.04, 0.08, 0.12, 0.16])
    assert times[5:8] == pytest.approx([0.20, 0.24, 0.28])
    assert times[8] == pytest.approx(0.32)
    assert [d.kind for d in tl.discontinuities] == ["reset", "jump"]
    assert all(b > a for a, b in pairwise(times))


def test_packet_span_matches_the_timeline() -> None:
    span = PacketSpan(Fraction(1, 90000), 25.0, origin=126000)
    for p in [126000 + i * 3600 for i in range(5)] + [900 + i * 3600 for i in range(3)]:
        span.add(p, p)
    tl = Timeline(Fraction(1, 90000), 25.0, origin=126000)
    last = [tl.place(p) for p in [126000 + i * 3600 for i in range(5)]
            + [900 + i * 3600 for i in range(3)]][-1]
    assert span.duration() == pytest.approx(last + 0.04)
    assert span.packets == 8 and len(span.discontinuities) == 1


# ------------------------------------------------------------------------ MPEG-TS
@pytest.mark.parametrize("shift", [1.4, 36000.0])
def test_h264_ts_remux_is_ingested_with_its_duration(folder: Path, good: Clip,
                                                     shift: float) -> None:
    ts = to_ts(good.path, folder / f"good-{shift:g}.ts", shift)
    info = probe(ts)
    assert info.codec == "h264" and not info.is_image
    assert info.duration_s == pytest.approx(good.seconds, abs=1 / good.fps)
    assert info.frame_count == good.frames
    times = [f.t for f in sample_frames(ts, 0.0, math.inf, 25)]
    assert times[0] == pytest.approx(0.0)
    assert len(times) == good.frames and times[-1] < info.duration_s


def test_ts_in_one_gop_is_not_truncated_and_seeks(folder: Path, long_gop: Clip) -> None:
    ts = to_ts(long_gop.path, folder / "gop.ts")
    info = probe(ts)
    assert info.duration_s == pytest.approx(20.0, abs=0.5)
    got = [f.t for f in sample_frames(ts, 15.0, math.inf, 2)]
    assert got and got[0] == pytest.approx(15.0, abs=0.5) and got[-1] < info.duration_s


@pytest.mark.skipif(not HAS_X265, reason="PyAV without libx265")
def test_h265_ts(folder: Path) -> None:
    ts = to_ts(x265_clip(folder / "hevc.mkv"), folder / "hevc.ts")
    info = probe(ts)
    assert info.codec == "hevc"
    assert info.duration_s == pytest.approx(3.0, abs=0.04)
    times = [f.t for f in sample_frames(ts, 1.0, math.inf, 5)]
    assert times[0] == pytest.approx(1.0, abs=0.05) and times[-1] < info.duration_s


def test_ts_master_cut_and_window(folder: Path, good: Clip) -> None:
    ts = to_ts(good.path, folder / "cut-src.ts")
    cut = cut_master(ts, folder / "cut.mp4", 1.0, 2.0)
    assert cut.actual_from <= 1.0 and cut.actual_to >= 2.0 - 1 / good.fps
    assert probe(folder / "cut.mp4").duration_s == pytest.approx(
        cut.actual_to - cut.actual_from + 1 / good.fps, abs=0.05)
    clip = remux_or_transcode(ts, 1.0, 2.0)
    body = b"".join(clip)
    assert clip.mode == "remux" and 0.0 <= clip.offset_s <= 1.0 and len(body) > 1000


# ------------------------------------------------------ concatenated segments
@pytest.fixture(scope="module")
def reset_ts(folder: Path, good: Clip) -> Path:
    second = make_clip(folder / "seg2.mp4", seconds=2.0, fps=25, objects=[MAN])
    return concat([to_ts(good.path, folder / "s1.ts"), to_ts(second.path, folder / "s2.ts")],
                  folder / "reset.ts")


@pytest.fixture(scope="module")
def resized_ts(folder: Path, good: Clip) -> Path:
    big = make_clip(folder / "big.mp4", seconds=2.0, fps=25, size=(640, 480),
                    objects=[Moving(BLUE, (120, 120), (500, 300), (10, 300), 0.0, 2.0)])
    return concat([to_ts(good.path, folder / "r1.ts"), to_ts(big.path, folder / "r2.ts", 9.0)],
                  folder / "resized.ts")


def test_pts_reset_gives_one_monotonic_timeline(reset_ts: Path) -> None:
    info = probe(reset_ts)
    assert info.duration_s == pytest.approx(6.0, abs=0.04)
    assert [d.kind for d in info.discontinuities] == ["reset"]
    assert info.discontinuities[0].at_s == pytest.approx(4.0, abs=0.04)
    times = [f.t for f in sample_frames(reset_ts, 0.0, math.inf, 25)]
    assert len(times) == 150 and all(b > a for a, b in pairwise(times))
    assert times[-1] < info.duration_s
    later = [f.t for f in sample_frames(reset_ts, 5.0, math.inf, 25)]
    assert later[0] == pytest.approx(5.0, abs=0.04) and later[-1] == times[-1]


def test_master_cut_across_a_reset(reset_ts: Path, folder: Path) -> None:
    cut = cut_master(reset_ts, folder / "reset-cut.mp4", 3.0, 5.0)
    assert cut.actual_from <= 3.0 and cut.actual_to == pytest.approx(5.0, abs=0.04)
    info = probe(folder / "reset-cut.mp4")  # one timeline: the muxer took every packet
    assert info.frame_count == cut.packets
    assert info.duration_s == pytest.approx(cut.actual_to - cut.actual_from + 0.04, abs=0.05)


def test_window_of_a_reset_file_is_transcoded_on_the_timeline(reset_ts: Path) -> None:
    clip = remux_or_transcode(reset_ts, 5.0, 5.5)
    body = b"".join(clip)
    # Raw timestamps cannot place copied packets after a reset: frames are re-timed.
    assert clip.mode == "transcode" and clip.offset_s == pytest.approx(5.0, abs=0.04)
    with av.open(io.BytesIO(body)) as c:
        n = sum(1 for _ in c.decode(video=0))
    assert 12 <= n <= 14  # 0.5 s at 25 fps, both ends included


def test_resolution_change_frames_at_the_stored_size(resized_ts: Path) -> None:
    info = probe(resized_ts)
    assert (info.width, info.height) == (320, 240)
    # The second segment's clock starts 5 s after the first ends: a gap under MAX_GAP_S is
    # kept as recorded (4 s + 5 s + 2 s, minus nothing: 1.4 s is recording second 0).
    assert info.duration_s == pytest.approx(9.6, abs=0.04) and not info.discontinuities
    frames = list(sample_frames(resized_ts, 0.0, math.inf, 2))
    assert {f.rgb().shape for f in frames} == {(240, 320, 3)}
    assert {f.small_gray().shape for f in frames} == {(120, 160)}
    late = frames[-1].rgb()  # the 640×480 segment scaled: its blue block is still seen
    assert (late[..., 2] > 150).sum() > 500


@pytest.mark.parametrize("name", ["reset_ts", "resized_ts"])
def test_analysed_tracks_stay_inside_the_stored_recording(
    name: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    path: Path = request.getfixturevalue(name)
    svc = make_services(Settings(data_dir=tmp_path, workers=1, executor="inline"))
    try:
        svc.catalogue.add_camera(CAM)
        report = svc.catalogue.ingest(str(path), CAM.id, start="2026-01-04T10:00:00")
        [rec] = report.added
        if name == "reset_ts":  # the discontinuity is reported, not only logged
            [(where, note)] = report.notes
            assert where.endswith("reset.ts") and "timestamp reset of -" in note
            assert report.to_json()["notes"] == [{"path": where, "note": note}]
        svc.analyser.analyse()
        with svc.store.engine.connect() as conn:
            rows = conn.execute(select(s.tracks)).all()
        assert rows, "the synthetic objects are found"
        for r in rows:
            assert 0.0 <= r.t_start <= r.t_end <= rec.duration_s
            assert 0.0 <= r.box_x0 < r.box_x1 <= rec.width
            assert 0.0 <= r.box_y0 < r.box_y1 <= rec.height
    finally:
        svc.close()


# ----------------------------------------------------------------------- rotation
@pytest.mark.parametrize(("degrees", "corner"), [(90, "bottom-left"), (-90, "top-right"),
                                                 (180, "bottom-right")])
def test_display_matrix_rotation_is_applied(folder: Path, degrees: int, corner: str) -> None:
    path = rotated_clip(folder / f"rot{degrees}.mp4", degrees)
    info = probe(path)
    assert info.rotation == (degrees // 90) % 4
    expect = (320, 240) if degrees == 180 else (240, 320)
    assert (info.width, info.height) == expect
    [first, *_] = list(sample_frames(path, 0.0, math.inf, 10))
    img = first.rgb()
    assert img.shape == (expect[1], expect[0], 3)
    h, w = img.shape[:2]
    patches = {"top-left": img[:20, :20], "top-right": img[:20, w - 20:],
               "bottom-left": img[h - 20:, :20], "bottom-right": img[h - 20:, w - 20:]}
    reddest = max(patches, key=lambda k: float(patches[k][..., 0].mean()
                                               - patches[k][..., 2].mean()))
    assert reddest == corner
    assert first.small_gray().shape == (round(h * 160 / w / 2) * 2, 160)


def test_rotated_windows_play_upright(folder: Path) -> None:
    path = rotated_clip(folder / "rot-window.mkv", 90)
    for policy, mode in ((PlaybackPolicy(), "remux"),
                         (PlaybackPolicy(mp4_codecs=frozenset()), "transcode")):
        clip = remux_or_transcode(path, 0.5, 1.5, policy=policy)
        with av.open(io.BytesIO(b"".join(clip))) as c:
            f = next(c.decode(video=0))
        assert clip.mode == mode
        # A copy keeps the display matrix (the browser turns it); a transcode is upright.
        shown = displayed_size(f.width, f.height, quarter_turns(f))
        assert shown == (240, 320)


# ---------------------------------------------------------- content over names
def test_video_named_jpg_is_probed_as_video(folder: Path, good: Clip) -> None:
    info = probe(copy_as(good.path, folder / "lying.jpg"))
    assert not info.is_image and info.duration_s == pytest.approx(4.0, abs=0.04)


def test_jpeg_named_mp4_is_a_still(folder: Path) -> None:
    still = make_still(folder / "s.jpg", size=(200, 100))
    info = probe(copy_as(still, folder / "still.mp4"))
    assert info.is_image and (info.width, info.height) == (200, 100)
    assert sniff_still(still) is not None and sniff_still(still).pixels == 20_000  # type: ignore[union-attr]


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".bmp"])
def test_sniffed_sizes_match_the_decoder(folder: Path, suffix: str) -> None:
    path = make_still(folder / f"size{suffix}", size=(123 * 2, 77 * 2))
    header = sniff_still(path)
    assert header is not None and (header.width, header.height) == (246, 154)


def test_decompression_bomb_is_refused_before_decoding(folder: Path) -> None:
    bomb = png_header_only(folder / "bomb.png", 16000, 16000)
    start = time.perf_counter()
    with pytest.raises(ImageTooLarge) as err:
        probe(bomb)
    elapsed = time.perf_counter() - start
    assert isinstance(err.value, MediaError) and isinstance(err.value, InputError)
    assert "16000×16000 = 256.0 Mpx exceeds the limit of 40.0 Mpx" in str(err.value)
    assert "bomb.png" in str(err.value)
    assert elapsed < 1.0
    with pytest.raises(ImageTooLarge):
        probe(png_header_only(folder / "small-limit.png", 400, 300), max_pixels=100_000)


def test_pixel_limit_setting_reaches_ingest(folder: Path, tmp_path: Path) -> None:
    still = make_still(folder / "cam1_20260104_100000.png", size=(400, 300))
    svc = make_services(Settings(data_dir=tmp_path, workers=1, executor="inline",
                                 max_pixels=100_000))
    try:
        svc.catalogue.add_camera(CAM)
        report = svc.catalogue.ingest(str(still), CAM.id)
        [(where, error)] = report.failed
        assert where.endswith(".png") and "exceeds the limit of 0.1 Mpx" in error
        assert not report.added
    finally:
        svc.close()
