"""The evidence bundle: per exhibit a master (stream copy), a working copy and a still, the
*rapport d'exploitation*, all sealed (``manifest.json`` + detached Ed25519 signature +
``SHA256SUMS``) and zipped as one file; and its verification, from the zip or a folder.

Layout of ``retrouve-<case>-export-<id>.zip`` (one top folder of the same name)::

    exhibits/E01/master.mp4     stream copy of the original, never re-encoded
    exhibits/E01/working.mp4    H.264 with camera name and local/UTC time burnt in
    exhibits/E01/still.png      (track exhibits) the full frame at the best moment, box drawn
    exhibits/E01/redacted/...   (on request) what the redactor writes, with its log
    rapport.pdf                 the rapport d'exploitation
    manifest.json, manifest.json.sig, public-key.pem, SHA256SUMS

Every original recording is re-hashed before anything is written: a file changed since
ingest refuses the export (``SourceChanged``). Times in the manifest are ISO-8601, UTC and
the camera's local time; recording seconds count from the recording's first frame.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import time
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import Any, Final
from zoneinfo import ZoneInfo

from retrouve.digest import sha256_file
from retrouve.domain import Camera, Recording
from retrouve.errors import ExportError
from retrouve.export.cut import cut_master
from retrouve.export.exhibits import Exhibit
from retrouve.export.hashing import verify_source
from retrouve.export.rapport import rapport_pdf
from retrouve.export.seal import MANIFEST, Sign, check, seal
from retrouve.export.stills import write_still
from retrouve.export.working_copy import write_working_copy

FORMAT: Final = "retrouve-evidence-bundle/1"
RAPPORT: Final = "rapport.pdf"
CLOCK_NOTE: Final = (
    "Wall-clock times are the recording's start as registered at ingest ({start}) plus the "
    "stream's presentation time. Retrouve did not measure the camera's clock against legal "
    "time: check it against the recorder's clock log or a known event before relying on a "
    "time to the second.")

#: The hook for redacted copies (``export/redact.py``): given the exhibit, its working copy
#: and a folder to write into (``exhibits/E01/redacted``), write the redacted copy and its
#: log there and return what the manifest should say about them (models, counts, files).
#: It never receives the master.
Redactor = Callable[[Exhibit, Path, Path], dict[str, Any]]


@dataclass(frozen=True)
class ExportContext:
    """Everything about an export besides its exhibits, as plain values (the services
    gather it from the case, the journal and the store).

    ``case``: ref, basis, procedure_number, prosecutor_authorisation, purpose;
    ``authority``: name, service, contact; ``runs``: analysis run id → {started_at,
    software_version, models, settings}; ``track_runs``: track id → run id; ``searches``:
    the case's journalled searches ({at, user, query, hits}); ``notes``: track id → the
    operator's note on its mark."""

    export_id: int
    case: dict[str, Any]
    authority: dict[str, str]
    requested_by: str
    requested_at: datetime
    approved_by: str | None
    approved_at: datetime | None
    produced_at: datetime
    software_version: str
    cameras: dict[str, Camera]
    runs: dict[int, dict[str, Any]] = field(default_factory=dict)
    track_runs: dict[int, int] = field(default_factory=dict)
    searches: list[dict[str, Any]] = field(default_factory=list)
    notes: dict[int, str] = field(default_factory=dict)


@dataclass(frozen=True)
class BundleResult:
    """The zip written, its SHA-256, the manifest sealed in it, and seconds spent."""

    path: Path
    sha256: str
    manifest: dict[str, Any]
    seconds: float


@dataclass(frozen=True)
class Encoding:
    """Working-copy encoder settings (``export.working_crf`` / ``working_preset``)."""

    crf: int = 23
    preset: str = "veryfast"


def bundle_name(case_ref: str, export_id: int) -> str:
    """``retrouve-<case>-export-<id>``, the case reference made safe for a file name."""
    return f"retrouve-{re.sub(r'[^A-Za-z0-9._-]', '_', case_ref)}-export-{export_id}"


