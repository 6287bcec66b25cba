"""The evidence bundle end to end, on real generated clips analysed by the shape detector:
exhibit selection inside the scope, master / working copy / still / manifest / rapport in one
sealed zip, the tamper table (altered, missing, added, bad signature), footage changed since
ingest refuses the export, and the second person's approval."""

from __future__ import annotations

import json
import re
import shutil
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from clips import RED, Clip, Moving, make_clip
from conftest import make_services
from retrouve.config import Settings
from retrouve.domain import Box, Camera, LegalBasis, PlateRead, Recording, Role, ScopeWindow
from retrouve.errors import ExportError, NotPermitted, OutOfScope, SourceChanged
from retrouve.export.bundle import verify_bundle
from retrouve.export.exhibits import Exhibit, select_exhibits
from retrouve.export.redaction_plan import plate_boxes
from retrouve.legal.cases import Actor
from retrouve.services import Services
from retrouve.store.cases import CaseFields
from retrouve.store.exports import ExportState
from retrouve.store.marks import MarkKind
from retrouve.store.records import TrackDetail, TrackFilter

T0 = datetime(2026, 1, 4, 9, 0, 0, tzinfo=UTC)  # 10:00 in Paris: the clip's first frame
SAM = Actor("sam", Role.SUPERVISOR)
ZOE = Actor("zoe", Role.SUPERVISOR)
OLGA = Actor("olga", Role.OPERATOR)
FPS = 10
MARGIN = 1.0


@dataclass
class Setup:
    svc: Services
    clip: Clip
    track: int
    recording: str


def make_setup(tmp_path: Path, *, approval: bool, seconds: float = 6.0) -> Setup:
    """A 6 s clip of cam1 (10:00:00 Paris) with one red car crossing from 2 s to 4 s,
    ingested and analysed in case PV-1 (scope 09:55–10:05 Paris), assigned to sam and olga."""
    clip = make_clip(tmp_path / "media" / "cam1.mp4", seconds=seconds, fps=FPS,
                     size=(320, 240), gop=FPS,
                     objects=[Moving(RED, (60, 40), (0, 100), (260, 100), 2.0, 4.0)])
    settings = Settings(data_dir=tmp_path / "data", workers=1, executor="inline",
                        export={"require_approval": approval, "margin_s": MARGIN,
                                "working_preset": "ultrafast"})
    svc = make_services(settings)
    svc.catalogue.add_camera(Camera("cam1", "Gare Nord", "Europe/Paris"))
    [rec] = svc.catalogue.ingest(str(clip.path), "cam1", "2026-01-04T10:00:00+01:00").added
    scope = (ScopeWindow("cam1", T0 - timedelta(minutes=5), T0 + timedelta(minutes=5)),)
    svc.cases.create(SAM, CaseFields(
        ref="PV-1", basis=LegalBasis.ART_60_1, procedure_number="2026/001",
        authority="OPJ Martin", authority_service="Commissariat", authority_contact="01 23",
        received_at=T0, purpose="vol à la tire"), scope, ("sam", "olga"))
    svc.analyse_case(SAM, svc.cases.work(SAM, "PV-1"))
    [row] = svc.store.find_tracks(TrackFilter(), limit=10)
    return Setup(svc, clip, row.id, rec.id)


@pytest.fixture
def marked(tmp_path: Path) -> Iterator[Setup]:
    s = make_setup(tmp_path, approval=False)
    s.svc.cases.mark(OLGA, "PV-1", s.track, MarkKind.RELEVANT, "la voiture rouge")
    try:
        yield s
    finally:
        s.svc.close()


def build(s: Setup, out: Path, actor: Actor = OLGA, **kw: object) -> Path:
    rec = s.svc.export_request(actor, "PV-1", **kw)  # type: ignore[arg-type]
    _done, result = s.svc.export_build(actor, rec.id, out)
    return result.path


def unzip(bundle: Path, into: Path) -> Path:
    with zipfile.ZipFile(bundle) as zf:
        zf.extractall(into)
    [root] = list(into.iterdir())
    return root


def pdf_text(data: bytes) -> bytes:
    """The page content streams of an fpdf2 PDF, inflated (its text is Latin-1)."""
    out = b""
    for body in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        try:
            out += zlib.decompress(body)
        except zlib.error:
            continue  # an image stream
    return out


