"""The catalogue of recommended model packs: what each is, where its files come from, and the
pack manifest a site gets when it installs one.

The catalogue ships with Retrouve as package data (``vision/packs/catalogue.json``) and holds
**manifests only, never weights**. Each :class:`CatalogueEntry` is one pack (one name): its role
in the analysis, the manifest fields of the pack (everything but ``name``, ``version`` and
``files``, which are filled at install), the pack-relative paths of its files, and one or more
:class:`CatalogueSource` — byte-exact sets of those files a site may have:

* ``upstream``: the files as published (e.g. Intel's storage), each with its download URL, its
  size and the digest listed by the publisher (OMZ ``model.yml`` lists SHA-256 in the releases
  read here, SHA-384 in later ones: both algorithms are accepted, and a file is verified with
  the algorithm recorded for it);
* ``copy``: another byte-exact copy (another release, a conversion), pinned by its SHA-256 with
  its provenance.

A source's ``version`` becomes the installed pack's version, so the run record says which bytes
were used. ``mirror_path`` is where the file sits under a site mirror (the layout the OMZ
downloader writes, ``intel/<model>/<precision>/<file>``, for upstream files).

Installing (from a folder or by download) is in :mod:`.catalogue_install`.
"""

from __future__ import annotations

import hashlib
import json
import re
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from retrouve.digest import CHUNK
from retrouve.errors import PackError, PackRefused
from retrouve.vision.packs.manifest import SCHEMA_VERSION, check_relative_path, check_slug

#: The catalogue format this code reads.
CATALOGUE_SCHEMA = 1
#: Digest algorithms a catalogue file may be pinned with, and their hex lengths.
DIGEST_HEX = {"sha256": 64, "sha384": 96}
#: Roles a pack can play in an analysis (one pack per role is active at a time).
ROLES = ("detector", "vehicle_attributes", "person_attributes", "make_model", "embedder")
#: Manifest fields the catalogue fills itself at install.
_FILLED = frozenset({"schema", "name", "version", "files"})

