"""The bad-input corpus of issue 12: one table of cases, each made on the spot with PyAV (no
file is checked in), with what the product must do with it.

A :class:`Case` has an id, an :class:`Area`, a sentence saying how the input is made, the
:class:`Expected` outcome, and a generator writing it into a :class:`Slot` (a folder of its
own, a scratch folder for intermediate files, a file-name stem that dates it, a seed that
makes its bytes unique so that no two cases share a SHA-256). Generators reuse ``clips.py``
and ``nvr_clips.py``; every clip is tiny (128×96, 10 fps, 2–6 s) so that the whole corpus is
made in a few seconds.

Expected outcomes are what issue 12 asks for, not what the code happens to do: a case the
product fails carries ``xfail`` with the reason (``tests/test_bad_input_corpus.py`` marks it
strict, so a fix shows). ``docs/hardening.md`` prints this table (:func:`table_markdown`).

Times: ``duration_s`` and ``until_s`` are recording seconds (0 = first frame).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path

import av
import numpy as np

from clips import BLUE, GREEN, RED, YELLOW, Moving, copy_as, make_clip, make_corrupt, make_still
from nvr_clips import concat, png_header_only, remux, rotated_clip, to_ts, x265_clip
from retrouve.errors import (
    CorruptStill,
    FootageChanged,
    ImageTooLarge,
    MediaError,
    RecordingTimeError,
    RetrouveError,
)
from retrouve.video.still_size import analysis_size

#: Frame size and rate of the corpus clips.
SIZE = (128, 96)
FPS = 10
#: The camera every case is ingested for (its zone reads naive start times).
CAMERA = "cam1"
ZONE = "Europe/Paris"


class Area(StrEnum):
    """The areas of issue 12 the corpus covers."""

    INTEGRITY = "integrity"
    PARTIAL = "partial"
    NVR = "nvr"
    STILLS = "stills"
    START = "start"
    CLI = "cli"
    GARBAGE = "garbage"


class Outcome(StrEnum):
    """What the product does with a case."""

    #: Ingest refuses the file: the report names it with the message; nothing registered.
    REFUSED = "refused"
    #: Ingested, then changed on disk: the analysis leaves it out, status "changed".
    CHANGED = "changed"
    #: Ingested and analysed up to where it decodes: status "partial" with the range.
    PARTIAL = "partial"
    #: Ingested and analysed whole: status "done".
    DONE = "done"
    #: A CLI exchange: the last command's exit code and output (no traceback anywhere).
    CLI = "cli"


@dataclass(frozen=True)
class Expected:
    """The outcome a case must have; unset fields are not checked.

    ``says``: fragments of the message (refusal, change, partial note, or the CLI output;
    ``{path}`` stands for the case's path). ``error``: the class of the refusal, as the
    catalogue's probe or start readers raise it. ``duration_s``: the stored duration (within
    a frame and a half); ``until_s``: the range the analysed part ends in; ``size``: the stored
    width × height; ``notes``: fragments of the ingest notes (discontinuities); ``tracks``: at
    least one track found (times and boxes inside the stored recording are always checked);
    ``within_s``: the refusal comes within this many seconds.
    """

    outcome: Outcome
    says: tuple[str, ...] = ()
    error: type[RetrouveError] | None = None
    duration_s: float | None = None
    until_s: tuple[float, float] | None = None
    size: tuple[int, int] | None = None
    image: bool | None = None
    codec: str | None = None
    notes: tuple[str, ...] = ()
    tracks: bool = False
    exit_code: int | None = None
    within_s: float | None = None

    def describe(self) -> str:
        """One line for the table of ``docs/hardening.md``."""
        cli = self.outcome is Outcome.CLI
        parts = [f"exit {self.exit_code}" if cli else self.outcome.value]
        if self.error is not None:
            parts.append(f"`{self.error.__name__}`")
        if self.says:
            shown = (f.replace("{path}", "<path>") for f in self.says)
            parts.append("says " + ", ".join(f"“{f}”" for f in shown))
        if self.duration_s is not None:
            parts.append(f"duration {self.duration_s:g} s")
        if self.until_s is not None:
            parts.append(f"analysed to {self.until_s[0]:g}–{self.until_s[1]:g} s")
        if self.size is not None:
            parts.append(f"stored {self.size[0]}×{self.size[1]}")
        if self.image is not None:
            parts.append("a still" if self.image else "a video")
        if self.codec:
            parts.append(self.codec)
        if self.notes:
            parts.append("note " + ", ".join(f"“{n}”" for n in self.notes))
        if self.tracks:
            parts.append("tracks found")
        if self.within_s is not None:
            parts.append(f"in < {self.within_s:g} s")
        return "; ".join(parts)


@dataclass(frozen=True)
class Slot:
    """Where a case is made: ``folder`` (its own), ``scratch`` (intermediate files, never
    ingested), ``stem`` (a file name dated by the ingest pattern) and ``seed``."""

    folder: Path
    scratch: Path
    stem: str
    seed: int


@dataclass(frozen=True)
class Sample:
    """What a generator made. ``path``: the file or folder to ingest; ``start``: the
    ``--start`` given; ``change``: done to the ingested file before the analysis; ``argv``:
    the CLI commands of a :attr:`Outcome.CLI` case (after ``--data-dir``)."""

    path: Path
    start: str | None = None
    change: Callable[[Path], None] | None = None
    argv: tuple[tuple[str, ...], ...] = ()


@dataclass(frozen=True)
class Case:
    """One row of the corpus. ``needs``: an encoder PyAV must have (else skipped);
    ``batch``: the case joins the one-folder batch (file inputs ingested by name); ``via``:
    ``"service"`` (catalogue and analyser) or ``"cli"`` (the commands of ``Sample.argv``)."""

    id: str
    area: Area
    made: str
    expected: Expected
    make: Callable[[Slot], Sample]
    xfail: str | None = None
    needs: str | None = None
    batch: bool = True
    via: str = "service"


# ------------------------------------------------------------------------ generators
_COLOURS = (RED, BLUE, GREEN, YELLOW)


def clip(path: Path, seed: int, seconds: float = 2.0, size: tuple[int, int] = SIZE) -> Path:
    """A clip of one block crossing the frame; ``seed`` picks its colour and height, so that
    two seeds never give the same bytes."""
    w, h = size
    k = max(1, w // 128)
    y = (8 + 6 * seed) % (h - 20 * k)
    block = Moving(_COLOURS[seed % 4], (24 * k, 16 * k), (0, y), (w - 24 * k, y), 0.0, seconds)
    return make_clip(path, seconds=seconds, fps=FPS, size=size, objects=[block]).path


def _cut(src: Path, dst: Path, fraction: float) -> Path:
    """``src``'s first ``fraction`` of bytes (an interrupted export)."""
    data = src.read_bytes()
    dst.write_bytes(data[: int(len(data) * fraction)])
    return dst