def packets(path: Path) -> list[bytes]:
    with av.open(str(path)) as c:
        return [bytes(p) for p in c.demux(c.streams.video[0]) if p.size]


def test_a_marked_track_gives_a_complete_verified_bundle(marked: Setup, tmp_path: Path) -> None:
    s = marked
    bundle = build(s, tmp_path / "out")
    assert bundle.name == "retrouve-PV-1-export-1.zip" and bundle.parent == tmp_path / "out"
    assert [p.name for p in (tmp_path / "out").iterdir()] == [bundle.name]  # no staging left
    root = unzip(bundle, tmp_path / "x")
    names = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    assert names == ["SHA256SUMS", "exhibits/E01/master.mp4", "exhibits/E01/still.png",
                     "exhibits/E01/working.mp4", "manifest.json", "manifest.json.sig",
                     "public-key.pem", "rapport.pdf"]
    assert verify_bundle(bundle) == [] and verify_bundle(root) == []
    m = json.loads((root / "manifest.json").read_text())
    assert m["case"]["ref"] == "PV-1" and m["legal_basis"] == "art. 60-1 CPP"
    assert m["requesting_authority"]["name"] == "OPJ Martin"
    assert (m["operator"], m["approver"]) == ("olga", None)
    rec = s.svc.store.get_recording(s.recording)
    assert rec is not None
    [e] = m["exhibits"]
    assert e["recording"]["sha256_now"] == e["recording"]["sha256_at_ingest"] == rec.sha256
    assert e["camera"] == {"id": "cam1", "name": "Gare Nord", "timezone": "Europe/Paris"}
    track = s.svc.store.track_detail(s.track)
    assert track is not None
    # The window: first/last sighting ± the margin, in UTC and Paris time.
    assert e["window"]["recording_from_s"] == pytest.approx(track.t_start - MARGIN)
    assert e["window"]["recording_to_s"] == pytest.approx(track.t_end + MARGIN)
    assert e["window"]["from"]["local"].startswith("2026-01-04T10:00:0")
    assert e["window"]["from"]["local"].endswith("+01:00")
    assert e["window"]["from"]["utc"].startswith("2026-01-04T09:00:0")
    # Requested vs actual cut points: the master starts on the key frame before (gop 1 s).
    master = e["master"]
    assert master["requested_from_s"] == pytest.approx(track.t_start - MARGIN)
    assert master["actual_from_s"] == pytest.approx(int(track.t_start - MARGIN))
    assert master["actual_to_s"] >= master["requested_to_s"] - 1 / FPS - 1e-6
    assert master["re_encoded"] is False
    first = round(master["actual_from_s"] * FPS)
    cut = packets(root / "exhibits/E01/master.mp4")
    assert cut == packets(s.clip.path)[first:first + len(cut)]  # bit for bit
    assert "clock" in e["clock_note"]
    assert e["track"]["id"] == s.track and e["track"]["note"] == "la voiture rouge"
    run = m["analysis_runs"][str(e["track"]["analysis_run"])]
    assert run["models"] and run["settings"] and run["software_version"]
    # Every file's hash in the manifest (the seal's), the same in SHA256SUMS.
    sums = dict(reversed(line.split("  ")) for line in
                (root / "SHA256SUMS").read_text().splitlines())
    assert set(m["files"]) == set(names) - {"SHA256SUMS", "manifest.json",
                                             "manifest.json.sig", "public-key.pem"}
    assert all(sums[n] == h for n, h in m["files"].items())
    assert m["files"]["exhibits/E01/master.mp4"] == master["sha256"]
    # Journalled: who asked, for whom, what was produced.
    entries = [x for x in s.svc.store.journal_entries(case="PV-1")
               if x.action.startswith("export-")]
    assert [x.action for x in entries] == ["export-request", "export-produce"]
    produced = json.loads(entries[1].details_json)
    assert produced["authority"] == "OPJ Martin" and produced["requested_by"] == "olga"
    assert s.svc.exports.get(1).state is ExportState.PRODUCED
    assert s.svc.journal.verify().ok


