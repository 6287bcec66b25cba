"""Settings: one pydantic-settings tree, strict about what it is given.

Sources, highest priority first: explicit keyword arguments (the CLI passes its options), the
environment (``RETROUVE_`` prefix, ``__`` for nesting, e.g. ``RETROUVE_ANALYSIS__SAMPLE_FPS=3``),
then one TOML file: the one named by ``RETROUVE_CONFIG``, else the first that exists of
``$XDG_CONFIG_HOME/retrouve/retrouve.toml`` (``~/.config/retrouve/retrouve.toml``) and
``/etc/retrouve/retrouve.toml`` (:func:`config_file`). Every path derives from ``data_dir``.
Nothing is read at import time.

``data_dir``, in order: the CLI's ``--data-dir``, ``RETROUVE_DATA_DIR``, ``data_dir`` in the
TOML file, else the fixed default ``$XDG_DATA_HOME/retrouve`` (``~/.local/share/retrouve``):
never the current directory, so the same command finds the same data wherever it is run.

Every section forbids unknown keys, and every ``RETROUVE_*`` environment variable must name a
setting unless listed in :data:`NON_SETTING_ENV`: a typo (``sample_fsp``) is a
:class:`~retrouve.errors.ConfigError` naming the key, where it came from and the nearest valid
key, never a silently ignored value. Choices are literals (``executor``). The reference page
``docs/settings.md`` is generated from this model (``python scripts/gen_settings_doc.py``).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from retrouve.config.check import describe_validation_error, unknown_env_settings
from retrouve.errors import ConfigError

ENV_PREFIX = "RETROUVE_"
#: Names the ``RETROUVE_CONFIG`` environment variable: the optional TOML settings file.
CONFIG_ENV = "RETROUVE_CONFIG"
#: ``RETROUVE_*`` environment variables that are not settings, so not rejected as unknown:
#: the TOML file's name, the case the CLI works under (legal-framework issue), and the test
#: and browser switches of ``scripts/ensure-browser.sh``. ``RETROUVE_DATA_DIR`` (read by the
#: CLI's ``--data-dir`` too) *is* a setting: ``data_dir``.
NON_SETTING_ENV = frozenset({
    CONFIG_ENV, "RETROUVE_CASE", "RETROUVE_USER", "RETROUVE_SKIP_BROWSER", "RETROUVE_CHROMIUM",
})

#: Executors that are built (:func:`retrouve.analysis.executor.make_executor`).
Executor = Literal["process", "inline", "ray"]


class Section(BaseModel):
    """A settings section: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid")


class PackSelection(Section):
    """Installed model packs an analysis uses (folders under ``data_dir/models``).

    Filled by the services from the pack registry when ``analysis.use_packs`` is on (the most
    recently installed pack of each role), and recorded with each analysis run.
    """

    detector: Path | None = Field(None, description="Detector pack folder (filled by the "
                                  "services from the installed packs).")
    make_model: Path | None = Field(None, description="Make/model classifier pack folder "
                                    "(filled by the services).")
    embedder: Path | None = Field(None, description="CLIP embedder pack folder (filled by the "
                                  "services).")
    vehicle_attributes: Path | None = Field(None, description=(
        "Vehicle attributes pack folder (colour and type heads; filled by the services)."))
    person_attributes: Path | None = Field(None, description=(
        "Person attributes pack folder (bag, clothing heads; filled by the services)."))