def _replace(seed: int) -> Callable[[Path], None]:
    def change(path: Path) -> None:
        clip(path.with_name("_new" + path.suffix), seed + 1000, seconds=3.0)
        os.replace(path.with_name("_new" + path.suffix), path)

    return change


def _append(path: Path) -> None:
    with path.open("ab") as f:
        f.write(np.random.default_rng(7).bytes(4096))


def _flip_middle(path: Path) -> None:
    st = path.stat()
    with path.open("r+b") as f:
        f.seek(st.st_size // 2)
        byte = f.read(1)
        f.seek(st.st_size // 2)
        f.write(bytes([byte[0] ^ 0xFF]))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))  # same size, same time: only bytes


def _touch(path: Path) -> None:
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))


def _unlink(path: Path) -> None:
    path.unlink()


def integrity(
    change: Callable[[Path], None] | None = None, replace: bool = False
) -> Callable[[Slot], Sample]:
    """A good clip, changed after ingest by ``change`` (or replaced by another clip)."""

    def make(slot: Slot) -> Sample:
        path = clip(slot.folder / f"{slot.stem}.mp4", slot.seed)
        return Sample(path, change=_replace(slot.seed) if replace else change)

    return make


def faststart_cut(fraction: float, seconds: float = 6.0) -> Callable[[Slot], Sample]:
    """An MP4 with its index first (``+faststart``, as most NVRs write), cut at ``fraction``
    of its media data (negative: that fraction of the index, which comes first)."""

    def make(slot: Slot) -> Sample:
        src = clip(slot.scratch / "src.mp4", slot.seed, seconds)
        fast = remux(src, slot.scratch / "fast.mp4", {"movflags": "+faststart"})
        data = fast.read_bytes()
        media = _media_start(fast)
        keep = (
            media + int((len(data) - media) * fraction) if fraction >= 0 else int(media * -fraction)
        )
        path = slot.folder / f"{slot.stem}.mp4"
        path.write_bytes(data[:keep])
        return Sample(path)

    return make


