"""Model-pack manifest validation, the registry (install/list/get/active/remove/verify) and the
``retrouve models`` commands. Packs are built by the tests (packs_fixtures)."""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from packs_fixtures import (
    FakeBox,
    classifier_pack,
    clip_pack,
    make_tar,
    make_zip,
    write_manifest,
    yolo_pack,
)
from retrouve.cli import cli
from retrouve.errors import PackError
from retrouve.vision.packs import PackRegistry, split_make_model, verify
from retrouve.vision.packs.manifest import load_manifest, parse_manifest

CAR = FakeBox(320, 320, 100, 50, 2, 0.9)


@pytest.fixture(scope="module")
def yolo_src(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return yolo_pack(tmp_path_factory.mktemp("packs") / "yolo", [CAR])


@pytest.fixture
def registry(tmp_path: Path) -> PackRegistry:
    return PackRegistry(tmp_path / "models")


def visible(reg: PackRegistry) -> list[str]:
    """Everything under the registry root (staging leftovers included)."""
    if not reg.root.exists():
        return []
    return sorted(p.relative_to(reg.root).as_posix() for p in reg.root.rglob("*"))


# ----------------------------------------------------------------------------- manifest
def _manifest(src: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((src / "manifest.json").read_text())
    return data


@pytest.mark.parametrize(("change", "field"), [
    ({"name": "Bad Name"}, "name"),
    ({"version": "1 0"}, "version"),
    ({"task": "tracker"}, "task"),
    ({"format": "clip"}, "format"),
    ({"colour": "x"}, "colour"),
    ({"files": {"../model.onnx": "0" * 64}}, "files"),
    ({"files": {"model.onnx": "abc"}}, "files"),
    ({"label_map": {"car": "spaceship"}}, "label_map.car"),
    ({"label_map": {"lorry": "truck"}}, "label_map"),
    ({"label_map": {}}, "label_map"),
    ({"labels": []}, "labels"),
    ({"preprocess": None}, "preprocess"),
    ({"preprocess": {"width": 320, "height": 640}}, "graphs.model.inputs.images"),
    ({"graphs": {"model": {"file": "other.onnx", "inputs": [{"name": "images",
     "shape": [1, 3, 640, 640]}], "outputs": [{"name": "output0", "shape": [1, 84, 8400]}]}}},
     "graphs.model.file"),
    ({"attribute": "make_model"}, "attribute"),
    ({"decode": {"confidence": 2}}, "decode.confidence"),
])
def test_manifest_errors_name_pack_and_field(yolo_src: Path, change: dict[str, Any],
                                             field: str) -> None:
    data = {**_manifest(yolo_src), **change}
    with pytest.raises(PackError) as info:
        parse_manifest(data, "usb")
    msg = str(info.value)
    assert "model pack" in msg and "usb" in msg
    assert field in msg, msg
    if change.get("name") is None:
        assert "'yolo-fake'" in msg


def test_manifest_schema_version_refused(yolo_src: Path) -> None:
    with pytest.raises(PackError, match="schema 2 is not supported"):
        parse_manifest({**_manifest(yolo_src), "schema": 2}, "usb")


def test_manifest_round_trip(yolo_src: Path) -> None:
    m = load_manifest(yolo_src)
    assert m.task == "detector" and m.format == "yolo" and m.label_map["car"] == "car"
    assert m.preprocess is not None and m.preprocess.resize == "letterbox"
    assert parse_manifest(m.to_json(), "again") == m


def test_make_model_labels(tmp_path: Path) -> None:
    src = classifier_pack(tmp_path / "cls")
    data = _manifest(src)
    data["labels"] = ["Renault|Clio", "Peugeot 208", "Citroen|C3", "Other|Other"]
    with pytest.raises(PackError, match="Peugeot 208"):
        parse_manifest(data, "x")
    assert split_make_model(" Renault | Clio ") == ("Renault", "Clio")
    with pytest.raises(ValueError):
        split_make_model("A|B|C")


# ------------------------------------------------------------------------------ install
def test_install_from_folder(registry: PackRegistry, yolo_src: Path) -> None:
    at = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
    pack = registry.install(str(yolo_src), now=at)
    assert pack.path == registry.root / "yolo-fake" / "1.0"
    assert (pack.path / "model.onnx").is_file() and (pack.path / "manifest.json").is_file()
    assert pack.installed_at == at and pack.source == str(yolo_src) and pack.sequence == 1
    assert [p.name for p in registry.list()] == ["yolo-fake"]
    assert registry.get("yolo-fake").path == pack.path
    assert verify(pack) == []
    assert not [p for p in visible(registry) if ".staging" in p]


@pytest.mark.parametrize(("maker", "prefix"), [
    (make_zip, ""), (make_zip, "yolo-fake-1.0/"), (make_tar, ""), (make_tar, "pack/"),
])
def test_install_from_archive(registry: PackRegistry, yolo_src: Path, tmp_path: Path,
                              maker: Any, prefix: str) -> None:
    suffix = ".zip" if maker is make_zip else ".tar.gz"
    archive = maker(yolo_src, tmp_path / f"pack{suffix}", prefix=prefix)
    pack = registry.install(str(archive))
    assert sorted(p.name for p in pack.path.iterdir()) == [
        ".install.json", "manifest.json", "model.onnx"]
    assert verify(pack) == []


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def http_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, str]]:
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    root = tmp_path / "www"
    root.mkdir()
    server = ThreadingHTTPServer(("127.0.0.1", 0),
                                 functools.partial(_QuietHandler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield root, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_install_from_url(registry: PackRegistry, yolo_src: Path,
                          http_root: tuple[Path, str]) -> None:
    root, base = http_root
    make_zip(yolo_src, root / "yolo.zip")
    make_tar(yolo_src, root / "download")  # no suffix: the content decides
    pack = registry.install(f"{base}/yolo.zip")
    assert verify(pack) == [] and pack.source == f"{base}/yolo.zip"
    again = registry.install(f"{base}/download", replace=True)
    assert again.sequence == 2 and len(registry.list()) == 1


def test_url_errors(registry: PackRegistry, yolo_src: Path, http_root: tuple[Path, str]) -> None:
    root, base = http_root
    make_zip(yolo_src, root / "yolo.zip")
    with pytest.raises(PackError, match="cannot download"):
        registry.install(f"{base}/missing.zip")
    small = PackRegistry(registry.root, max_bytes=500)
    with pytest.raises(PackError, match="500-byte limit"):
        small.install(f"{base}/yolo.zip")
    assert visible(registry) == []


def test_url_credentials_not_recorded(registry: PackRegistry, yolo_src: Path,
                                      tmp_path: Path) -> None:
    archive = make_zip(yolo_src, tmp_path / "y.zip")
    seen: list[str] = []

    def fetch(url: str, dest: Path, max_bytes: int) -> None:
        seen.append(url)
        dest.write_bytes(archive.read_bytes())

    pack = registry.install("https://user:secret@models.example/y.zip?token=abc", fetch=fetch)
    assert seen == ["https://user:secret@models.example/y.zip?token=abc"]
    assert pack.source == "https://models.example/y.zip"
    assert "secret" not in (pack.path / ".install.json").read_text()


# ------------------------------------------------------------------------------ refusals
def test_bad_checksum_leaves_nothing(registry: PackRegistry, yolo_src: Path,
                                     tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    yolo_pack(bad, [CAR])
    with (bad / "model.onnx").open("ab") as f:
        f.write(b"tampered")
    with pytest.raises(PackError, match=r"'yolo-fake'.*model.onnx: sha256 .* does not match"):
        registry.install(str(bad))
    with pytest.raises(PackError, match="sha256"):
        registry.install(str(make_zip(bad, tmp_path / "bad.zip")))
    assert visible(registry) == []
    assert registry.list() == []


def test_missing_file_refused(registry: PackRegistry, tmp_path: Path) -> None:
    src = yolo_pack(tmp_path / "p", [CAR])
    (src / "model.onnx").unlink()
    with pytest.raises(PackError, match=r"model\.onnx: missing"):
        registry.install(str(src))
    assert visible(registry) == []


@pytest.mark.parametrize("member", ["../evil.txt", "/tmp/evil.txt", "a/../../evil.txt",
                                    "C:/evil.txt", "a\\..\\evil.txt"])
@pytest.mark.parametrize("maker", [make_zip, make_tar])
def test_archive_traversal_refused(registry: PackRegistry, yolo_src: Path, tmp_path: Path,
                                   member: str, maker: Any) -> None:
    archive = maker(yolo_src, tmp_path / "evil.archive", extra={member: b"x"})
    with pytest.raises(PackError, match="refused member"):
        registry.install(str(archive))
    assert not (tmp_path / "evil.txt").exists() and not (registry.root.parent / "evil.txt").exists()
    assert visible(registry) == []


def test_tar_link_refused(registry: PackRegistry, yolo_src: Path, tmp_path: Path) -> None:
    import tarfile

    archive = make_tar(yolo_src, tmp_path / "link.tar.gz")
    with tarfile.open(archive, "w:gz") as tf:
        for p in sorted(yolo_src.iterdir()):
            tf.add(p, p.name)
        link = tarfile.TarInfo("passwd")
        link.type = tarfile.SYMTYPE
        link.linkname = "/etc/passwd"
        tf.addfile(link)
    with pytest.raises(PackError, match="links and special files"):
        registry.install(str(archive))


def test_folder_symlink_refused(registry: PackRegistry, tmp_path: Path) -> None:
    src = yolo_pack(tmp_path / "p", [CAR])
    (src / "passwd").symlink_to("/etc/passwd")
    with pytest.raises(PackError, match="symbolic link"):
        registry.install(str(src))


@pytest.mark.parametrize(("name", "data", "mode"), [
    ("run.sh", b"echo hi\n", 0o644),
    ("helper.py", b"print(1)\n", 0o644),
    ("blob.dat", b"\x7fELF\x02\x01", 0o644),
    ("tool", b"plain bytes", 0o755),
])
def test_undeclared_executable_refused(registry: PackRegistry, tmp_path: Path, name: str,
                                       data: bytes, mode: int) -> None:
    src = yolo_pack(tmp_path / "p", [CAR])
    (src / name).write_bytes(data)
    (src / name).chmod(mode)
    with pytest.raises(PackError, match=f"undeclared executable file '{name}'"):
        registry.install(str(src))
    assert visible(registry) == []


def test_undeclared_data_dropped(registry: PackRegistry, tmp_path: Path) -> None:
    src = yolo_pack(tmp_path / "p", [CAR])
    (src / "docs").mkdir()
    (src / "docs" / "README.md").write_text("notes")
    pack = registry.install(str(src))
    assert not (pack.path / "docs").exists()
    assert (pack.path / "model.onnx").stat().st_mode & 0o111 == 0


def test_bad_sources(registry: PackRegistry, tmp_path: Path) -> None:
    with pytest.raises(PackError, match="no such file"):
        registry.install(str(tmp_path / "nope"))
    with pytest.raises(PackError, match="only folders"):
        registry.install("ftp://example/pack.zip")
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"not an archive at all")
    with pytest.raises(PackError, match=r"not a folder, \.zip or \.tar\.gz"):
        registry.install(str(junk))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(PackError, match=r"no manifest\.json"):
        registry.install(str(empty))


# ------------------------------------------------------------------- versions and removal
def test_versions_replace_remove(registry: PackRegistry, yolo_src: Path, tmp_path: Path) -> None:
    first = registry.install(str(yolo_src))
    with pytest.raises(PackError, match="already installed"):
        registry.install(str(yolo_src))
    replaced = registry.install(str(yolo_src), replace=True)
    assert replaced.path == first.path and replaced.sequence == 2
    v2 = yolo_pack(tmp_path / "v2", [CAR], version="2.0")
    registry.install(str(v2))
    assert [(p.version, p.sequence) for p in registry.list()] == [("1.0", 2), ("2.0", 3)]
    assert registry.get("yolo-fake").version == "2.0"
    assert registry.get("yolo-fake", "1.0").sequence == 2
    assert [p.version for p in registry.remove("yolo-fake", "2.0")] == ["2.0"]
    assert registry.get("yolo-fake").version == "1.0"
    registry.remove("yolo-fake")
    assert registry.list() == [] and visible(registry) == []
    with pytest.raises(PackError, match="not installed"):
        registry.get("yolo-fake")
    with pytest.raises(PackError, match="not installed"):
        registry.remove("yolo-fake")


def test_active_is_latest_of_task(registry: PackRegistry, tmp_path: Path) -> None:
    assert registry.active("detector") is None
    registry.install(str(yolo_pack(tmp_path / "a", [CAR], name="det-a")))
    registry.install(str(classifier_pack(tmp_path / "c")))
    registry.install(str(yolo_pack(tmp_path / "b", [CAR], name="det-b")))
    registry.install(str(clip_pack(tmp_path / "e")))
    active = registry.active("detector")
    assert active is not None and active.name == "det-b"
    chosen = registry.active("classifier", "make_model")
    assert chosen is not None and chosen.name == "makes-fake"
    assert registry.active("classifier", "upper_type") is None
    emb = registry.active("embedder")
    assert emb is not None and emb.name == "clip-fake"
    registry.remove("det-b")
    again = registry.active("detector")
    assert again is not None and again.name == "det-a"


def test_listing_marks_the_active_pack_of_each_task(registry: PackRegistry,
                                                    tmp_path: Path) -> None:
    assert registry.listing() == []
    registry.install(str(yolo_pack(tmp_path / "a", [CAR], name="det-a")))
    registry.install(str(classifier_pack(tmp_path / "c")))
    registry.install(str(yolo_pack(tmp_path / "b", [CAR], name="det-b")))
    listed = [(e.pack.name, e.active) for e in registry.listing()]
    assert listed == [("det-a", False), ("det-b", True), ("makes-fake", True)]


def test_verify_detects_damage(registry: PackRegistry, yolo_src: Path) -> None:
    pack = registry.install(str(yolo_src))
    (pack.path / "model.onnx").chmod(0o644)
    (pack.path / "model.onnx").write_bytes(b"corrupted")
    problems = verify(pack)
    assert len(problems) == 1 and "model.onnx: sha256" in problems[0]
    (pack.path / "model.onnx").unlink()
    assert verify(pack) == ["model.onnx: missing"]


def test_broken_folder_skipped_by_list(registry: PackRegistry, yolo_src: Path) -> None:
    registry.install(str(yolo_src))
    broken = registry.root / "broken" / "1"
    broken.mkdir(parents=True)
    (broken / "manifest.json").write_text("{not json")
    assert [p.name for p in registry.list()] == ["yolo-fake"]


# -------------------------------------------------------------------------------- CLI
def run(data_dir: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--data-dir", str(data_dir), "models", *args])


def flat(text: str) -> str:
    return " ".join(text.split())


def test_cli_models_cycle(tmp_path: Path, yolo_src: Path) -> None:
    data = tmp_path / "data"
    missing = run(data, "list")  # no data folder yet: named, not created
    assert missing.exit_code == 2 and not data.exists()
    data.mkdir()
    empty = run(data, "list")
    assert empty.exit_code == 0 and "no model packs installed" in flat(empty.output)
    installed = run(data, "install", str(yolo_src), "--json")
    assert installed.exit_code == 0, installed.output
    info = json.loads(installed.output)
    assert info["name"] == "yolo-fake" and info["task"] == "detector"
    assert info["installed_at"] is not None
    assert Path(info["path"]) == data / "models" / "yolo-fake" / "1.0"

    again = run(data, "install", str(yolo_src))
    assert again.exit_code == 2 and "already installed" in flat(again.output)
    assert run(data, "install", str(yolo_src), "--replace").exit_code == 0

    listed = run(data, "list", "--json")
    assert listed.exit_code == 0
    rows = json.loads(listed.output)
    assert [(r["name"], r["version"], r["active"]) for r in rows] == [("yolo-fake", "1.0", True)]
    text = run(data, "list")
    assert "yolo-fake" in text.output and "detector" in text.output

    ok = run(data, "verify", "yolo-fake", "--json")
    assert ok.exit_code == 0 and json.loads(ok.output)["ok"] is True
    model = data / "models" / "yolo-fake" / "1.0" / "model.onnx"
    model.chmod(0o644)
    model.write_bytes(b"x")
    damaged = run(data, "verify", "yolo-fake")
    assert damaged.exit_code == 1 and "model.onnx" in flat(damaged.output)

    removed = run(data, "remove", "yolo-fake", "--json")
    assert removed.exit_code == 0
    assert json.loads(removed.output) == {"removed": [{"name": "yolo-fake", "version": "1.0"}]}
    assert json.loads(run(data, "list", "--json").output) == []


def test_cli_bad_input_exit_2(tmp_path: Path) -> None:
    data = tmp_path / "data"
    missing = run(data, "install", str(tmp_path / "nope.zip"))
    assert missing.exit_code == 2 and "no such file or folder" in flat(missing.output)
    bad = tmp_path / "bad"
    yolo_pack(bad, [CAR])
    write_manifest(bad, {**_manifest(bad), "files": {"model.onnx": "0" * 64}}, hash_files=False)
    refused = run(data, "install", str(bad))
    assert refused.exit_code == 2 and "does not match" in flat(refused.output)
    assert run(data, "verify", "ghost").exit_code == 2
    assert run(data, "remove", "ghost").exit_code == 2


def test_cli_help_lists_models() -> None:
    out = CliRunner().invoke(cli, ["models", "--help"])
    assert out.exit_code == 0
    for command in ("install", "list", "remove", "verify"):
        assert command in out.output
