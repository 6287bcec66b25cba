"""Can the operators' browser play a recording's original file as it is?

Pure media logic, no HTTP (``retrouve.web.media`` maps it to routes). When a recording is
already something the browser plays (:func:`browser_playable`: MP4/MOV or WebM holding
H.264/VP8/VP9/AV1 in 4:2:0, or a JPEG/PNG/WebP/GIF/BMP still), it is served as-is with HTTP
``Range`` (``retrouve.web.http_range``) and the player seeks itself. MP4 "faststart" (``moov``
before ``mdat``) is not needed: the browser asks for the tail range when the ``moov`` is at the
end, at the cost of one extra round trip. Otherwise a window is cut and streamed
(:mod:`retrouve.video.window`), remuxed or transcoded as :class:`PlaybackPolicy` decides.

Codecs are checked with PyAV (headers only, :func:`probe_media`); containers by suffix and by
demuxer name.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

import av

from retrouve.domain import Recording
from retrouve.errors import MediaError

#: Container of a streamed window, or family of an original served as-is.
Target = Literal["mp4", "webm"]

MEDIA_TYPES: Final[dict[Target, str]] = {"mp4": "video/mp4", "webm": "video/webm"}
#: Still images browsers display, by suffix.
IMAGE_TYPES: Final[dict[str, str]] = {
    ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".webp": "image/webp",
    ".gif": "image/gif", ".bmp": "image/bmp",
}
#: Original files served as-is, by suffix (MOV is the same ISO-BMFF family as MP4, and
#: Chromium sniffs the bytes, so ``video/mp4`` is the useful type for both).
_ORIGINAL_TYPES: Final[dict[str, Target]] = {
    ".mp4": "mp4", ".m4v": "mp4", ".mov": "mp4", ".webm": "webm",
}
#: Audio codecs that do not stop a browser playing an original file.
_BROWSER_AUDIO: Final = frozenset({"aac", "mp3", "opus", "vorbis", "flac"})


@dataclass(frozen=True)
class PlaybackPolicy:
    """What the operators' browser plays; decides remux versus transcode.

    The defaults fit the Debian ``chromium`` build the project targets (see
    ``docs/playback.md``: it plays H.264 in MP4, VP8/VP9 in WebM, VP9 in MP4). For a browser
    without proprietary codecs, drop ``"h264"`` from ``mp4_codecs`` and set
    ``prefer="webm"``: H.264 footage is then transcoded to VP8/VP9 WebM.
    """

    mp4_codecs: frozenset[str] = frozenset({"h264", "vp9", "av1"})
    webm_codecs: frozenset[str] = frozenset({"vp8", "vp9", "av1"})
    #: Pixel formats played everywhere (``yuvj420p`` is full-range 4:2:0 from JPEG-minded
    #: cameras); 4:2:2, 4:4:4 and 10-bit are not, so they are transcoded.
    pix_fmts: frozenset[str] = frozenset({"yuv420p", "yuvj420p"})
    #: Container of windows when both would do, and of transcodes.
    prefer: Target = "mp4"
    #: Encoder of WebM transcodes: ``libvpx`` (VP8, fastest) or ``libvpx-vp9``.
    webm_encoder: str = "libvpx"
    #: Transcodes larger than this are scaled down (aspect kept): a 4K window then still
    #: starts in well under a second on a small server.
    max_height: int = 1080

    def codecs(self, target: Target) -> frozenset[str]:
        return self.mp4_codecs if target == "mp4" else self.webm_codecs


DEFAULT_POLICY: Final = PlaybackPolicy()


@dataclass(frozen=True)
class MediaInfo:
    """What PyAV says about a file: demuxer names, first video stream, audio codecs."""

    formats: frozenset[str]
    codec: str
    pix_fmt: str | None
    audio_codecs: tuple[str, ...]


def probe_media(path: Path | str, label: str | None = None) -> MediaInfo:
    """Probe ``path`` (headers only). Raises :class:`MediaError` when it has no video."""
    name = label or str(path)
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise MediaError(f"cannot play {name}: no video stream")
            vs = container.streams.video[0]
            return MediaInfo(
                formats=frozenset(container.format.name.split(",")),
                codec=vs.codec_context.name,
                pix_fmt=vs.codec_context.pix_fmt,
                audio_codecs=tuple(a.codec_context.name for a in container.streams.audio),
            )
    except (av.FFmpegError, OSError) as exc:
        raise MediaError(f"cannot open {name}: {exc}") from exc


def original_target(recording: Recording) -> Target | None:
    """The container family of the original file by its suffix, ``None`` if not MP4/MOV/WebM."""
    return _ORIGINAL_TYPES.get(Path(recording.path).suffix.lower())


def image_media_type(recording: Recording) -> str | None:
    """MIME type of a still recording a browser shows as-is, else ``None``."""
    return IMAGE_TYPES.get(Path(recording.path).suffix.lower())


def browser_playable(recording: Recording, policy: PlaybackPolicy = DEFAULT_POLICY) -> bool:
    """True when the original file can be served byte-for-byte to the browser.

    A still must be JPEG/PNG/WebP/GIF/BMP. A video must be an MP4/MOV (by suffix and by
    demuxer) or a WebM whose first video stream is in ``policy``'s codecs for that container
    and pixel formats, with no audio the browser would choke on. The file is probed with
    PyAV; an unreadable file is not playable (the window path then reports the error).
    """
    if recording.is_image:
        return image_media_type(recording) is not None
    target = original_target(recording)
    if target is None:
        return False
    try:
        info = probe_media(recording.path, recording.id)
    except MediaError:
        return False
    demuxer = "mp4" if target == "mp4" else "webm"
    return (
        demuxer in info.formats
        and info.codec in policy.codecs(target)
        and info.pix_fmt in policy.pix_fmts
        and all(a in _BROWSER_AUDIO for a in info.audio_codecs)
    )
