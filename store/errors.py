"""Errors the store raises. Driver errors are translated into these, and only here.

Every message is one clear sentence a user can act on: the CLI prints `str(error)` as-is.
"""

from __future__ import annotations


class StoreError(Exception):
    """Base class: anything the store wants to tell the user."""


class ConcurrencyError(StoreError):
    """The stream is not at the expected version; nothing was written."""

    def __init__(self, stream_id: str, expected: object, actual: int | None) -> None:
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual
        actual_text = "no stream" if actual is None else f"version {actual}"
        super().__init__(
            f"stream {stream_id!r} was expected at {_expected_text(expected)} but is at {actual_text}"
        )


class IdempotencyConflict(StoreError):
    """An event id is already stored with different content; nothing was written."""

    def __init__(self, event_id: str, position: int) -> None:
        self.event_id = event_id
        self.position = position
        super().__init__(
            f"event id {event_id} is already stored at position {position} with different content"
        )


class InvalidEvent(StoreError):
    """A payload is not acceptable (not an object, not JSON, NaN, too large...)."""


class ReadOnlyError(StoreError):
    """A write was attempted on a source opened read-only (or one that can only be read)."""


class NotAStoreError(StoreError):
    """The target exists but is not an eventscope store (or a newer, unsupported one)."""


class SourceNotFound(StoreError):
    """The path or URL does not lead to anything that can be opened."""


class StreamNotFound(StoreError):
    """The requested stream does not exist."""

    def __init__(self, stream_id: str) -> None:
        self.stream_id = stream_id
        super().__init__(f"there is no stream {stream_id!r} in this source")


def driver_reason(exc: BaseException) -> str:
    """A driver's (or SQLAlchemy's) error as its reason alone: the first non-blank line of
    the underlying error, white space folded, without a final full stop. Later lines are
    generic hints and SQL text, which a one-sentence message leaves out."""
    orig = getattr(exc, "orig", None) or exc
    lines = [line.strip() for line in str(orig).splitlines() if line.strip()]
    return " ".join(lines[0].split()).rstrip(".") if lines else type(orig).__name__


def _expected_text(expected: object) -> str:
    name = getattr(expected, "name", None)
    if name == "NO_STREAM":
        return "no stream (a new stream)"
    if name == "ANY":
        return "any version"
    return f"version {expected}"
