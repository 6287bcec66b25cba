"""Sampling decoded frames, the motion gate, and tiled detection (synthetic clips, no models)."""

from __future__ import annotations

import itertools
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from clips import BLUE, CODEC, RED, Clip, Moving, make_clip, make_corrupt, make_still
from retrouve.domain import Box, Detections
from retrouve.errors import MediaError
from retrouve.video.decode import GATE_WIDTH, DecodeCounter, sample_frames
from retrouve.video.motion import MotionGate
from retrouve.vision.detector import ShapeDetector, detect_tiled, nms, tile_grid

U8 = npt.NDArray[np.uint8]


def _crossing(path: Path) -> Clip:
    """4 s at 25 fps, a red box crossing left to right, keyframe every second."""
    return make_clip(
        path,
        seconds=4.0,
        fps=25,
        size=(320, 240),
        objects=[Moving(RED, (60, 30), (0, 100), (256, 100), 0.0, 4.0)],
        gop=25,
    )


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Clip:
    return _crossing(tmp_path_factory.mktemp("decode") / "cross.mp4")


def red_box(image: U8) -> Box | None:
    """Bounding box of the reddish pixels of an RGB frame."""
    r, g, b = (image[..., i].astype(np.int16) for i in range(3))
    ys, xs = np.nonzero((r - g > 80) & (r - b > 80))
    if len(xs) == 0:
        return None
    return Box(float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1))


# ------------------------------------------------------------------------------- decode
def test_sample_frames_at_5fps_over_25fps(clip: Clip) -> None:
    counter = DecodeCounter()
    frames = list(sample_frames(clip.path, 0.0, float("inf"), 5.0, counter))
    times = [f.t for f in frames]
    assert len(frames) == 20
    assert times == pytest.approx([k * 0.2 for k in range(20)], abs=0.021)
    assert np.diff(times) == pytest.approx(np.full(19, 0.2), abs=0.041)
    assert [f.index for f in frames] == [5 * k for k in range(20)]
    assert counter.decoded == clip.frames  # every frame decoded, only the sampled converted
    for f in frames[::4]:
        found = red_box(f.rgb())
        truth = clip.truth(0, f.t)
        assert found is not None and truth is not None
        assert found.iou(truth) > 0.8, (f.t, found, truth)


def test_sample_frames_rgb_and_small_gray(clip: Clip) -> None:
    first = next(iter(sample_frames(clip.path, 0.0, 1.0, 5.0)))
    rgb = first.rgb()
    assert rgb.shape == (240, 320, 3) and rgb.dtype == np.uint8
    assert first.rgb() is rgb  # cached
    assert (first.width, first.height) == (320, 240)
    gray = first.small_gray()
    assert gray.dtype == np.uint8 and gray.ndim == 2
    assert gray.shape == (120, GATE_WIDTH)
    assert gray.flags["C_CONTIGUOUS"]
    # The flat background is mid-grey in luma too.
    assert abs(int(np.median(gray)) - 128) <= 6


@pytest.mark.parametrize(
    ("t0", "t1", "expected"),
    [
        (0.0, 1.0, [0.0, 0.2, 0.4, 0.6, 0.8]),
        (1.0, 2.0, [1.0, 1.2, 1.4, 1.6, 1.8]),
        (2.4, 3.0, [2.4, 2.6, 2.8]),
        (3.31, float("inf"), [3.32, 3.52, 3.72, 3.92]),
    ],
)
def test_sample_frames_respects_slices(
    clip: Clip, t0: float, t1: float, expected: list[float]
) -> None:
    frames = list(sample_frames(clip.path, t0, t1, 5.0))
    times = [f.t for f in frames]
    assert times == pytest.approx(expected, abs=0.021)
    assert all(t0 - 0.02 <= t < t1 for t in times)
    # After a seek the pixels are those of the right instant, not of the keyframe.
    found = red_box(frames[0].rgb())
    truth = clip.truth(0, frames[0].t)
    assert found is not None and truth is not None and found.iou(truth) > 0.8


def test_slices_partition_the_samples(clip: Clip) -> None:
    whole = [f.t for f in sample_frames(clip.path, 0.0, float("inf"), 5.0)]
    parts = [
        f.t
        for t0, t1 in ((0.0, 1.4), (1.4, 2.8), (2.8, float("inf")))
        for f in sample_frames(clip.path, t0, t1, 5.0)
    ]
    assert parts == pytest.approx(whole, abs=1e-6)


