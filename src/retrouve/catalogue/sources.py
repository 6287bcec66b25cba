"""Where footage comes from: refusing live sources, finding files, reading start times.

Pure functions (apart from walking a folder); no database.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from retrouve.catalogue.probe import IMAGE_SUFFIXES
from retrouve.errors import LiveSourceRefused, RecordingTimeError

VIDEO_SUFFIXES = frozenset(
    {".mp4", ".m4v", ".mov", ".mkv", ".avi", ".ts", ".mts", ".m2ts", ".mpg", ".mpeg", ".webm",
     ".flv", ".wmv", ".3gp", ".h264", ".h265", ".264", ".265", ".dav", ".asf"}
)
MEDIA_SUFFIXES = VIDEO_SUFFIXES | IMAGE_SUFFIXES

_LIVE = re.compile(r"^(rtsp|rtsps|rtmp|rtmps|rtp|srt|udp|tcp|http|https|mms|mmsh|hls)://", re.I)
_DEVICE = re.compile(r"^(/dev/|video=|v4l2:|dshow:|avfoundation:)", re.I)

LIVE_MESSAGE = (
    "{src}: live sources are refused. Retrouve analyses recorded footage only (exported "
    "files), never a live stream: real-time analysis of public space is outside its legal "
    "frame. Export the recording from the NVR and ingest the file."
)


def refuse_live(source: str) -> None:
    """Raise :class:`LiveSourceRefused` for stream URLs and capture devices."""
    if _LIVE.match(source) or _DEVICE.match(source):
        raise LiveSourceRefused(LIVE_MESSAGE.format(src=source))


def media_files(root: Path) -> Iterator[Path]:
    """``root`` itself if it is a file, else media files under it (recursive, sorted)."""
    if root.is_file():
        yield root
        return
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.suffix.lower() in MEDIA_SUFFIXES:
            yield path


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise RecordingTimeError(f"unknown time zone {name!r}") from exc


def parse_start(text: str, tz: str) -> datetime:
    """ISO-8601 start; a naive time is taken in the camera's time zone ``tz``."""
    try:
        when = datetime.fromisoformat(text)
    except ValueError as exc:
        raise RecordingTimeError(
            f"bad start time {text!r}: expected ISO-8601, e.g. 2026-01-04T10:00:00+01:00"
        ) from exc
    if when.tzinfo is None:
        when = when.replace(tzinfo=zone(tz))
    return when


def start_from_filename(path: Path, pattern: str, fmt: str, tz: str) -> datetime | None:
    """Start time from an NVR file name, e.g. ``cam12_20260104_100000.mp4``.

    ``pattern`` is a regular expression with a named group ``start``; its digits (separators
    removed) are parsed with ``fmt`` in the camera's zone ``tz``. None when nothing matches.
    """
    m = re.search(pattern, path.name)
    if not m or "start" not in m.groupdict():
        return None
    raw = m.group("start")
    # NVRs separate date and time with "_", "-" or "T": try as written, then digits only.
    for candidate in (raw, re.sub(r"\D", "", raw)):
        try:
            naive = datetime.strptime(candidate, fmt)
        except ValueError:
            continue
        return naive.replace(tzinfo=zone(tz))
    raise RecordingTimeError(f"{path.name}: {raw!r} does not match the start format {fmt!r}")
