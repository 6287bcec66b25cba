"""The journal: typed events, their canonical form, the SHA-256 hash chain, Ed25519-signed
checkpoints, and the verification (also of an exported case, offline).

Events are small frozen classes (in the manner of Datasette's ``events.py``): each has a
``name`` (the entry's action), the case it belongs to, the ids of the objects it touched and
its ``details()``; nothing else is recorded, so no more personal data than the action needs.

Chain (each entry, in ``seq`` order 1, 2, 3…)::

    digest = SHA-256(canonical(seq, at, user, role, case, action, objects, details))
    hash   = SHA-256(prev_hash + ":" + digest)          prev_hash of entry 1 = 64 × "0"

``canonical`` is JSON with sorted keys, no spaces, UTF-8, times ISO-8601 UTC with
microseconds. An export may carry, for entries of other cases, only ``seq``, ``digest``,
``prev_hash`` and ``hash``: the chain still checks without their content. A checkpoint signs
``{"entry_seq", "entry_hash", "at", "key_id"}`` (canonical) with the installation's key: an
edited, deleted, inserted or reordered entry breaks the chain at that entry; a truncated tail
leaves a checkpoint pointing past the end.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar, Final

from retrouve.domain import ScopeWindow
from retrouve.store.journal import CheckpointRow, JournalRow

GENESIS: Final = "0" * 64
#: A checkpoint is signed after this many entries (and on demand: export, `journal checkpoint`).
CHECKPOINT_EVERY: Final = 16


def canonical(data: Any) -> str:
    """The canonical JSON text of ``data`` (sorted keys, no spaces, non-ASCII kept)."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def iso(when: datetime) -> str:
    """A time as the journal writes it: UTC, microseconds, ``+00:00``."""
    return when.astimezone(UTC).isoformat(timespec="microseconds")


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def entry_digest(seq: int, at: str, user: str, role: str, case: str | None, action: str,
                 objects_json: str, details_json: str) -> str:
    """SHA-256 of an entry's canonical content (objects and details as parsed JSON)."""
    return sha256(canonical({"seq": seq, "at": at, "user": user, "role": role, "case": case,
                             "action": action, "objects": json.loads(objects_json),
                             "details": json.loads(details_json)}))


def chain_hash(prev_hash: str, digest: str) -> str:
    return sha256(f"{prev_hash}:{digest}")


def checkpoint_message(entry_seq: int, entry_hash: str, at: str, key_id: str) -> bytes:
    """The bytes a checkpoint's signature covers."""
    return canonical({"entry_seq": entry_seq, "entry_hash": entry_hash, "at": at,
                      "key_id": key_id}).encode("utf-8")


# ---------------------------------------------------------------------------- events
def _window(w: ScopeWindow) -> list[str]:
    return [w.camera, iso(w.start), iso(w.end)]


@dataclass(frozen=True, kw_only=True)
class Event:
    """Something to journal. ``case``: the case reference it belongs to (or None)."""

    name: ClassVar[str] = "event"
    case: str | None = None

    def objects(self) -> list[str]:
        """Ids of the objects the action touched (``track:12``, ``run:3``…)."""
        return []

    def details(self) -> dict[str, Any]:
        return {}


@dataclass(frozen=True, kw_only=True)
class CaseCreated(Event):
    name: ClassVar[str] = "case-create"
    basis: str
    procedure_number: str
    authority: str
    scope: tuple[ScopeWindow, ...]

    def details(self) -> dict[str, Any]:
        return {"basis": self.basis, "procedure_number": self.procedure_number,
                "authority": self.authority, "scope": [_window(w) for w in self.scope]}


@dataclass(frozen=True, kw_only=True)
class CaseAmended(Event):
    name: ClassVar[str] = "case-amend"
    amendment_id: int
    scope: tuple[ScopeWindow, ...]
    reason: str
    widens: bool
    applied: bool

    def objects(self) -> list[str]:
        return [f"amendment:{self.amendment_id}"]

    def details(self) -> dict[str, Any]:
        return {"scope": [_window(w) for w in self.scope], "reason": self.reason,
                "widens": self.widens, "applied": self.applied}


@dataclass(frozen=True, kw_only=True)
class AmendmentApproved(Event):
    name: ClassVar[str] = "case-approve"
    amendment_id: int
    requested_by: str

    def objects(self) -> list[str]:
        return [f"amendment:{self.amendment_id}"]

    def details(self) -> dict[str, Any]:
        return {"requested_by": self.requested_by}


