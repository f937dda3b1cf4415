"""Reusable widgets of the explorer (no SQL here: data arrives through callbacks/workers)."""
