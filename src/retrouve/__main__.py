"""``python -m retrouve``: the same command line as the ``retrouve`` console script, for a
checkout run with ``PYTHONPATH=src`` (no installed entry point)."""

from retrouve.cli import main

if __name__ == "__main__":
    main()