def _media_start(path: Path) -> int:
    """Byte offset of the first video packet (where the media data begins)."""
    with av.open(str(path)) as container:
        return min(p.pos for p in container.demux(video=0) if p.pos is not None and p.size)


def moov_last_cut(slot: Slot) -> Sample:
    """An MP4 whose index (moov) comes last, cut before it: nothing says what it holds."""
    src = clip(slot.scratch / "src.mp4", slot.seed, 4.0)
    return Sample(_cut(src, slot.folder / f"{slot.stem}.mp4", 0.6))


def mkv_cut(fraction: float, seconds: float) -> Callable[[Slot], Sample]:
    def make(slot: Slot) -> Sample:
        src = clip(slot.scratch / "src.mkv", slot.seed, seconds)
        return Sample(_cut(src, slot.folder / f"{slot.stem}.mkv", fraction))

    return make


def garbage_middle(n_bytes: int, seconds: float = 6.0) -> Callable[[Slot], Sample]:
    """A 320×240 H.264 MP4 (index last) whose ``n_bytes`` in the middle of its media data
    are overwritten with random bytes (bit rot, a bad sector): size and index intact."""

    def make(slot: Slot) -> Sample:
        src = clip(slot.scratch / "src.mp4", slot.seed, seconds, (320, 240))
        data = bytearray(src.read_bytes())
        mid = _media_start(src) + (len(data) - _media_start(src)) // 3
        data[mid : mid + n_bytes] = np.random.default_rng(slot.seed).bytes(n_bytes)
        path = slot.folder / f"{slot.stem}.mp4"
        path.write_bytes(bytes(data))
        return Sample(path)

    return make


def ts_cut(slot: Slot) -> Sample:
    src = to_ts(clip(slot.scratch / "src.mp4", slot.seed, 4.0), slot.scratch / "src.ts")
    return Sample(_cut(src, slot.folder / f"{slot.stem}.ts", 0.5))


def ts_direct(slot: Slot) -> Sample:
    """H.264 encoded straight into MPEG-TS (the muxer's own clock)."""
    return Sample(clip(slot.folder / f"{slot.stem}.ts", slot.seed))


def ts_remux(slot: Slot) -> Sample:
    """``ffmpeg -i good.mp4 -c copy out.ts``: a stream copy, the clock starting at 1.4 s."""
    return Sample(to_ts(clip(slot.scratch / "src.mp4", slot.seed), slot.folder / f"{slot.stem}.ts"))


def ts_hevc(slot: Slot) -> Sample:
    return Sample(
        to_ts(
            x265_clip(slot.scratch / "hevc.mkv", seconds=2.0, fps=FPS),
            slot.folder / f"{slot.stem}.ts",
        )
    )


def segments(
    second_shift_s: float, second_size: tuple[int, int] = SIZE
) -> Callable[[Slot], Sample]:
    """Two 2 s TS segments concatenated byte for byte; the second's clock starts at
    ``second_shift_s`` (1.4: a reset to the first's start; 3600: an hour's jump)."""

    def make(slot: Slot) -> Sample:
        a = to_ts(clip(slot.scratch / "a.mp4", slot.seed), slot.scratch / "a.ts")
        b = to_ts(
            clip(slot.scratch / "b.mp4", slot.seed + 500, size=second_size),
            slot.scratch / "b.ts",
            second_shift_s,
        )
        return Sample(concat([a, b], slot.folder / f"{slot.stem}.ts"))

    return make


def rotated(slot: Slot) -> Sample:
    return Sample(rotated_clip(slot.folder / f"{slot.stem}.mp4", 90))


def video_named_jpg(slot: Slot) -> Sample:
    src = clip(slot.scratch / "src.mp4", slot.seed)
    return Sample(copy_as(src, slot.folder / f"{slot.stem}.jpg"))


def jpeg_named_mp4(slot: Slot) -> Sample:
    still = make_still(slot.scratch / "s.jpg", size=(200, 100 + 2 * slot.seed))
    return Sample(copy_as(still, slot.folder / f"{slot.stem}.mp4"))


def png_of(width: int, height: int) -> Callable[[Slot], Sample]:
    """A valid, highly compressed grey PNG (a bomb past ``max_pixels``)."""

    def make(slot: Slot) -> Sample:
        return Sample(png_header_only(slot.folder / f"{slot.stem}.png", width, height))

    return make


