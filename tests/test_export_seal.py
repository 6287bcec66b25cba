"""A sealed bundle verifies; any altered, missing or added file or a bad signature is named."""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from retrouve.export.seal import SIGNATURE, check, seal


def sealed(tmp_path: Path) -> Path:
    (tmp_path / "exhibit-1").mkdir()
    (tmp_path / "exhibit-1" / "master.mp4").write_bytes(b"\x00" * 100)
    (tmp_path / "exhibit-1" / "still.jpg").write_bytes(b"jpeg")
    key = Ed25519PrivateKey.generate()
    pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                        serialization.PublicFormat.SubjectPublicKeyInfo)
    seal(tmp_path, {"case": "PV-1"}, key.sign, pem)
    return tmp_path


def test_tamper_table(tmp_path: Path) -> None:
    b = sealed(tmp_path)
    assert check(b) == []
    (b / "exhibit-1" / "still.jpg").write_bytes(b"jpeg!")
    assert check(b) == ["exhibit-1/still.jpg: altered (SHA-256 differs)"]
    (b / "exhibit-1" / "still.jpg").write_bytes(b"jpeg")
    (b / "extra.txt").write_text("x")
    assert check(b) == ["extra.txt: added (not in the manifest)"]
    (b / "extra.txt").unlink()
    (b / "exhibit-1" / "master.mp4").unlink()
    assert check(b) == ["exhibit-1/master.mp4: missing"]
    (b / "exhibit-1" / "master.mp4").write_bytes(b"\x00" * 100)
    sig = bytearray((b / SIGNATURE).read_bytes())
    sig[0] ^= 1
    (b / SIGNATURE).write_bytes(bytes(sig))
    assert check(b) == [f"{SIGNATURE}: bad signature over manifest.json"]
