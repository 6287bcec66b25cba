"""Per-track plate consensus over several reads (pure, table-driven)."""

from __future__ import annotations

import pytest

from retrouve.domain import Box
from retrouve.vision.plates.consensus import MAX_ALTERNATIVES, consensus
from retrouve.vision.plates.ocr import RawRead


def read(raw: str, conf: float = 0.9, weak: dict[int, float] | None = None) -> RawRead:
    """A read of ``raw`` at ``conf``, with the characters at positions ``weak`` (indices into
    ``raw``) at the given lower confidences."""
    confs = [conf] * len(raw)
    for i, c in (weak or {}).items():
        confs[i] = c
    return RawRead.from_text(raw, conf, char_conf=confs)


@pytest.mark.parametrize(
    ("raws", "text", "grammar"),
    [
        (["AB-123-CD"], "AB123CD", "fr-siv"),
        (["AB-123-CD", "AB-123-CD", "AB-123-CD"], "AB123CD", "fr-siv"),
        # Look-alikes coerced to the grammar before voting.
        (["A8-I23-CD", "AB-123-C0", "AB-1Z3-CD"], "AB123CD", "fr-siv"),
        # Majority wins a real disagreement.
        (["AB-123-CD", "AB-128-CD", "AB-123-CD"], "AB123CD", "fr-siv"),
        # A read with a band and one without agree.
        (["F AB-123-CD", "AB-123-CD"], "AB123CD", "fr-siv"),
        (["1234 AB 75", "1234 A8 75", "I234 AB 75"], "1234AB75", "fr-fni"),
        # Length groups: the heaviest wins (a dropped character in one read).
        (["AB-123-CD", "AB-23-CD", "AB-123-CD"], "AB123CD", "fr-siv"),
        # Foreign/generic plates stay as read.
        (["08E6CK", "08E6CK"], "08E6CK", None),
        (["BMW 1234"], "BMW1234", "de"),
    ],
)
def test_consensus_text(raws: list[str], text: str, grammar: str | None) -> None:
    plate = consensus([read(r) for r in raws])
    assert plate is not None
    assert plate.text == text
    assert plate.grammar == grammar
    assert plate.reads == len(raws)
    assert "".join(c for c, _ in plate.chars) == plate.text
    assert 0.0 < plate.confidence <= 1.0
    assert all(0.0 <= c <= 1.0 for _, c in plate.chars)


def test_confident_character_outvotes_doubtful_ones() -> None:
    # Two reads say 8 at a doubtful 0.2, one says 3 at 0.95: 0.95 > 0.4.
    reads = [
        read("AB-128-CD", weak={5: 0.2}),
        read("AB-128-CD", weak={5: 0.2}),
        read("AB-123-CD", weak={5: 0.95}),
    ]
    plate = consensus(reads)
    assert plate is not None
    assert plate.text == "AB123CD"
    assert plate.chars[4][1] == pytest.approx(0.95 / 3)
    assert plate.alternatives[0][0] == "AB128CD"


@pytest.mark.parametrize(
    ("raws", "why"),
    [
        ([], "no reads"),
        (["AB"], "too short"),
        (["ABCDEFG"], "no digit"),
        (["12345678901"], "too long"),
    ],
)
def test_consensus_none(raws: list[str], why: str) -> None:
    assert consensus([read(r) for r in raws]) is None, why


def test_low_confidence_is_not_credible() -> None:
    assert consensus([read("AB-123-CD", conf=0.1)]) is None


def test_alternatives_sorted_bounded_and_distinct() -> None:
    raws = ["AB-123-CD", "AB-128-CD", "AX-123-CD", "AB-123-CF", "AB-723-CD", "XB-123-CD",
            "AB-123-CD", "AB-12-CD"]
    plate = consensus([read(r) for r in raws])
    assert plate is not None
    assert plate.text == "AB123CD"
    alts = plate.alternatives
    assert 0 < len(alts) <= MAX_ALTERNATIVES
    assert [s for _, s in alts] == sorted((s for _, s in alts), reverse=True)
    assert plate.text not in {a for a, _ in alts}
    assert len({a for a, _ in alts}) == len(alts)


def test_best_t_and_box_from_the_most_confident_agreeing_read() -> None:
    boxes = [Box(0, 0, 10, 5), Box(100, 50, 140, 60), Box(5, 5, 20, 10)]
    reads = [
        RawRead.from_text("AB-123-CD", 0.7, boxes[0]),
        RawRead.from_text("AB-123-CD", 0.95, boxes[1]),
        RawRead.from_text("AB-128-CD", 0.99, boxes[2]),
    ]
    plate = consensus(reads, t_of=[1.0, 2.5, 3.0])
    assert plate is not None
    assert plate.text == "AB123CD"
    assert plate.best_t == 2.5
    assert plate.box == boxes[1]


def test_t_of_length_checked() -> None:
    with pytest.raises(ValueError, match="t_of has 1 times for 2 reads"):
        consensus([read("AB-123-CD"), read("AB-123-CD")], t_of=[0.0])


def test_more_agreement_means_more_confidence() -> None:
    one = consensus([read("AB-123-CD", 0.8)])
    split = consensus([read("AB-123-CD", 0.8), read("AB-128-CD", 0.8), read("AB-123-CD", 0.8)])
    same = consensus([read("AB-123-CD", 0.8)] * 3)
    assert one is not None and split is not None and same is not None
    assert split.confidence < same.confidence
    assert same.confidence == pytest.approx(one.confidence)