class AnalysisSettings(Section):
    """How footage is analysed. Times in seconds, rates in frames per second."""

    sample_fps: float = Field(4.0, gt=0, le=60, description=(
        "Frames analysed per second of video. 4 fps was chosen by measurement on ../shared/eval "
        "(see docs/analysis.md): lower rates lose fast vehicles between samples, higher rates "
        "cost detector time without improving recall."))
    slice_seconds: float = Field(600.0, ge=10, description=(
        "Long recordings are cut into slices of this many seconds, each one work unit."))
    motion_min_area: float = Field(0.0005, ge=0, le=1, description=(
        "Motion gate: share of (low-resolution) pixels that must change to run the detector."))
    refresh_seconds: float = Field(5.0, gt=0, description=(
        "Even on a static scene, run the detector at least this often, in seconds (parked or "
        "stopped objects)."))
    tile_px: int = Field(640, ge=200, description=(
        "Detector tiles: a frame whose long side exceeds this many pixels is also detected in "
        "tiles of about this size, so that small far objects are not lost in the 300x300 "
        "detector input."))
    detect_threshold: float = Field(0.2, ge=0.05, le=0.95, description=(
        "Minimum detector score kept; scores up to +0.1 above it only extend tracks "
        "(ByteTrack's low-score pass), above that they may start one."))
    min_track_frames: int = Field(2, ge=1, description=(
        "Tracks seen on fewer analysed frames than this are dropped as noise (images "
        "excepted)."))
    thumbnail_px: int = Field(320, ge=64, description="Thumbnail long side in pixels.")
    plates: bool = Field(True, description=(
        "Read licence plates of vehicle tracks (needs rapidocr-onnxruntime, see README)."))
    plate_views: int = Field(3, ge=1, le=10, description=(
        "Full-resolution vehicle views read per track (the best ones, spread in time); the "
        "reads are combined into one consensus. More views: better reads, more OCR time."))
    plate_min_vehicle_px: int = Field(90, ge=16, description=(
        "Vehicles narrower than this many original pixels on every frame are not read: a "
        "plate is about a fifth of a car's width, and OCR needs ~15 px high characters."))
    plate_view_spacing_s: float = Field(0.4, ge=0, description=(
        "Seconds between two views kept for plate reading (different frames, different "
        "noise)."))
    use_packs: bool = Field(True, description=(
        "Use installed model packs (detector, make/model classifier, CLIP embedder) when "
        "present."))
    pack_threads: int = Field(1, ge=0, le=256, description=(
        "Inference threads of each model pack (ONNX Runtime intra-op threads, OpenVINO "
        "inference threads); 0: the runtime's default (every core). 1 because the process "
        "pool already runs one unit per core."))
    packs: PackSelection = Field(default_factory=lambda: PackSelection(), description=(
        "The packs in use; filled by the services, not meant to be set by hand."))


class ClaimSettings(Section):
    """How analysis drivers share a store (``store/claims.py``). Times in seconds."""

    lease_seconds: float = Field(120.0, ge=1, description=(
        "An analysis run's claim on a work unit lapses this long after its last heartbeat: "
        "then another run (on this machine or another sharing the database) takes the unit "
        "over. Longer: a driver that stalls (swapping, a network cut) keeps its units; "
        "shorter: the units of a machine that died are taken over sooner. A killed run on "
        "the same machine is seen at once (its pid is gone). The clocks of the analysis "
        "machines must agree to well within it (NTP)."))
    heartbeat_seconds: float = Field(10.0, gt=0, description=(
        "Seconds between two renewals of a run's claims (its heartbeat); at most a third of "
        "lease_seconds, so that one late heartbeat does not lose them."))

    @field_validator("heartbeat_seconds")
    @classmethod
    def _within_lease(cls, value: float, info: ValidationInfo) -> float:
        lease = info.data.get("lease_seconds")
        if lease is not None and value * 3 > lease:
            raise ValueError(f"at most a third of lease_seconds ({lease:g} s): a heartbeat "
                             "must come several times per lease")
        return value