@dataclass(frozen=True, kw_only=True)
class CaseAssigned(Event):
    name: ClassVar[str] = "case-assign"
    user: str

    def objects(self) -> list[str]:
        return [f"user:{self.user}"]


@dataclass(frozen=True, kw_only=True)
class CaseStatusChanged(Event):
    name: ClassVar[str] = "case-status"
    status: str

    def details(self) -> dict[str, Any]:
        return {"status": self.status}


@dataclass(frozen=True, kw_only=True)
class SearchRun(Event):
    """A search: the structured query as run and the hit count."""

    name: ClassVar[str] = "search"
    query: dict[str, Any]
    hits: int
    track_ids: tuple[int, ...] = ()

    def objects(self) -> list[str]:
        return [f"track:{i}" for i in self.track_ids]

    def details(self) -> dict[str, Any]:
        return {"query": self.query, "hits": self.hits}


@dataclass(frozen=True, kw_only=True)
class ResultMarked(Event):
    """A result marked relevant or not relevant inside a case, with its note."""

    name: ClassVar[str] = "result-mark"
    track_id: int
    mark: str
    note: str

    def objects(self) -> list[str]:
        return [f"track:{self.track_id}"]

    def details(self) -> dict[str, Any]:
        return {"mark": self.mark, "note": self.note}


@dataclass(frozen=True, kw_only=True)
class AnalysisStarted(Event):
    name: ClassVar[str] = "analysis-start"
    scope: tuple[ScopeWindow, ...]

    def details(self) -> dict[str, Any]:
        return {"scope": [_window(w) for w in self.scope]}


@dataclass(frozen=True, kw_only=True)
class AnalysisFinished(Event):
    name: ClassVar[str] = "analysis-finish"
    run_id: int | None
    report: dict[str, Any]

    def objects(self) -> list[str]:
        return [f"run:{self.run_id}"] if self.run_id is not None else []

    def details(self) -> dict[str, Any]:
        return self.report


@dataclass(frozen=True, kw_only=True)
class ReportProduced(Event):
    """A coverage report of a case was produced (its format and what it counted)."""

    name: ClassVar[str] = "coverage-report"
    format: str
    windows: int
    searches: int

    def details(self) -> dict[str, Any]:
        return {"format": self.format, "windows": self.windows, "searches": self.searches}


@dataclass(frozen=True, kw_only=True)
class JournalExported(Event):
    name: ClassVar[str] = "journal-export"
    entries: int

    def details(self) -> dict[str, Any]:
        return {"entries": self.entries}


@dataclass(frozen=True, kw_only=True)
class JournalRead(Event):
    """Someone read the journal (the auditor's page): the filters of what they listed and
    how many entries were shown. The journal holds queries and names: reading it is a
    consultation too."""

    name: ClassVar[str] = "journal-read"
    filters: dict[str, str]
    shown: int

    def details(self) -> dict[str, Any]:
        return {"filters": dict(sorted(self.filters.items())), "shown": self.shown}


@dataclass(frozen=True, kw_only=True)
class PurgeRun(Event):
    """One recording purged by the retention rules (``retrouve.legal.purge``): the rule, the
    certificate's id and what it destroyed (row counts per table, the file's fate)."""

    name: ClassVar[str] = "purge"
    recording_id: str
    certificate_id: int
    rule: str
    sha256: str
    derived_only: bool
    rows: dict[str, int]
    file: str

    def objects(self) -> list[str]:
        return [f"recording:{self.recording_id}", f"purge-certificate:{self.certificate_id}"]

    def details(self) -> dict[str, Any]:
        return {"rule": self.rule, "sha256": self.sha256, "derived_only": self.derived_only,
                "rows": dict(sorted(self.rows.items())), "file": self.file}


@dataclass(frozen=True, kw_only=True)
class LoggedIn(Event):
    """A web login that succeeded: how (``password``) and the client's address."""

    name: ClassVar[str] = "login"
    address: str

    def details(self) -> dict[str, Any]:
        return {"address": self.address}


@dataclass(frozen=True, kw_only=True)
class LoginFailed(Event):
    """A web login refused (wrong name or password, disabled account, throttled): the name
    tried and the client's address, never the password."""

    name: ClassVar[str] = "login-failed"
    tried: str
    address: str
    reason: str

    def details(self) -> dict[str, Any]:
        return {"name": self.tried, "address": self.address, "reason": self.reason}


@dataclass(frozen=True, kw_only=True)
class LoggedOut(Event):
    name: ClassVar[str] = "logout"


