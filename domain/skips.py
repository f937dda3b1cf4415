"""What every fold shares: the record of an event it could not use, and state bytes.

One copy for the version axis (`domain.timeline`) and the business-time axis
(`domain.business_time`), so a skipped event reads the same whichever order applied it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from eventscope.store.records import JSONObject
from pydantic_core import to_jsonable_python


@dataclass(frozen=True, slots=True)
class SkippedEvent:
    """An event left out of a computed state, and why."""

    version: int
    position: int
    event_type: str
    reason: str

    def to_json(self) -> JSONObject:
        return {
            "version": self.version,
            "position": self.position,
            "event_type": self.event_type,
            "reason": self.reason,
        }


def dumps_state(state: Any) -> bytes:
    """State -> bytes. Appliers should keep states JSON-shaped; one that stores a Decimal,
    datetime or UUID is turned into its JSON form rather than stopping the view."""
    return orjson.dumps(state, default=to_jsonable_python)


def describe_exception(exc: BaseException) -> str:
    """``ValueError: account is closed`` (the type alone when there is no message)."""
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
