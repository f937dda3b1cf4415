"""Placeholder: the native EventStore lands with the store issue."""

from __future__ import annotations


class EventStore:  # pragma: no cover - replaced by the real implementation
    @classmethod
    def open(cls, location: str, read_only: bool = False, **options: object) -> EventStore:
        raise NotImplementedError