@dataclass(frozen=True, kw_only=True)
class CaseSelected(Event):
    """The user made ``case`` their active case in the web (every later data request of the
    session works inside its scope)."""

    name: ClassVar[str] = "case-select"


@dataclass(frozen=True, kw_only=True)
class ResultViewed(Event):
    """A result looked at inside a case: ``view`` is what was shown (``track`` page or API,
    ``thumbnail``, ``clip``, whole ``recording``, one full ``frame``); one entry per view, not
    per byte range. ``frame_t``: for a ``frame`` view, the recording second of the frame
    shown (absent from the details otherwise, so entries written before it keep their
    digests)."""

    name: ClassVar[str] = "result-view"
    view: str
    track_id: int | None = None
    recording_id: str | None = None
    frame_t: float | None = None

    def objects(self) -> list[str]:
        return ([f"track:{self.track_id}"] if self.track_id is not None else []) + (
            [f"recording:{self.recording_id}"] if self.recording_id is not None else [])

    def details(self) -> dict[str, Any]:
        # Only when set: an entry without a frame time reads as it always did.
        return {"view": self.view} | ({} if self.frame_t is None else {"frame_t": self.frame_t})


@dataclass(frozen=True, kw_only=True)
class ChronologyViewed(Event):
    """A case's chronology page (its marked results in time order, across cameras): the
    tracks it showed, in that order, and whether not-relevant marks were included."""

    name: ClassVar[str] = "chronology-view"
    track_ids: tuple[int, ...]
    with_rejected: bool = False

    def objects(self) -> list[str]:
        return [f"track:{i}" for i in self.track_ids]

    def details(self) -> dict[str, Any]:
        return {"view": "chronology", "shown": len(self.track_ids),
                "with_rejected": self.with_rejected}


@dataclass(frozen=True, kw_only=True)
class OriginalViewed(Event):
    """A whole original recording file served as it is stored (admins only), distinct from
    the bounded clip views operators get. ``route``: ``recording`` (the original's own
    route: playback or download) or ``clip`` (a clip URL that range-served the whole file
    because the viewer is an admin); ``bytes``: ``whole`` (no ``Range``) or the served range
    ``start-end`` (inclusive byte offsets) of ``size`` bytes; ``track_id``: the sighting a
    clip URL named. One entry per distinct range of a viewing, so every part that left is
    listed."""

    name: ClassVar[str] = "view-original"
    recording_id: str
    route: str
    bytes: str
    size: int
    track_id: int | None = None

    def objects(self) -> list[str]:
        return [f"recording:{self.recording_id}"] + (
            [f"track:{self.track_id}"] if self.track_id is not None else [])

    def details(self) -> dict[str, Any]:
        return {"route": self.route, "bytes": self.bytes, "size": self.size}


@dataclass(frozen=True, kw_only=True)
class ScopeRefused(Event):
    """A request for an object not inside the active case's scope (or that does not exist:
    the store query cannot tell them apart, and neither does the answer, a 404). ``route``:
    the kind of route (``track``, ``thumbnail``, ``clip``, ``recording``, ``similar``…);
    ``requested``: the id as asked."""

    name: ClassVar[str] = "scope-refused"
    route: str
    requested: str

    def details(self) -> dict[str, Any]:
        return {"route": self.route, "requested": self.requested}


@dataclass(frozen=True, kw_only=True)
class UserAdded(Event):
    """An account created (never its password): its name and role."""

    name: ClassVar[str] = "user-add"
    account: str
    role: str

    def objects(self) -> list[str]:
        return [f"user:{self.account}"]

    def details(self) -> dict[str, Any]:
        return {"role": self.role}


@dataclass(frozen=True, kw_only=True)
class UserChanged(Event):
    """An account changed: ``change`` is ``role`` (``value`` the new role), ``time-zone``
    (``value`` the zone, empty for the site's), ``password``
    (never the password itself), ``disabled``, ``enabled``, ``token-issued`` or
    ``tokens-revoked`` (``value`` how many)."""

    name: ClassVar[str] = "user-change"
    account: str
    change: str
    value: str = ""

    def objects(self) -> list[str]:
        return [f"user:{self.account}"]

    def details(self) -> dict[str, Any]:
        return {"change": self.change, **({"value": self.value} if self.value else {})}