def test_the_rapport_names_the_case_the_people_and_the_statement(
        marked: Setup, tmp_path: Path) -> None:
    root = unzip(build(marked, tmp_path / "out"), tmp_path / "x")
    data = (root / "rapport.pdf").read_bytes()
    assert data.startswith(b"%PDF-")
    text = pdf_text(data)
    for needle in ("Rapport d'exploitation - dossier PV-1", "OPJ Martin", "olga",
                   "Gare Nord", "Provenance de l'analyse", "l'outil suggère",
                   "une personne vérifie", "Critères de recherche"):
        assert needle.encode("latin-1") in text, needle
    assert data.count(b"/Subtype /Image") == 1  # the still's thumbnail


def test_tamper_table_names_each_file(marked: Setup, tmp_path: Path) -> None:
    bundle = build(marked, tmp_path / "out")
    root = unzip(bundle, tmp_path / "x")
    work = root / "exhibits/E01/working.mp4"
    original = work.read_bytes()
    work.write_bytes(original[:-1] + bytes([original[-1] ^ 1]))
    assert verify_bundle(root) == ["exhibits/E01/working.mp4: altered (SHA-256 differs)"]
    work.write_bytes(original)
    (root / "exhibits/E01/still.png").unlink()
    assert verify_bundle(root) == ["exhibits/E01/still.png: missing"]
    unzip(bundle, tmp_path / "y")
    shutil.copy(tmp_path / "y" / root.name / "exhibits/E01/still.png",
                root / "exhibits/E01/still.png")
    (root / "exhibits/E01/notes.txt").write_text("added later")
    assert verify_bundle(root) == ["exhibits/E01/notes.txt: added (not in the manifest)"]
    (root / "exhibits/E01/notes.txt").unlink()
    manifest = json.loads((root / "manifest.json").read_text())
    manifest["operator"] = "someone else"
    (root / "manifest.json").write_text(json.dumps(manifest))
    assert verify_bundle(root) == ["manifest.json.sig: bad signature over manifest.json"]
    # The zip itself: a member changed inside it is named too.
    forged = tmp_path / "forged.zip"
    with zipfile.ZipFile(bundle) as src, zipfile.ZipFile(forged, "w") as dst:
        for info in src.infolist():
            body = src.read(info)
            if info.filename.endswith("rapport.pdf"):
                body += b"%"
            dst.writestr(info, body)
    assert verify_bundle(forged) == ["rapport.pdf: altered (SHA-256 differs)"]
    shutil.copy(bundle, tmp_path / "grown.zip")
    with zipfile.ZipFile(tmp_path / "grown.zip", "a") as zf:
        zf.writestr("README.txt", "not part of the bundle")
    assert verify_bundle(tmp_path / "grown.zip") == [
        "README.txt: added (outside the bundle's folder)"]


def test_the_working_copy_plays_with_time_burnt_in(marked: Setup, tmp_path: Path) -> None:
    root = unzip(build(marked, tmp_path / "out"), tmp_path / "x")
    path = root / "exhibits/E01/working.mp4"
    m = json.loads((root / "manifest.json").read_text())
    win = m["exhibits"][0]["window"]
    expected = win["recording_to_s"] - win["recording_from_s"]
    with av.open(str(path)) as c:
        vs = c.streams.video[0]
        assert (vs.codec_context.name, vs.format.name) == ("h264", "yuv420p")
        frames = list(c.decode(vs))
    assert frames[0].time is not None and frames[-1].time is not None
    shown = frames[-1].time - frames[0].time + 1 / FPS
    assert abs(shown - expected) <= 2 / FPS + 1e-6
    assert len(frames) == m["exhibits"][0]["working"]["frames"]
    data = path.read_bytes()
    assert data.find(b"moov") < data.find(b"mdat")  # faststart: plays while downloading
    img = frames[0].to_ndarray(format="rgb24")
    band, body = img[:8].astype(float), img[120:].astype(float)
    assert band.mean() < 60 < body.mean()  # the dark caption band over grey footage
    assert (img[:30] > 200).any()  # its white text


