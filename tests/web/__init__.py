"""Tests of the operator web application (a package so its conftest has its own name)."""
