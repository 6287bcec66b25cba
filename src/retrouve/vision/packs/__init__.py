"""Model packs: checksum-pinned ONNX models that an operator installs from a folder, an
archive or a URL (``retrouve models install``), and the backends that run them.

* :mod:`.manifest`: ``manifest.json`` (:class:`PackManifest`). Pack errors are
  :class:`retrouve.errors.PackError` (unusable installed pack) and its input branch
  :class:`retrouve.errors.PackRefused` (a pack refused at install).
* :mod:`.registry`: :class:`PackRegistry` (install, list, get, active, remove, verify).
* :mod:`.runtime` (the session seam: ONNX Runtime, or OpenVINO in :mod:`.openvino_runtime`);
  backends :mod:`.pack_detector`, :mod:`.attributes`, :mod:`.onnx_classifier`,
  :mod:`.onnx_embedder`.

Backends are imported from their modules (not here) so that listing packs never loads
ONNX Runtime. Format reference: ``docs/model-packs.md``.
"""

from __future__ import annotations

from retrouve.vision.packs.manifest import PackManifest, split_make_model
from retrouve.vision.packs.registry import InstalledPack, PackRegistry, packs_dir, verify

__all__ = [
    "InstalledPack",
    "PackManifest",
    "PackRegistry",
    "packs_dir",
    "split_make_model",
    "verify",
]