def _times(when: datetime, zone: str) -> dict[str, str]:
    return {"utc": when.astimezone(ZoneInfo("UTC")).isoformat(timespec="milliseconds"),
            "local": when.astimezone(ZoneInfo(zone)).isoformat(timespec="milliseconds")}


def _iso(when: datetime | None) -> str | None:
    return None if when is None else when.astimezone(ZoneInfo("UTC")).isoformat(
        timespec="seconds")


def _exhibit(e: Exhibit, ctx: ExportContext, folder: Path, sha_now: str, enc: Encoding,
             redactor: Redactor | None) -> dict[str, Any]:
    """Write one exhibit's files under ``folder/exhibits/<label>``; its manifest entry."""
    rec, cam = e.recording, ctx.cameras[e.camera_id]
    rel = PurePosixPath("exhibits") / e.label
    here = folder / rel
    here.mkdir(parents=True)
    suffix = Path(rec.path).suffix.lower() if Path(rec.path).suffix.lower() in (
        ".mp4", ".mkv", ".mov") else ".mkv"
    cut = cut_master(Path(rec.path), here / f"master{suffix}", e.t_from, e.t_to)
    wc = write_working_copy(rec, cam, here / "working.mp4", e.t_from, e.t_to,
                            crf=enc.crf, preset=enc.preset)
    zone = cam.timezone

    def at(t: float) -> dict[str, str]:
        return _times(rec.start + timedelta(seconds=t), zone)

    entry: dict[str, Any] = {
        "label": e.label,
        "kind": "track" if e.track is not None else "window",
        "camera": {"id": cam.id, "name": cam.name, "timezone": zone},
        "recording": {"id": rec.id, "file": Path(rec.path).name, "start": _times(rec.start, zone),
                      "sha256_at_ingest": rec.sha256, "sha256_now": sha_now,
                      "verified_at": _iso(ctx.produced_at)},
        "window": {"from": _times(e.utc_from, zone), "to": _times(e.utc_to, zone),
                   "recording_from_s": e.t_from, "recording_to_s": e.t_to},
        "master": {"file": str(rel / f"master{suffix}"), "re_encoded": False,
                   "sha256": sha256_file(here / f"master{suffix}"), **cut.to_json(),
                   "actual_from": at(cut.actual_from), "actual_to": at(cut.actual_to)},
        "working": {"file": str(rel / "working.mp4"), "sha256": sha256_file(
            here / "working.mp4"), **wc.to_json(), "first_frame": at(wc.first_t),
            "last_frame": at(wc.last_t)},
        "clock_note": CLOCK_NOTE.format(start=_times(rec.start, zone)["utc"]),
    }
    t = e.track
    if t is not None:
        still = write_still(rec, t.best_t, t.box, here / "still.png")
        run_id = ctx.track_runs.get(t.id)
        entry["track"] = {
            "id": t.id, "object": t.object, "object_confidence": t.object_confidence,
            "attributes": {k: [v[0], v[1]] for k, v in sorted(t.attributes.items())},
            "plate": t.plate.text if t.plate is not None else None,
            "first_seen": _times(t.start, zone), "last_seen": _times(t.end, zone),
            "best": at(t.best_t), "box": t.box.as_list(), "note": ctx.notes.get(t.id, ""),
            "analysis_run": run_id}
        entry["still"] = {"file": str(rel / "still.png"), "sha256": sha256_file(
            here / "still.png"), "frame": at(still.t), "recording_s": still.t,
            "box": still.box.as_list()}
    if redactor is not None:
        (here / "redacted").mkdir()
        entry["redaction"] = redactor(e, here / "working.mp4", here / "redacted")
    return entry


def metadata(ctx: ExportContext, exhibits: list[dict[str, Any]], redact: bool
             ) -> dict[str, Any]:
    """The manifest's content before the seal adds the files' hashes."""
    used = {x["track"]["analysis_run"] for x in exhibits if x.get("track")} - {None}
    return {
        "format": FORMAT,
        "case": ctx.case,
        "legal_basis": f"art. {ctx.case['basis']} CPP",
        "requesting_authority": ctx.authority,
        "operator": ctx.requested_by,
        "approver": ctx.approved_by,
        "export": {"id": ctx.export_id, "requested_by": ctx.requested_by,
                   "requested_at": _iso(ctx.requested_at), "approved_by": ctx.approved_by,
                   "approved_at": _iso(ctx.approved_at), "redacted_copies": redact},
        "produced_at": _iso(ctx.produced_at),
        "software_version": ctx.software_version,
        "searches": ctx.searches,
        "analysis_runs": {str(r): ctx.runs[r] for r in sorted(used) if r in ctx.runs},
        "exhibits": exhibits,
        "statement": "The tool suggests; a person verified each exhibit.",
    }