def test_sample_frames_of_a_still_image(tmp_path: Path) -> None:
    still = make_still(tmp_path / "still.png", size=(200, 100))
    frames = list(sample_frames(still, 0.0, float("inf"), 4.0))
    assert len(frames) == 1
    assert frames[0].t == pytest.approx(0.0)
    assert frames[0].rgb().shape == (100, 200, 3)


def test_corrupt_file_raises_media_error_naming_it(tmp_path: Path) -> None:
    junk = make_corrupt(tmp_path / "junk.mp4")
    with pytest.raises(MediaError, match=r"junk\.mp4"):
        list(sample_frames(junk, 0.0, 10.0, 4.0))
    with pytest.raises(MediaError, match=r"rec-7 \(the label\)"):
        list(sample_frames(junk, 0.0, 10.0, 4.0, label="rec-7 (the label)"))
    with pytest.raises(MediaError, match=r"gone\.mp4"):
        list(sample_frames(tmp_path / "gone.mp4", 0.0, 10.0, 4.0))


@pytest.fixture(scope="module")
def raw_clip(tmp_path_factory: pytest.TempPathFactory) -> Clip:
    """The same crossing as a raw H.264 elementary stream: no container, no timestamps."""
    if CODEC != "libx264":
        pytest.skip("raw .h264 needs the libx264 encoder")
    return _crossing(tmp_path_factory.mktemp("raw") / "cross.h264")


def test_raw_stream_without_timestamps_uses_the_frame_count(raw_clip: Clip) -> None:
    frames = list(sample_frames(raw_clip.path, 0.0, 2.0, 5.0))
    assert [f.t for f in frames] == pytest.approx([k * 0.2 for k in range(10)], abs=0.021)
    found = red_box(frames[-1].rgb())
    truth = raw_clip.truth(0, frames[-1].t)
    assert found is not None and truth is not None and found.iou(truth) > 0.8


def test_raw_stream_slice_after_the_start(raw_clip: Clip) -> None:
    frames = list(sample_frames(raw_clip.path, 2.4, 3.4, 5.0))
    assert [f.t for f in frames] == pytest.approx([2.4, 2.6, 2.8, 3.0, 3.2], abs=0.021)
    found = red_box(frames[0].rgb())
    truth = raw_clip.truth(0, frames[0].t)
    assert found is not None and truth is not None and found.iou(truth) > 0.8


# ------------------------------------------------------------------------------- motion
def _noisy_background(seed: int, level: int = 100) -> U8:
    rng = np.random.default_rng(seed)
    return np.clip(level + rng.normal(0, 2.0, (120, 160)), 0, 255).astype(np.uint8)


def test_static_frames_do_not_open_the_gate() -> None:
    gate = MotionGate()
    first = gate.update(_noisy_background(0), original_width=640)
    assert first.fraction == 1.0 and first.mask.all()
    for seed in range(1, 8):
        res = gate.update(_noisy_background(seed), original_width=640)
        assert res.fraction < 0.0005
        assert res.boxes() == []
        assert res.scale == pytest.approx(4.0)


def test_entering_rectangle_opens_the_gate_with_a_box_on_it() -> None:
    gate = MotionGate()
    for seed in range(3):
        gate.update(_noisy_background(seed), original_width=640)
    frame = _noisy_background(10)
    frame[40:60, 50:80] = 200  # gate pixels; x4 in the original frame
    res = gate.update(frame, original_width=640)
    assert res.fraction == pytest.approx(20 * 30 / (120 * 160), rel=0.2)
    [box] = res.boxes()
    assert box.iou(Box(200.0, 160.0, 320.0, 240.0)) > 0.8
    fg = res.foreground(Box(200.0, 160.0, 320.0, 240.0), (80, 120))
    assert fg is not None and fg.shape == (80, 120) and fg.mean() > 0.8
    outside = res.foreground(Box(0.0, 0.0, 100.0, 100.0), (100, 100))
    assert outside is not None and not outside.any()


@pytest.mark.parametrize("delta", [-50, -20, 25, 60])
def test_global_brightness_change_alone_does_not_open_the_gate(delta: int) -> None:
    gate = MotionGate()
    for seed in range(3):
        gate.update(_noisy_background(seed), original_width=640)
    res = gate.update(_noisy_background(3, level=100 + delta), original_width=640)
    assert res.fraction < 0.0005
    assert res.boxes() == []