class WebSettings(Section):
    """The operator web application (``retrouve serve``). Times in seconds."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    secure_cookies: bool = Field(True, description=(
        "Mark the session cookie Secure (sent over HTTPS only). Must be on unless served over "
        "plain-HTTP loopback; ``retrouve serve`` decides from its host and TLS options."))
    session_idle_s: float = Field(2 * 3600.0, gt=0, description=(
        "A session unused for this many seconds is logged out."))
    session_absolute_s: float = Field(12 * 3600.0, gt=0, description=(
        "A session is logged out this many seconds after login, used or not."))
    login_max_failures: int = Field(5, ge=1, description=(
        "Failed logins allowed per user name within the window."))
    login_window_s: float = Field(300.0, gt=0, description=(
        "Sliding window of the login rate limit, in seconds."))
    login_address_max_failures: int = Field(10, ge=1, description=(
        "Failed logins allowed per client address within the window, whatever the user "
        "names (a password spray); attempts still being checked count too. Higher than the "
        "per-name limit: a control room's operators share one address."))
    login_global_max_failures: int = Field(100, ge=1, description=(
        "Failed logins allowed from all addresses together within the window; past it, "
        "only addresses without a failure in the window may still try (a distributed "
        "spray is refused without locking out operators who typed their password right)."))
    max_form_bytes: int = Field(64 * 1024, ge=1024, description=(
        "Largest request body, in bytes, of a page form (login, analyse, every non-API "
        "route); refused with 413 before authentication and before the body is read."))
    max_api_body_bytes: int = Field(1024 * 1024, ge=1024, description=(
        "Largest request body, in bytes, of an ``/api`` call (JSON); refused with 413 "
        "before authentication and before the body is read."))
    head_timeout_s: float = Field(10.0, gt=0, description=(
        "Seconds a client has to send a whole request head (request line and headers), "
        "from the opening of the connection or the first byte of a keep-alive request; "
        "late: 408 and the connection is closed (slow-client, \"slowloris\", defence)."))
    body_timeout_s: float = Field(30.0, gt=0, description=(
        "Seconds a client has to send a whole request body once its head is in (a total, "
        "not an inactivity timer); late: 408 and the connection is closed."))
    allowed_hosts: tuple[str, ...] = Field((), description=(
        "Host names (or addresses) the server answers to; any other ``Host`` header gets "
        "400. Empty: ``localhost``, ``127.0.0.1``, ``::1`` and the address ``retrouve "
        "serve`` binds to. Add the name operators type when serving on 0.0.0.0 or behind "
        "a proxy."))
    hsts_max_age_s: int = Field(365 * 24 * 3600, ge=0, description=(
        "``Strict-Transport-Security`` max-age, in seconds, sent when cookies are Secure "
        "(HTTPS or an HTTPS proxy); 0: no HSTS header."))
    page_size: int = Field(24, ge=1, description=(
        "Hits per results page (the API's default stays 20, like the CLI)."))
    timeline_hits: int = Field(500, ge=1, description=(
        "Hits drawn on the per-camera timelines (a second, time-ordered query)."))

    @property
    def cookie_name(self) -> str:
        # The __Host- prefix makes browsers refuse the cookie unless Secure, host-only and
        # Path=/, so a sibling sub-domain cannot plant a session.
        return "__Host-retrouve-session" if self.secure_cookies else "retrouve-session"


class SiteSettings(Section):
    """The site: what every operator of this installation shares."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    time_zone: str | None = Field(None, description=(
        "The operator time zone (IANA name, e.g. Europe/Paris): every time shown (CLI, web "
        "pages, coverage report) is printed in it with its abbreviation, and every typed "
        "time without an offset (--from/--to, the web form, free text such as \"hier 14h\") "
        "is read in it, whichever cameras are searched. Unset: the zone all registered "
        "cameras share, else Europe/Paris. The CLI's --tz overrides it for one command."))

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"unknown time zone {value!r} (e.g. Europe/Paris)") from None
        return value


#: The legal ceiling of footage retention, in days (CSI L252-5: never over one month).
RETENTION_CAP_DAYS = 30
#: A camera's maximum age: whole days, 1 to the legal cap.
CameraDays = Annotated[int, Field(ge=1, le=RETENTION_CAP_DAYS)]
#: What the purge does with a footage file Retrouve does not own (registered in place, e.g.
#: on an NVR export share): delete it, or only forget it (remove every row, keep the file).
UnownedFiles = Literal["forget", "delete"]


class RetentionSettings(Section):
    """How long footage and everything derived from it is kept. Ages in days from the
    recording's own time (its UTC end), so daylight saving plays no part."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_age_days: CameraDays = Field(RETENTION_CAP_DAYS, description=(
        "Maximum age of footage, in days from the recording's end (UTC), for cameras without "
        "their own value. At most 30 (CSI L252-5: never over one month); lower is allowed."))
    camera_max_age_days: dict[str, CameraDays] = Field(default_factory=dict, description=(
        "Per-camera maximum age in days (camera id → days, each 1 to 30), e.g. the "
        "prefect's shorter limit for one camera."))
    unowned_files: UnownedFiles = Field("forget", description=(
        "Footage files Retrouve does not own (registered in place, e.g. on an NVR export "
        "share): delete them when purged, or only forget them (rows go, the file stays)."))
    hold_review_days: int = Field(30, ge=1, le=365, description=(
        "An open case holds the footage of its scope for at most this many days after the "
        "requisition was received (its review date); a hold is never open-ended, and past "
        "the review date the footage is purged like any other unless the case is reviewed "
        "(amended or re-opened as a new requisition)."))
    run_every_s: float = Field(24 * 3600.0, gt=0, description=(
        "How often ``retrouve serve`` runs the retention purge, in seconds (daily)."))

    def max_age(self, camera_id: str) -> int:
        """The camera's maximum age in days."""
        return self.camera_max_age_days.get(camera_id, self.max_age_days)


#: How frames larger than the face detector's limit (960 px) are scanned for redaction.
RedactionLargeFrames = Literal["downscale", "tile"]
#: x264 speed presets (slower = smaller file at the same quality).
X264Preset = Literal["ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow",
                     "slower", "veryslow"]