Role = Literal["detector", "vehicle_attributes", "person_attributes", "make_model", "embedder"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CatalogueFile(_Strict):
    """One file of one source: its name as published (the name searched for in a folder), its
    size in bytes, exactly one digest (``sha256`` or ``sha384``, lowercase hex), and where to
    download it (``url``) or find it under a site mirror (``mirror_path``)."""

    name: str
    size: int = Field(gt=0)
    sha256: str | None = None
    sha384: str | None = None
    url: str | None = None
    mirror_path: str | None = None

    @field_validator("name")
    @classmethod
    def _plain_name(cls, v: str) -> str:
        if not v or "/" in v or "\\" in v or v in (".", ".."):
            raise ValueError(f"{v!r} must be a plain file name")
        return v

    @field_validator("mirror_path")
    @classmethod
    def _relative(cls, v: str | None) -> str | None:
        return None if v is None else check_relative_path(v)

    @field_validator("url")
    @classmethod
    def _https(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith(("https://", "http://")):
            raise ValueError(f"{v!r} is not an http(s) URL")
        return v

    @model_validator(mode="after")
    def _one_digest(self) -> CatalogueFile:
        given = [(a, h) for a, h in (("sha256", self.sha256), ("sha384", self.sha384))
                 if h is not None]
        if len(given) != 1:
            raise ValueError(f"{self.name}: exactly one of sha256 / sha384 is needed")
        algo, hexdigest = given[0]
        if not re.fullmatch(f"[0-9a-f]{{{DIGEST_HEX[algo]}}}", hexdigest):
            raise ValueError(f"{self.name}: {algo} must be {DIGEST_HEX[algo]} lowercase hex digits")
        return self

    @property
    def algorithm(self) -> str:
        """``"sha256"`` or ``"sha384"``: the algorithm this file is verified with."""
        return "sha256" if self.sha256 is not None else "sha384"

    @property
    def digest(self) -> str:
        """The pinned lowercase hex digest (of :attr:`algorithm`)."""
        return self.sha256 if self.sha256 is not None else str(self.sha384)


class CatalogueSource(_Strict):
    """A byte-exact set of the entry's files: ``files`` maps each pack-relative path to the
    file that fills it. ``provenance`` says where the digests come from (e.g. the OMZ
    ``model.yml`` and the commit it was read at)."""

    id: str
    kind: Literal["upstream", "copy"]
    version: str
    provenance: str = Field(min_length=1)
    files: dict[str, CatalogueFile] = Field(min_length=1)

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        return check_slug(v)

    @property
    def downloadable(self) -> bool:
        """Every file has an upstream URL."""
        return all(f.url for f in self.files.values())

    @property
    def mirrorable(self) -> bool:
        """Every file has a path under a site mirror."""
        return all(f.mirror_path for f in self.files.values())


class CatalogueEntry(_Strict):
    """One recommended pack. ``manifest`` holds the pack manifest's fields except ``schema``,
    ``name``, ``version`` and ``files`` (see :meth:`manifest_for`); ``files`` its pack-relative
    paths; ``not_installable`` upstream releases that were read but are deliberately not a
    source (say why)."""

    name: str
    role: Role
    summary: str = Field(min_length=1)
    upstream: str = Field(min_length=1)
    measured: str = ""
    notes: list[str] = Field(default_factory=list)
    variant_of: str | None = None
    files: list[str] = Field(min_length=1)
    manifest: dict[str, Any]
    sources: list[CatalogueSource] = Field(min_length=1)
    not_installable: list[str] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return check_slug(v)

    @field_validator("files")
    @classmethod
    def _paths(cls, v: list[str]) -> list[str]:
        for p in v:
            check_relative_path(p)
        if len(set(v)) != len(v):
            raise ValueError("duplicate file")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> CatalogueEntry:
        filled = sorted(_FILLED & set(self.manifest))
        if filled:
            raise ValueError(f"manifest: {filled} are filled at install, not in the catalogue")
        ids = [s.id for s in self.sources]
        if len(set(ids)) != len(ids):
            raise ValueError(f"sources: duplicate id in {ids}")
        for s in self.sources:
            if sorted(s.files) != sorted(self.files):
                raise ValueError(f"sources.{s.id}: files {sorted(s.files)} must be exactly "
                                 f"the entry's {sorted(self.files)}")
        return self

    @property
    def runtime(self) -> str:
        """The runtime the pack declares (``onnxruntime`` unless the manifest says so)."""
        return str(self.manifest.get("runtime", "onnxruntime"))

    @property
    def format(self) -> str:
        return str(self.manifest.get("format", ""))

    def source(self, source_id: str | None) -> list[CatalogueSource]:
        """The sources to try, in order: all of them, or only ``source_id`` (PackRefused when
        this entry has no such source)."""
        if source_id is None:
            return list(self.sources)
        found = [s for s in self.sources if s.id == source_id]
        if not found:
            raise PackRefused(f"catalogue pack {self.name!r} has no source {source_id!r} "
                              f"(sources: {[s.id for s in self.sources]})")
        return found

    def manifest_for(self, source: CatalogueSource, sha256s: dict[str, str]) -> dict[str, Any]:
        """The ``manifest.json`` of this pack installed from ``source``: the catalogue's
        manifest fields, the source's version, and ``files`` = each pack path's SHA-256
        (computed from the verified bytes, whatever algorithm pinned them)."""
        return {"schema": SCHEMA_VERSION, "name": self.name, "version": source.version,
                **self.manifest, "files": dict(sorted(sha256s.items()))}

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


class Catalogue(_Strict):
    """Every entry, by name (names are unique)."""

    schema_version: Literal[1] = Field(1, alias="schema")
    packs: list[CatalogueEntry]

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _unique(self) -> Catalogue:
        names = [e.name for e in self.packs]
        if len(set(names)) != len(names):
            raise ValueError(f"packs: duplicate name in {names}")
        return self

    def get(self, name: str) -> CatalogueEntry:
        """The entry ``name``; PackRefused (exit 2) naming the known ones otherwise."""
        for e in self.packs:
            if e.name == name:
                return e
        raise PackRefused(f"{name!r} is not in the pack catalogue "
                          f"(known: {[e.name for e in self.packs]}; see retrouve models catalogue)")


def parse_catalogue(data: Any, where: str) -> Catalogue:
    """Validate decoded catalogue JSON; PackError naming ``where`` and the field."""
    try:
        return Catalogue.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                             for e in exc.errors())
        raise PackError(f"pack catalogue {where}: {problems}") from exc


def load_catalogue(path: Path | None = None) -> Catalogue:
    """The shipped catalogue, or the one at ``path`` (a site's or a test's)."""
    if path is None:
        return _shipped()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PackError(f"cannot read pack catalogue {path}: {exc}") from exc
    return parse_catalogue(data, str(path))


@cache
def _shipped() -> Catalogue:
    # Read once per process: package data never changes under a running Retrouve.
    text = resources.files("retrouve.vision.packs").joinpath("catalogue.json").read_text(
        encoding="utf-8")
    return parse_catalogue(json.loads(text), "retrouve/vision/packs/catalogue.json")


def file_digest(path: Path, algorithm: str) -> str:
    """Lowercase hex digest of the file at ``path`` with ``algorithm`` (``sha256``/``sha384``)."""
    if algorithm not in DIGEST_HEX:
        raise ValueError(f"unsupported digest algorithm {algorithm!r}")
    h = hashlib.new(algorithm)
    with path.open("rb") as f:
        while block := f.read(CHUNK):
            h.update(block)
    return h.hexdigest()
