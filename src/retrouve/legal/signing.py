"""The installation's Ed25519 key, which signs the journal's checkpoints.

Created at first use under ``data_dir/keys/journal-ed25519.pem`` (PKCS#8 PEM, mode 0600);
the public key (``public_pem``) is what a magistrate or the CNIL needs to check a journal or
an export offline. ``key_id``: the first 16 hex digits of the SHA-256 of the raw public key.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from retrouve.errors import JournalError

KEY_FILE = Path("keys") / "journal-ed25519.pem"


def key_id_of(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


class SigningKey:
    """The key pair; :meth:`load_or_create` reads it from the data dir or makes it."""

    def __init__(self, private: Ed25519PrivateKey) -> None:
        self._private = private
        self.public = private.public_key()
        self.key_id = key_id_of(self.public)

    @classmethod
    def load_or_create(cls, data_dir: Path) -> SigningKey:
        path = data_dir / KEY_FILE
        try:
            if path.is_file():
                key = serialization.load_pem_private_key(path.read_bytes(), password=None)
                if not isinstance(key, Ed25519PrivateKey):
                    raise JournalError(f"journal key {path} is not an Ed25519 key")
                return cls(key)
            path.parent.mkdir(parents=True, exist_ok=True)
            key = Ed25519PrivateKey.generate()
            pem = key.private_bytes(serialization.Encoding.PEM,
                                    serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(pem)
            return cls(key)
        except (OSError, ValueError) as exc:
            raise JournalError(f"cannot load or create the journal key {path}: {exc}") from exc

    def sign(self, message: bytes) -> str:
        return self._private.sign(message).hex()

    def sign_raw(self, message: bytes) -> bytes:
        """The raw 64-byte Ed25519 signature (a detached ``.sig`` file, as openssl reads)."""
        return self._private.sign(message)

    def public_pem(self) -> str:
        return self.public.public_bytes(serialization.Encoding.PEM,
                                        serialization.PublicFormat.SubjectPublicKeyInfo
                                        ).decode("ascii")


def signature_checker(public: Ed25519PublicKey) -> Callable[[bytes, str, str], bool]:
    """``check(message, signature_hex, key_id) -> bool`` for :func:`journal.verify_chain`."""
    expected = key_id_of(public)

    def check(message: bytes, signature_hex: str, key_id: str) -> bool:
        if key_id != expected:
            return False
        try:
            public.verify(bytes.fromhex(signature_hex), message)
        except (InvalidSignature, ValueError):
            return False
        return True

    return check


def load_public_pem(pem: bytes) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(pem)
    if not isinstance(key, Ed25519PublicKey):
        raise JournalError("the public key is not an Ed25519 key")
    return key
