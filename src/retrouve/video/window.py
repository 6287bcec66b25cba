"""Short windows of a recording for the operators' browser: fragmented MP4 or WebM, streamed.

Pure media logic, no HTTP (``retrouve.web.media`` maps it to routes). When the original is
not served as-is (see :mod:`retrouve.video.playability`), or no ``Range`` is asked,
:func:`remux_window_file` copies the window's packets into a whole, seekable MP4/WebM held in
memory (bounded, for byte-range serving), and :func:`remux_or_transcode` writes a
*fragmented* MP4 (``frag_keyframe+empty_moov+default_base_moof``) or a WebM of only
``[t_from, t_to]``: packets are copied without re-encoding when the codec plays in that
container, else decoded and re-encoded fast
(libx264 ultrafast/zerolatency, or libvpx realtime). Bytes are yielded as the muxer writes
them, so memory stays at about one fragment (at most ~1 s of video) whatever the recording's
length, and the whole recording is never read.

Time base: *recording seconds* as :mod:`retrouve.video.timeline` defines them, exactly the
times :mod:`retrouve.video.decode` gives the analysis (so track times line up):
``(pts − start_time) × time_base`` while the timestamps run on, frame order across a reset or
jump (such files are always transcoded: their raw timestamps cannot place a copied packet).
A window's media time 0 is recording second :attr:`ClipStream.offset_s`.

Audio is always dropped from windows: CCTV audio is rare, mostly G.711 that browsers do not
play in MP4, and recording sound in public space is generally not lawful evidence anyway.
"""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Final, Literal

import av
import av.container
import numpy as np

from retrouve.errors import MediaError
from retrouve.video.orient import displayed_size, quarter_turns, upright
from retrouve.video.playability import (
    DEFAULT_POLICY,
    MEDIA_TYPES,
    PlaybackPolicy,
    Target,
    probe_media,
)
from retrouve.video.seeking import is_unindexed, open_video, scan_packets, seek_before
from retrouve.video.timeline import Timeline

log = logging.getLogger(__name__)

Mode = Literal["remux", "transcode"]

#: Most bytes handed to the HTTP layer in one piece.
CHUNK_BYTES: Final = 256 * 1024
#: Fragmented MP4 a ``<video>`` element (or MSE) can play while it is still being written.
MP4_MOVFLAGS: Final = "frag_keyframe+empty_moov+default_base_moof"
#: Longest fragment / cluster (µs / ms): bounds muxer memory and time to first byte even when
#: the camera's GOP is long (NVR "smart codecs" use key frames 10-60 s apart).
FRAGMENT_US: Final = 1_000_000
CLUSTER_MS: Final = 1_000


class ClipStream:
    """The bytes of one window, with what the player needs to know. Iterate once.

    ``offset_s``: recording seconds at media time 0. ``duration_s``: about how long the
    window plays (media seconds). ``mode``: ``remux`` (packets copied) or ``transcode``.
    ``codec``: the codec in the stream. Iterating closes the source file when done;
    :meth:`close` releases it when the stream is abandoned.
    """

    def __init__(
        self, *, target: Target, mode: Mode, codec: str, offset_s: float, duration_s: float,
        chunks: Iterator[bytes], closer: Callable[[], None],
    ) -> None:
        self.target: Target = target
        self.media_type = MEDIA_TYPES[target]
        self.mode: Mode = mode
        self.codec = codec
        self.offset_s = offset_s
        self.duration_s = duration_s
        self._chunks = chunks
        self._closer = closer

    def __iter__(self) -> Iterator[bytes]:
        return self._chunks

    def close(self) -> None:
        """Stop producing and release the source file (idempotent)."""
        close = getattr(self._chunks, "close", None)
        if close is not None:
            close()
        self._closer()


class _Sink:
    """Non-seekable write target for PyAV: collects what the muxer writes until taken.

    It has no ``seek``/``tell`` on purpose: PyAV then tells FFmpeg the output is a pipe,
    so the muxers never go back to patch headers and every byte is final once written.
    """

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self.pending = 0

    def write(self, data: bytes | bytearray | memoryview) -> int:
        b = bytes(data)
        self._parts.append(b)
        self.pending += len(b)
        return len(b)

    def take(self) -> bytes:
        out = b"".join(self._parts)
        self._parts.clear()
        self.pending = 0
        return out


class _Buffer(io.BytesIO):
    """Seekable in-memory write target: the MP4 muxer writes a plain (non-fragmented) file
    and patches its header at the end; nothing is handed over before :meth:`getvalue`."""

    pending = 0

    def take(self) -> bytes:
        return b""


class _CannotRemux(Exception):
    """The packets cannot be copied as they are (no timestamps, muxer refusal)."""


