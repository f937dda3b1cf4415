"""The one-line status bar every shell screen shows: where the data comes from, how much of
it there is, that it is opened read-only, and what is known about the hash chain.

It only watches `app.summary` and `app.integrity`; it never queries the store, so adding it
to a screen costs nothing.
"""

from __future__ import annotations

from typing import Any

from textual.content import Content
from textual.widgets import Static

from explorer.safe_text import shorten, visible_text


class StatusBar(Static):
    """Source kind + location · events · head · READ-ONLY · integrity."""

    DEFAULT_CSS = """
    StatusBar {
        height: 1;
        background: $panel;
        color: $text;
        padding: 0 1;
    }
    """

    def on_mount(self) -> None:
        self.watch(self.app, "summary", self._changed, init=False)
        self.watch(self.app, "integrity", self._changed, init=False)
        self._changed()

    def _changed(self, _value: Any = None) -> None:
        self.update(self.build_text())

    def build_text(self) -> Content:
        app: Any = self.app
        summary = getattr(app, "summary", None)
        integrity = getattr(app, "integrity", None)
        if summary is None:
            return Content("")
        narrow = 0 < self.size.width < 120
        parts: list[str | tuple[str, str]] = [(f" {summary.kind} ", "bold reverse $primary")]
        width = max(12, self.size.width - (70 if narrow else 100)) if self.size.width else 48
        parts.append(" " + shorten(visible_text(summary.location), width))
        parts.append(("  │  " if not narrow else " │ ", "$text-muted"))
        if summary.event_count is None:
            parts.append(("counting…", "$text-muted"))
        elif narrow:
            parts += [(f"{summary.event_count:,}", "bold"), " ev"]
        else:
            parts += [(f"{summary.event_count:,}", "bold"), " events  head "]
            parts.append((f"{summary.head_position:,}", "bold"))
        parts.append(("  │  " if not narrow else " │ ", "$text-muted"))
        if summary.read_only:
            parts.append((" READ-ONLY " if not narrow else " RO ", "bold reverse $success"))
        else:
            parts.append((" WRITABLE ", "bold reverse $error"))
        if integrity is not None:
            parts.append(("  │  integrity: " if not narrow else " │ ", "$text-muted"))
            style = {
                "verified": "bold $success",
                "broken": "bold reverse $error",
                "checking": "$warning",
            }.get(integrity.state, "")
            parts.append((integrity.label(), style))
        return Content.assemble(*parts)

    def on_resize(self) -> None:
        self._changed()