@dataclass(frozen=True, kw_only=True)
class CameraChanged(Event):
    """A camera registered (``change`` ``add``) or its details edited (``edit``): its id
    and the details in force after the change (name, IANA zone, WGS84 position, address)."""

    name: ClassVar[str] = "camera-change"
    change: str
    camera: str
    label: str
    timezone: str
    latitude: float | None = None
    longitude: float | None = None
    address: str | None = None

    def objects(self) -> list[str]:
        return [f"camera:{self.camera}"]

    def details(self) -> dict[str, Any]:
        return {"change": self.change, "name": self.label, "timezone": self.timezone,
                "latitude": self.latitude, "longitude": self.longitude,
                "address": self.address}


@dataclass(frozen=True, kw_only=True)
class PackChanged(Event):
    """A model pack installed or removed (``change``): name, version, role, where it came
    from and the SHA-256 of each of its files (what ran is provable later)."""

    name: ClassVar[str] = "pack-change"
    change: str
    pack: str
    version: str
    task: str = ""
    source: str = ""
    files: tuple[tuple[str, str], ...] = ()

    def objects(self) -> list[str]:
        return [f"pack:{self.pack}@{self.version}"]

    def details(self) -> dict[str, Any]:
        return {"change": self.change, "task": self.task, "source": self.source,
                "files": dict(self.files)}


@dataclass(frozen=True, kw_only=True)
class SettingsChanged(Event):
    """The settings in force differ from those last journalled: their SHA-256, each
    changed setting's old and new value and all of them (dotted names; settings hold no
    secret)."""

    name: ClassVar[str] = "settings-change"
    digest: str
    changed: tuple[tuple[str, Any, Any], ...]
    #: Every setting in force (the next change is compared against them).
    settings: dict[str, Any]

    def details(self) -> dict[str, Any]:
        return {"digest": self.digest,
                "changed": {k: {"old": old, "new": new} for k, old, new in self.changed},
                "settings": self.settings}


@dataclass(frozen=True, kw_only=True)
class BackupChanged(Event):
    """A backup taken, or restored into this installation (``change``): where, which
    database kind, how many files, and when it was taken."""

    name: ClassVar[str] = "backup"
    change: str
    where: str
    database: str
    files: int
    taken_at: str

    def details(self) -> dict[str, Any]:
        return {"change": self.change, "where": self.where, "database": self.database,
                "files": self.files, "taken_at": self.taken_at}


@dataclass(frozen=True, kw_only=True)
class ExportRequested(Event):
    """An evidence export asked for: what (tracks, windows, redaction), for whom (the
    requesting authority), and whether a second person must approve it."""

    name: ClassVar[str] = "export-request"
    export_id: int
    track_ids: tuple[int, ...]
    windows: tuple[ScopeWindow, ...]
    redact: bool
    authority: str
    needs_approval: bool

    def objects(self) -> list[str]:
        return [f"export:{self.export_id}", *(f"track:{i}" for i in self.track_ids)]

    def details(self) -> dict[str, Any]:
        return {"windows": [_window(w) for w in self.windows], "redact": self.redact,
                "authority": self.authority, "needs_approval": self.needs_approval}


@dataclass(frozen=True, kw_only=True)
class ExportApproved(Event):
    """An export approved by a second person (the entry's user); who asked for it."""

    name: ClassVar[str] = "export-approve"
    export_id: int
    requested_by: str

    def objects(self) -> list[str]:
        return [f"export:{self.export_id}"]

    def details(self) -> dict[str, Any]:
        return {"requested_by": self.requested_by}


@dataclass(frozen=True, kw_only=True)
class ExportProduced(Event):
    """An export's bundle built: who asked, who approved (None: not required), for whom,
    the exhibits and the zip's SHA-256."""

    name: ClassVar[str] = "export-produce"
    export_id: int
    requested_by: str
    approved_by: str | None
    authority: str
    exhibits: int
    bundle: str
    sha256: str

    def objects(self) -> list[str]:
        return [f"export:{self.export_id}"]

    def details(self) -> dict[str, Any]:
        return {"requested_by": self.requested_by, "approved_by": self.approved_by,
                "authority": self.authority, "exhibits": self.exhibits,
                "bundle": self.bundle, "sha256": self.sha256}


@dataclass(frozen=True, kw_only=True)
class ExportDownloaded(Event):
    """An export's bundle downloaded from the web (the entry's user): which request, and the
    SHA-256 of the zip served (the one ``export-produce`` recorded)."""

    name: ClassVar[str] = "export-download"
    export_id: int
    sha256: str

    def objects(self) -> list[str]:
        return [f"export:{self.export_id}"]

    def details(self) -> dict[str, Any]:
        return {"sha256": self.sha256}