def corrupt_png(slot: Slot) -> Sample:
    """A PNG whose signature and header hold, its image data replaced by random bytes."""
    good = make_still(slot.scratch / "s.png", size=(160, 120))
    data = good.read_bytes()
    body = np.random.default_rng(slot.seed).bytes(len(data) - 33)
    path = slot.folder / f"{slot.stem}.png"
    path.write_bytes(data[:33] + body)
    return Sample(path)


def corrupt_jpeg(slot: Slot) -> Sample:
    """A JPEG whose headers hold (up to the start of scan), its entropy data random."""
    good = make_still(
        slot.scratch / "s.jpg",
        size=(160, 120),
        objects=(Moving(RED, (40, 40), (20, 20), (20, 20), 0.0, 1.0),),
    )
    data = good.read_bytes()
    sos = data.index(b"\xff\xda")
    body = np.random.default_rng(slot.seed).bytes(len(data) - sos - 12)
    path = slot.folder / f"{slot.stem}.jpg"
    path.write_bytes(data[: sos + 12] + body.replace(b"\xff", b"\x00") + b"\xff\xd9")
    return Sample(path)


def zero_bytes(suffix: str) -> Callable[[Slot], Sample]:
    def make(slot: Slot) -> Sample:
        path = slot.folder / f"{slot.stem}{suffix}"
        path.write_bytes(b"")
        return Sample(path)

    return make


def random_bytes(slot: Slot) -> Sample:
    return Sample(make_corrupt(slot.folder / f"{slot.stem}.mp4", seed=slot.seed))


def text_file(slot: Slot) -> Sample:
    path = slot.folder / f"{slot.stem}.mp4"
    path.write_text(f"export log {slot.seed}\nthis is not a video\n" * 20)
    return Sample(path)


def named(name: str) -> Callable[[Slot], Sample]:
    """A good clip whose start comes from ``name`` (the ingest file-name pattern)."""

    def make(slot: Slot) -> Sample:
        return Sample(clip(slot.folder / name, slot.seed))

    return make


def given_start(start: str | Callable[[], str]) -> Callable[[Slot], Sample]:
    """A good clip ingested by the CLI with ``--start``."""

    def make(slot: Slot) -> Sample:
        path = clip(slot.folder / "clip.mp4", slot.seed, seconds=1.0)
        when = start if isinstance(start, str) else start()
        return Sample(
            path,
            start=when,
            argv=(
                ("cameras", "add", CAMERA, "--timezone", ZONE),
                ("ingest", str(path), "--camera", CAMERA, "--start", when),
            ),
        )

    return make


def two_days_ahead() -> str:
    """Now (the machine's clock: the CLI's) plus two days, in UTC."""
    return (datetime.now(UTC) + timedelta(days=2)).isoformat(timespec="seconds")


def markup_ingest(slot: Slot) -> Sample:
    """A folder whose path reads as console markup, holding a good clip."""
    folder = slot.folder / "exports [/y]" / "[cam 12]"
    path = clip(folder / "cam12_20260104_100000.mp4", slot.seed)
    return Sample(
        path,
        argv=(
            ("cameras", "add", "cam12"),
            ("ingest", str(slot.folder / "exports [/y]"), "--camera", "cam12"),
            ("recordings",),
        ),
    )


def markup_refused(slot: Slot) -> Sample:
    """A corrupt file whose name holds markup tags, in a folder that does too."""
    path = make_corrupt(
        slot.folder / "[/y]" / "cam12_20260104_110000 [bold]x[/bold].mp4", seed=slot.seed
    )
    return Sample(
        path, argv=(("cameras", "add", "cam12"), ("ingest", str(path.parent), "--camera", "cam12"))
    )


def markup_missing(slot: Slot) -> Sample:
    path = slot.folder / "nowhere [/y] [cam 12].mp4"
    return Sample(
        path, argv=(("cameras", "add", "cam12"), ("ingest", str(path), "--camera", "cam12"))
    )


def markup_name(slot: Slot) -> Sample:
    return Sample(
        slot.folder,
        argv=(("cameras", "add", "cam12", "--name", "[cam 12] [/y] Gare"), ("cameras", "list")),
    )


def camera_ids(*ids: str) -> Callable[[Slot], Sample]:
    """``cameras add`` for each id in turn (the last one is the one judged)."""

    def make(slot: Slot) -> Sample:
        return Sample(slot.folder, argv=tuple(("cameras", "add", i) for i in ids))

    return make


