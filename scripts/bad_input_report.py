"""Run the bad-input corpus and print cases tried / passed per area (issue 12's closing note).

Usage, from the repository root::

    python scripts/bad_input_report.py             # the corpus only
    python scripts/bad_input_report.py --hardening # and the crash/concurrency, disk-full,
                                                   # web hardening/security and backup tests
    python scripts/bad_input_report.py --table     # the case table of docs/hardening.md
    python scripts/bad_input_report.py --write-docs  # ... written into it

A case is *tried* unless skipped (an encoder PyAV lacks); it *passed* when its test passed. A
strict-xfail case (the product does not do what issue 12 asks yet) is tried and not passed, and
listed with its reason. The one-folder batch test counts as the area ``batch``. Exit code 0
when every tried case passed or is a known xfail, 1 otherwise.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "tests")]

from badinput.corpus import CASES, table_markdown  # noqa: E402 (needs the paths above)

CORPUS = "tests/test_bad_input_corpus.py"
#: The markers around the generated table in docs/hardening.md.
BEGIN, END = "<!-- corpus-table:begin -->\n", "\n<!-- corpus-table:end -->"
#: The other hardening tests of issue 12, counted per file.
HARDENING = (
    "tests/test_concurrency.py",
    "tests/test_backup.py",
    "tests/web/test_hardening.py",
    "tests/web/test_security.py",
)


class Tally:
    """A pytest plugin keeping each test's outcome: passed, failed, skipped or xfailed."""

    def __init__(self) -> None:
        self.outcomes: dict[str, str] = {}

    def pytest_runtest_logreport(self, report: Any) -> None:
        if report.when == "call" or report.outcome != "passed":
            outcome = "xfailed" if hasattr(report, "wasxfail") else report.outcome
            # The first non-passing phase wins (a failed setup is never overwritten).
            if self.outcomes.get(report.nodeid, "passed") == "passed":
                self.outcomes[report.nodeid] = outcome


def run(paths: list[str], extra: list[str]) -> Tally:
    tally = Tally()
    pytest.main(
        [*paths, "-q", "-p", "no:cacheprovider", "--no-header", "-rN", *extra], plugins=[tally]
    )
    return tally


def area_of(nodeid: str) -> str | None:
    """A corpus test's area: its case's, ``batch`` for the one-folder batch, None for the
    checks of the table itself (not a case)."""
    areas = {c.id: str(c.area) for c in CASES}
    if "[" not in nodeid:
        return "batch" if "batch" in nodeid else None
    return areas[nodeid.rsplit("[", 1)[1].rstrip("]")]


def corpus_lines(tally: Tally) -> tuple[list[str], bool]:
    tried: Counter[str] = Counter()
    passed: Counter[str] = Counter()
    known: list[str] = []
    ok = True
    for nodeid, outcome in tally.outcomes.items():
        if outcome == "skipped":
            continue
        area = area_of(nodeid)
        if area is None:
            ok = ok and outcome == "passed"
            continue
        tried[area] += 1
        passed[area] += outcome == "passed"
        if outcome == "xfailed":
            case = nodeid.rsplit("[", 1)[1].rstrip("]")
            known.append(f"  xfail {case}: {next(c.xfail for c in CASES if c.id == case)}")
        elif outcome != "passed":
            ok = False
    order = [str(c.area) for c in CASES]
    areas = sorted(tried, key=lambda a: order.index(a) if a in order else len(order))
    lines = [f"{a}: tried {tried[a]} / passed {passed[a]}" for a in areas]
    lines.append(f"total: tried {sum(tried.values())} / passed {sum(passed.values())}")
    return lines + known, ok


def file_lines(tally: Tally, files: tuple[str, ...]) -> tuple[list[str], bool]:
    lines, ok = [], True
    for f in files:
        mine = [o for n, o in tally.outcomes.items() if n.startswith(f + "::")]
        counted = [o for o in mine if o != "skipped"]
        good = counted.count("passed")
        ok = ok and good == len(counted)
        lines.append(
            f"{f}: passed {good} / total {len(counted)}"
            + (f" ({len(mine) - len(counted)} skipped)" if len(mine) > len(counted) else "")
        )
    return lines, ok


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--hardening",
        action="store_true",
        help="also run the crash/concurrency, backup and web hardening tests",
    )
    parser.add_argument(
        "--table", action="store_true", help="print the table of docs/hardening.md and exit"
    )
    parser.add_argument(
        "--write-docs", action="store_true", help="write that table into docs/hardening.md"
    )
    args, extra = parser.parse_known_args(argv)
    if args.table:
        print(table_markdown())
        return 0
    if args.write_docs:
        write_docs()
        return 0
    tally = run([CORPUS, *(HARDENING if args.hardening else ())], extra)
    lines, ok = corpus_lines(_only(tally, CORPUS))
    if args.hardening:
        more, more_ok = file_lines(tally, HARDENING)
        lines += ["", *more]
        ok = ok and more_ok
    print("\n".join(lines))
    return 0 if ok else 1


def write_docs() -> None:
    """Replace the table between the markers of ``docs/hardening.md``."""
    doc = ROOT / "docs" / "hardening.md"
    head, rest = doc.read_text(encoding="utf-8").split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    doc.write_text(f"{head}{BEGIN}{table_markdown()}{END}{tail}", encoding="utf-8")


def _only(tally: Tally, path: str) -> Tally:
    mine = Tally()
    mine.outcomes = {n: o for n, o in tally.outcomes.items() if n.startswith(path + "::")}
    return mine


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
