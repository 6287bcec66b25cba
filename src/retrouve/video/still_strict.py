"""Strict decoding of stills: a still whose decoder reports corrupt data is refused.

FFmpeg's decoders conceal damage by default. For a video that is the right trade (one bad
macroblock, the next keyframe repairs it); for a still it is not: the MJPEG decoder meets
random entropy data, logs ``error count: 65`` / ``error y=1 x=3`` and returns a picture
whose rows past the error are invented (noise or grey). Analysed, that picture gives
detections on pixels the camera never recorded, under the file's genuine SHA-256.

So stills are decoded with ``err_detect=explode``: the first error the decoder detects
makes ``avcodec_send_packet`` fail, and the caller refuses the file naming the cause. What
it does not refuse was measured (``tests/test_still_strict.py``): progressive and
restart-interval JPEGs, EXIF orientation, grey and 4:4:4 JPEGs, qualities 10–100 from PIL and
OpenCV, a missing EOI marker, a file cut by a few bytes past its last scan, trailing bytes
after EOI, a restart marker with the wrong index; PNG and BMP are unchanged (their decoders
already fail on damaged data). Refused: random entropy data, 1 KiB overwritten inside the
scan, a JPEG cut by 10 % or more (its bottom rows are missing). Damage that still decodes to
valid Huffman codes is not seen: one flipped byte inside the scan was refused at 38 of 200
random positions (``docs/hardening.md``).

Only stills: ``explode`` with frame-threaded H.264 decoding was seen to hang PyAV on a
damaged stream, and a video's concealment is handled by its own checks.
"""

from __future__ import annotations

from typing import Final

import av

#: FFmpeg's ``err_detect`` flags for stills: fail on the first error detected.
STILL_ERR_DETECT: Final = "explode"


def decode_strictly(stream: av.video.stream.VideoStream) -> None:
    """Make ``stream``'s decoder fail on the first corrupt data it detects (before its
    first packet: the codec opens lazily with these options)."""
    options = dict(stream.codec_context.options)
    options["err_detect"] = STILL_ERR_DETECT
    stream.codec_context.options = options


def corrupt_cause(exc: av.FFmpegError) -> str:
    """The decoder's own words for ``exc`` when PyAV kept its last error log (e.g.
    ``mjpeg: error y=1 x=3``, only while FFmpeg logging is on), else FFmpeg's error text
    (``Invalid data found when processing input``)."""
    log = getattr(exc, "log", None)
    if isinstance(log, tuple) and len(log) == 3 and log[2]:
        return f"{log[1]}: {str(log[2]).strip()}"
    return str(exc.strerror or exc)
