"""A read-only, scrollable list of pre-built styled lines that renders only what is on screen.

Why not `Static`/`Pretty`: updating those re-measures the content and re-lays out the
screen (research/tui-testing.md §4: an auto-height state pane cost ~100 ms per slider
step). Here the lines are built off the event loop (in a thread worker) as plain
``(text, role)`` parts, and the widget only turns the visible ones into `Strip`s. A *role*
names a component class (``lines--<role>``), so colours come from the theme's CSS and read
well in light and dark terminals.

The text of every part is shown literally -- it is never parsed as markup. Callers still
pass untrusted strings through `explorer.safe_text.visible_text` when they build the parts,
so control characters and escape sequences are shown, not emitted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

Part = tuple[str, str]
"""``(text, role)``; an empty role means the widget's base style."""


@dataclass(frozen=True, slots=True)
class Line:
    """One line: left-aligned parts, optional right-aligned parts, and a whole-line role."""

    parts: tuple[Part, ...]
    right: tuple[Part, ...] = ()
    row_role: str = ""


def left_width_of(lines: Sequence[Line], cap: int = 72) -> int:
    """The widest left side among lines that have a right side (at most `cap` cells), so
    the right parts can start in one column. Cheap enough for a worker thread."""
    widest = 0
    for item in lines:
        if item.right:
            widest = max(widest, sum(cell_len(text) for text, _ in item.parts))
    return min(widest, cap)


def line(*parts: Part, right: Sequence[Part] = (), row_role: str = "") -> Line:
    """Shorthand for building a `Line` from parts."""
    return Line(tuple(parts), tuple(right), row_role)


class LinesView(ScrollView, can_focus=True):
    """Scrollable styled lines; subclasses add roles to `COMPONENT_CLASSES` and CSS."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "lines--muted",
        "lines--key",
        "lines--value",
        "lines--title",
        "lines--error",
        "lines--added",
        "lines--removed",
        "lines--changed",
        "lines--inside",
        "lines--changed-row",
        "lines--added-row",
        "lines--removed-row",
        "lines--accent",
    }

    DEFAULT_CSS = """
    LinesView {
        background: $surface;
        scrollbar-gutter: stable;
        overflow-x: hidden;
    }
    LinesView > .lines--muted { color: $text-muted; }
    LinesView > .lines--key { color: $text-primary; }
    LinesView > .lines--value { color: $foreground; }
    LinesView > .lines--title { color: $text-accent; text-style: bold; }
    LinesView > .lines--accent { color: $text-accent; }
    LinesView > .lines--error { color: $text-error; text-style: bold; }
    LinesView > .lines--added { color: $text-success; text-style: bold; }
    LinesView > .lines--removed { color: $text-error; text-style: strike; }
    LinesView > .lines--changed { color: $text-warning; text-style: bold; }
    LinesView > .lines--inside { color: $text-warning; }
    LinesView > .lines--changed-row { background: $warning-muted; }
    LinesView > .lines--added-row { background: $success-muted; }
    LinesView > .lines--removed-row { background: $error-muted; }
    """

    def __init__(
        self,
        *,
        name: str | None = None,
        id: str | None = None,  # noqa: A002 - Textual's name
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._lines: Sequence[Line] = ()
        self._styles: dict[str, Style] = {}
        self._left_width: int | None = None
        self.show_right = True
        """Whether right-aligned parts (e.g. the blame column) are drawn."""

    @property
    def lines(self) -> Sequence[Line]:
        return self._lines

    def set_lines(
        self, lines: Sequence[Line], *, keep_scroll: bool = True, left_width: int | None = None
    ) -> None:
        """Show `lines`. Only the visible area is repainted; the layout changes only when
        the number of lines does (the scrollbar must learn the new height).

        `left_width` (see `left_width_of`) lines the right-hand parts up in one column;
        without it they are right-aligned."""
        self._lines = lines
        self._left_width = left_width
        size = Size(self.size.width, len(lines))
        if size != self.virtual_size:
            self.virtual_size = size
        if not keep_scroll:
            self.scroll_to(0, 0, animate=False, immediate=True)
        self.refresh()

    def plain_lines(self) -> list[str]:
        """The text of every line (left parts, then right parts), for tests and copying."""
        out = []
        for item in self._lines:
            left = "".join(text for text, _ in item.parts)
            right = "".join(text for text, _ in item.right)
            out.append(f"{left}  {right}".rstrip() if right else left)
        return out

    def _style(self, role: str) -> Style:
        if not role:
            return self.rich_style
        style = self._styles.get(role)
        if style is None:
            style = self.rich_style + self.get_component_rich_style(f"lines--{role}")
            self._styles[role] = style
        return style

    def notify_style_update(self) -> None:
        self._styles.clear()
        super().notify_style_update()
        self.refresh()

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        index = self.scroll_offset.y + y
        if index >= len(self._lines) or width <= 0:
            return Strip.blank(width, self.rich_style)
        item = self._lines[index]
        row_style = self._style(item.row_role) if item.row_role else None
        left = self._segments(item.parts, row_style)
        if not item.right or not self.show_right:
            return Strip(left).adjust_cell_length(width, row_style or self.rich_style)
        right = self._segments(item.right, row_style)
        right_len = sum(segment.cell_length for segment in right)
        # The left text (a field and its value) has priority; the right column gets the
        # rest, but never less than a third of the width.
        if self._left_width is not None:
            column = min(self._left_width, width - width // 3 - 1)
            limit = max(0, width - column - 1)
        else:
            left_len = sum(segment.cell_length for segment in left)
            limit = max(width // 3, width - left_len - 2)
        right_strip = Strip(right)
        if right_len > limit:  # cut the end, with an ellipsis
            right_strip = Strip(
                [
                    *right_strip.crop(0, max(0, limit - 1)),
                    Segment("…", row_style or self.rich_style),
                ]
            )
            right_len = limit
        if self._left_width is not None:
            right_len = limit  # a column: every right part starts at the same x
        left_strip = Strip(left).adjust_cell_length(
            max(0, width - right_len - 1), row_style or self.rich_style
        )
        gap = Segment(" ", row_style or self.rich_style)
        return Strip([*left_strip, gap, *right_strip]).adjust_cell_length(
            width, row_style or self.rich_style
        )

    def _segments(self, parts: Sequence[Part], row_style: Style | None) -> list[Segment]:
        segments = []
        for text, role in parts:
            style = self._style(role)
            if row_style is not None:
                style = style + Style(bgcolor=row_style.bgcolor)
            segments.append(Segment(text, style))
        return segments