def seal(event: Event, user: str, role: str, at: datetime) -> Callable[[int, str | None],
                                                                      JournalRow]:
    """The row builder :meth:`Store.append_entry` calls with the head (seq, prev hash)."""
    objects_json = canonical(event.objects())
    details_json = canonical(event.details())
    when = iso(at)

    def build(seq: int, prev: str | None) -> JournalRow:
        prev_hash = prev or GENESIS
        digest = entry_digest(seq, when, user, role, event.case, event.name, objects_json,
                              details_json)
        return JournalRow(seq, at, user, role, event.case, event.name, objects_json,
                          details_json, digest, prev_hash, chain_hash(prev_hash, digest))

    return build


# ---------------------------------------------------------------------------- verify
@dataclass(frozen=True)
class Verdict:
    """The result of a verification: ``ok``, else the first bad entry (seq, or the
    checkpoint's) and why."""

    ok: bool
    entries: int
    checkpoints: int
    bad_seq: int | None = None
    reason: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "entries": self.entries, "checkpoints": self.checkpoints,
                "bad_entry": self.bad_seq, "reason": self.reason}


def entry_json(row: JournalRow, *, redacted: bool = False) -> dict[str, Any]:
    """An entry as exported (and as :func:`verify_chain` reads it back)."""
    head = {"seq": row.seq, "digest": row.digest, "prev_hash": row.prev_hash, "hash": row.hash}
    if redacted:
        return head
    return {**head, "at": iso(row.at), "user": row.user, "role": row.role, "case": row.case,
            "action": row.action, "objects": json.loads(row.objects_json),
            "details": json.loads(row.details_json)}


def checkpoint_json(cp: CheckpointRow) -> dict[str, Any]:
    return {"seq": cp.seq, "entry_seq": cp.entry_seq, "entry_hash": cp.entry_hash,
            "at": iso(cp.at), "key_id": cp.key_id, "signature": cp.signature}


def verify_chain(entries: Iterable[dict[str, Any]], checkpoints: Sequence[dict[str, Any]],
                 check_signature: Callable[[bytes, str, str], bool],
                 first_seq: int = 1) -> Verdict:
    """Check entries (in order, as :func:`entry_json` writes them; redacted ones carry no
    content) against the chain and the checkpoints.

    ``check_signature(message, signature_hex, key_id)``: True when the installation's key
    signed it. ``first_seq``: where the entries start (1 for a whole journal; an export
    starts at its first entry, whose ``prev_hash`` is then taken as given).
    """
    hashes: dict[int, str] = {}
    expected_seq, prev, n = first_seq, None, 0
    for e in entries:
        n += 1
        seq = int(e["seq"])
        if seq != expected_seq:
            return Verdict(False, n, 0, expected_seq if seq > expected_seq else seq,
                           f"entry {seq} found where entry {expected_seq} should be "
                           "(deleted, inserted or reordered)")
        if prev is None:
            prev = GENESIS if first_seq == 1 else str(e["prev_hash"])
        if e["prev_hash"] != prev:
            return Verdict(False, n, 0, seq, f"entry {seq} does not follow entry {seq - 1} "
                           "(its previous hash differs: deleted, inserted or reordered)")
        if "action" in e:
            digest = entry_digest(seq, e["at"], e["user"], e["role"], e["case"], e["action"],
                                  canonical(e["objects"]), canonical(e["details"]))
            if digest != e["digest"]:
                return Verdict(False, n, 0, seq, f"entry {seq} was edited (its content "
                               "does not match its digest)")
        if chain_hash(prev, e["digest"]) != e["hash"]:
            return Verdict(False, n, 0, seq, f"entry {seq}: hash does not match the chain")
        hashes[seq] = e["hash"]
        prev = e["hash"]
        expected_seq += 1
    last = expected_seq - 1
    for cp in checkpoints:
        msg = checkpoint_message(int(cp["entry_seq"]), cp["entry_hash"], cp["at"],
                                 cp["key_id"])
        if not check_signature(msg, cp["signature"], cp["key_id"]):
            return Verdict(False, n, len(checkpoints), int(cp["entry_seq"]),
                           f"checkpoint {cp['seq']}: bad signature")
        at = int(cp["entry_seq"])
        if at > last:
            return Verdict(False, n, len(checkpoints), last + 1,
                           f"checkpoint {cp['seq']} covers entry {at} but the journal ends "
                           f"at entry {last} (truncated)")
        if at in hashes and hashes[at] != cp["entry_hash"]:
            return Verdict(False, n, len(checkpoints), at,
                           f"entry {at} differs from what checkpoint {cp['seq']} signed")
    return Verdict(True, n, len(checkpoints))