class RedactionSettings(Section):
    """The redacted copy of an exhibit (``export/redact.py``): faces found by the built-in
    face detector and the plate boxes given are blurred on a re-encoded copy, never on the
    master. Margins are fractions of the box's width/height added on each side."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    face_threshold: float = Field(0.5, gt=0, lt=1, description=(
        "Face detection score (0-1) at or above which a face is blurred; lower blurs more "
        "(fewer missed faces, more blurred non-faces)."))
    face_margin: float = Field(0.3, ge=0, le=2, description=(
        "Margin added on each side of a detected face box before blurring, as a fraction "
        "of its size (the detector's box is tight: hair and ears are outside it)."))
    face_hold_frames: int = Field(3, ge=0, le=60, description=(
        "A face box stays blurred this many frames after the detector last found it, so a "
        "face missed on a frame or two is not shown."))
    large_frames: RedactionLargeFrames = Field("downscale", description=(
        "Frames over 960 px on a side (the detector's limit): downscale (one pass, fast; "
        "faces under about 20-25 px in a 1920 px frame may be missed) or tile (the "
        "downscaled pass plus overlapping full-resolution tiles: finds small faces, several "
        "times slower)."))
    tile_overlap_px: int = Field(192, ge=0, le=900, description=(
        "Overlap of neighbouring tiles in tile mode, in pixels."))
    plate_margin: float = Field(0.15, ge=0, le=2, description=(
        "Margin added on each side of a plate box before blurring, as a fraction of its "
        "size."))
    plate_hold_s: float = Field(0.5, ge=0, le=10, description=(
        "A plate box given at time t is blurred on frames up to this many seconds away "
        "when no nearer box is given; between two boxes of the same plate less than "
        "2 x plate_hold_s apart the box is interpolated."))
    blocks_across: int = Field(6, ge=2, le=32, description=(
        "Blur strength: a blurred region is averaged into blocks, this many across its "
        "longer side (fewer = stronger)."))
    noise_level: float = Field(10.0, ge=0, le=64, description=(
        "Standard deviation, in 8-bit grey levels, of the random noise added to each "
        "averaged block so the block means cannot be matched against candidates."))
    crf: int = Field(18, ge=0, le=51, description=(
        "H.264 constant rate factor of the redacted copy (lower = better quality, larger)."))
    preset: X264Preset = Field("veryfast", description=(
        "x264 speed preset of the redacted copy."))
class ExportSettings(Section):
    """Evidence export bundles (``retrouve export``). Times in seconds."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    require_approval: bool = Field(True, description=(
        "An export needs a second person's approval (a supervisor other than the requester) "
        "before its bundle is built; the site policy may turn this off."))
    margin_s: float = Field(3.0, ge=0, le=300, description=(
        "Seconds of footage added before a track's first sighting and after its last in its "
        "exhibit (clipped to the case's scope and the recording)."))
    working_crf: int = Field(23, ge=0, le=51, description=(
        "Quality of the working copy (libx264 CRF: lower is better and larger)."))
    working_preset: Literal["ultrafast", "superfast", "veryfast", "faster", "fast",
                            "medium"] = Field("veryfast", description=(
        "libx264 speed preset of the working copy (faster presets make larger files)."))