def test_the_still_is_the_full_frame_with_the_box(marked: Setup, tmp_path: Path) -> None:
    root = unzip(build(marked, tmp_path / "out"), tmp_path / "x")
    img = np.asarray(Image.open(root / "exhibits/E01/still.png").convert("RGB"))
    assert img.shape == (240, 320, 3)
    x0, y0, x1, _y1 = (round(v) for v in json.loads(
        (root / "manifest.json").read_text())["exhibits"][0]["still"]["box"])
    assert tuple(img[y0, (x0 + x1) // 2]) == (255, 32, 32)  # the box's top edge


def test_footage_changed_since_ingest_refuses_the_export(marked: Setup, tmp_path: Path
                                                        ) -> None:
    with marked.clip.path.open("r+b") as fh:
        fh.seek(-10, 2)
        fh.write(b"\x00" * 10)
    rec = marked.svc.export_request(OLGA, "PV-1")
    with pytest.raises(SourceChanged, match=r"cam1\.mp4 changed since ingest"):
        marked.svc.export_build(OLGA, rec.id, tmp_path / "out")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    assert marked.svc.exports.get(rec.id).state is ExportState.APPROVED
    assert "export-produce" not in [x.action for x in marked.svc.store.journal_entries()]


def test_approval_by_a_second_supervisor(tmp_path: Path) -> None:
    s = make_setup(tmp_path, approval=True)
    try:
        req = s.svc.export_request(OLGA, "PV-1", tracks=(s.track,))
        assert req.state is ExportState.REQUESTED and req.spec["tracks"] == [s.track]
        with pytest.raises(ExportError, match="waits for a supervisor's approval"):
            s.svc.export_build(OLGA, req.id, tmp_path / "out")
        with pytest.raises(NotPermitted):
            s.svc.exports.approve(OLGA, req.id)  # an operator approves nothing
        own = s.svc.export_request(SAM, "PV-1", tracks=(s.track,))
        with pytest.raises(NotPermitted, match="cannot approve it too"):
            s.svc.exports.approve(SAM, own.id)  # nor does the requester
        approved = s.svc.exports.approve(ZOE, req.id)
        assert (approved.state, approved.approved_by) == (ExportState.APPROVED, "zoe")
        with pytest.raises(ExportError, match="nothing to approve"):
            s.svc.exports.approve(SAM, req.id)
        done, result = s.svc.export_build(OLGA, req.id, tmp_path / "out")
        assert done.state is ExportState.PRODUCED and done.bundle_sha256 == result.sha256
        assert result.manifest["approver"] == "zoe" and verify_bundle(result.path) == []
        with pytest.raises(ExportError, match="already produced"):
            s.svc.export_build(OLGA, req.id, tmp_path / "again")
        actions = [(x.action, x.user) for x in s.svc.store.journal_entries(case="PV-1")
                   if x.action.startswith("export-")]
        assert actions == [("export-request", "olga"), ("export-request", "sam"),
                           ("export-approve", "zoe"), ("export-produce", "olga")]
    finally:
        s.svc.close()


def test_exhibits_stay_inside_the_scope(marked: Setup, tmp_path: Path) -> None:
    svc = marked.svc
    outside = ScopeWindow("cam1", T0 + timedelta(minutes=4), T0 + timedelta(minutes=6))
    with pytest.raises(OutOfScope):
        svc.export_request(OLGA, "PV-1", windows=(outside,))
    with pytest.raises(OutOfScope):
        svc.export_request(OLGA, "PV-1", tracks=(999_999,))
    empty = ScopeWindow("cam1", T0 - timedelta(minutes=4), T0 - timedelta(minutes=3))
    with pytest.raises(ExportError, match="no footage"):
        svc.export_request(OLGA, "PV-1", windows=(empty,))
    assert svc.store.list_exports(svc.cases.get("PV-1").id) == []


def test_selection_pure_rules(marked: Setup) -> None:
    svc = marked.svc
    track = svc.store.track_detail(marked.track)
    rec = svc.store.get_recording(marked.recording)
    assert track is not None and rec is not None
    # The margin is clipped to the scope: a scope ending 0.5 s after the last sighting.
    tight = (ScopeWindow("cam1", T0, track.end + timedelta(seconds=0.5)),)
    [e] = select_exhibits(tight, [track, track], [], [rec], margin_s=3.0)
    assert e.t_from == 0.0 and e.t_to == pytest.approx(track.t_end + 0.5)
    # A window over two recordings gives one exhibit per recording; labels in order.
    later = type(rec)(**{**rec.__dict__, "id": "r2", "start": rec.end})
    scope = (ScopeWindow("cam1", T0 - timedelta(minutes=5), T0 + timedelta(minutes=5)),)
    win = ScopeWindow("cam1", rec.start + timedelta(seconds=5), later.start
                      + timedelta(seconds=2))
    got = select_exhibits(scope, [track], [win], [rec, later], margin_s=1.0)
    assert [(x.label, x.recording.id, x.track is not None) for x in got] == [
        ("E01", rec.id, True), ("E02", rec.id, False), ("E03", "r2", False)]
    assert (got[1].t_from, got[1].t_to) == (5.0, 6.0)
    assert (got[2].t_from, got[2].t_to) == (0.0, 2.0)
    with pytest.raises(ExportError, match="nothing to export"):
        select_exhibits(scope, [], [], [rec], margin_s=1.0)


def test_a_redacted_copy_is_made_from_the_working_copy_and_sealed(marked: Setup,
                                                                  tmp_path: Path) -> None:
    bundle = build(marked, tmp_path / "out", redact=True)
    root = unzip(bundle, tmp_path / "x")
    here = root / "exhibits" / "E01"
    assert (here / "redacted" / "redacted.mp4").is_file()
    log = json.loads((here / "redacted" / "redaction-log.json").read_text())
    assert log["detector"]["name"] and log["frames"] == len(packets(here / "working.mp4"))
    [e] = json.loads((root / "manifest.json").read_text())["exhibits"]
    r = e["redaction"]
    assert r["file"] == "exhibits/E01/redacted/redacted.mp4" and r["from"] == "working copy"
    # The exhibit's own car is the vehicle of interest: no plate box of it is given.
    assert r["plate_boxes_given"] == 0
    assert verify_bundle(bundle) == []
    (here / "redacted" / "redaction-log.json").write_text("{}")
    assert any("redaction-log.json" in p for p in verify_bundle(root))


def test_other_vehicles_plates_are_carried_along_their_boxes() -> None:
    """The plate box of a track's best read, as fractions of its vehicle box, placed in the
    vehicle's box of every analysed frame inside the exhibit; the exhibit's own track and
    tracks without a plate box give none."""
    rec = Recording(id="r1", camera_id="cam1", path="/x.mp4", sha256="0" * 64,
                    size_bytes=1, start=T0, duration_s=20.0, fps=25.0, width=640,
                    height=480, codec="h264")

    def track(tid: int, plate_box: Box | None) -> TrackDetail:
        obs = ((4.0, 100.0, 100.0, 200.0, 180.0, 0.9), (5.0, 120.0, 100.0, 220.0, 180.0, 0.9),
               (6.0, 140.0, 110.0, 340.0, 270.0, 0.9), (9.0, 0.0, 0.0, 10.0, 10.0, 0.9))
        plate = (PlateRead("AB123CD", 0.9, (), best_t=5.0, box=plate_box)
                 if plate_box is not None else None)
        return TrackDetail(id=tid, recording_id="r1", camera_id="cam1", object="car",
                           object_confidence=0.9, start=T0, end=T0, t_start=4.0, t_end=9.0,
                           best_t=5.0, box=Box(120, 100, 220, 180), thumbnail=None,
                           observations=obs, attributes={}, plate=plate)

    own = track(1, Box(150.0, 160.0, 190.0, 170.0))
    other = track(2, Box(150.0, 160.0, 190.0, 170.0))
    exhibit = Exhibit("E01", rec, T0 + timedelta(seconds=3.5), T0 + timedelta(seconds=8.0),
                      own)
    boxes = plate_boxes(exhibit, [own, other, track(3, None)])
    assert [(b.t_s, b.key) for b in boxes] == [(0.5, "2"), (1.5, "2"), (2.5, "2")]
    # At the read (t = 5 s) the box is the read's box; it moves and scales with the car.
    assert (boxes[1].x, boxes[1].y, boxes[1].w, boxes[1].h) == pytest.approx(
        (150.0, 160.0, 40.0, 10.0))
    assert (boxes[0].x, boxes[0].w) == pytest.approx((130.0, 40.0))
    assert (boxes[2].x, boxes[2].y, boxes[2].w, boxes[2].h) == pytest.approx(
        (200.0, 230.0, 80.0, 20.0))
