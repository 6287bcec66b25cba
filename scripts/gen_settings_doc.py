"""Write docs/settings.md from the settings model (``retrouve.config.reference``).

    python scripts/gen_settings_doc.py          # rewrite the page
    python scripts/gen_settings_doc.py --check  # exit 1 if the page is out of date
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from retrouve.config.reference import DOC_PATH, render

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="do not write; exit 1 when the page differs from the model")
    args = parser.parse_args(argv)
    path = ROOT / DOC_PATH
    text = render()
    if args.check:
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        if current != text:
            print(f"{DOC_PATH} is out of date: run python scripts/gen_settings_doc.py",
                  file=sys.stderr)
            return 1
        return 0
    path.write_text(text, encoding="utf-8")
    print(f"wrote {DOC_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