class Settings(BaseSettings):
    """Root settings. ``database_url`` defaults to SQLite inside ``data_dir``.

    Raises :class:`~retrouve.errors.ConfigError` (an input error: CLI exit 2) for an unknown
    key or a bad value from any source, naming the key and where it came from.
    """

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="forbid"
    )

    data_dir: Path = Field(default_factory=lambda: default_data_dir(), description=(
        "Folder holding the database, thumbnails and installed model packs (the CLI's "
        "--data-dir); default: $XDG_DATA_HOME/retrouve (~/.local/share/retrouve), never the "
        "current directory."))
    database_url: str | None = Field(None, description=(
        "SQLAlchemy database URL; default: SQLite file retrouve.db inside data_dir."))
    workers: int = Field(default_factory=lambda: max(1, os.cpu_count() or 1), ge=1,
                         description="Analysis worker processes; default: the number of CPUs.")
    executor: Executor = Field("process", description=(
        "How work units run: process (a process pool; inline when workers is 1), inline "
        "(in the calling process) or ray (Ray tasks on a cluster, the optional extra ray; "
        "see docs/cluster.md)."))
    unit_time_limit: float = Field(20.0, ge=1, description=(
        "With the process pool: a work unit may run this many times its footage duration "
        "(and at least 10 minutes) before its worker is stopped as hung; the unit is rerun "
        "alone, and marked failed if it hangs again, so the others go on. 20: far beyond "
        "the slowest configuration measured (about 0.3x real time per worker)."))
    ray_address: str | None = Field(None, description=(
        "With executor = ray: the cluster to join, HOST:PORT of its head node or auto (the "
        "cluster this machine joined with ray start); default: a private Ray on this "
        "machine with workers CPUs."))
    filename_pattern: str = Field(r"(?P<start>\d{8}[T_-]?\d{6})", description=(
        "NVR export file names: a regular expression with a named group start (and "
        "optionally camera)."))
    start_format: str = Field("%Y%m%d%H%M%S", description=(
        "The strptime format of filename_pattern's start group."))
    max_pixels: int = Field(40_000_000, ge=1, description=(
        "Most pixels (width x height) of a still image or video frame accepted at ingest; "
        "a larger still is refused from its header, before anything decodes it "
        "(decompression bombs)."))
    analysis: AnalysisSettings = Field(default_factory=lambda: AnalysisSettings(),
                                       description="How footage is analysed.")
    claims: ClaimSettings = Field(default_factory=lambda: ClaimSettings(), description=(
        "How analysis runs share a store: claims on work units and their leases."))
    web: WebSettings = Field(default_factory=lambda: WebSettings(),
                             description="The operator web application.")
    retention: RetentionSettings = Field(default_factory=lambda: RetentionSettings(),
                                         description="Retention of footage and derived data.")
    site: SiteSettings = Field(default_factory=lambda: SiteSettings(),
                               description="What every operator of the site shares.")
    redaction: RedactionSettings = Field(default_factory=lambda: RedactionSettings(),
                                         description="Redacted copies of exhibits.")
    export: ExportSettings = Field(default_factory=lambda: ExportSettings(),
                                   description="Evidence export bundles.")

    def __init__(self, **values: Any) -> None:
        problems = unknown_env_settings(Settings, os.environ, ENV_PREFIX, NON_SETTING_ENV)
        if problems:
            raise ConfigError("; ".join(problems))
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise ConfigError(describe_validation_error(
                exc, Settings, os.environ, ENV_PREFIX, _toml_data(),
                str(_toml_path_or_none()))) from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"settings file {_toml_path_or_none()}: not valid TOML: "
                              f"{exc}") from exc

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        toml = config_file()
        if toml is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml))
        return tuple(sources)

    @property
    def db_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'retrouve.db').resolve()}"

    @property
    def blob_dir(self) -> Path:
        return self.data_dir / "blobs"


#: The site-wide settings file, read when neither ``RETROUVE_CONFIG`` nor a user file is there.
SITE_CONFIG = Path("/etc/retrouve/retrouve.toml")


def default_data_dir() -> Path:
    """The fixed default data folder: ``$XDG_DATA_HOME/retrouve``, else
    ``~/.local/share/retrouve`` (absolute, independent of the current directory)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base).expanduser().absolute() / "retrouve"


def user_config_file() -> Path:
    """``$XDG_CONFIG_HOME/retrouve/retrouve.toml`` (``~/.config/retrouve/retrouve.toml``)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base).expanduser() / "retrouve" / "retrouve.toml"


def config_file() -> Path | None:
    """The TOML settings file in use: ``RETROUVE_CONFIG`` (ConfigError when it names no
    file), else the user file, else :data:`SITE_CONFIG`, else none."""
    name = os.environ.get(CONFIG_ENV)
    if name:
        path = Path(name)
        if not path.is_file():
            raise ConfigError(f"settings file {path} ({CONFIG_ENV}): no such file")
        return path
    for candidate in (user_config_file(), SITE_CONFIG):
        if candidate.is_file():
            return candidate
    return None


def _toml_path() -> Path | None:
    return config_file()


def _toml_path_or_none() -> Path | None:
    try:
        return config_file()
    except ConfigError:
        return None


def _toml_data() -> Mapping[str, Any] | None:
    """The TOML file's content, to say which keys came from it (None: no file, unreadable)."""
    try:
        path = _toml_path()
        return tomllib.loads(path.read_text(encoding="utf-8")) if path else None
    except (ConfigError, OSError, tomllib.TOMLDecodeError):
        return None


def load_settings(**overrides: Any) -> Settings:
    """Build settings; ``None`` overrides are ignored so CLI defaults do not mask the env."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})
