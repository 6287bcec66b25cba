"""Install a catalogue pack from a folder (air-gapped: a USB stick) or by download.

Both paths end in the registry's own install (:meth:`PackRegistry.install`), so the same
rules hold: every file checked, nothing visible until all checks pass, one atomic rename.

* :func:`install_from_folder`: the files are searched by their published *name* anywhere under
  the folder (the OMZ downloader's ``intel/<model>/FP16/…`` tree, the copies in
  ``../shared/models``, or a flat stick all work). Candidates are copied into a staging folder
  and the *copy* is verified — size, then the digest with the algorithm the catalogue records —
  so a file that changes while being read cannot slip through. The first source all of whose
  files verify is installed; the manifest is generated from the catalogue entry.
* :func:`fetch_pack`: each file of a downloadable source is streamed from its upstream URL (or
  ``MIRROR/<mirror_path>``) into ``models/.downloads/<pack>/<source>/``, size-capped at its
  catalogue size. An interrupted download keeps its ``.part`` file and the next fetch resumes it
  with an HTTP ``Range`` request (a server that ignores ranges restarts it); a file that fails its
  digest is deleted. Once a source's files are all verified they are installed as above and the
  download folder is removed.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import shutil
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from retrouve.digest import CHUNK, sha256_file
from retrouve.errors import PackError, PackRefused
from retrouve.vision.packs.catalogue import (
    CatalogueEntry,
    CatalogueFile,
    CatalogueSource,
    file_digest,
)
from retrouve.vision.packs.manifest import MANIFEST_NAME
from retrouve.vision.packs.registry import InstalledPack, PackRegistry, public_source

log = logging.getLogger(__name__)

DOWNLOADS = ".downloads"

#: ``fetch_file(url, part, expected_size)`` brings ``part`` to ``expected_size`` bytes.
FetchFile = Callable[[str, Path, int], None]


@dataclass(frozen=True)
class Problem:
    """Why one file of one source could not be used (for the refusal message)."""

    source: str
    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.source}/{self.path}: {self.reason}"


def _refuse(entry: CatalogueEntry, where: str, problems: list[Problem]) -> PackRefused:
    detail = "; ".join(str(p) for p in problems)
    return PackRefused(f"catalogue pack {entry.name!r}: no source verified from {where}, "
                       f"nothing installed: {detail}")


@contextlib.contextmanager
def _staging(registry: PackRegistry) -> Iterator[Path]:
    registry.root.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix=".catalogue-", dir=registry.root))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _verified_copy(want: CatalogueFile, candidates: list[Path], target: Path) -> str | None:
    """Copy the first candidate whose copy has ``want``'s size and digest to ``target``;
    None and a reason when none does."""
    reasons = []
    for path in candidates:
        if path.stat().st_size != want.size:
            reasons.append(f"{path}: {path.stat().st_size} bytes, expected {want.size}")
            continue
        shutil.copyfile(path, target)
        got = file_digest(target, want.algorithm)
        if got == want.digest:
            return None
        reasons.append(f"{path}: {want.algorithm} {got} does not match the catalogue's "
                       f"{want.digest}")
        target.unlink()
    return "; ".join(reasons) if reasons else f"no file named {want.name!r}"


def _index(folder: Path) -> dict[str, list[Path]]:
    # One walk of the folder (a stick may be large): file name → every plain file so named.
    found: dict[str, list[Path]] = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink():
            found.setdefault(path.name, []).append(path)
    return found


def _stage_source(entry: CatalogueEntry, source: CatalogueSource, index: dict[str, list[Path]],
                  dest: Path) -> list[Problem]:
    """Copy and verify every file of ``source`` into ``dest`` (pack layout) and write the
    manifest; the problems found (empty: ``dest`` is a complete pack)."""
    problems = []
    sha256s = {}
    for rel, want in sorted(source.files.items()):
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        why = _verified_copy(want, index.get(want.name, []), target)
        if why is not None:
            problems.append(Problem(source.id, rel, why))
            continue
        sha256s[rel] = want.digest if want.algorithm == "sha256" else sha256_file(target)
    if not problems:
        (dest / MANIFEST_NAME).write_text(
            json.dumps(entry.manifest_for(source, sha256s), indent=2), encoding="utf-8")
    return problems


def install_from_folder(
    registry: PackRegistry,
    entry: CatalogueEntry,
    folder: Path,
    *,
    source_id: str | None = None,
    replace: bool = False,
    now: datetime | None = None,
    origin: str | None = None,
) -> InstalledPack:
    """Install ``entry`` from the files found by name under ``folder``.

    Tries the entry's sources in catalogue order (or only ``source_id``) and installs the first
    whose every file verifies. PackRefused, with every problem per source and nothing installed,
    when none does; PackRefused when ``folder`` is not a folder. ``origin`` (default: the
    folder) is recorded as where the files came from.
    """
    if not folder.is_dir():
        raise PackRefused(f"catalogue pack {entry.name!r}: {folder} is not a folder")
    sources = entry.source(source_id)
    index = _index(folder)
    problems: list[Problem] = []
    for source in sources:
        with _staging(registry) as staging:
            dest = staging / entry.name
            dest.mkdir()
            found = _stage_source(entry, source, index, dest)
            if found:
                problems += found
                continue
            record = f"catalogue {entry.name} source {source.id} from {origin or folder}"
            pack = registry.install(str(dest), replace=replace, now=now, origin=record)
        log.info("installed catalogue pack %s %s (source %s) from %s", entry.name,
                 source.version, source.id, folder)
        return pack
    raise _refuse(entry, str(folder), problems)


# ----------------------------------------------------------------------------- downloads
def download_file(url: str, part: Path, expected_size: int, timeout: float = 60.0) -> None:
    """Bring ``part`` to ``expected_size`` bytes from ``url``, resuming what it already holds.

    Streams in 1 MiB pieces. PackRefused on an HTTP error (404…), a body longer than
    ``expected_size`` (the part is deleted), or a connection that ends early (the part is kept
    for the next attempt to resume).
    """
    shown = public_source(url)
    have = part.stat().st_size if part.exists() else 0
    if have > expected_size:
        part.unlink()
        have = 0
    if have == expected_size:
        return
    headers = {"User-Agent": "retrouve-model-fetch"}
    if have:
        headers["Range"] = f"bytes={have}-"
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            mode = "ab" if have and resp.status == 206 else "wb"
            total = have if mode == "ab" else 0
            with part.open(mode) as out:
                while chunk := resp.read(CHUNK):
                    total += len(chunk)
                    if total > expected_size:
                        out.close()
                        part.unlink()
                        raise PackRefused(f"{shown}: more than the catalogue's {expected_size} "
                                          "bytes (wrong file?)")
                    out.write(chunk)
    except PackError:
        raise
    except urllib.error.HTTPError as exc:
        raise PackRefused(f"cannot download {shown}: HTTP {exc.code} {exc.reason}") from exc
    except (OSError, ValueError, http.client.HTTPException) as exc:
        # Covers a connection closed mid-body (IncompleteRead) and timeouts; keep the part.
        got = part.stat().st_size if part.exists() else 0
        raise PackRefused(f"download of {shown} interrupted at {got} of {expected_size} bytes "
                          f"({type(exc).__name__}); fetch again to resume") from exc
    got = part.stat().st_size
    if got != expected_size:
        raise PackRefused(f"download of {shown} interrupted at {got} of {expected_size} bytes; "
                          "fetch again to resume")


def _url(file: CatalogueFile, mirror: str | None) -> str:
    if mirror is not None:
        return f"{mirror.rstrip('/')}/{file.mirror_path}"
    return str(file.url)


def _download_source(source: CatalogueSource, mirror: str | None, folder: Path,
                     fetch_file: FetchFile) -> list[Problem]:
    problems = []
    for rel, want in sorted(source.files.items()):
        final = folder / want.name
        if final.is_file() and final.stat().st_size == want.size \
                and file_digest(final, want.algorithm) == want.digest:
            continue  # verified by an earlier, interrupted fetch
        part = folder / f"{want.name}.part"
        try:
            fetch_file(_url(want, mirror), part, want.size)
        except PackRefused as exc:
            problems.append(Problem(source.id, rel, str(exc)))
            continue
        got = file_digest(part, want.algorithm)
        if got != want.digest:
            part.unlink()
            problems.append(Problem(source.id, rel, f"{want.algorithm} {got} does not match "
                                    f"the catalogue's {want.digest} (download deleted)"))
            continue
        part.replace(final)
    return problems


def fetch_pack(
    registry: PackRegistry,
    entry: CatalogueEntry,
    *,
    mirror: str | None = None,
    source_id: str | None = None,
    replace: bool = False,
    now: datetime | None = None,
    fetch_file: FetchFile = download_file,
) -> InstalledPack:
    """Download ``entry``'s files and install them (see the module docstring).

    Without ``mirror`` the sources with upstream URLs are tried in order; with it, the sources
    whose files have a ``mirror_path``. PackRefused, nothing installed, when no source can be
    downloaded and verified (the reasons per file are in the message).
    """
    usable = [s for s in entry.source(source_id)
              if (s.mirrorable if mirror is not None else s.downloadable)]
    where = public_source(mirror) if mirror is not None else "the upstream URLs"
    if not usable:
        how = "a mirror path" if mirror is not None else "an upstream URL"
        raise PackRefused(f"catalogue pack {entry.name!r}: no source has {how} for every file "
                          f"(sources: {[s.id for s in entry.sources]}); install it from a "
                          "folder with --from")
    problems: list[Problem] = []
    for source in usable:
        folder = registry.root / DOWNLOADS / entry.name / source.id
        folder.mkdir(parents=True, exist_ok=True)
        found = _download_source(source, mirror, folder, fetch_file)
        if found:
            problems += found
            continue
        pack = install_from_folder(registry, entry, folder, source_id=source.id,
                                   replace=replace, now=now, origin=where)
        shutil.rmtree(registry.root / DOWNLOADS / entry.name, ignore_errors=True)
        return pack
    raise _refuse(entry, where, problems)
