"""One exception tree for the whole project, and what each branch means to a caller.

::

    RetrouveError                    base: every error we raise on purpose; HTTP 500, exit 1
    ├── InputError                   the caller's input is wrong: HTTP 400, exit 2
    │   ├── ConfigError              settings that cannot work (unknown key, bad value, path)
    │   │   └── MissingExtraError    an optional backend selected but its extra not installed
    │   ├── CatalogueError           cameras and recordings
    │   │   ├── LiveSourceRefused    rtsp://, http(s)://, /dev/video*: recorded footage only
    │   │   ├── UnknownCameraError   a camera id that is not registered
    │   │   ├── DuplicateCameraError registering a camera id twice with different details
    │   │   ├── RecordingTimeError   no wall-clock start, or a bad one
    │   │   └── MediaError           a file that cannot be opened, probed or decoded
    │   │       ├── ImageTooLarge    a still/frame over the pixel limit, refused undecoded
    │   │       └── CorruptStill     a still whose decoder reports corrupt data, refused
    │   ├── QueryError               a malformed search (bad colour, bad time window)
    │   │   └── QueryTooLong         a plate pattern or text over its length/complexity bound
    │   ├── EvaluationError          a malformed evaluation dataset or query file
    │   ├── AccountError             bad user name, role or password; unknown or disabled user
    │   ├── CaseError                a requisition refused or unknown, a case that forbids it
    │   │   ├── NoCaseError          a data command without a case ("no case, no processing"): 409
    │   │   ├── OutOfScope           a track outside the case's scope, or none: 404
    │   │   └── NotPermitted         the user's role or assignment does not allow it: 403
    │   ├── SourceChanged            an export refused: the recording changed since ingest
    │   │   └── FootageChanged       an analysis refused: the file no longer matches its stamp
    │   ├── ExportError              an export request unknown, not approved, or not buildable
    │   ├── BackupError              a backup or restore refused (destination, damaged backup)
    │   ├── AuthError                unknown user or wrong password (never says which)
    │   ├── PackRefused              a pack source refused (bad archive, checksum; also a PackError)
    │   ├── RangeNotSatisfiable      an HTTP ``Range`` outside the file or malformed: 416
    │   └── AccessError              a web request that is not allowed (HTTP control flow)
    │       ├── NotAuthenticated     no valid session or token: 401 (pages redirect to login)
    │       ├── Forbidden            authenticated, but the role may not: 403
    │       ├── CsrfRejected         a cookie POST without the session's CSRF token: 403
    │       └── LoginThrottled       too many failed logins: 429 with ``retry_after_s``
    ├── ModelError                   installed model weights missing, unloadable or failing
    │   └── PackError                an installed model pack that cannot be used (names pack/graph)
    ├── AnalysisError                a work unit failed (wraps the cause)
    ├── JournalError                 the journal or the installation's signing key is unusable
    └── StoreError                   database or blob folder problems
        ├── DiskFull                 no space left on the data folder's disk (ENOSPC)
        └── ClaimLost                a unit's result refused: another run holds or saved it

Each class carries the HTTP status and CLI exit code it maps to (:attr:`RetrouveError.http_status`,
:attr:`RetrouveError.exit_code`); the web's handlers and the CLI read them, so a new error class
gets the right mapping by choosing its branch. Anything outside :class:`InputError` is our
failure, not the caller's: the web answers a generic 500 and logs the detail, the CLI exits 1.

The web's :class:`AccessError` classes are drawn here although only ``retrouve.web`` raises them:
they are how route dependencies stop a request (FastAPI needs an exception to do that), and the
web maps each to its own answer (redirect, 401, 403, 429), which must not fall through to the
generic handlers. They are input errors because the request is what is wrong.

Library errors are mapped where the library is called, naming the object: PyAV's
``av.FFmpegError``/``OSError`` in ``video/decode.py`` and ``catalogue/probe.py`` become
:class:`MediaError` (``cannot decode cam-12/… (file.mp4) at t=…: …``), onnxruntime's in
``vision/packs`` become :class:`PackError` naming the pack and graph, SQLAlchemy's in
``store/`` become :class:`StoreError`. Messages name the object (camera, recording, file) and
the cause; callers chain with ``from``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar


class RetrouveError(Exception):
    """Base class of every error Retrouve raises on purpose.

    Not the caller's fault unless it is an :class:`InputError`: HTTP 500, CLI exit 1.

    ``str(err)`` is the English message (logs, tests, the API's ``detail``). An error an
    operator sees may also carry ``key`` (a stable message id of
    :data:`retrouve.errors_i18n.CATALOGUE`) and ``params`` (its placeholders' values):
    :func:`retrouve.errors_i18n.error_text` then words it in the interface language. Raised
    with a key and no message (``CaseError(key="case.unknown", params={"ref": ref})``), the
    catalogue's English is the message, so it is written once. A param may be a
    :class:`Word` (vocabulary worded in the language too) or another error (worded the same
    way: a form row's prefix around the cause).
    """

    #: HTTP status the web answers with when this error reaches its handlers.
    http_status: ClassVar[int] = 500
    #: Exit code of a CLI command that fails with this error.
    exit_code: ClassVar[int] = 1

    def __init__(self, *args: object, key: str | None = None,
                 params: Mapping[str, object] | None = None) -> None:
        params = dict(params or {})
        if key is not None and not args:
            # The catalogue's English is the message: written once, not at each raise site.
            from retrouve.errors_i18n import english  # a cycle at import time otherwise

            args = (english(key, params),)
        super().__init__(*args)
        self.key = key
        self.params: dict[str, object] = params


@dataclass(frozen=True)
class Word:
    """A parameter of a keyed error that is interface vocabulary, not data: a role, a
    status, a form field's name ("scope row 2 (cam-12) from"). ``key`` names an entry of
    :data:`retrouve.errors_i18n.WORDS` (with ``params`` for its placeholders), so the
    message's language words it too; ``str(word)`` is its English, as the message's is.
    Data (user names, case references, what was typed) is never a ``Word``: it is shown
    as given."""

    key: str
    params: tuple[tuple[str, object], ...] = ()

    @classmethod
    def of(cls, key: str, **params: object) -> Word:
        return cls(key, tuple(params.items()))

    def __str__(self) -> str:
        from retrouve.errors_i18n import word_text

        return word_text(self, "en")


class InputError(RetrouveError):
    """The caller's input is wrong (what they typed, sent or pointed at): HTTP 400, exit 2."""

    http_status: ClassVar[int] = 400
    exit_code: ClassVar[int] = 2


class ConfigError(InputError):
    """Settings that cannot work (unknown key, bad value, unusable path)."""


class MissingExtraError(ConfigError):
    """An optional backend was selected but its extra is not installed."""

    def __init__(self, extra: str, what: str) -> None:
        super().__init__(
            f"{what} needs the optional extra '{extra}': pip install 'retrouve[{extra}]'"
        )
        self.extra = extra


class CatalogueError(InputError):
    """Problems registering cameras or recordings."""


class LiveSourceRefused(CatalogueError):
    """A live stream or device was given: Retrouve analyses recorded footage only."""


class UnknownCameraError(CatalogueError):
    """A camera id that is not registered."""


class DuplicateCameraError(CatalogueError):
    """A camera id registered twice with different details."""


class RecordingTimeError(CatalogueError):
    """A recording whose wall-clock start is missing or invalid."""


class MediaError(CatalogueError):
    """A file that cannot be opened, probed or decoded (PyAV's errors mapped, file named)."""


class QueryError(InputError):
    """A malformed search."""


class QueryTooLong(QueryError):
    """A search input over its bound: a plate pattern too long or with too many wildcards,
    or a text field (free text, make, model) longer than its criterion allows. The message
    names the field, its length and the bound."""


class EvaluationError(InputError):
    """A malformed evaluation dataset or query file."""


class AccountError(InputError):
    """An account cannot be created or changed (bad name, role, password; unknown user)."""


class CaseError(InputError):
    """A case cannot be created or changed, or does not allow an action: malformed
    requisition (basis, scope window), unknown case, a status that forbids it."""


class SourceChanged(InputError):
    """An export refused: the original recording's SHA-256 now differs from its ingest hash
    (or the file is gone); the message names the file."""


class ExportError(InputError):
    """An evidence export that cannot proceed: unknown request, not (yet) approved or already
    produced, no footage for a window, an output folder that cannot be written."""


class BackupError(InputError):
    """A backup or restore refused: destination exists, a damaged or foreign backup (names
    the file), a database kind that does not match, pg_dump/pg_restore missing or failing."""


class FootageChanged(SourceChanged):
    """A recording not analysed: its file's size, modification time or sampled blocks no
    longer match the stamp taken at ingest (and a full SHA-256 confirmed it, or the file is
    gone); the recording is flagged ``changed`` and the message names the file."""


class NoCaseError(CaseError):
    """A data command (analyse, search) ran without a case: no case, no processing. The web
    answers 409 (the request lacks its case; nothing is wrong with who asks) or sends a
    page to the case chooser."""

    http_status: ClassVar[int] = 409


class NotPermitted(CaseError):
    """The acting user's role, or their assignment to the case, does not allow the action."""

    http_status: ClassVar[int] = 403


class OutOfScope(CaseError):
    """A track (or its media) that is not inside the active case's scope, or does not exist:
    the same answer for both, so a crafted id tells nothing about footage outside the case."""

    http_status: ClassVar[int] = 404


class AuthError(InputError):
    """Credentials refused. The message never says whether the name or the password was wrong."""


class ModelError(RetrouveError):
    """Installed model weights missing, unloadable, or failing at inference."""


class PackError(ModelError):
    """A model pack that cannot be used; the message names the pack (and graph or field).

    Raised as such for installed packs (loading a graph, a manifest that no longer validates,
    inference failures: onnxruntime's errors mapped). Catch this to catch every pack problem.
    """


class PackRefused(PackError, InputError):
    """A pack the caller gave is refused: unreadable archive, checksum mismatch, bad manifest,
    unsafe member, no such source, not installed, already installed. Input, so 400 / exit 2,
    and still a :class:`PackError`."""

    http_status: ClassVar[int] = InputError.http_status
    exit_code: ClassVar[int] = InputError.exit_code


class RangeNotSatisfiable(InputError):
    """A ``Range`` header that is malformed or outside the file (HTTP 416).

    ``size`` is the file's length in bytes, for the ``Content-Range: bytes */size`` reply.
    """

    http_status: ClassVar[int] = 416

    def __init__(self, header: str, size: int, why: str) -> None:
        super().__init__(f"range {header!r} not satisfiable for {size} bytes: {why}")
        self.size = size


class AccessError(InputError):
    """A web request that is not allowed. The web maps each subclass to its own answer."""


class NotAuthenticated(AccessError):
    """No valid session cookie or API token: pages redirect to the login page, the API 401."""

    http_status: ClassVar[int] = 401

    def __init__(self, message: str = "authentication required") -> None:
        super().__init__(message)


class Forbidden(AccessError):
    """Authenticated, but the account's role may not do this."""

    http_status: ClassVar[int] = 403

    def __init__(self, needed: tuple[str, ...]) -> None:
        super().__init__(f"requires role {' or '.join(needed)}")
        self.needed = needed


class CsrfRejected(AccessError):
    """A state-changing request made with a session cookie lacks the session's CSRF token."""

    http_status: ClassVar[int] = 403


class LoginThrottled(AccessError):
    """Too many failed logins for this user name or client address; ``retry_after_s`` in whole
    seconds."""

    http_status: ClassVar[int] = 429

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"too many failed logins: retry in {retry_after_s} s")
        self.retry_after_s = retry_after_s


class AnalysisError(RetrouveError):
    """A work unit failed."""


class JournalError(RetrouveError):
    """The journal cannot be written or read, or the signing key is unusable (our failure:
    the action it would record fails with it)."""


class StoreError(RetrouveError):
    """Database or blob folder problems."""


class DiskFull(StoreError):
    """No space left on the disk of the data folder (``ENOSPC``, or the database's own "disk
    is full"): the message names the folder and what was being written; statuses are left
    consistent (an interrupted run, its recordings pending)."""


class ClaimLost(StoreError):
    """A work unit's result refused by the store: the run saving it no longer holds the unit's
    claim (its lease lapsed and another run took the unit over, or saved it already). The
    late result is dropped, so a unit is never stored twice; the runner logs it and goes on
    (``store/claims.py``)."""


class ImageTooLarge(MediaError):
    """A still (or video frame) over the pixel-count limit (``max_pixels``), refused from its
    header before anything decodes it: a decompression bomb cannot exhaust memory or time."""


class CorruptStill(MediaError):
    """A still whose decoder reports corrupt data (``err_detect=explode``,
    ``video/still_strict.py``): refused at ingest, naming the file and the decoder's words,
    rather than analysing a picture whose damaged part the decoder concealed (invented)."""