def empty_folder(slot: Slot) -> Sample:
    folder = slot.folder / "empty"
    folder.mkdir()
    return Sample(
        folder, argv=(("cameras", "add", CAMERA), ("ingest", str(folder), "--camera", CAMERA))
    )


def no_media_folder(slot: Slot) -> Sample:
    folder = slot.folder / "notes"
    folder.mkdir()
    (folder / "README.txt").write_text("export of cam1\n")
    return Sample(
        folder, argv=(("cameras", "add", CAMERA), ("ingest", str(folder), "--camera", CAMERA))
    )


# ----------------------------------------------------------------------------- table
_DECODE = ("cannot decode {path}",)
_GONE_AFTER = "changed since ingest"
_TAIL = "no frame decodes near the announced end"


def _refused(
    *says: str, error: type[RetrouveError] | None = MediaError, within_s: float | None = None
) -> Expected:
    return Expected(Outcome.REFUSED, says=says, error=error, within_s=within_s)


def _start_refused(*says: str) -> Expected:
    return Expected(Outcome.CLI, says=("refused", *says), error=RecordingTimeError, exit_code=1)


def _cli(exit_code: int, *says: str) -> Expected:
    return Expected(Outcome.CLI, says=says, exit_code=exit_code)


_LARGE = (6000, 4000)

