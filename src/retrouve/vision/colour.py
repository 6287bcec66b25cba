"""Colour names for tracked objects, from pixel statistics (no learnt colour model).

Shapes, units and colour spaces
-------------------------------
* Images and crops are ``uint8`` RGB ``(H, W, 3)``; pixel lists are ``uint8`` ``(N, 3)``.
  ``foreground`` masks are ``bool`` ``(H, W)`` aligned with the crop (True = differs from the
  learnt background, i.e. probably the object).
* Score vectors are ``float32`` ``(11,)`` indexed like :data:`retrouve.domain.COLOURS` and sum
  to 1 (or are all zero when there is no evidence).
* Naming works in two perceptual spaces computed by OpenCV from float RGB in ``[0, 1]``:
  CIE Lab (``L`` lightness 0..100, chroma ``C = hypot(a, b)``) decides *achromatic vs
  chromatic* and *how light*, while the HSV hue angle (degrees, 0..360) decides the hue family.
  HSV hue is used rather than the Lab hue angle because Lab bends blues towards purple
  (sRGB pure blue sits at Lab hue 306°, purple at 320°) whereas HSV separates them widely; HSV
  hue is also invariant to scaling RGB, so a shadowed pixel keeps its hue.

Pixel → name mapping (all memberships are soft, piecewise linear, so borderline pixels split)
---------------------------------------------------------------------------------------------
1. Chromatic weight ``ramp(C, 6, 14)``: below chroma 6 a pixel is achromatic, above 14 it is
   chromatic. Achromatic pixels are split by lightness: black below ``L`` 26..42, white above
   ``L`` 78..88, grey between. Silver (``L`` ≈ 77, no chroma) therefore comes out grey.
2. Chromatic pixels get hue-family memberships (red, orange, yellow, green, blue, purple,
   magenta) that form a partition of unity around the hue circle; then lightness and chroma
   refine them: *brown* = dark or dull red/orange/yellow; *pink* = light red, light magenta
   (and, half, light purple); magenta of mid/low lightness is purple. Very dark chromatic
   pixels (``L`` < 6..16) drift to black.
3. ``greyscale=True`` (night / IR footage): only step 1's black/grey/white split is used.

White balance
-------------
:func:`white_balance_gains` estimates the illuminant per channel as the geometric mean of a
shades-of-grey estimate (Minkowski p = 6 mean of unclipped pixels) and a grey-edge estimate
(p = 6 norm of Sobel gradients of a downscaled frame; large uniform coloured areas have no
edges, so they bias it less). Gains = mean illuminant / channel illuminant, clipped to
``[0.6, 1.6]``. Gains multiply RGB before any naming.

Vehicles and people
-------------------
* Vehicle body: a row profile keeps the body panels (≈ 46–80 % of box height, full weight) and
  a little of the roof, nearly drops the windscreen/windows band (≈ 14–42 %) and drops the
  bottom band (tyres, road, shadow under the car); a column profile tapers the box edges.
  Dark low-chroma pixels (glass, tyres, grille, shadows) are down-weighted to 0.15 unless they
  dominate the body (more than ~45–70 % of it), so a black car still comes out black;
  specular highlights (``L`` > 96, no chroma: clipped RGB) are likewise down-weighted unless
  they dominate (a white car). Shadows: pixels 40–100 % as light as the body's reference
  lightness (75th percentile of the core body pixels) are relit to that lightness when
  chromatic (or when the body is at least mid-grey, ``L`` ≥ 45), keeping their chromaticity
  (a, b, hue): the colour of a car is the colour of its lit panels, so a red panel in shade
  stays red, not brown or black.
* Person: upper = 18–50 % of box height (torso, head skipped), lower = 52–90 % (legs, feet and
  ground skipped), both over the central 60 % of the width.
* ``foreground``, when it covers at least 15 % of the box, keeps weight 1 on foreground pixels
  and 0.25 on background ones.
* Crops are area-averaged down to at most ~2,000 pixels (this runs on every tracked object of
  every analysed frame); averaging also removes sensor noise and codec chroma speckle.

Evidence and decision
---------------------
Each per-frame call returns ``(scores, weight)``; ``weight`` ∈ [0, 1] is the usable share of
the region's pixel weight times a size factor ``min(1, region pixels / 800)`` (vehicles) or
``/ 300`` (clothing regions). Callers accumulate ``Σ scores·weight`` and ``Σ weight`` over a
track and call :func:`decide`, whose confidence is::

    confidence = share · W / (W + 0.5)        (× 0.6 when greyscale)

where ``share`` is the winner's fraction of the normalised accumulated scores and ``W`` the
total weight: one good frame (W = 1) gives at most 0.67, three give 0.86.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import cv2
import numpy as np
import numpy.typing as npt

from retrouve.domain import ACHROMATIC, COLOURS

F32 = npt.NDArray[np.float32]
_N: Final[int] = len(COLOURS)
_I: Final[dict[str, int]] = {name: i for i, name in enumerate(COLOURS)}
_CHROMATIC_IDX: Final[npt.NDArray[np.intp]] = np.array(
    [i for i, name in enumerate(COLOURS) if name not in ACHROMATIC], dtype=np.intp
)

#: Pixel budget per crop (per clothing region): enough for stable statistics, cheap to name.
_MAX_SAMPLES: Final[int] = 2000

#: HSV hue-family memberships: (hue°, membership) anchors, interpolated periodically. Adjacent
#: families ramp over the same interval in opposite directions, so they sum to 1 everywhere.
_HUE_FAMILIES: Final[tuple[tuple[tuple[float, ...], tuple[float, ...]], ...]] = (
    ((335.0, 350.0, 10.0, 20.0), (0.0, 1.0, 1.0, 0.0)),  # red
    ((10.0, 20.0, 38.0, 48.0), (0.0, 1.0, 1.0, 0.0)),  # orange
    ((38.0, 48.0, 65.0, 80.0), (0.0, 1.0, 1.0, 0.0)),  # yellow
    ((65.0, 80.0, 165.0, 195.0), (0.0, 1.0, 1.0, 0.0)),  # green (cyan splits green/blue)
    ((165.0, 195.0, 250.0, 268.0), (0.0, 1.0, 1.0, 0.0)),  # blue
    ((250.0, 268.0, 305.0, 318.0), (0.0, 1.0, 1.0, 0.0)),  # purple
    ((305.0, 318.0, 335.0, 350.0), (0.0, 1.0, 1.0, 0.0)),  # magenta (→ pink or purple)
)

#: Region profiles as (fraction of box, weight) anchors for np.interp.
_CAR_ROWS: Final[tuple[tuple[float, ...], tuple[float, ...]]] = (
    (0.0, 0.10, 0.14, 0.42, 0.46, 0.80, 0.84, 1.0),
    (0.4, 0.4, 0.03, 0.03, 1.0, 1.0, 0.0, 0.0),
)
_CAR_COLS: Final[tuple[tuple[float, ...], tuple[float, ...]]] = (
    (0.0, 0.05, 0.15, 0.85, 0.95, 1.0),
    (0.0, 0.2, 1.0, 1.0, 0.2, 0.0),
)
_UPPER_ROWS: Final[tuple[float, float]] = (0.18, 0.50)
_LOWER_ROWS: Final[tuple[float, float]] = (0.52, 0.90)
_PERSON_COLS: Final[tuple[float, float]] = (0.20, 0.80)

_FG_MIN_COVER: Final[float] = 0.15  # below this the mask is unreliable (e.g. parked car)
_BG_WEIGHT: Final[float] = 0.25
_EVIDENCE_K: Final[float] = 0.5  # total weight at which decide's evidence factor is 1/2
_GREYSCALE_CONF: Final[float] = 0.6


@dataclass(frozen=True)
class ColourEstimate:
    """A decided colour: ``name`` in COLOURS, ``confidence`` 0..1, ``scores`` ``(11,)``."""

    name: str
    confidence: float
    scores: F32


def _ramp(x: F32, lo: float, hi: float) -> F32:
    """0 below ``lo``, 1 above ``hi``, linear between."""
    return np.asarray(np.clip((x - lo) / (hi - lo), 0.0, 1.0), dtype=np.float32)


def _stride(n_pixels: int, budget: int) -> int:
    """Grid step so that subsampling an area of ``n_pixels`` keeps about ``budget`` pixels."""
    return max(1, int(np.ceil(np.sqrt(n_pixels / budget))))


def _perceptual(rgb: npt.NDArray[np.uint8], gains: F32 | None) -> tuple[F32, F32, F32]:
    """``(N, 3)`` uint8 RGB → (Lab L 0..100, Lab chroma, HSV hue degrees), gains applied."""
    x = rgb.reshape(-1, 1, 3).astype(np.float32) / np.float32(255.0)
    if gains is not None:
        x = np.clip(x * np.asarray(gains, np.float32).reshape(1, 1, 3), 0.0, 1.0)
    lab = np.asarray(cv2.cvtColor(x, cv2.COLOR_RGB2Lab), np.float32).reshape(-1, 3)
    hue = np.asarray(cv2.cvtColor(x, cv2.COLOR_RGB2HSV), np.float32).reshape(-1, 3)[:, 0]
    chroma = np.hypot(lab[:, 1], lab[:, 2]).astype(np.float32)
    return lab[:, 0].copy(), chroma, hue


def _memberships(lum: F32, chroma: F32, hue: F32, greyscale: bool) -> F32:
    """Soft colour-name memberships ``(N, 11)``, each row summing to 1."""
    m = np.zeros((lum.shape[0], _N), np.float32)
    black = 1.0 - _ramp(lum, 26.0, 42.0)
    white = _ramp(lum, 78.0, 88.0)
    grey = np.clip(1.0 - black - white, 0.0, 1.0)
    chromatic = np.zeros_like(lum) if greyscale else _ramp(chroma, 6.0, 14.0)
    achro = 1.0 - chromatic
    m[:, _I["black"]] = achro * black
    m[:, _I["white"]] = achro * white
    m[:, _I["grey"]] = achro * grey
    if greyscale:
        return m
    fam = [np.interp(hue, xp, fp, period=360.0).astype(np.float32) for xp, fp in _HUE_FAMILIES]
    red, orange, yellow, green, blue, purple, magenta = fam
    # Brown is not a hue: it is dark or dull orange/red/yellow. Dark red keeps being red
    # (maroon) unless it is also dull; orange turns brown sooner (saddle brown, tan).
    brown_r = (1.0 - _ramp(chroma, 20.0, 40.0)) * (1.0 - _ramp(lum, 30.0, 50.0))
    brown_o = np.maximum(1.0 - _ramp(lum, 40.0, 55.0), 1.0 - _ramp(chroma, 30.0, 45.0))
    brown_y = np.maximum(1.0 - _ramp(lum, 45.0, 60.0), 1.0 - _ramp(chroma, 20.0, 35.0))
    # Pink is light red / light magenta; light purple (lilac) is half pink.
    pink_r = _ramp(lum, 58.0, 72.0)
    pink_m = _ramp(lum, 40.0, 55.0)
    pink_p = 0.5 * _ramp(lum, 62.0, 78.0)
    # Very dark chromatic pixels are perceptually black (e.g. near-black navy).
    dark = 1.0 - _ramp(lum, 6.0, 16.0)
    c = chromatic * (1.0 - dark)
    m[:, _I["black"]] += chromatic * dark
    m[:, _I["red"]] = c * red * (1.0 - brown_r - pink_r).clip(0.0, 1.0)
    m[:, _I["orange"]] = c * orange * (1.0 - brown_o)
    m[:, _I["yellow"]] = c * yellow * (1.0 - brown_y)
    m[:, _I["green"]] = c * green
    m[:, _I["blue"]] = c * blue
    m[:, _I["brown"]] = c * (red * brown_r + orange * brown_o + yellow * brown_y)
    m[:, _I["purple"]] = c * (purple * (1.0 - pink_p) + magenta * (1.0 - pink_m))
    m[:, _I["pink"]] = c * (red * pink_r + magenta * pink_m + purple * pink_p)
    # brown_r and pink_r never overlap (L < 50 vs L > 58), so rows already sum to 1.
    return m


def _relight(lum: F32, chroma: F32, core: npt.NDArray[np.bool_]) -> F32:
    """Lift shadowed pixels to the object's lit lightness, keeping their chromaticity.

    The reference is the 75th percentile of ``L`` over ``core`` pixels, ignoring specular
    highlights unless they are most of the core. Pixels 40–100 % as light as the reference are
    relit when they carry chroma (a shaded red panel), or when the object is at least mid-grey
    (``L`` ≥ 45: a shaded white panel reads grey). Darker pixels (tyres, glass, black trim)
    are left alone, and so is a dark object (a black car is never lifted to grey).
    """
    if int(core.sum()) < 8:
        return lum
    spec = (lum > 97.0) & (chroma < 6.0)
    lit = core & ~spec
    ref_pool = lum[lit] if lit.sum() >= 0.3 * core.sum() else lum[core]
    ref = float(np.percentile(ref_pool, 75))
    shaded = (lum >= 0.4 * ref) & (lum < ref) & ((chroma >= 10.0) | (ref >= 45.0))
    return np.where(shaded, np.float32(ref), lum).astype(np.float32)


def _downsample(img: npt.NDArray[np.uint8], budget: int) -> npt.NDArray[np.uint8]:
    """Area-average ``img`` down to about ``budget`` pixels (no-op when already small).

    Averaging rather than picking every n-th pixel also suppresses sensor noise and codec
    chroma artefacts, which would otherwise scatter memberships of neutral (white/grey) paint.
    """
    h, w = img.shape[:2]
    step = _stride(h * w, budget)
    if step == 1:
        return img
    size = (max(1, round(w / step)), max(1, round(h / step)))
    return np.asarray(cv2.resize(img, size, interpolation=cv2.INTER_AREA), np.uint8)


def _fg_weights(
    foreground: npt.NDArray[np.bool_] | None, box_shape: tuple[int, int], out: tuple[int, int]
) -> F32 | None:
    """Per-sample weights ``out`` (h, w) from the box's foreground mask, or None when it is
    absent, misaligned or too sparse to trust (e.g. a parked car learnt into the background)."""
    if foreground is None or foreground.shape[:2] != box_shape or foreground.size == 0:
        return None
    frac = np.asarray(
        cv2.resize(foreground.astype(np.float32), (out[1], out[0]), interpolation=cv2.INTER_AREA),
        np.float32,
    ).reshape(out)
    if float(frac.mean()) < _FG_MIN_COVER:
        return None
    return np.asarray(_BG_WEIGHT + (1.0 - _BG_WEIGHT) * frac, dtype=np.float32)


def _profile(n: int, anchors: tuple[tuple[float, ...], ...]) -> F32:
    """Weight of each of ``n`` sample rows/columns (centre fraction of the box) from a profile."""
    frac = (np.arange(n, dtype=np.float32) + 0.5) / np.float32(n)
    return np.asarray(np.interp(frac, anchors[0], anchors[1]), dtype=np.float32)


def _score_region(
    rgb: npt.NDArray[np.uint8],
    weights: F32,
    gains: F32 | None,
    greyscale: bool,
    down_weight_dark: bool,
) -> tuple[F32, float]:
    """Weighted soft histogram of sampled pixels ``(N, 3)``; returns scores and usable share."""
    keep = weights > 0
    if not keep.any():
        return np.zeros(_N, np.float32), 0.0
    rgb, w = rgb[keep], weights[keep]
    region_total = float(w.sum())
    lum, chroma, hue = _perceptual(rgb, gains)
    core = w >= 0.5 * float(w.max())
    if down_weight_dark:
        # Glass, tyres, grille and cast shadows are dark and colourless; so is a black car.
        # Down-weight them only while they are a minority of the body, so black still wins
        # when dark pixels dominate. Same logic for specular highlights vs a white car.
        dark = (1.0 - _ramp(lum, 22.0, 35.0)) * (1.0 - _ramp(chroma, 8.0, 16.0))
        spec = _ramp(lum, 96.0, 99.0) * (1.0 - _ramp(chroma, 6.0, 12.0))
        dark_frac = float((w * dark).sum()) / region_total
        spec_frac = float((w * spec).sum()) / region_total
        keep_dark = 0.15 + 0.85 * float(np.clip((dark_frac - 0.45) / 0.25, 0.0, 1.0))
        keep_spec = 0.2 + 0.8 * float(np.clip((spec_frac - 0.30) / 0.25, 0.0, 1.0))
        w = np.asarray(
            w * (1.0 - dark * (1.0 - keep_dark)) * (1.0 - spec * (1.0 - keep_spec)), np.float32
        )
    lum = _relight(lum, chroma, core)
    total = float(w.sum())
    if total <= 0.0:
        return np.zeros(_N, np.float32), 0.0
    scores = (w @ _memberships(lum, chroma, hue, greyscale)) / np.float32(total)
    return scores.astype(np.float32), total / region_total


def white_balance_gains(frame_rgb: npt.NDArray[np.uint8]) -> F32:
    """Per-channel RGB gains ``(3,)`` undoing the frame's colour cast (see module docstring)."""
    ones = np.ones(3, np.float32)
    if frame_rgb.ndim != 3 or frame_rgb.shape[0] < 2 or frame_rgb.shape[1] < 2:
        return ones
    h, w = frame_rgb.shape[:2]
    step = _stride(h * w, 20_000)
    px = frame_rgb[::step, ::step].reshape(-1, 3).astype(np.float32) / np.float32(255.0)
    peak = px.max(axis=1)
    px = px[(peak < 0.98) & (peak > 0.06)]  # clipped pixels carry no cast; dark ones are noise
    if px.shape[0] < 50:
        return ones
    p = 6.0
    sog = np.power(np.mean(np.power(px, p), axis=0), 1.0 / p)
    scale = min(1.0, 160.0 / max(h, w))
    size = (max(2, int(w * scale)), max(2, int(h * scale)))
    small = np.asarray(cv2.resize(frame_rgb, size, interpolation=cv2.INTER_AREA), np.float32)
    blurred = np.asarray(cv2.GaussianBlur(small / np.float32(255.0), (3, 3), 0), np.float32)
    gx = np.asarray(cv2.Sobel(blurred, cv2.CV_32F, 1, 0, ksize=3), np.float32)
    gy = np.asarray(cv2.Sobel(blurred, cv2.CV_32F, 0, 1, ksize=3), np.float32)
    mag = np.hypot(gx, gy).reshape(-1, 3)
    edge = np.power(np.mean(np.power(mag, p), axis=0), 1.0 / p)
    if float(sog.min()) <= 1e-6:
        return ones
    illum = np.sqrt(sog * edge) if float(edge.min()) > 1e-6 else sog
    gains = np.clip(float(illum.mean()) / illum, 0.6, 1.6)
    return np.asarray(gains, dtype=np.float32)