def test_object_still_seen_through_a_brightness_change() -> None:
    gate = MotionGate()
    for seed in range(3):
        gate.update(_noisy_background(seed), original_width=640)
    frame = _noisy_background(5, level=130)
    frame[10:30, 100:120] = 250
    res = gate.update(frame, original_width=640)
    [box] = res.boxes()
    assert box.iou(Box(400.0, 40.0, 480.0, 120.0)) > 0.8


def test_gate_on_decoded_frames_follows_the_object(clip: Clip) -> None:
    gate = MotionGate()
    frames = list(sample_frames(clip.path, 0.0, float("inf"), 5.0))
    gate.update(frames[0].small_gray(), frames[0].width)
    first = clip.truth(0, 0.0)
    assert first is not None
    for f in frames[1:]:
        res = gate.update(f.small_gray(), f.width)
        assert res.fraction > 0.0005, f.t
        truth = clip.truth(0, f.t)
        assert truth is not None
        # A flat rectangle only "moves" where it no longer covers its first position (the
        # first frame is the initial background, so a ghost stays there): check once the
        # object is clear of its ghost.
        if truth.x0 >= first.x1 + 8:
            assert max(b.iou(truth) for b in res.boxes()) > 0.6, f.t


def _still(seed: int) -> U8:
    """A slideshow still: a textured scene (blocks of 20 x 20 gate pixels, grey 0..255)."""
    rng = np.random.default_rng(seed)
    blocks = rng.integers(0, 256, (6, 8)).astype(np.uint8)
    scene = cv2.resize(blocks, (160, 120), interpolation=cv2.INTER_NEAREST)
    return np.clip(scene + rng.normal(0, 2.0, (120, 160)), 0, 255).astype(np.uint8)


def test_next_still_of_a_slideshow_is_a_scene_cut() -> None:
    # Most pixels change at once: their median difference is the change, not noise, and
    # must not raise the threshold until the change is invisible (plate camera stills).
    gate = MotionGate()
    for _ in range(4):
        gate.update(_still(1), original_width=640)
    res = gate.update(_still(2), original_width=640)
    assert res.fraction > gate.scene_cut and res.cut
    # The still then stays: nothing moves, and the next still opens the gate again.
    assert gate.update(_still(2), original_width=640).fraction < 0.0005
    assert gate.update(_still(3), original_width=640).fraction > gate.scene_cut


def test_a_cut_of_a_moving_scene_is_a_cut_even_when_few_pixels_pass_the_threshold() -> None:
    # Most pixels change by ~40 grey levels: under 4 x the capped noise, but their median
    # changed far beyond the known noise, so the scene is new (an edit of a panning camera).
    gate = MotionGate()
    rng = np.random.default_rng(0)
    base = np.clip(100 + rng.normal(0, 6.0, (120, 160)), 0, 255)
    for _ in range(3):
        res = gate.update(
            np.clip(base + rng.normal(0, 6.0, base.shape), 0, 255).astype(np.uint8),
            original_width=640,
        )
        assert not res.cut
    shifted = np.where(rng.random(base.shape) < 0.5, base + 40, base - 40)
    res = gate.update(np.clip(shifted, 0, 255).astype(np.uint8), original_width=640)
    assert res.cut and res.fraction >= 0.5
    assert not gate.update(np.clip(shifted, 0, 255).astype(np.uint8), 640).cut


def test_noise_that_grows_gradually_is_still_followed() -> None:
    gate = MotionGate()
    rng = np.random.default_rng(0)
    for sigma in (2.0, 3.0, 4.5, 6.5, 9.0, 12.0, 12.0):
        frame = np.clip(100 + rng.normal(0, sigma, (120, 160)), 0, 255).astype(np.uint8)
        res = gate.update(frame, original_width=640)
    assert res.fraction < 0.0005


def test_gate_resets_on_a_new_frame_size() -> None:
    gate = MotionGate()
    gate.update(_noisy_background(0), 640)
    res = gate.update(np.full((90, 160), 100, np.uint8), 480)
    assert res.fraction == 1.0


# -------------------------------------------------------------------------------- tiles
@pytest.mark.parametrize(("width", "height"), [(320, 240), (640, 480), (800, 600), (800, 450)])
def test_no_tiles_for_small_frames(width: int, height: int) -> None:
    assert tile_grid(width, height, 640) == []


