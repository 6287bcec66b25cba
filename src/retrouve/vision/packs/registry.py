"""Installed model packs: install (from a folder, an archive or a URL), list, verify, remove.

Layout under ``root`` (``data_dir/models`` by default, see :func:`packs_dir`)::

    models/
      yolov8n-coco/
        1.0.0/
          manifest.json
          .install.json          sequence number, install time, where it came from
          model.onnx
      .staging-*/                 in-progress installs (removed on success or failure)

An install never exposes a half-checked pack: everything is extracted into a staging folder
on the same filesystem, every file's SHA-256 is checked against the manifest, undeclared
files are dropped (undeclared *executables* refuse the whole pack), and only then is the folder
renamed into place (a single ``rename``, atomic on POSIX).
"""

from __future__ import annotations

import builtins
import contextlib
import json
import logging
import os
import shutil
import stat
import tarfile
import tempfile
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from retrouve.config import Settings
from retrouve.digest import sha256_file
from retrouve.errors import PackError, PackRefused
from retrouve.vision.packs.manifest import (
    MAKE_MODEL_ATTRIBUTES,
    MANIFEST_NAME,
    PackManifest,
    check_relative_path,
    load_manifest,
)
from retrouve.vision.packs.runtime import check_graphs

log = logging.getLogger(__name__)

