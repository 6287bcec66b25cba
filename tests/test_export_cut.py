"""Master cut: stream copy from the key frame at or before the start, packets identical."""

from __future__ import annotations

from pathlib import Path

import av
import pytest

from clips import RED, Moving, make_clip
from retrouve.export.cut import cut_master


def packets(path: Path) -> list[tuple[bool, bytes]]:
    with av.open(str(path)) as c:
        return [(p.is_keyframe, bytes(p)) for p in c.demux(c.streams.video[0]) if p.size]


@pytest.mark.parametrize(("t_from", "t_to", "key_at"), [
    (1.5, 2.5, 1.0), (1.0, 1.2, 1.0), (0.3, 3.9, 0.0), (3.2, 3.9, 3.0)])
def test_master_starts_on_a_key_frame_before_the_window(
        tmp_path: Path, t_from: float, t_to: float, key_at: float) -> None:
    clip = make_clip(tmp_path / "a.mp4", seconds=4.0, fps=10, gop=10,
                     objects=[Moving(RED, (60, 30), (0, 40), (260, 40), 0.0, 4.0)])
    cut = cut_master(clip.path, tmp_path / "m.mp4", t_from, t_to)
    assert cut.actual_from == pytest.approx(key_at)
    assert cut.actual_from <= t_from and cut.actual_to >= t_to - 0.1 - 1e-6
    original, master = packets(clip.path), packets(tmp_path / "m.mp4")
    first = round(key_at * 10)
    assert master[0][0]  # a key frame
    # Bit-for-bit: the master's packets are the original's, in order, none re-encoded.
    assert master == original[first:first + len(master)]
    assert len(master) == cut.packets
