"""Shared fixtures. `sim`: a factory for simulated boards (tests/vmtools.py)."""
from vmtools import sim  # noqa: F401
