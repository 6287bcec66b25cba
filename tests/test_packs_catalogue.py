"""The catalogue of recommended packs: shipped entries valid; install from a folder and fetch
from a loopback HTTP server (good files, wrong checksum, missing file, interrupted download:
nothing installed, registry unchanged); real copies from ../shared/models when present.

Never touches the internet: every URL points at a server started by the test on 127.0.0.1.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from click.testing import CliRunner

from packs_fixtures import FakeBox, classifier_pack, yolo_graph
from retrouve.analysis.packs import select_packs
from retrouve.cli import cli
from retrouve.errors import PackError, PackRefused
from retrouve.vision.models import ModelKey, describe_packs
from retrouve.vision.packs.catalogue import (
    ROLES,
    Catalogue,
    CatalogueEntry,
    load_catalogue,
    parse_catalogue,
)
from retrouve.vision.packs.catalogue_install import DOWNLOADS, fetch_pack, install_from_folder
from retrouve.vision.packs.manifest import parse_manifest
from retrouve.vision.packs.registry import PackRegistry, role_of

SHARED_MODELS = Path(__file__).resolve().parents[2] / "shared" / "models"
BIOMETRIC = ("gender", "sex", "male", "female", "age", "ethnic", "race")


def entry_params() -> list[Any]:
    return [pytest.param(e, id=e.name) for e in load_catalogue().packs]


# ----------------------------------------------------------------------------- shipped data
SHIPPED = load_catalogue()


def test_shipped_catalogue_has_the_recommended_packs() -> None:
    by_role = {e.name: e.role for e in SHIPPED.packs}
    assert by_role == {
        "person-vehicle-bike-detection-2001": "detector",
        "person-vehicle-bike-detection-2001-onnx": "detector",
        "person-vehicle-bike-detection-2003": "detector",
        "person-vehicle-bike-detection-2004": "detector",
        "person-vehicle-bike-detection-crossroad-1016-int8": "detector",
        "vehicle-attributes-recognition-barrier-0039": "vehicle_attributes",
        "vehicle-attributes-recognition-barrier-0039-onnx": "vehicle_attributes",
        "person-attributes-recognition-crossroad-0230-nogender": "person_attributes",
    }
    assert set(by_role.values()) <= set(ROLES)


@pytest.mark.parametrize("entry", SHIPPED.packs, ids=lambda e: e.name)
def test_shipped_entry_is_consistent(entry: CatalogueEntry) -> None:
    graphs = entry.manifest["graphs"]
    declared = {g["file"] for g in graphs.values()} | {
        g["weights"] for g in graphs.values() if "weights" in g}
    assert declared == set(entry.files)
    for source in entry.sources:
        assert source.provenance
        for f in source.files.values():
            assert len(f.digest) == {"sha256": 64, "sha384": 96}[f.algorithm]
        if source.kind == "upstream":
            assert source.downloadable and source.mirrorable
            assert all(f.url and f.url.startswith("https://") for f in source.files.values())
            assert "model.yml" in source.provenance and "commit" in source.provenance
    if entry.variant_of is not None:
        assert entry.variant_of in {e.name for e in SHIPPED.packs}


@pytest.mark.parametrize("entry", SHIPPED.packs, ids=lambda e: e.name)
def test_no_shipped_entry_reads_anything_biometric(entry: CatalogueEntry) -> None:
    words = [*entry.manifest.get("labels", [])]
    for head in entry.manifest.get("heads", {}).values():
        words += [head["attribute"], *head["labels"]]
    words += [o["name"] for g in entry.manifest["graphs"].values() for o in g["outputs"]]
    bad = [w for w in words if any(b in w.lower().split("_") for b in BIOMETRIC)]
    assert not bad


@pytest.mark.parametrize("entry", entry_params())
def test_shipped_manifest_parses(entry: CatalogueEntry) -> None:
    fake = {rel: "0" * 64 for rel in entry.files}
    for source in entry.sources:
        m = parse_manifest(entry.manifest_for(source, fake), f"catalogue {entry.name}")
        assert (m.name, m.version) == (entry.name, source.version)


@pytest.mark.parametrize(("change", "needle"), [
    (lambda e: e["sources"][1]["files"]["model.onnx"].update(sha256="ab"), "64 lowercase hex"),
    (lambda e: e["sources"][1]["files"]["model.onnx"].update(sha384="a" * 96), "exactly one"),
    (lambda e: e["manifest"].update(files={}), "filled at install"),
    (lambda e: e["sources"][0]["files"].pop("notes.txt"), "must be exactly"),
    (lambda e: e["sources"][0]["files"]["model.onnx"].update(name="a/b.onnx"), "plain file"),
    (lambda e: e["sources"][0]["files"]["model.onnx"].update(mirror_path="../x"), "must not"),
], ids=["short-digest", "two-digests", "files-in-manifest", "source-misses-a-file",
        "name-with-folder", "mirror-escapes"])
def test_bad_catalogue_refused(tmp_path: Path, change: Any, needle: str) -> None:
    data = catalogue_data(make_files(tmp_path), "http://127.0.0.1:9")
    change(data["packs"][0])
    with pytest.raises(PackError, match=needle):
        parse_catalogue(data, "test")


# ----------------------------------------------------------------------------- test catalogue
@dataclass(frozen=True)
class Files:
    """Published files of the tiny test pack: name → bytes."""

    blobs: dict[str, bytes]

    def write(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in self.blobs.items():
            (folder / name).write_bytes(data)
        return folder


def make_files(tmp: Path) -> Files:
    model = yolo_graph(tmp / "gen" / "fake-yolo.onnx", [FakeBox(320, 320, 100, 50, 2, 0.9)])
    return Files({"fake-yolo.onnx": model.read_bytes(),
                  "NOTES.txt": b"tiny test pack: one car at the centre\n"})


def catalogue_data(files: Files, base: str) -> dict[str, Any]:
    """One entry, two sources: ``upstream`` pinned with SHA-384 (URL under ``base/up/``,
    mirror path ``intel/fake/…``) and ``copy`` pinned with SHA-256 (mirror path ``copy/…``)."""
    def spec(name: str, algo: str, **extra: str) -> dict[str, Any]:
        data = files.blobs[name]
        return {"name": name, "size": len(data), algo: hashlib.new(algo, data).hexdigest(),
                **extra}

    paths = {"model.onnx": "fake-yolo.onnx", "notes.txt": "NOTES.txt"}
    return {"schema": 1, "packs": [{
        "name": "fake-detector", "role": "detector", "summary": "tiny test detector",
        "upstream": "tests/packs_fixtures.py", "files": sorted(paths),
        "manifest": {
            "task": "detector", "format": "yolo", "licence": "test-only",
            "graphs": {"model": {"file": "model.onnx",
                                 "inputs": [{"name": "images", "shape": [1, 3, 640, 640]}],
                                 "outputs": [{"name": "output0", "shape": [1, 84, 8400]}]}},
            "labels": _coco(), "label_map": {"car": "car", "person": "person"},
            "preprocess": {"width": 640, "height": 640, "resize": "letterbox"}},
        "sources": [
            {"id": "upstream-1", "kind": "upstream", "version": "1.0",
             "provenance": "test model.yml", "files": {
                 rel: spec(n, "sha384", url=f"{base}/up/{n}", mirror_path=f"intel/fake/{n}")
                 for rel, n in paths.items()}},
            {"id": "copy-2", "kind": "copy", "version": "2.0", "provenance": "test copy",
             "files": {rel: spec(n, "sha256", mirror_path=f"copy/{n}")
                       for rel, n in paths.items()}},
        ]}]}


def _coco() -> list[str]:
    from packs_fixtures import COCO80

    return list(COCO80)


def make_catalogue(files: Files, base: str = "http://127.0.0.1:9") -> Catalogue:
    return parse_catalogue(catalogue_data(files, base), "test")


def snapshot(root: Path) -> list[str]:
    """Every path under the registry root except the resumable download cache."""
    if not root.exists():
        return []
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*")
                  if DOWNLOADS not in p.relative_to(root).parts)


@pytest.fixture
def files(tmp_path: Path) -> Files:
    return make_files(tmp_path)


@pytest.fixture
def registry(tmp_path: Path) -> PackRegistry:
    return PackRegistry(tmp_path / "data" / "models")


# ----------------------------------------------------------------------------- from a folder
def corrupt(data: bytes) -> bytes:
    return data[:-1] + bytes([data[-1] ^ 0xFF])  # same size, other bytes


@pytest.mark.parametrize(("layout", "source_id", "version"), [
    ({"intel/fake/FP32/fake-yolo.onnx": "fake-yolo.onnx", "intel/fake/NOTES.txt": "NOTES.txt"},
     None, "1.0"),
    ({"fake-yolo.onnx": "fake-yolo.onnx", "NOTES.txt": "NOTES.txt"}, "copy-2", "2.0"),
    # A same-named decoy of another size (another precision) beside the right file.
    ({"FP16/fake-yolo.onnx": b"decoy", "FP32/fake-yolo.onnx": "fake-yolo.onnx",
      "NOTES.txt": "NOTES.txt"}, None, "1.0"),
], ids=["omz-tree", "flat-copy-source", "decoy-of-other-size"])
def test_install_from_folder(tmp_path: Path, files: Files, registry: PackRegistry,
                             layout: dict[str, Any], source_id: str | None,
                             version: str) -> None:
    stick = tmp_path / "stick"
    for rel, what in layout.items():
        (stick / rel).parent.mkdir(parents=True, exist_ok=True)
        (stick / rel).write_bytes(files.blobs[what] if isinstance(what, str) else what)
    entry = make_catalogue(files).get("fake-detector")
    pack = install_from_folder(registry, entry, stick, source_id=source_id)
    assert (pack.name, pack.version, pack.role) == ("fake-detector", version, "detector")
    # The manifest pins SHA-256 of the verified bytes, whatever algorithm the catalogue used.
    assert pack.manifest.files == {
        "model.onnx": hashlib.sha256(files.blobs["fake-yolo.onnx"]).hexdigest(),
        "notes.txt": hashlib.sha256(files.blobs["NOTES.txt"]).hexdigest()}
    assert (pack.path / "model.onnx").read_bytes() == files.blobs["fake-yolo.onnx"]
    assert f"from {stick}" in pack.source
    assert [p.name for p in registry.list()] == ["fake-detector"]
    assert not [p for p in registry.root.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize(("blobs", "needle"), [
    ({"fake-yolo.onnx": "bad", "NOTES.txt": "ok"}, "does not match the catalogue"),
    ({"NOTES.txt": "ok"}, "no file named 'fake-yolo.onnx'"),
    ({"fake-yolo.onnx": "short", "NOTES.txt": "ok"}, "bytes, expected"),
], ids=["wrong-checksum", "missing-file", "wrong-size"])
def test_install_from_folder_refused_leaves_registry_unchanged(
        tmp_path: Path, files: Files, registry: PackRegistry, blobs: dict[str, str],
        needle: str) -> None:
    classifier_pack(tmp_path / "other")
    registry.install(str(tmp_path / "other"))
    before = snapshot(registry.root)
    stick = tmp_path / "stick"
    stick.mkdir()
    for name, how in blobs.items():
        data = files.blobs[name]
        (stick / name).write_bytes({"ok": data, "bad": corrupt(data), "short": data[:10]}[how])
    entry = make_catalogue(files).get("fake-detector")
    with pytest.raises(PackRefused, match=needle) as info:
        install_from_folder(registry, entry, stick)
    assert "nothing installed" in str(info.value)
    assert "upstream-1/" in str(info.value) and "copy-2/" in str(info.value)
    assert snapshot(registry.root) == before


def test_unknown_name_and_source_refused(files: Files) -> None:
    cat = make_catalogue(files)
    with pytest.raises(PackRefused, match="not in the pack catalogue"):
        cat.get("nope")
    with pytest.raises(PackRefused, match="no source 'nope'"):
        cat.get("fake-detector").source("nope")


# ----------------------------------------------------------------------------- fetch
@dataclass
class Site:
    """What the loopback server serves: URL path → bytes; ``cut`` paths send their full
    Content-Length but only half the body, then close; ``ranges`` records Range headers."""

    blobs: dict[str, bytes]
    cut: set[str] = field(default_factory=set)
    ranges: list[str] = field(default_factory=list)


@pytest.fixture
def site() -> Iterator[tuple[Site, str]]:
    state = Site({})

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            data = state.blobs.get(self.path)
            if data is None:
                self.send_error(404)
                return
            start = 0
            rng = self.headers.get("Range")
            if rng:
                state.ranges.append(rng)
                start = int(rng.removeprefix("bytes=").split("-")[0])
            self.send_response(206 if rng else 200)
            self.send_header("Content-Length", str(len(data) - start))
            self.end_headers()
            if self.path in state.cut:
                state.cut.discard(self.path)  # the next request gets the rest
                self.wfile.write(data[start:start + (len(data) - start) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
            self.wfile.write(data[start:])

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def serve(state: Site, files: Files, prefix: str, **override: bytes) -> None:
    state.blobs = {f"{prefix}/{n}": override.get(n, d) for n, d in files.blobs.items()}


@pytest.mark.parametrize("mirror", [False, True], ids=["upstream-url", "mirror"])
def test_fetch_installs(files: Files, registry: PackRegistry, site: tuple[Site, str],
                        mirror: bool) -> None:
    state, base = site
    serve(state, files, "/site/intel/fake" if mirror else "/up")
    entry = make_catalogue(files, base).get("fake-detector")
    pack = fetch_pack(registry, entry, mirror=f"{base}/site/" if mirror else None)
    assert (pack.name, pack.version) == ("fake-detector", "1.0")
    assert (pack.path / "notes.txt").read_bytes() == files.blobs["NOTES.txt"]
    assert not (registry.root / DOWNLOADS / "fake-detector").exists()


def test_fetch_mirror_falls_back_to_the_copy_layout(files: Files, registry: PackRegistry,
                                                    site: tuple[Site, str]) -> None:
    state, base = site
    serve(state, files, "/m/copy")  # the mirror holds only the copy source's layout
    pack = fetch_pack(registry, make_catalogue(files, base).get("fake-detector"),
                      mirror=f"{base}/m")
    assert pack.version == "2.0"


@pytest.mark.parametrize(("setup", "needle"), [
    (lambda s, f: serve(s, f, "/up", **{"NOTES.txt": corrupt(f.blobs["NOTES.txt"])}),
     "does not match the catalogue"),
    (lambda s, f: (serve(s, f, "/up"), s.blobs.pop("/up/fake-yolo.onnx")), "HTTP 404"),
    (lambda s, f: (serve(s, f, "/up"), s.cut.add("/up/fake-yolo.onnx")), "interrupted"),
    (lambda s, f: serve(s, f, "/up", **{"NOTES.txt": f.blobs["NOTES.txt"] * 2}),
     "more than the catalogue"),
], ids=["wrong-checksum", "missing-file-404", "interrupted", "too-long"])
def test_fetch_refused_installs_nothing(tmp_path: Path, files: Files, registry: PackRegistry,
                                        site: tuple[Site, str], setup: Any,
                                        needle: str) -> None:
    state, base = site
    classifier_pack(tmp_path / "other")
    registry.install(str(tmp_path / "other"))
    before = snapshot(registry.root)
    setup(state, files)
    entry = make_catalogue(files, base).get("fake-detector")
    with pytest.raises(PackRefused, match=needle):
        fetch_pack(registry, entry, source_id="upstream-1")
    assert snapshot(registry.root) == before
    assert [p.name for p in registry.list()] == ["makes-fake"]


def test_interrupted_fetch_resumes(files: Files, registry: PackRegistry,
                                   site: tuple[Site, str]) -> None:
    state, base = site
    serve(state, files, "/up")
    state.cut.add("/up/fake-yolo.onnx")
    entry = make_catalogue(files, base).get("fake-detector")
    with pytest.raises(PackRefused, match="fetch again to resume"):
        fetch_pack(registry, entry, source_id="upstream-1")
    part = registry.root / DOWNLOADS / "fake-detector" / "upstream-1" / "fake-yolo.onnx.part"
    half = len(files.blobs["fake-yolo.onnx"]) // 2
    assert part.stat().st_size == half
    pack = fetch_pack(registry, entry, source_id="upstream-1")
    assert state.ranges == [f"bytes={half}-"]
    assert (pack.path / "model.onnx").read_bytes() == files.blobs["fake-yolo.onnx"]


def test_fetch_without_downloadable_source(files: Files, registry: PackRegistry) -> None:
    entry = make_catalogue(files).get("fake-detector")
    with pytest.raises(PackRefused, match="no source has an upstream URL"):
        fetch_pack(registry, entry, source_id="copy-2")


# ----------------------------------------------------------------------------- roles
@pytest.mark.parametrize(("task", "attribute", "role"), [
    ("detector", None, "detector"),
    ("embedder", None, "embedder"),
    ("classifier", "make_model", "make_model"),
    ("classifier", "upper_type", None),
    ("vehicle_attributes", None, "vehicle_attributes"),
    ("person_attributes", None, "person_attributes"),
])
def test_role_of(task: str, attribute: str | None, role: str | None) -> None:
    assert role_of(SimpleNamespace(task=task, attribute=attribute)) == role  # type: ignore[arg-type]


def test_select_packs_one_per_role_and_run_record(tmp_path: Path, files: Files,
                                                  registry: PackRegistry) -> None:
    stick = files.write(tmp_path / "stick")
    det = install_from_folder(registry, make_catalogue(files).get("fake-detector"), stick)
    classifier_pack(tmp_path / "mm")
    mm = registry.install(str(tmp_path / "mm"))
    sel = select_packs(registry)
    assert (sel.detector, sel.make_model, sel.embedder) == (det.path, mm.path, None)
    assert (sel.vehicle_attributes, sel.person_attributes) == (None, None)
    assert {e.pack.name: e.active for e in registry.listing()} == {
        "fake-detector": True, "makes-fake": True}
    desc = describe_packs(ModelKey(detector_pack=str(det.path), make_model_pack=str(mm.path)))
    assert desc["pack_detector"] == "fake-detector@1.0"
    assert desc["pack_detector_files"] == ";".join(
        f"{rel}=sha256:{d}" for rel, d in sorted(det.manifest.files.items()))
    assert desc["pack_make_model"] == "makes-fake@1.0"


# ----------------------------------------------------------------------------- CLI
def run(data: Path, *args: str) -> Any:
    return CliRunner().invoke(cli, ["--data-dir", str(data), *args])


def test_cli_catalogue_and_refusals(tmp_path: Path) -> None:
    res = run(tmp_path, "models", "catalogue", "--json")
    assert res.exit_code == 0, res.output
    listed = json.loads(res.output)
    assert [e["name"] for e in listed] == [e.name for e in SHIPPED.packs]
    assert all(e["installed"] == [] for e in listed)
    assert run(tmp_path, "models", "catalogue").exit_code == 0
    (tmp_path / "empty").mkdir()
    res = run(tmp_path, "models", "install", "person-vehicle-bike-detection-2004",
              "--from", str(tmp_path / "empty"))
    assert res.exit_code == 2 and "nothing installed" in res.output
    # A source deep in folders: the error names it whole, never cut by the console's width.
    deep = tmp_path / ("usb-stick-" * 6) / "requisition-2026-0042" / ("omz-copies-" * 5)
    deep.mkdir(parents=True)
    res = run(tmp_path, "models", "install", "person-vehicle-bike-detection-2004",
              "--from", str(deep))
    assert res.exit_code == 2 and "nothing installed" in res.output
    assert str(deep) in res.output and "..." not in res.output
    assert run(tmp_path, "models", "install", "no-such-pack", "--from",
               str(tmp_path / "empty")).exit_code == 2
    assert run(tmp_path, "models", "install", "x", "--source", "y").exit_code == 2
    res = run(tmp_path, "models", "fetch", "person-attributes-recognition-crossroad-0230-nogender")
    assert res.exit_code == 2 and "--from" in res.output
    assert snapshot(tmp_path / "models") == []


# ----------------------------------------------------------------------------- real copies
@pytest.mark.skipif(not SHARED_MODELS.is_dir(), reason="../shared/models not present")
@pytest.mark.parametrize("entry", entry_params())
def test_install_real_copy_from_shared(tmp_path: Path, entry: CatalogueEntry) -> None:
    registry = PackRegistry(tmp_path / "models")
    copy = next(s for s in entry.sources if s.kind == "copy")
    pack = install_from_folder(registry, entry, SHARED_MODELS, source_id=copy.id)
    assert (pack.name, pack.version, pack.role) == (entry.name, copy.version, entry.role)
    assert pack.manifest.files == {rel: f.digest for rel, f in copy.files.items()}


@pytest.mark.skipif(not SHARED_MODELS.is_dir(), reason="../shared/models not present")
def test_cli_install_real_onnx_detector_and_list(tmp_path: Path) -> None:
    name = "person-vehicle-bike-detection-2001-onnx"
    res = run(tmp_path, "models", "install", name, "--from", str(SHARED_MODELS), "--json")
    assert res.exit_code == 0, res.output
    listed = json.loads(run(tmp_path, "models", "list", "--json").output)
    assert [(p["name"], p["role"], p["active"]) for p in listed] == [(name, "detector", True)]
    assert listed[0]["contributes"] == ["bicycle", "car", "person"]
    text = run(tmp_path, "models", "list").output
    assert "detector" in text
    cat = json.loads(run(tmp_path, "models", "catalogue", "--json").output)
    assert {e["name"]: e["installed"] for e in cat}[name] == ["2022.3-onnx1"]