CASES: tuple[Case, ...] = (
    # ----------------------------------------------------------------- footage integrity
    Case(
        "integrity-replaced",
        Area.INTEGRITY,
        "good clip ingested, then replaced by another clip under the same name",
        Expected(Outcome.CHANGED, says=("{path}", _GONE_AFTER), error=FootageChanged),
        integrity(replace=True),
    ),
    Case(
        "integrity-appended",
        Area.INTEGRITY,
        "good clip ingested, then 4 KiB appended",
        Expected(Outcome.CHANGED, says=("{path}", _GONE_AFTER, "bytes now"), error=FootageChanged),
        integrity(_append),
    ),
    Case(
        "integrity-same-size",
        Area.INTEGRITY,
        "good clip ingested, then one byte in the middle flipped (size and mtime kept)",
        Expected(
            Outcome.CHANGED,
            says=("{path}", _GONE_AFTER, "sampled blocks differ"),
            error=FootageChanged,
        ),
        integrity(_flip_middle),
    ),
    Case(
        "integrity-deleted",
        Area.INTEGRITY,
        "good clip ingested, then deleted",
        Expected(
            Outcome.CHANGED, says=("{path}", _GONE_AFTER, "cannot read"), error=FootageChanged
        ),
        integrity(_unlink),
    ),
    Case(
        "integrity-touched",
        Area.INTEGRITY,
        "good clip ingested, then its mtime moved 5 s (content identical): not tampering",
        Expected(Outcome.DONE, tracks=True),
        integrity(_touch),
    ),
    # -------------------------------------------------------------------- partial footage
    Case(
        "partial-mp4-cut-30",
        Area.PARTIAL,
        "6 s MP4, index first (+faststart), cut at 30 % of its media data",
        Expected(
            Outcome.PARTIAL,
            says=("decodable content ends",),
            duration_s=6.0,
            until_s=(0.5, 3.0),
            notes=(_TAIL,),
        ),
        faststart_cut(0.3),
    ),
    Case(
        "partial-mp4-cut-80",
        Area.PARTIAL,
        "6 s MP4, index first, cut at 80 % of its media data",
        Expected(
            Outcome.PARTIAL,
            says=("decodable content ends",),
            duration_s=6.0,
            until_s=(3.0, 5.5),
            notes=(_TAIL,),
        ),
        faststart_cut(0.8),
    ),
    Case(
        "partial-mp4-cut-index",
        Area.PARTIAL,
        "6 s MP4, index first, cut in the middle of its index",
        _refused("{path}"),
        faststart_cut(-0.5),
    ),
    Case(
        "partial-mp4-no-index",
        Area.PARTIAL,
        "4 s MP4, index last (PyAV's default), cut to 60 %: the index is gone",
        _refused(*_DECODE),
        moov_last_cut,
    ),
    Case(
        "partial-mkv-cut-50",
        Area.PARTIAL,
        "6 s Matroska cut to 50 % of its bytes",
        Expected(
            Outcome.PARTIAL, says=("decodable content ends",), duration_s=6.0, until_s=(1.0, 4.5)
        ),
        mkv_cut(0.5, 6.0),
    ),
    Case(
        "partial-mkv-long-cut-30",
        Area.PARTIAL,
        "30 s Matroska cut to 30 % of its bytes (3 work units of 10 s, 2 past the cut)",
        Expected(
            Outcome.PARTIAL,
            says=("decodable content ends",),
            duration_s=30.0,
            until_s=(4.0, 14.0),
            notes=(_TAIL,),
        ),
        mkv_cut(0.3, 30.0),
    ),
    Case(
        "partial-mp4-garbage-middle",
        Area.PARTIAL,
        "6 s 320×240 MP4, 2 KiB of random bytes written over its media data a third in",
        Expected(
            Outcome.PARTIAL,
            says=("damaged footage", "the decoder reported corrupt data at", "was skipped"),
            duration_s=6.0,
            tracks=True,
        ),
        garbage_middle(2048),
    ),
    Case(
        "partial-ts-cut-50",
        Area.PARTIAL,
        "4 s MPEG-TS (stream copy) cut to 50 %: TS announces no duration, what is there is "
        "the recording",
        Expected(Outcome.DONE, duration_s=2.0),
        ts_cut,
    ),
    # ----------------------------------------------------------------------- NVR containers
    Case(
        "nvr-ts-h264",
        Area.NVR,
        "H.264 encoded straight into MPEG-TS",
        Expected(Outcome.DONE, duration_s=2.0, codec="h264", size=SIZE, tracks=True),
        ts_direct,
    ),
    Case(
        "nvr-ts-copy-remux",
        Area.NVR,
        "good MP4 stream-copied into MPEG-TS (`-c copy`), clock from 1.4 s",
        Expected(Outcome.DONE, duration_s=2.0, codec="h264", size=SIZE, tracks=True),
        ts_remux,
    ),
    Case(
        "nvr-ts-h265",
        Area.NVR,
        "H.265 (libx265) stream-copied into MPEG-TS",
        Expected(Outcome.DONE, duration_s=2.0, codec="hevc", size=(320, 240), tracks=True),
        ts_hevc,
        needs="libx265",
    ),
    Case(
        "nvr-concat-pts-reset",
        Area.NVR,
        "two 2 s TS segments concatenated byte for byte, both clocks from 1.4 s",
        Expected(Outcome.DONE, duration_s=4.0, notes=("timestamp reset",), tracks=True),
        segments(1.4),
    ),
    Case(
        "nvr-concat-pts-jump",
        Area.NVR,
        "two 2 s TS segments concatenated, the second's clock an hour later",
        Expected(Outcome.DONE, duration_s=4.0, notes=("timestamp jump",), tracks=True),
        segments(3600.0),
    ),
    Case(
        "nvr-resolution-change",
        Area.NVR,
        "two TS segments, 128×96 then 256×192, clocks contiguous",
        Expected(Outcome.DONE, duration_s=4.0, size=SIZE, tracks=True),
        segments(3.4, (256, 192)),
    ),
    Case(
        "nvr-rotation-90",
        Area.NVR,
        "320×240 H.264 MP4 with a 90° display matrix",
        Expected(Outcome.DONE, duration_s=2.0, size=(240, 320)),
        rotated,
    ),
    Case(
        "nvr-video-named-jpg",
        Area.NVR,
        "good MP4 renamed .jpg",
        Expected(Outcome.DONE, duration_s=2.0, image=False, size=SIZE, tracks=True),
        video_named_jpg,
    ),
    Case(
        "nvr-jpeg-named-mp4",
        Area.NVR,
        "200×H JPEG renamed .mp4",
        Expected(Outcome.DONE, image=True),
        jpeg_named_mp4,
    ),
    # ------------------------------------------------------------------------------ stills
    Case(
        "still-bomb",
        Area.STILLS,
        "9000×9000 grey PNG (81 Mpx decoded, a few hundred KB on disk)",
        _refused(
            "{path}",
            "exceeds the limit of 40.0 Mpx",
            "refused before decoding",
            error=ImageTooLarge,
            within_s=1.0,
        ),
        png_of(9000, 9000),
    ),
    Case(
        "still-very-large",
        Area.STILLS,
        "6000×4000 grey PNG (24 Mpx, under the limit)",
        Expected(Outcome.DONE, image=True, size=analysis_size(*_LARGE)),
        png_of(*_LARGE),
    ),
    Case(
        "still-corrupt-png",
        Area.STILLS,
        "PNG signature and header, image data random",
        _refused("{path}"),
        corrupt_png,
    ),
    Case(
        "still-corrupt-jpeg",
        Area.STILLS,
        "JPEG headers up to the start of scan, entropy data random (FFmpeg would conceal "
        "it as noise: stills are decoded with `err_detect=explode`)",
        _refused("{path}", "the decoder reported corrupt image data", error=CorruptStill),
        corrupt_jpeg,
    ),
    Case(
        "still-zero-bytes",
        Area.STILLS,
        "empty file named .jpg",
        _refused("{path}", "file is empty"),
        zero_bytes(".jpg"),
    ),
    # -------------------------------------------------------------------------- start times
    Case(
        "start-1900",
        Area.START,
        "`--start 1900-01-01T10:00:00+00:00`",
        _start_refused("before 1990"),
        given_start("1900-01-01T10:00:00+00:00"),
        batch=False,
        via="cli",
    ),
    Case(
        "start-2999",
        Area.START,
        "`--start 2999-01-01T10:00:00+00:00`",
        _start_refused("more than a day in the future"),
        given_start("2999-01-01T10:00:00+00:00"),
        batch=False,
        via="cli",
    ),
    Case(
        "start-year-1",
        Area.START,
        "`--start 0001-01-01` (naive, the camera's zone)",
        _start_refused("0001-01-01"),
        given_start("0001-01-01"),
        batch=False,
        via="cli",
    ),
    Case(
        "start-9999-12-31",
        Area.START,
        "`--start 9999-12-31` (naive, near the maximum)",
        _start_refused("more than a day in the future"),
        given_start("9999-12-31"),
        batch=False,
        via="cli",
    ),
    Case(
        "start-dst-gap",
        Area.START,
        "`--start 2026-03-29T02:30:00` (Paris skips 02:00–03:00)",
        _start_refused("does not exist in Europe/Paris"),
        given_start("2026-03-29T02:30:00"),
        batch=False,
        via="cli",
    ),
    Case(
        "start-dst-fold",
        Area.START,
        "`--start 2026-10-25T02:30:00` (Paris lives it twice)",
        _start_refused("twice", "+02:00", "+01:00"),
        given_start("2026-10-25T02:30:00"),
        batch=False,
        via="cli",
    ),
    Case(
        "start-two-days-ahead",
        Area.START,
        "`--start` now + 2 days (UTC)",
        _start_refused("more than a day in the future"),
        given_start(two_days_ahead),
        batch=False,
        via="cli",
    ),
    Case(
        "start-malformed-word",
        Area.START,
        "`--start yesterday`",
        _start_refused("bad start time 'yesterday'", "ISO-8601"),
        given_start("yesterday"),
        batch=False,
        via="cli",
    ),
    Case(
        "start-malformed-feb-30",
        Area.START,
        "`--start 2026-02-30T10:00:00`",
        _start_refused("bad start time"),
        given_start("2026-02-30T10:00:00"),
        batch=False,
        via="cli",
    ),
    Case(
        "start-malformed-hour-25",
        Area.START,
        "`--start 2026-01-04T25:00:00`",
        _start_refused("bad start time"),
        given_start("2026-01-04T25:00:00"),
        batch=False,
        via="cli",
    ),
    Case(
        "start-name-1900",
        Area.START,
        "good clip named `cam1_19000101_100000.mp4`",
        _refused("before 1990", error=RecordingTimeError),
        named("cam1_19000101_100000.mp4"),
    ),
    Case(
        "start-name-dst-gap",
        Area.START,
        "good clip named `cam1_20260329_023000.mp4`",
        _refused("does not exist in Europe/Paris", error=RecordingTimeError),
        named("cam1_20260329_023000.mp4"),
    ),
    Case(
        "start-name-dst-fold",
        Area.START,
        "good clip named `cam1_20261025_023000.mp4`",
        _refused("twice", error=RecordingTimeError),
        named("cam1_20261025_023000.mp4"),
    ),
    Case(
        "start-name-none",
        Area.START,
        "good clip named `export.mp4` (no time in the name)",
        _refused("{path}", "no start time", error=None),
        named("export.mp4"),
    ),
    # ---------------------------------------------------------------------------- CLI text
    Case(
        "cli-markup-path",
        Area.CLI,
        "good clip under `exports [/y]/[cam 12]/`, ingested by folder, then `recordings`",
        _cli(0, "pending"),
        markup_ingest,
        batch=False,
        via="cli",
    ),
    Case(
        "cli-markup-refused",
        Area.CLI,
        "random bytes named `… [bold]x[/bold].mp4` under `[/y]/`",
        _cli(1, "refused {path}"),
        markup_refused,
        batch=False,
        via="cli",
    ),
    Case(
        "cli-markup-missing",
        Area.CLI,
        "`ingest 'nowhere [/y] [cam 12].mp4'` (no such file)",
        _cli(2, "{path}", "no such file"),
        markup_missing,
        batch=False,
        via="cli",
    ),
    Case(
        "cli-markup-name",
        Area.CLI,
        "`cameras add cam12 --name '[cam 12] [/y] Gare'`, list",
        _cli(0, "[cam 12] [/y] Gare"),
        markup_name,
        batch=False,
        via="cli",
    ),
    Case(
        "cli-id-space",
        Area.CLI,
        "`cameras add 'cam 9'`",
        _cli(2, "bad camera id 'cam 9'", "'cam_9'"),
        camera_ids("cam 9"),
        batch=False,
        via="cli",
    ),
    Case(
        "cli-id-collision",
        Area.CLI,
        "`cameras add cam_9`, then `cameras add CAM_9`",
        _cli(2, "'CAM_9'", "'cam_9'", "by case only"),
        camera_ids("cam_9", "CAM_9"),
        batch=False,
        via="cli",
    ),
    Case(
        "cli-id-underscore-and-dash",
        Area.CLI,
        "`cameras add cam_9`, then `cam-9`: distinct",
        _cli(0, "cam-9"),
        camera_ids("cam_9", "cam-9"),
        batch=False,
        via="cli",
    ),
    Case(
        "cli-id-slash",
        Area.CLI,
        "`cameras add cam/9`",
        _cli(2, "bad camera id 'cam/9'"),
        camera_ids("cam/9"),
        batch=False,
        via="cli",
    ),
    Case(
        "cli-id-empty",
        Area.CLI,
        "`cameras add ''`",
        _cli(2, "bad camera id ''"),
        camera_ids(""),
        batch=False,
        via="cli",
    ),
    Case(
        "cli-id-accent",
        Area.CLI,
        "`cameras add é9`",
        _cli(2, "bad camera id 'é9'"),
        camera_ids("é9"),
        batch=False,
        via="cli",
    ),
    Case(
        "cli-id-too-long",
        Area.CLI,
        "`cameras add` with a 129-character id",
        _cli(2, "bad camera id", "at most 128 characters"),
        camera_ids("c" * 129),
        batch=False,
        via="cli",
    ),
    # ----------------------------------------------------------------------------- garbage
    Case(
        "garbage-random-mp4",
        Area.GARBAGE,
        "20 000 random bytes named .mp4",
        _refused(*_DECODE),
        random_bytes,
    ),
    Case("garbage-text-mp4", Area.GARBAGE, "a text file named .mp4", _refused(*_DECODE), text_file),
    Case(
        "garbage-zero-mp4",
        Area.GARBAGE,
        "empty file named .mp4",
        _refused("{path}", "file is empty"),
        zero_bytes(".mp4"),
    ),
    Case(
        "garbage-empty-folder",
        Area.GARBAGE,
        "`ingest` of an empty folder",
        _cli(2, "{path}", "no media files"),
        empty_folder,
        batch=False,
        via="cli",
    ),
    Case(
        "garbage-no-media-folder",
        Area.GARBAGE,
        "`ingest` of a folder holding a .txt only",
        _cli(2, "{path}", "no media files"),
        no_media_folder,
        batch=False,
        via="cli",
    ),
)


def by_id(case_id: str) -> Case:
    [case] = [c for c in CASES if c.id == case_id]
    return case


def build(case: Case, root: Path, index: int) -> Sample:
    """Make ``case`` under ``root/case.id`` (seed and file-name time from ``index``)."""
    folder = root / case.id
    scratch = root / "_scratch" / case.id
    folder.mkdir(parents=True)
    scratch.mkdir(parents=True)
    stem = f"{CAMERA}_20260104_{10 + index // 60:02d}{index % 60:02d}00"
    return case.make(Slot(folder, scratch, stem, index))


def table_markdown() -> str:
    """The table of ``docs/hardening.md``: id, area, how it is made, expected outcome."""
    rows = ["| id | area | input | expected |", "|---|---|---|---|"]
    for c in CASES:
        expected = c.expected.describe().replace("|", "\\|")
        if c.xfail:
            expected += f" — **xfail**: {c.xfail}"
        rows.append(f"| `{c.id}` | {c.area} | {c.made.replace('|', chr(92) + '|')} | {expected} |")
    return "\n".join(rows)