def build_bundle(ctx: ExportContext, exhibits: Sequence[Exhibit], out_dir: Path, sign: Sign,
                 public_pem: bytes, *, encoding: Encoding | None = None,
                 redactor: Redactor | None = None) -> BundleResult:
    """Re-verify the sources, write every exhibit, the report, seal and zip into
    ``out_dir``; ``SourceChanged`` before anything is written if a source changed."""
    started = time.monotonic()
    recordings: dict[str, Recording] = {e.recording.id: e.recording for e in exhibits}
    hashes = {rid: verify_source(rec) for rid, rec in recordings.items()}
    name = bundle_name(ctx.case["ref"], ctx.export_id)
    target = out_dir / f"{name}.zip"
    if target.exists():
        raise ExportError(f"{target} already exists: choose another --out")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=out_dir))
    except OSError as exc:
        raise ExportError(f"cannot write to {out_dir}: {exc}") from exc
    try:
        folder = staging / name
        folder.mkdir()
        entries = [_exhibit(e, ctx, folder, hashes[e.recording.id], encoding or Encoding(),
                            redactor) for e in exhibits]
        meta = metadata(ctx, entries, redactor is not None)
        (folder / RAPPORT).write_bytes(rapport_pdf(meta, folder))
        manifest = seal(folder, meta, sign, public_pem)
        partial = staging / f"{name}.zip"
        with zipfile.ZipFile(partial, "w") as zf:
            for path in sorted(p for p in folder.rglob("*") if p.is_file()):
                arc = f"{name}/{path.relative_to(folder).as_posix()}"
                # Video and images are compressed already; text and PDF deflate well.
                kind = (zipfile.ZIP_STORED if path.suffix in (".mp4", ".mkv", ".mov", ".png")
                        else zipfile.ZIP_DEFLATED)
                zf.write(path, arc, compress_type=kind)
        partial.replace(target)
    except OSError as exc:
        raise ExportError(f"cannot write the bundle {target}: {exc}") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return BundleResult(target, sha256_file(target), manifest, time.monotonic() - started)


def _sealed_root(folder: Path) -> Path | None:
    if (folder / MANIFEST).is_file():
        return folder
    subs = [p for p in folder.iterdir() if p.is_dir()] if folder.is_dir() else []
    return subs[0] if len(subs) == 1 and (subs[0] / MANIFEST).is_file() else None


def verify_bundle(path: Path) -> list[str]:
    """Problems with a bundle (a zip or its unzipped folder), each naming its file; empty
    when intact (every file listed, unchanged, nothing added, the signature good)."""
    if path.is_dir():
        root = _sealed_root(path)
        return check(root) if root is not None else [f"{path}: no {MANIFEST} in it"]
    try:
        with zipfile.ZipFile(path) as zf, tempfile.TemporaryDirectory() as tmp:
            bad = [n for n in zf.namelist() if n.startswith("/") or ".." in
                   PurePosixPath(n).parts]
            if bad:
                return [f"{n}: unsafe path in the zip" for n in bad]
            zf.extractall(tmp)
            root = _sealed_root(Path(tmp))
            if root is None:
                return [f"{path.name}: no {MANIFEST} in one top folder"]
            # Anything in the zip beside the bundle's folder was added to it too.
            outside = sorted(p.relative_to(tmp).as_posix() for p in Path(tmp).rglob("*")
                             if p.is_file() and root not in p.parents)
            return check(root) + [f"{n}: added (outside the bundle's folder)" for n in outside]
    except (OSError, zipfile.BadZipFile) as exc:
        return [f"{path}: cannot read the bundle: {exc}"]
