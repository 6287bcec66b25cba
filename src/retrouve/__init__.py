"""Retrouve: forensic search in recorded CCTV footage."""

__version__ = "0.1.0"