def _open_output(sink: _Sink | _Buffer, target: Target) -> av.container.OutputContainer:
    if isinstance(sink, _Buffer):
        # A whole file with its index: a <video> can seek in it by byte ranges.
        return av.open(sink, "w", format=target)
    if target == "mp4":
        options = {"movflags": MP4_MOVFLAGS, "frag_duration": str(FRAGMENT_US)}
        return av.open(sink, "w", format="mp4", options=options)
    return av.open(sink, "w", format="webm", options={"cluster_time_limit": str(CLUSTER_MS)})


def _seek(
    path: Path | str, name: str, container: av.container.InputContainer, t: float
) -> av.container.InputContainer:
    """Position ``container`` on a key frame at or before recording second ``t``
    (:func:`retrouve.video.seeking.seek_before`; a new container when it had to reopen)."""
    return seek_before(path, name, container, t, container.streams.video[0].start_time, "play")


def _discontinuous(path: Path | str) -> bool:
    """True when an index-less file has a timestamp reset or jump (a packet scan)."""
    with av.open(str(path)) as container:
        if not is_unindexed(container):
            return False
        vs = container.streams.video[0]
        rate = vs.average_rate or vs.guessed_rate
    span = scan_packets(path, float(rate) if rate else 25.0)
    return span is not None and bool(span.discontinuities)


def _drain(sink: _Sink | _Buffer) -> Iterator[bytes]:
    """Hand over what the muxer wrote, as soon as it wrote it (it writes in AVIO-buffer
    blocks and at each fragment), so the player gets the header and first fragment without
    waiting for the window to be encoded; ``CHUNK_BYTES`` caps one piece."""
    data = sink.take()
    for i in range(0, len(data), CHUNK_BYTES):
        yield data[i:i + CHUNK_BYTES]


# ------------------------------------------------------------------------------ remux
def _start_remux(
    path: Path | str, name: str, t_from: float, t_to: float, target: Target,
    sink: _Sink | _Buffer | None = None,
) -> ClipStream:
    """Copy the packets of ``[t_from, t_to]`` from the key frame before ``t_from`` into
    ``sink`` (default: a pipe-like :class:`_Sink`, fragmented output)."""
    inp = open_video(path, name, "play")
    try:
        inp = _seek(path, name, inp, t_from)
        vs = inp.streams.video[0]
        tb = vs.time_base
        if tb is None:
            raise _CannotRemux("no time base")
        zero = vs.start_time or 0  # raw timestamp of recording second 0
        packets = inp.demux(vs)
        gop: list[av.Packet[av.VideoStream]] = []  # from the latest key frame at or before t_from
        for pkt in packets:
            if pkt.size == 0:
                continue
            if pkt.pts is None:
                raise _CannotRemux("packets without timestamps")
            if pkt.is_keyframe and (not gop or (pkt.pts - zero) * tb <= t_from):
                gop = [pkt]
            elif gop:
                gop.append(pkt)
            if gop and (pkt.pts - zero) * tb > t_from:
                break
        if not gop:
            raise MediaError(f"cannot play {name}: no key frame after {t_from:.2f}s")
        key = gop[0]
        assert key.pts is not None
        # Media time 0 = the key frame's *decode* time: with B-frames its dts is before its
        # pts, and the muxer would otherwise shift everything to make dts non-negative.
        base = key.pts if key.dts is None else min(key.pts, key.dts)
        offset = float((base - zero) * tb)
        if sink is None:
            sink = _Sink()
        out = _open_output(sink, target)
        ost = out.add_stream_from_template(vs)

        def rebase(pkt: av.Packet[av.VideoStream]) -> av.Packet[av.VideoStream]:
            assert pkt.pts is not None
            pkt.pts -= base
            if pkt.dts is not None:
                pkt.dts -= base
            pkt.stream = ost
            return pkt

        try:
            for pkt in gop:
                out.mux(rebase(pkt))
        except (av.FFmpegError, ValueError) as exc:
            out.close()
            raise _CannotRemux(str(exc)) from exc
    except BaseException:
        inp.close()
        raise

    def chunks() -> Iterator[bytes]:
        try:
            yield from _drain(sink)
            for pkt in packets:
                if pkt.size == 0:
                    continue
                ts = pkt.dts if pkt.dts is not None else pkt.pts
                # Decode order: every frame shown before t_to has its dts <= t_to.
                if ts is None or (ts - zero) * tb > t_to:
                    break
                out.mux(rebase(pkt))
                yield from _drain(sink)
            out.close()
            yield from _drain(sink)
        except av.FFmpegError as exc:
            # Headers are sent: the best is to end the stream short and say why in the log.
            log.warning("window of %s cut short at remux: %s", name, exc)
        finally:
            inp.close()

    return ClipStream(
        target=target, mode="remux", codec=vs.codec_context.name, offset_s=offset,
        duration_s=max(0.0, t_to - offset), chunks=chunks(), closer=inp.close,
    )


