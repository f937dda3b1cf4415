"""The one-line status bar every screen shows: where the data comes from, how much of it
there is (the head, from the app's one copy of it), whether new events are followed, that
it is opened read-only, and what is known about the hash chain.

It only watches `app.summary`, `app.following` and `app.integrity`; it never queries the
store, so adding it to a screen costs nothing.
"""

from __future__ import annotations

from typing import Any

from eventscope.explorer.safe_text import shorten, visible_text
from textual.content import Content
from textual.widgets import Static

SANDBOX_STYLE = "bold #ffffff on #d00000"
"""Solid red, not the theme's error tint: a writable store must not look like evidence."""


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
        self.watch(self.app, "following", self._changed, init=False)
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
        sep = " │ " if narrow else "  │  "
        head: list[str | tuple[str, str]] = [(f" {summary.kind} ", "bold reverse $primary")]
        parts: list[str | tuple[str, str]] = [(sep, "$text-muted")]
        if summary.event_count is None:
            parts.append(("counting…", "$text-muted"))
        elif narrow:
            parts += [(f"{summary.event_count:,}", "bold"), " ev"]
        else:
            noun = "event" if summary.event_count == 1 else "events"
            parts += [(f"{summary.event_count:,}", "bold"), f" {noun}  head "]
            parts.append((f"{summary.head_position or 0:,}", "bold"))
        if summary.skipped:  # never silent: views do not show these records
            parts += [(sep, "$text-muted"), (summary.skipped, "bold $warning")]
        if summary.followable:
            parts.append((sep, "$text-muted"))
            following = bool(getattr(app, "following", False))
            if following:
                parts.append(("● live" if narrow else "● following", "bold $success"))
            else:
                parts.append(("‖ paused" if narrow else "‖ paused (l follows)", "$warning"))
        parts.append((sep, "$text-muted"))
        if summary.sandbox:
            parts.append((" WRITABLE (sandbox) ", SANDBOX_STYLE))
        elif summary.read_only:
            parts.append((" READ-ONLY " if not narrow else " RO ", "bold reverse $success"))
        else:
            parts.append((" WRITABLE ", SANDBOX_STYLE))
        if integrity is not None:
            parts.append((sep + ("" if narrow else "integrity: "), "$text-muted"))
            style = {
                "verified": "bold $success",
                "broken": "bold reverse $error",
                "checking": "$warning",
            }.get(integrity.state, "")
            parts.append((integrity.label(), style))
        # The location gets what the figures leave (it is the least important part: the
        # title bar repeats it), so the head, the mode and the write flag are never cut.
        # Under 8 columns it is left out rather than shown as a stub.
        rest = Content.assemble(*head, *parts).cell_length + 1
        width = self.size.width - 2 - rest if self.size.width else 48
        if width < 8:
            return Content.assemble(*head, *parts)
        location = " " + shorten(visible_text(summary.location), width)
        return Content.assemble(*head, location, *parts)

    def on_resize(self) -> None:
        self._changed()