INSTALL_INFO = ".install.json"
#: Largest download or total unpacked size accepted (bytes): a ViT-L CLIP pair is ~1.7 GB.
DEFAULT_MAX_BYTES = 4 << 30
#: File names and leading bytes that mark something executable: never in a pack unless
#: declared (and even then only ever read as data).
_EXEC_SUFFIXES = frozenset({
    ".py", ".pyc", ".pyo", ".so", ".dll", ".dylib", ".exe", ".bat", ".cmd", ".sh", ".ps1",
    ".com", ".msi", ".jar", ".pyd", ".bin.exe",
})
_EXEC_MAGIC = (b"\x7fELF", b"MZ", b"#!", b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe")

#: ``fetch(url, destination, max_bytes)`` downloads ``url`` into the file ``destination``.
Fetch = Callable[[str, Path, int], None]


def role_of(manifest: PackManifest) -> str | None:
    """The analysis role a pack plays: ``detector``, ``vehicle_attributes``,
    ``person_attributes``, ``make_model`` (a classifier filling make/model) or ``embedder``;
    ``None`` for a pack no analysis stage reads (e.g. a classifier of another attribute)."""
    task = str(manifest.task)
    if task in ("detector", "embedder", "vehicle_attributes", "person_attributes"):
        return task
    if task == "classifier" and manifest.attribute in MAKE_MODEL_ATTRIBUTES:
        return "make_model"
    return None


def contributes(manifest: PackManifest) -> list[str]:
    """What a pack adds to the analysis, for ``models list``: the Retrouve classes a detector
    reports, the attributes of a classifier or attribute model, an embedder's vectors."""
    role = role_of(manifest)
    if role == "detector":
        return sorted(set(manifest.label_map.values()))
    if role == "make_model":
        return ["make", "model"]
    if role == "embedder":
        return ["image-text vectors (free-text search)"]
    # Attribute models declare one attribute per output head (manifest ``heads``).
    heads = getattr(manifest, "heads", None) or {}
    found = [str(getattr(h, "attribute", "")) for h in heads.values()]
    if found:
        return sorted(set(found))
    return [manifest.attribute] if manifest.attribute else []


def packs_dir(settings: Settings) -> Path:
    """Where installed packs live for these settings: ``data_dir / "models"``."""
    return settings.data_dir / "models"


@dataclass(frozen=True)
class InstalledPack:
    """A pack in the registry: its validated manifest and the folder holding its files.

    ``sequence`` orders installs (higher = more recent); ``installed_at`` is what the caller
    passed to :meth:`PackRegistry.install` (None when not given); ``source`` has any
    credentials and query string removed.
    """

    manifest: PackManifest
    path: Path
    sequence: int = 0
    installed_at: datetime | None = None
    source: str = ""

    @property
    def name(self) -> str:
        return self.manifest.name

    @property
    def version(self) -> str:
        return self.manifest.version

    @property
    def task(self) -> str:
        return self.manifest.task

    @property
    def role(self) -> str | None:
        """See :func:`role_of`."""
        return role_of(self.manifest)

    def file(self, relative: str) -> Path:
        """Absolute path of a file declared in the manifest."""
        if relative not in self.manifest.files:
            raise PackError(f"model pack {self.name!r}: {relative!r} is not a declared file")
        return self.path / relative

    @classmethod
    def load(cls, folder: Path) -> InstalledPack:
        """Read a pack folder (installed or not) without checking hashes (see :func:`verify`)."""
        manifest = load_manifest(folder)
        info: dict[str, Any] = {}
        with contextlib.suppress(OSError, ValueError):
            info = json.loads((folder / INSTALL_INFO).read_text(encoding="utf-8"))
        at, when = info.get("installed_at"), None
        # The install record is informative only: a damaged one must not hide the pack.
        with contextlib.suppress(ValueError):
            when = datetime.fromisoformat(at) if isinstance(at, str) else None
        seq = info.get("sequence", 0)
        return cls(manifest, folder, seq if isinstance(seq, int) else 0, when,
                   str(info.get("source", "")))

    def to_json(self) -> dict[str, Any]:
        m = self.manifest
        return {
            "name": m.name, "version": m.version, "task": m.task, "format": m.format,
            "attribute": m.attribute, "licence": m.licence, "description": m.description,
            "runtime": str(getattr(m, "runtime", "onnxruntime")),
            "role": self.role, "contributes": contributes(m),
            "files": dict(sorted(m.files.items())),
            "path": str(self.path), "sequence": self.sequence,
            "installed_at": self.installed_at.isoformat() if self.installed_at else None,
            "source": self.source,
        }


@dataclass(frozen=True)
class ListedPack:
    """An installed pack and whether it is the one serving its task (``retrouve models list``)."""

    pack: InstalledPack
    active: bool


def verify(pack: InstalledPack) -> list[str]:
    """Re-hash every declared file; the problems found (empty when the pack is intact)."""
    return _check_files(pack.path, pack.manifest)


def _check_files(folder: Path, manifest: PackManifest) -> list[str]:
    problems = []
    for rel, digest in sorted(manifest.files.items()):
        path = folder / rel
        if path.is_symlink() or not path.is_file():
            problems.append(f"{rel}: missing")
            continue
        got = sha256_file(path)
        if got != digest:
            problems.append(f"{rel}: sha256 {got} does not match the manifest's {digest}")
    return problems


def public_source(source: str) -> str:
    """``source`` fit for a log or the install record: URL credentials and query removed."""
    parts = urllib.parse.urlsplit(source)
    if parts.scheme not in ("http", "https"):
        return source
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urllib.parse.urlunsplit((parts.scheme, host, parts.path, "", ""))


def download(url: str, destination: Path, max_bytes: int = DEFAULT_MAX_BYTES,
             timeout: float = 60.0) -> None:
    """Stream ``url`` (http/https) into ``destination``; PackRefused past ``max_bytes``."""
    shown = public_source(url)
    request = urllib.request.Request(url, headers={"User-Agent": "retrouve-model-install"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp, destination.open("wb") as f:
            declared = resp.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > max_bytes:
                raise PackRefused(f"{shown}: {declared} bytes exceeds the {max_bytes}-byte limit")
            total = 0
            while chunk := resp.read(1 << 20):
                total += len(chunk)
                if total > max_bytes:
                    raise PackRefused(f"{shown}: download exceeds the {max_bytes}-byte limit")
                f.write(chunk)
    except PackError:
        raise
    except (OSError, ValueError) as exc:  # URLError and HTTPError are OSErrors
        raise PackRefused(f"cannot download model pack {shown}: {exc}") from exc


def _is_executable(path: Path) -> bool:
    if path.suffix.lower() in _EXEC_SUFFIXES or path.stat().st_mode & 0o111:
        return True
    with path.open("rb") as f:
        head = f.read(4)
    return head.startswith(_EXEC_MAGIC)


def _mark_executable(target: Path, source_mode: int) -> None:
    # Only the exec bits travel (so _is_executable can refuse undeclared ones); declared
    # files are made read-only data again once checked.
    if source_mode & 0o111:
        target.chmod(0o755)


def _member_path(name: str, source: str) -> str:
    """Archive member name → safe relative path, or PackRefused (traversal, absolute path)."""
    clean = name[2:] if name.startswith("./") else name
    clean = clean.rstrip("/")
    try:
        return check_relative_path(clean)
    except ValueError:
        raise PackRefused(f"model pack archive {source}: refused member {name!r} "
                        f"(absolute path or '..' traversal)") from None


def _extract_zip(archive: Path, dest: Path, source: str, max_bytes: int) -> None:
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as exc:
        raise PackRefused(f"model pack archive {source}: not a readable zip: {exc}") from exc
    with zf:
        infos = zf.infolist()
        total = 0
        for info in infos:
            rel = _member_path(info.filename, source)
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                raise PackRefused(f"model pack archive {source}: refused symbolic link {rel!r}")
            total += info.file_size
            if total > max_bytes:
                raise PackRefused(f"model pack archive {source}: unpacks to more than "
                                f"{max_bytes} bytes")
        for info in infos:
            rel = _member_path(info.filename, source)
            target = dest / rel
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            # Copy by hand (not extractall): we chose the path, and permissions are not kept.
            with zf.open(info) as src, target.open("wb") as out:
                shutil.copyfileobj(src, out, 1 << 20)
            _mark_executable(target, info.external_attr >> 16)


def _extract_tar(archive: Path, dest: Path, source: str, max_bytes: int) -> None:
    try:
        tf = tarfile.open(archive, "r:*")  # noqa: SIM115 - closed by the `with` below
    except (tarfile.TarError, OSError) as exc:
        raise PackRefused(f"model pack archive {source}: not a readable tar: {exc}") from exc
    with tf:
        members = tf.getmembers()
        total = 0
        for m in members:
            rel = _member_path(m.name, source)
            if not (m.isfile() or m.isdir()):
                raise PackRefused(f"model pack archive {source}: refused {rel!r} "
                                "(links and special files are not allowed)")
            total += m.size
            if total > max_bytes:
                raise PackRefused(f"model pack archive {source}: unpacks to more than "
                                f"{max_bytes} bytes")
        for m in members:
            target = dest / _member_path(m.name, source)
            if m.isdir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            src = tf.extractfile(m)
            if src is None:
                raise PackRefused(f"model pack archive {source}: cannot read {m.name!r}")
            with src, target.open("wb") as out:
                shutil.copyfileobj(src, out, 1 << 20)
            _mark_executable(target, m.mode)


def _copy_folder(folder: Path, dest: Path, source: str) -> None:
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if path.is_symlink():
            raise PackRefused(f"model pack {source}: refused symbolic link {rel.as_posix()!r}")
        target = dest / rel
        if path.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        elif path.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
            _mark_executable(target, path.stat().st_mode)
        else:
            raise PackRefused(f"model pack {source}: refused special file {rel.as_posix()!r}")


def _pack_root(unpacked: Path, source: str) -> Path:
    """The folder holding manifest.json: the top, or a single top-level folder."""
    if (unpacked / MANIFEST_NAME).is_file():
        return unpacked
    entries = [p for p in unpacked.iterdir() if p.name != "__MACOSX"]
    if len(entries) == 1 and entries[0].is_dir() and (entries[0] / MANIFEST_NAME).is_file():
        return entries[0]
    raise PackRefused(f"model pack {source}: no {MANIFEST_NAME} at the top of the pack")


class PackRegistry:
    """The packs installed under ``root`` (created on first install)."""

    def __init__(self, root: Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.root = root
        self.max_bytes = max_bytes

    # ------------------------------------------------------------------ reading
    def list(self) -> builtins.list[InstalledPack]:
        """Every readable installed pack, by name then install order. A broken folder is
        logged and skipped (``verify`` and ``remove`` still reach it by name)."""
        packs = []
        if not self.root.is_dir():
            return []
        for name_dir in sorted(self.root.iterdir()):
            if name_dir.name.startswith(".") or not name_dir.is_dir():
                continue
            for folder in sorted(name_dir.iterdir()):
                if folder.name.startswith(".") or not folder.is_dir():
                    continue
                try:
                    packs.append(InstalledPack.load(folder))
                except PackError as exc:
                    log.warning("skipping unreadable model pack folder %s: %s", folder, exc)
        return sorted(packs, key=lambda p: (p.name, p.sequence))

    def get(self, name: str, version: str | None = None) -> InstalledPack:
        """The pack ``name`` (its most recently installed version unless ``version`` is given);
        PackRefused when not installed."""
        found = [p for p in self.list()
                 if p.name == name and (version is None or p.version == version)]
        if not found:
            what = f"{name!r} version {version!r}" if version else repr(name)
            installed = sorted({p.name for p in self.list()})
            raise PackRefused(f"model pack {what} is not installed (installed: {installed})")
        return max(found, key=lambda p: p.sequence)

    def active(self, task: str, attribute: str | None = None) -> InstalledPack | None:
        """The pack serving ``task`` (and classifier ``attribute``): the most recently installed
        one, or None. ``sequence`` rather than a clock decides, so the rule is reproducible."""
        found = [p for p in self.list() if p.task == task
                 and (attribute is None or p.manifest.attribute == attribute)]
        return max(found, key=lambda p: p.sequence) if found else None

    def active_role(self, role: str) -> InstalledPack | None:
        """The pack serving analysis ``role`` (see :func:`role_of`): the most recently
        installed pack of that role, or None. Several roles are served at once."""
        found = [p for p in self.list() if p.role == role]
        return max(found, key=lambda p: p.sequence) if found else None

    def listing(self) -> builtins.list[ListedPack]:
        """``list()`` with each pack marked active when ``active`` picks it for the task and
        attribute of some installed pack, or ``active_role`` for its role."""
        packs = self.list()
        chosen = {(c.name, c.version) for p in packs
                  if (c := self.active(p.task, p.manifest.attribute)) is not None}
        chosen |= {(c.name, c.version) for p in packs
                   if p.role is not None and (c := self.active_role(p.role)) is not None}
        return [ListedPack(p, (p.name, p.version) in chosen) for p in packs]

    # ------------------------------------------------------------------ changing
    def install(
        self,
        source: str,
        *,
        replace: bool = False,
        fetch: Fetch | None = None,
        now: datetime | None = None,
        origin: str | None = None,
    ) -> InstalledPack:
        """Install a pack from a folder, a ``.zip``/``.tar.gz``/``.tgz`` file or an http(s) URL.

        ``fetch`` downloads URLs (default :func:`download`, streamed, ``max_bytes`` cap);
        ``now`` is recorded as the install time; ``origin`` replaces ``source`` in the install
        record (the catalogue installs from a staging folder but records where the files
        came from). Refuses (PackRefused, nothing left installed):
        a bad manifest, a missing file or checksum mismatch, an undeclared executable, archive
        members escaping the pack, links, and a second install of the same name and version
        unless ``replace``.
        """
        shown = public_source(source)
        self.root.mkdir(parents=True, exist_ok=True)
        with self._staging() as staging:
            unpacked = staging / "unpacked"
            unpacked.mkdir()
            self._unpack(source, shown, staging, unpacked, fetch or download)
            folder = _pack_root(unpacked, shown)
            manifest = load_manifest(folder)
            self._check_pack(folder, manifest, shown)
            try:
                # Open every graph before the pack goes live: a graph that does not match its
                # manifest, or has an undeclared output (gender, say), is refused here.
                check_graphs(manifest, folder)
            except PackRefused:
                raise
            except PackError as exc:
                raise PackRefused(f"model pack {manifest.name!r} ({shown}): {exc}") from exc
            target = self.root / manifest.name / manifest.version
            if target.exists() and not replace:
                raise PackRefused(f"model pack {manifest.name!r} {manifest.version} is already "
                                "installed (use --replace to install it again)")
            sequence = max((p.sequence for p in self.list()), default=0) + 1
            (folder / INSTALL_INFO).write_text(json.dumps({
                "sequence": sequence, "source": public_source(origin) if origin else shown,
                "installed_at": now.isoformat() if now else None,
            }), encoding="utf-8")
            target.parent.mkdir(parents=True, exist_ok=True)
            previous = staging / "previous"
            if target.exists():
                # Move the old copy aside inside staging, and put it back if the swap fails,
                # so a failure never leaves neither copy.
                os.rename(target, previous)
            try:
                os.rename(folder, target)
            except OSError as exc:
                if previous.exists():
                    os.rename(previous, target)
                raise PackError(f"model pack {manifest.name!r}: cannot move into {target}: "
                                f"{exc}") from exc
        log.info("installed model pack %s %s from %s", manifest.name, manifest.version, shown)
        return InstalledPack.load(target)

    def remove(self, name: str, version: str | None = None) -> builtins.list[InstalledPack]:
        """Delete pack ``name`` (every version, or only ``version``); returns what was removed.
        PackRefused when nothing matches."""
        gone = [p for p in self.list()
                if p.name == name and (version is None or p.version == version)]
        if not gone:
            self.get(name, version)  # raises the "not installed" error
        for p in gone:
            # Rename first so a crash mid-delete leaves a hidden folder, not a half pack.
            trash = self.root / f".trash-{p.name}-{p.version}-{os.getpid()}"
            os.rename(p.path, trash)
            shutil.rmtree(trash)
        name_dir = self.root / name
        if name_dir.is_dir() and not any(name_dir.iterdir()):
            name_dir.rmdir()
        return gone

    # ------------------------------------------------------------------ helpers
    @contextlib.contextmanager
    def _staging(self) -> Iterator[Path]:
        path = Path(tempfile.mkdtemp(prefix=".staging-", dir=self.root))
        try:
            yield path
        finally:
            shutil.rmtree(path, ignore_errors=True)

    def _unpack(self, source: str, shown: str, staging: Path, dest: Path, fetch: Fetch) -> None:
        path = Path(source)
        scheme = urllib.parse.urlsplit(source).scheme.lower()
        if scheme in ("http", "https") and not path.exists():
            archive = staging / "download"
            fetch(source, archive, self.max_bytes)
            self._extract(archive, dest, shown)
            return
        if not path.exists() and "://" in source:
            raise PackRefused(f"model pack source {shown}: only folders, .zip/.tar.gz files "
                            "and http(s) URLs are accepted")
        if path.is_dir():
            _copy_folder(path, dest, shown)
        elif path.is_file():
            self._extract(path, dest, shown)
        else:
            raise PackRefused(f"model pack source {shown}: no such file or folder")

    def _extract(self, archive: Path, dest: Path, shown: str) -> None:
        # Decide by content, not name: a URL need not end in .zip.
        with archive.open("rb") as f:
            head = f.read(4)
        if head.startswith(b"PK"):
            _extract_zip(archive, dest, shown, self.max_bytes)
        elif head.startswith(b"\x1f\x8b") or tarfile.is_tarfile(archive):
            _extract_tar(archive, dest, shown, self.max_bytes)
        else:
            raise PackRefused(f"model pack {shown}: not a folder, .zip or .tar.gz")

    def _check_pack(self, folder: Path, manifest: PackManifest, shown: str) -> None:
        what = f"model pack {manifest.name!r} ({shown})"
        problems = _check_files(folder, manifest)
        if problems:
            raise PackRefused(f"{what}: refused: " + "; ".join(problems))
        declared = set(manifest.files) | {MANIFEST_NAME}
        for rel in declared:
            (folder / rel).chmod(0o644)  # weights are data: never executable once installed
        extras = []
        for path in sorted(folder.rglob("*")):
            rel = path.relative_to(folder).as_posix()
            if path.is_dir() or rel in declared:
                continue
            if _is_executable(path):
                raise PackRefused(f"{what}: refused: undeclared executable file {rel!r}")
            extras.append(rel)
            path.unlink()
        if extras:
            log.warning("%s: dropped undeclared files %s", what, extras)
        # Empty folders left by dropped files are harmless, but keep the tree tidy.
        for path in sorted(folder.rglob("*"), reverse=True):
            if path.is_dir() and not any(path.iterdir()):
                path.rmdir()
