"""The browser's one-line filter: ``acct-00 type:account event:Deposited actor:alice
corr:7f3a since:2026-03-01 until:2026-04-01``.

One line of text instead of a form, because analysts paste ids and type fast. A bare word
is a stream-id prefix (so is any ``word:value`` whose word is not a filter name, because
stream ids often contain colons; the summary line shows how the text was read); quoting
(``actor:"Ann Lee"``) keeps spaces. Parsing errors become one sentence under the bar, never an exception.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, replace
from datetime import datetime

from eventscope.store.records import format_timestamp, parse_timestamp
from eventscope.store.source import EventFilter
from textual.binding import Binding
from textual.widgets import Input

KEYS = {
    "type": "stream_type",
    "event": "event_types",
    "actor": "actor",
    "corr": "correlation_id",
    "correlation": "correlation_id",
    "since": "since",
    "until": "until",
    "id": "prefix",
    "prefix": "prefix",
}


class FilterError(ValueError):
    """A filter the user typed that cannot be understood (message is one sentence)."""


@dataclass(frozen=True, slots=True)
class BrowserFilter:
    """What the browser shows. Catalog-only filters (prefix, type) list streams; any
    event-level filter switches the table to matching events."""

    prefix: str | None = None
    stream_type: str | None = None
    event_types: tuple[str, ...] | None = None
    actor: str | None = None
    correlation_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    @property
    def event_level(self) -> bool:
        return any(
            value is not None
            for value in (self.event_types, self.actor, self.correlation_id, self.since, self.until)
        )

    def to_event_filter(self) -> EventFilter:
        return EventFilter(
            event_types=self.event_types,
            stream_type=self.stream_type,
            stream_prefix=self.prefix,
            correlation_id=self.correlation_id,
            actor=self.actor,
            since=self.since,
            until=self.until,
        )

    def with_type(self, stream_type: str | None) -> BrowserFilter:
        return replace(self, stream_type=stream_type)

    def to_query(self) -> str:
        """The filter as text the bar would parse back to the same value."""
        words: list[str] = []
        if self.prefix:
            words.append(shlex.quote(self.prefix))
        if self.stream_type:
            words.append("type:" + shlex.quote(self.stream_type))
        if self.event_types:
            words.append("event:" + shlex.quote(",".join(self.event_types)))
        if self.actor:
            words.append("actor:" + shlex.quote(self.actor))
        if self.correlation_id:
            words.append("corr:" + shlex.quote(self.correlation_id))
        if self.since:
            words.append("since:" + format_timestamp(self.since))
        if self.until:
            words.append("until:" + format_timestamp(self.until))
        return " ".join(words)


def parse_filter(query: str) -> BrowserFilter:
    """Parse the bar's text; raise `FilterError` with one readable sentence."""
    try:
        words = shlex.split(query)
    except ValueError:
        raise FilterError("a quote in the filter is not closed") from None
    values: dict[str, object] = {}
    for word in words:
        key, sep, value = word.partition(":")
        if sep and key.lower() in KEYS:
            field = KEYS[key.lower()]
        else:
            field, value = "prefix", word
        if not value:
            raise FilterError(f"the filter {key}: needs a value")
        if field in values and field == "prefix":
            raise FilterError("give one stream-id prefix (quote text that contains spaces)")
        if field in values:
            raise FilterError(f"the filter {field.replace('_', ' ')} is given twice")
        if field in ("since", "until"):
            try:
                values[field] = parse_timestamp(value)
            except ValueError:
                raise FilterError(
                    f"{value!r} is not a time; use ISO 8601 such as 2026-03-31T17:00:00Z"
                ) from None
        elif field == "event_types":
            values[field] = tuple(name for name in value.split(",") if name)
        else:
            values[field] = value
    result = BrowserFilter(**values)  # type: ignore[arg-type]
    if result.since and result.until and result.since >= result.until:
        raise FilterError("since: must be earlier than until:")
    return result


class FilterBar(Input):
    """The filter input; `escape` hands focus back to the table instead of leaving."""

    BINDINGS = [Binding("escape", "leave", "Back to the list", show=False)]

    def __init__(self, **kwargs: object) -> None:
        super().__init__(
            placeholder="/  filter: id-prefix  type:T  event:E1,E2  actor:A  corr:C  "
            "since:2026-03-01  until:2026-04-01",
            **kwargs,  # type: ignore[arg-type]
        )

    def action_leave(self) -> None:
        self.screen.focus_next()
