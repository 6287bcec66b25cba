#!/usr/bin/env python3
"""Check a Retrouve journal export offline, without Retrouve: only Python 3.11 and the
``cryptography`` package. Usage::

    python verify_journal_export.py EXPORT_DIR [--key public-key.pem]

EXPORT_DIR holds ``entries.jsonl``, ``checkpoints.json`` and ``public-key.pem`` (as written by
``retrouve journal export``). Pass ``--key`` with the public key obtained from the
installation separately (not the copy inside the export) for the check to mean something.
Exit 0 when every entry chains and the last entry is covered by a valid signed checkpoint;
1 naming the first bad line otherwise. The rules are those of docs/cases.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


def canonical(data: object) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def check(folder: Path, key_path: Path) -> str | None:
    """None when the export is intact, else what is wrong (the first problem)."""
    key = serialization.load_pem_public_key(key_path.read_bytes())
    if not isinstance(key, Ed25519PublicKey):
        return f"{key_path} is not an Ed25519 public key"
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    key_id = sha256_bytes(raw)[:16]
    lines = (folder / "entries.jsonl").read_text(encoding="utf-8").splitlines()
    hashes: dict[int, str] = {}
    prev = None
    expected = None
    for number, line in enumerate(lines, start=1):
        e = json.loads(line)
        seq = e["seq"]
        if expected is not None and seq != expected:
            return f"line {number}: entry {seq} where entry {expected} should be"
        if prev is not None and e["prev_hash"] != prev:
            return f"line {number}: entry {seq} does not follow the previous entry"
        if seq == 1 and e["prev_hash"] != "0" * 64:
            return "entry 1 does not start the chain"
        if "action" in e:  # a full entry (others are redacted to their hashes)
            content = {k: e[k] for k in ("seq", "at", "user", "role", "case", "action",
                                         "objects", "details")}
            if sha256(canonical(content)) != e["digest"]:
                return f"line {number}: entry {seq} was edited"
        if sha256(f"{e['prev_hash']}:{e['digest']}") != e["hash"]:
            return f"line {number}: entry {seq}'s hash does not match"
        hashes[seq], prev, expected = e["hash"], e["hash"], seq + 1
    if not hashes:
        return "no entries"
    last = max(hashes)
    covered = False
    for cp in json.loads((folder / "checkpoints.json").read_text(encoding="utf-8")):
        message = canonical({"entry_seq": cp["entry_seq"], "entry_hash": cp["entry_hash"],
                             "at": cp["at"], "key_id": cp["key_id"]}).encode("utf-8")
        if cp["key_id"] != key_id:
            return f"checkpoint {cp['seq']}: signed by another key ({cp['key_id']})"
        try:
            key.verify(bytes.fromhex(cp["signature"]), message)
        except (InvalidSignature, ValueError):
            return f"checkpoint {cp['seq']}: bad signature"
        if cp["entry_seq"] in hashes and hashes[cp["entry_seq"]] != cp["entry_hash"]:
            return f"checkpoint {cp['seq']}: entry {cp['entry_seq']} differs from what it signed"
        if cp["entry_seq"] > last:
            return f"checkpoint {cp['seq']} covers entry {cp['entry_seq']}: export truncated"
        covered = covered or cp["entry_seq"] == last
    if not covered:
        return f"the last entry ({last}) is not covered by a signed checkpoint"
    return None


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--key", type=Path, help="public key PEM [default: the export's]")
    args = parser.parse_args()
    problem = check(args.folder, args.key or args.folder / "public-key.pem")
    if problem:
        print(f"NOT intact: {problem}")
        return 1
    print("intact")
    return 0


if __name__ == "__main__":
    sys.exit(main())