@pytest.mark.parametrize(
    ("width", "height", "tile_px", "count"),
    [(1280, 720, 640, 4), (1920, 1080, 640, 6), (3840, 2160, 640, 24), (1280, 720, 400, 8)],
)
def test_tiles_cover_the_frame_with_overlap(
    width: int, height: int, tile_px: int, count: int
) -> None:
    tiles = tile_grid(width, height, tile_px)
    assert len(tiles) == count
    covered = np.zeros((height, width), bool)
    for t in tiles:
        assert 0 <= t.x0 < t.x1 <= width and 0 <= t.y0 < t.y1 <= height
        assert t.width <= 1.25 * tile_px * 1.2 and t.height <= 1.25 * tile_px * 1.2
        covered[int(t.y0) : int(t.y1), int(t.x0) : int(t.x1)] = True
    assert covered.all()
    # Neighbours overlap, so an object on a tile border is whole in at least one tile.
    xs = sorted({(t.x0, t.x1) for t in tiles})
    ys = sorted({(t.y0, t.y1) for t in tiles})
    assert all(a[1] > b[0] for a, b in itertools.pairwise(xs))
    assert all(a[1] > b[0] for a, b in itertools.pairwise(ys))


class ResizingShapeDetector:
    """Like an SSD: sees the image squeezed to 300x300, so small far objects vanish."""

    name = "resizing_shape"
    version = "1"

    def __init__(self) -> None:
        self.inner = ShapeDetector()
        self.calls: list[tuple[int, int]] = []

    def detect(self, image: U8) -> Detections:
        h, w = image.shape[:2]
        self.calls.append((w, h))
        small = np.asarray(
            cv2.resize(image, (300, 300), interpolation=cv2.INTER_AREA), dtype=np.uint8
        )
        d = self.inner.detect(small)
        if not len(d):
            return d
        scale = np.array([w / 300, h / 300, w / 300, h / 300], np.float32)
        return Detections((d.xyxy * scale).astype(np.float32), d.confidence, d.class_id)


def _large_frame(box: tuple[int, int, int, int]) -> U8:
    img = np.full((720, 1280, 3), 128, np.uint8)
    x0, y0, x1, y1 = box
    img[y0:y1, x0:x1] = RED
    return img


def test_detect_tiled_finds_a_small_far_object() -> None:
    img = _large_frame((200, 300, 212, 312))
    det = ResizingShapeDetector()
    assert len(det.detect(img)) == 0  # lost in the 300x300 squeeze of the whole frame
    found, passes = detect_tiled(det, img, 640)
    assert passes == 5
    assert len(found) == 1
    box = Box(*(float(v) for v in found.xyxy[0]))
    assert box.iou(Box(200.0, 300.0, 212.0, 312.0)) > 0.5


def test_detect_tiled_only_runs_tiles_under_motion() -> None:
    img = _large_frame((200, 300, 212, 312))
    det = ResizingShapeDetector()
    found, passes = detect_tiled(det, img, 640, motion=[Box(195.0, 295.0, 215.0, 315.0)])
    assert passes == 2  # the whole frame plus the one tile holding the motion
    assert len(found) == 1
    _, passes = detect_tiled(det, img, 640, motion=[])
    assert passes == 1


def test_detect_tiled_merges_duplicates() -> None:
    # Inside the overlap of two tiles: the full frame and both tiles see the same object.
    img = _large_frame((600, 100, 640, 130))
    raw = [ShapeDetector().detect(img)]
    for t in tile_grid(1280, 720, 640):
        x0, y0, x1, y1 = int(t.x0), int(t.y0), int(t.x1), int(t.y1)
        raw.append(ShapeDetector().detect(np.ascontiguousarray(img[y0:y1, x0:x1])))
    assert sum(len(d) for d in raw) == 3
    found, passes = detect_tiled(ShapeDetector(), img, 640)
    assert passes == 5
    assert len(found) == 1
    assert found.xyxy[0].tolist() == [600.0, 100.0, 640.0, 130.0]
    assert found.class_names() == ["car"]


def test_detect_tiled_on_small_frame_is_one_pass() -> None:
    img = np.full((240, 320, 3), 128, np.uint8)
    img[50:100, 10:30] = BLUE
    img[150:170, 200:260] = RED
    found, passes = detect_tiled(ShapeDetector(), img, 640)
    assert passes == 1
    assert sorted(found.class_names()) == ["car", "person"]


def test_nms_keeps_the_best_of_overlapping_boxes() -> None:
    dets = Detections(
        np.array([[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60]], np.float32),
        np.array([0.5, 0.9, 0.7], np.float32),
        np.array([2, 2, 0], np.int32),
    )
    kept = nms(dets, 0.5)
    assert kept.confidence.tolist() == pytest.approx([0.9, 0.7])
    assert kept.xyxy[:, 0].tolist() == [1.0, 50.0]
