"""Sealing a bundle folder: ``SHA256SUMS`` (``sha256sum -c`` format) over every exhibit file,
``manifest.json`` carrying the same hashes and the export's metadata, and its detached
Ed25519 signature ``manifest.json.sig`` (raw 64 bytes, checkable with
``openssl pkeyutl -verify -pubin -inkey public-key.pem -rawin -in manifest.json
-sigfile manifest.json.sig``); :func:`check` finds altered, missing or added files."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from retrouve.digest import sha256_file

MANIFEST: Final = "manifest.json"
SIGNATURE: Final = "manifest.json.sig"
PUBLIC_KEY: Final = "public-key.pem"
SUMS: Final = "SHA256SUMS"
#: Files the seal itself writes (not listed in the manifest's hashes).
SEAL_FILES: Final = frozenset({MANIFEST, SIGNATURE, PUBLIC_KEY, SUMS})


def _files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")
                  if p.is_file() and p.relative_to(folder).as_posix() not in SEAL_FILES)


#: Signs bytes with the installation's Ed25519 key, returning the raw 64-byte signature (the
#: key itself stays inside :class:`retrouve.legal.signing.SigningKey`).
Sign = Callable[[bytes], bytes]


def seal(folder: Path, metadata: dict[str, Any], sign: Sign, public_pem: bytes
         ) -> dict[str, Any]:
    """Hash every file under ``folder``, write the manifest, sums, signature (``sign`` of the
    manifest's bytes) and ``public_pem`` (the signer's SubjectPublicKeyInfo PEM); returns the
    manifest."""
    hashes = {name: sha256_file(folder / name) for name in _files(folder)}
    manifest = {**metadata, "files": hashes}
    body = json.dumps(manifest, indent=1, sort_keys=True, ensure_ascii=False).encode("utf-8")
    (folder / MANIFEST).write_bytes(body)
    (folder / SIGNATURE).write_bytes(sign(body))
    (folder / PUBLIC_KEY).write_bytes(public_pem)
    (folder / SUMS).write_text("".join(f"{h}  {n}\n" for n, h in hashes.items())
                               + f"{sha256_file(folder / MANIFEST)}  {MANIFEST}\n",
                               encoding="utf-8")
    return manifest


def check(folder: Path, public: Ed25519PublicKey | None = None) -> list[str]:
    """Problems with a sealed folder, each naming its file (empty: intact). ``public``: the
    key to trust (default: the bundle's own ``public-key.pem``)."""
    try:
        body = (folder / MANIFEST).read_bytes()
        sig = (folder / SIGNATURE).read_bytes()
        if public is None:
            loaded = serialization.load_pem_public_key((folder / PUBLIC_KEY).read_bytes())
            if not isinstance(loaded, Ed25519PublicKey):
                return [f"{PUBLIC_KEY}: not an Ed25519 key"]
            public = loaded
    except (OSError, ValueError) as exc:
        return [f"cannot read the seal: {exc}"]
    try:
        public.verify(sig, body)
    except InvalidSignature:
        return [f"{SIGNATURE}: bad signature over {MANIFEST}"]
    listed: dict[str, str] = json.loads(body)["files"]
    present = set(_files(folder))
    problems = [f"{n}: missing" for n in sorted(set(listed) - present)]
    problems += [f"{n}: added (not in the manifest)" for n in sorted(present - set(listed))]
    problems += [f"{n}: altered (SHA-256 differs)" for n in sorted(present & set(listed))
                 if sha256_file(folder / n) != listed[n]]
    return problems