# -------------------------------------------------------------------------- transcode
@dataclass
class _Encoder:
    codec: str
    target: Target
    options: dict[str, object] = field(default_factory=dict)


def _encoder(target: Target, policy: PlaybackPolicy, fps: float) -> _Encoder:
    gop = str(max(1, round(fps)))  # a key frame a second: the stream starts and seeks fast
    if target == "mp4" and "libx264" in av.codecs_available:
        return _Encoder("libx264", "mp4", {
            "preset": "ultrafast", "tune": "zerolatency", "crf": "23", "g": gop,
        })
    # No libx264 (or WebM asked): VP8/VP9 in realtime mode, no look-ahead, so every
    # frame comes out as soon as it goes in.
    opts: dict[str, object] = {
        "deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0", "g": gop,
    }
    if policy.webm_encoder == "libvpx-vp9":
        opts["row-mt"] = "1"
    return _Encoder(policy.webm_encoder, "webm", opts)


def _out_size(width: int, height: int, max_height: int) -> tuple[int, int]:
    """Even output size, scaled down to ``max_height`` with the aspect ratio kept."""
    if height > max_height:
        width, height = round(width * max_height / height), max_height
    return max(2, width // 2 * 2), max(2, height // 2 * 2)


def _upright_frame(frame: av.VideoFrame, width: int, height: int, turns: int
                   ) -> av.VideoFrame:
    """``frame`` as displayed ``width`` × ``height`` yuv420p, turned upright."""
    if turns % 4 == 0:
        return frame.reformat(width=width, height=height, format="yuv420p")
    cw, ch = displayed_size(width, height, turns)
    rgb = upright(np.asarray(frame.reformat(width=cw, height=ch, format="rgb24").to_ndarray(),
                             dtype=np.uint8), turns)
    return av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p")


def _start_transcode(
    path: Path | str, name: str, t_from: float, t_to: float, target: Target,
    policy: PlaybackPolicy,
) -> ClipStream:
    """Decode from the key frame before ``t_from``, re-encode the frames of the window."""
    inp = open_video(path, name, "play")
    try:
        inp = _seek(path, name, inp, t_from)
        vs = inp.streams.video[0]
        vs.thread_type = "AUTO"
        rate = vs.average_rate or vs.guessed_rate
        fps = float(rate) if rate else 25.0
        half = 0.5 / fps

        clock = Timeline(vs.time_base, fps, vs.start_time)

        def timed() -> Iterator[tuple[float, av.VideoFrame]]:
            # The time base of video.decode.sample_frames, so windows match track times.
            for frame in inp.decode(vs):
                yield clock.place(frame.pts), frame

        frames = timed()
        first: tuple[float, av.VideoFrame] | None = None
        for t, frame in frames:
            if t >= t_from - half:
                first = (t, frame)
                break
        if first is None:
            raise MediaError(f"cannot play {name}: no frame after {t_from:.2f}s")
        offset = first[0]
        enc = _encoder(target, policy, fps)
        sink = _Sink()
        out = _open_output(sink, enc.target)
        ost = out.add_stream(enc.codec, rate=Fraction(rate) if rate else 25)
        assert isinstance(ost, av.VideoStream)
        # Upright (display matrix applied: a transcode carries no matrix of its own).
        turns = quarter_turns(first[1])
        ost.width, ost.height = _out_size(
            *displayed_size(first[1].width, first[1].height, turns), policy.max_height)
        ost.pix_fmt = "yuv420p"
        # Millisecond timestamps keep variable frame rates (common on NVRs) as recorded.
        ost.codec_context.time_base = Fraction(1, 1000)
        ost.options = enc.options
        if enc.codec.startswith("libvpx"):
            ost.bit_rate = int(min(8e6, max(3e5, ost.width * ost.height * fps * 0.08)))
    except av.FFmpegError as exc:
        inp.close()
        raise MediaError(f"cannot transcode {name} at {t_from:.2f}s: {exc}") from exc
    except BaseException:
        inp.close()
        raise

    def push(t: float, frame: av.VideoFrame, last_pts: int) -> int:
        """Encode and mux one frame at media ms ``t - offset``; returns its pts."""
        pts = max(last_pts + 1, round((t - offset) * 1000))  # strictly increasing
        img = _upright_frame(frame, ost.width, ost.height, turns)
        img.pts = pts
        img.time_base = Fraction(1, 1000)
        out.mux(ost.encode(img))
        return pts

    def chunks() -> Iterator[bytes]:
        try:
            pts = push(*first, -1)
            yield from _drain(sink)
            for t, frame in frames:
                if t > t_to:
                    break
                pts = push(t, frame, pts)
                yield from _drain(sink)
            out.mux(ost.encode(None))
            out.close()
            yield from _drain(sink)
        except av.FFmpegError as exc:
            log.warning("window of %s cut short at transcode: %s", name, exc)
        finally:
            inp.close()

    return ClipStream(
        target=enc.target, mode="transcode", codec=enc.codec, offset_s=offset,
        duration_s=max(0.0, t_to - offset), chunks=chunks(), closer=inp.close,
    )


@dataclass(frozen=True)
class WindowFile:
    """A window cut into a whole, seekable file held in memory.

    ``offset_s``: recording seconds at media time 0 (the key frame before the window);
    ``data``: the file's bytes (``media_type``), the same for the same source and window.
    """

    data: bytes
    offset_s: float
    media_type: str
    codec: str


def remux_window_file(
    path: Path | str, t_from: float, t_to: float, *, duration_s: float,
    policy: PlaybackPolicy = DEFAULT_POLICY, label: str | None = None,
    max_bytes: int = 64 * 1024 * 1024,
) -> WindowFile | None:
    """Recording seconds ``[t_from, t_to]`` of ``path`` as a plain MP4/WebM (packets copied
    from the key frame at or before ``t_from``, index at the end), for byte-range serving:
    unlike the fragmented stream of :func:`remux_or_transcode`, a ``<video>`` can seek in it.

    ``None`` when the window cannot be copied as it is (it needs a transcode, the file has
    timestamp discontinuities) or would likely exceed ``max_bytes`` (the file's mean bit rate
    over the window, doubled for a long GOP; ``duration_s``: the recording's length in
    seconds, ``<= 0`` when unknown): the caller then streams it. Raises
    :class:`MediaError` when the file cannot be opened or holds nothing at ``t_from``.
    """
    if t_to < t_from:
        raise ValueError(f"window ends before it starts: {t_from} > {t_to}")
    name = label or str(path)
    info = probe_media(path, name)
    if info.pix_fmt not in policy.pix_fmts:
        return None
    wanted: list[Target] = [policy.prefer, "webm" if policy.prefer == "mp4" else "mp4"]
    target = next((c for c in wanted if info.codec in policy.codecs(c)), None)
    if target is None:
        return None
    size = os.stat(path).st_size
    if duration_s > 0:
        share = min(1.0, (t_to - t_from) / duration_s)
        if 2 * size * share > max_bytes:
            return None
    elif size > max_bytes:
        return None
    if _discontinuous(path):
        return None
    buf = _Buffer()
    try:
        stream = _start_remux(path, name, t_from, t_to, target, sink=buf)
    except _CannotRemux:
        return None
    for _ in stream:  # the muxer writes into buf; nothing is yielded
        pass
    if buf.tell() == 0:
        return None  # cut short (the muxer failed, and logged why)
    return WindowFile(buf.getvalue(), stream.offset_s, stream.media_type, stream.codec)


def remux_or_transcode(
    path: Path | str, t_from: float, t_to: float, *, target: Target | None = None,
    policy: PlaybackPolicy = DEFAULT_POLICY, label: str | None = None,
) -> ClipStream:
    """A playable stream of recording seconds ``[t_from, t_to]`` of ``path``.

    Copies packets (from the key frame at or before ``t_from``) when the video codec and
    pixel format play in ``target`` (``None``: the policy's ``prefer``, or the other
    container when only that one fits the codec); otherwise decodes and re-encodes the
    frames from the first one at ``t_from``. Timestamps are rebased: media time 0 is
    recording second ``offset_s`` of the returned :class:`ClipStream`. The source is opened
    and positioned before returning (so the offset is known before any byte is sent);
    encoding happens while iterating. Raises :class:`MediaError` (naming ``label`` or the
    file) when the file cannot be opened or holds nothing at ``t_from``.
    """
    if t_to < t_from:
        raise ValueError(f"window ends before it starts: {t_from} > {t_to}")
    name = label or str(path)
    info = probe_media(path, name)
    remux_to: Target | None = None
    if info.pix_fmt in policy.pix_fmts:
        wanted: list[Target] = (
            [target] if target is not None
            else [policy.prefer, "webm" if policy.prefer == "mp4" else "mp4"]
        )
        remux_to = next((c for c in wanted if info.codec in policy.codecs(c)), None)
    if remux_to is not None and _discontinuous(path):
        log.info("%s has timestamp discontinuities: transcoding the window", name)
        remux_to = None
    if remux_to is not None:
        try:
            return _start_remux(path, name, t_from, t_to, remux_to)
        except _CannotRemux as exc:
            log.info("cannot copy %s (%s): transcoding the window", name, exc)
    return _start_transcode(path, name, t_from, t_to, target or policy.prefer, policy)