def is_greyscale(frame_rgb: npt.NDArray[np.uint8]) -> bool:
    """True for monochrome (night/IR) footage: chromaticity is ~constant across the frame.

    Uses rg-chromaticity ``rgb / (r + g + b)`` of non-dark pixels, compared with its median, so
    a uniformly tinted monochrome picture also counts; a colour scene has at least 1 % of
    pixels (vegetation, skin, signs, cars) far from the median.
    """
    if frame_rgb.ndim != 3 or frame_rgb.size == 0:
        return False
    h, w = frame_rgb.shape[:2]
    step = _stride(h * w, 10_000)
    px = frame_rgb[::step, ::step].reshape(-1, 3).astype(np.float32)
    total = px.sum(axis=1)
    bright = total > 90.0  # dark pixels have unreliable chromaticity
    if bright.sum() < 20:
        bright = total > 15.0
        if bright.sum() < 20:
            return True  # essentially black: nothing to name in colour
    chrom = px[bright] / total[bright, None]
    dev = np.abs(chrom - np.median(chrom, axis=0)).max(axis=1)
    return float(np.percentile(dev, 99)) < 0.03


def colour_histogram(pixels_rgb: npt.NDArray[np.uint8], gains: F32 | None = None) -> F32:
    """Soft colour-name distribution ``(11,)`` of ``(N, 3)`` uint8 RGB pixels (zeros if N == 0).

    Every pixel contributes its soft memberships with equal weight; large inputs are
    subsampled to about 2,000 pixels.
    """
    px = np.asarray(pixels_rgb, np.uint8).reshape(-1, 3)
    if px.shape[0] == 0:
        return np.zeros(_N, np.float32)
    px = px[:: max(1, px.shape[0] // _MAX_SAMPLES)]
    m = _memberships(*_perceptual(px, gains), greyscale=False)
    hist = m.sum(axis=0)
    return np.asarray(hist / hist.sum(), dtype=np.float32)


def vehicle_colour_scores(
    crop_rgb: npt.NDArray[np.uint8],
    gains: F32 | None = None,
    foreground: npt.NDArray[np.bool_] | None = None,
    greyscale: bool = False,
) -> tuple[F32, float]:
    """Colour distribution ``(11,)`` of the vehicle body in a box crop, and its evidence weight."""
    if crop_rgb.ndim != 3 or crop_rgb.shape[0] < 4 or crop_rgb.shape[1] < 4:
        return np.zeros(_N, np.float32), 0.0
    h, w = crop_rgb.shape[:2]
    sub = _downsample(crop_rgb, _MAX_SAMPLES)
    region = np.outer(_profile(sub.shape[0], _CAR_ROWS), _profile(sub.shape[1], _CAR_COLS))
    fg = _fg_weights(foreground, (h, w), (sub.shape[0], sub.shape[1]))
    weights = region * fg if fg is not None else region
    scores, usable = _score_region(
        sub.reshape(-1, 3), weights.ravel(), gains, greyscale, down_weight_dark=True
    )
    region_px = h * w * float(region.mean())
    return scores, usable * min(1.0, region_px / 800.0)


def _person_part(
    crop_rgb: npt.NDArray[np.uint8],
    rows: tuple[float, float],
    gains: F32 | None,
    foreground: npt.NDArray[np.bool_] | None,
    greyscale: bool,
) -> tuple[F32, float]:
    h, w = crop_rgb.shape[:2]
    y0, y1 = round(rows[0] * h), round(rows[1] * h)
    x0, x1 = round(_PERSON_COLS[0] * w), round(_PERSON_COLS[1] * w)
    part = crop_rgb[y0:y1, x0:x1]
    if part.shape[0] < 2 or part.shape[1] < 2:
        return np.zeros(_N, np.float32), 0.0
    sub = _downsample(part, _MAX_SAMPLES // 2)
    aligned = foreground is not None and foreground.shape[:2] == (h, w)
    fg_part = foreground[y0:y1, x0:x1] if foreground is not None and aligned else None
    fg = _fg_weights(fg_part, (part.shape[0], part.shape[1]), (sub.shape[0], sub.shape[1]))
    weights = fg if fg is not None else np.ones(sub.shape[:2], np.float32)
    # Dark clothing is common, so dark pixels are not down-weighted here.
    scores, usable = _score_region(
        sub.reshape(-1, 3), weights.ravel(), gains, greyscale, down_weight_dark=False
    )
    return scores, usable * min(1.0, part.shape[0] * part.shape[1] / 300.0)


def clothing_colour_scores(
    crop_rgb: npt.NDArray[np.uint8],
    gains: F32 | None = None,
    foreground: npt.NDArray[np.bool_] | None = None,
    greyscale: bool = False,
) -> tuple[tuple[F32, float], tuple[F32, float]]:
    """``((upper scores, weight), (lower scores, weight))`` for a person box crop."""
    if crop_rgb.ndim != 3 or crop_rgb.shape[0] < 4 or crop_rgb.shape[1] < 2:
        empty = (np.zeros(_N, np.float32), 0.0)
        return empty, empty
    upper = _person_part(crop_rgb, _UPPER_ROWS, gains, foreground, greyscale)
    lower = _person_part(crop_rgb, _LOWER_ROWS, gains, foreground, greyscale)
    return upper, lower


def decide(
    accumulated_scores: npt.NDArray[np.floating[Any]], total_weight: float, greyscale: bool = False
) -> ColourEstimate | None:
    """Pick the colour of a track from ``Σ scores·weight`` and ``Σ weight``; None if no evidence.

    ``confidence = share · W / (W + 0.5)``, × 0.6 for greyscale footage, where chromatic names
    are never returned (chromatic scores are dropped; None if nothing achromatic remains).
    """
    s = np.clip(np.asarray(accumulated_scores, np.float32).reshape(-1), 0.0, None)
    if s.shape[0] != _N or not total_weight > 0.0 or not np.isfinite(s).all():
        return None
    if greyscale:
        s = s.copy()
        s[_CHROMATIC_IDX] = 0.0
    total = float(s.sum())
    if total <= 0.0:
        return None
    p = (s / np.float32(total)).astype(np.float32)
    win = int(np.argmax(p))
    conf = float(p[win]) * total_weight / (total_weight + _EVIDENCE_K)
    if greyscale:
        conf *= _GREYSCALE_CONF
    return ColourEstimate(COLOURS[win], float(np.clip(conf, 0.0, 1.0)), p)
