"""Where footage comes from: refusing live sources, finding files, reading start times.

Pure functions (apart from walking a folder); no database.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from retrouve.catalogue.probe import IMAGE_SUFFIXES
from retrouve.errors import LiveSourceRefused, RecordingTimeError, Word
from retrouve.wallclock import read_local

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
        when = local_time(when, tz, f"start time {text!r}")
    return when


#: Footage older than this is a wrong clock or a typo, not a recording (digital CCTV).
EARLIEST_START = datetime(1990, 1, 1, tzinfo=UTC)
#: How far ahead of now a start may lie: camera clocks drift, but not by days.
FUTURE_SLACK = timedelta(days=1)


def local_time(naive: datetime, tz: str, what: str | Word) -> datetime:
    """``naive`` wall-clock time in zone ``tz``, refusing a time the zone skips (the spring
    daylight-saving gap) or repeats (the autumn fold): either would silently shift the
    footage by an hour, so the operator must give the UTC offset
    (:func:`retrouve.wallclock.read_local`, which search times use too)."""
    zone(tz)  # the catalogue's wording of an unknown zone
    return read_local(naive, tz, what, RecordingTimeError)


def check_plausible(when: datetime, now: datetime | None, what: str) -> None:
    """Refuse a start before 1990 or, when ``now`` is given, more than a day after it (both
    aware)."""
    try:
        utc = when.astimezone(UTC)
    except OverflowError as exc:
        raise RecordingTimeError(f"{what} {when.isoformat()}: out of range") from exc
    if utc < EARLIEST_START:
        raise RecordingTimeError(
            f"{what} {when.isoformat()} is before 1990: check the camera clock or --start")
    if now is not None and utc > now + FUTURE_SLACK:
        raise RecordingTimeError(
            f"{what} {when.isoformat()} is more than a day in the future (now "
            f"{now.astimezone(UTC).isoformat()}): check the camera clock or --start")


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
        return local_time(naive, tz, f"{path.name}: start {raw!r}")
    raise RecordingTimeError(f"{path.name}: {raw!r} does not match the start format {fmt!r}")
