"""A read-only, scrollable list of pre-built styled lines that renders only what is on screen.

Why not `Static`/`Pretty`: updating those re-measures the content and re-lays out the
screen (research/tui-testing.md §4: an auto-height state pane cost ~100 ms per slider
step). Here the lines are built off the event loop (in a thread worker) as plain
``(text, role)`` parts, and the widget only turns the visible ones into `Strip`s. A *role*
names a component class (``lines--<role>``), so colours come from the theme's CSS and read
well in light and dark terminals.

Nothing important is cut without saying so:

* a line may carry a right-hand column (the state tree's blame) with *compact* variants;
  the view picks, for all lines at once, the fullest variant that fits beside the left
  text, so the column stays aligned and the least important words go first;
* whatever still does not fit ends in an ellipsis, never silently;
* a view with `WRAP` (the event detail) wraps long lines instead -- a 64-character hash is
  shown whole -- with a hanging indent so wrapped values stay under their label.

With `CURSOR`, a highlighted line follows ``↑``/``↓`` while the view has focus; the line's
`copy` is what the explorer's copy key puts on the clipboard.

The text of every part is shown literally -- it is never parsed as markup. Callers still
pass untrusted strings through `explorer.safe_text.visible_text` when they build the parts,
so control characters and escape sequences are shown, not emitted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

Part = tuple[str, str]
"""``(text, role)``; an empty role means the widget's base style."""


@dataclass(frozen=True, slots=True)
class Line:
    """One line: left-aligned parts, optional right-aligned parts, and a whole-line role.

    `compact` holds shorter versions of `right`, least shortened first; `hang` is where
    wrapped continuation rows start; `copy` is ``(what, text)`` for the copy key; `data`
    is the caller's own handle (the state tree keeps the field's path there)."""

    parts: tuple[Part, ...]
    right: tuple[Part, ...] = ()
    row_role: str = ""
    compact: tuple[tuple[Part, ...], ...] = ()
    hang: int = 0
    copy: tuple[str, str] | None = None
    data: Any = None

    def right_at(self, level: int) -> tuple[Part, ...]:
        """The right side at shortening `level` (0 = full)."""
        if level <= 0 or not self.compact:
            return self.right
        return self.compact[min(level, len(self.compact)) - 1]


def parts_width(parts: Sequence[Part]) -> int:
    return sum(cell_len(text) for text, _ in parts)


def left_width_of(lines: Sequence[Line], cap: int = 72) -> int:
    """The widest left side among lines that have a right side (at most `cap` cells), so
    the right parts can start in one column. Cheap enough for a worker thread."""
    widest = 0
    for item in lines:
        if item.right:
            widest = max(widest, parts_width(item.parts))
    return min(widest, cap)


def line(*parts: Part, right: Sequence[Part] = (), row_role: str = "") -> Line:
    """Shorthand for building a `Line` from parts."""
    return Line(tuple(parts), tuple(right), row_role)


def cut(strip: Strip, width: int, style: Style) -> Strip:
    """`strip` in exactly `width` cells; when it had to be cut, the last cell is "…"."""
    if width <= 0:
        return Strip([])
    if strip.cell_length <= width:
        return strip.adjust_cell_length(width, style)
    kept = list(strip.crop(0, width - 1))
    tail = kept[-1].style if kept else style
    return Strip([*kept, Segment("…", tail or style)], width)


class LinesView(ScrollView, can_focus=True):
    """Scrollable styled lines; subclasses add roles to `COMPONENT_CLASSES` and CSS."""

    WRAP: ClassVar[bool] = False
    """Wrap long lines (with the line's hanging indent) instead of cutting them."""
    CURSOR: ClassVar[bool] = True
    """Show a highlighted line that ↑/↓ move while the view has focus."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("pageup", "cursor_page(-1)", "Page up", show=False),
        Binding("pagedown", "cursor_page(1)", "Page down", show=False),
    ]

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
        "lines--cursor",
        "lines--blank",
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
    LinesView > .lines--blank { color: $text-muted; background: $panel 40%; }
    LinesView > .lines--cursor { background: $block-cursor-blurred-background; }
    LinesView:focus > .lines--cursor { background: $block-cursor-background 60%; }
    """

    cursor_line: reactive[int] = reactive(0, init=False, always_update=True)
    """The highlighted line (shown while the view has focus)."""

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
        self._right_levels: list[int] = []
        self._rows: list[tuple[int, int]] = []
        """Display rows as (line index, first cell) -- one per line unless wrapping."""
        self._first_row: list[int] = []
        self._lengths: list[int] = []
        self._rows_width = -1
        self.show_right = True
        """Whether right-aligned parts (e.g. the blame column) are drawn."""

    @property
    def lines(self) -> Sequence[Line]:
        return self._lines

    def set_lines(
        self, lines: Sequence[Line], *, keep_scroll: bool = True, left_width: int | None = None
    ) -> None:
        """Show `lines`. Only the visible area is repainted; the layout changes only when
        the number of display rows does (the scrollbar must learn the new height).

        `left_width` (see `left_width_of`) lines the right-hand parts up in one column;
        without it they are right-aligned."""
        self._lines = lines
        self._left_width = left_width
        levels = 1 + max((len(item.compact) for item in lines if item.right), default=0)
        self._right_levels = [
            max((parts_width(item.right_at(level)) for item in lines if item.right), default=0)
            for level in range(levels)
        ]
        self._lengths = [parts_width(item.parts) for item in lines] if self.WRAP else []
        self._rows_width = -1
        self._layout_rows()
        if not keep_scroll:
            self.scroll_to(0, 0, animate=False, immediate=True)
        if self.cursor_line >= len(lines) or not keep_scroll:
            self.set_reactive(
                LinesView.cursor_line, 0 if not keep_scroll else max(0, len(lines) - 1)
            )
        self.refresh()

    def _layout_rows(self) -> None:
        """(Re)compute display rows for the current width (wrapping views only)."""
        width = self._text_width()
        if self.WRAP and width > 0 and width != self._rows_width:
            rows: list[tuple[int, int]] = []
            first: list[int] = []
            for index, (item, length) in enumerate(zip(self._lines, self._lengths, strict=True)):
                first.append(len(rows))
                rows.append((index, 0))
                hang = min(item.hang, width // 2)
                start = width
                while start < length:
                    rows.append((index, start))
                    start += max(1, width - hang)
            self._rows, self._first_row = rows, first
            self._rows_width = width
        elif not self.WRAP:
            self._rows = []
            self._first_row = []
        count = len(self._rows) if self.WRAP else len(self._lines)
        size = Size(self.size.width, count)
        if size != self.virtual_size:
            self.virtual_size = size

    def _text_width(self) -> int:
        return self.scrollable_content_region.width if self.is_mounted else 0

    def _row_count(self) -> int:
        return len(self._rows) if self.WRAP else len(self._lines)

    def plain_lines(self) -> list[str]:
        """The text of every line (left parts, then right parts), for tests and copying."""
        out = []
        for item in self._lines:
            left = "".join(text for text, _ in item.parts)
            right = "".join(text for text, _ in item.right)
            out.append(f"{left}  {right}".rstrip() if right else left)
        return out

    # --- cursor -------------------------------------------------------------------------
    def validate_cursor_line(self, value: int) -> int:
        return max(0, min(value, len(self._lines) - 1)) if self._lines else 0

    def watch_cursor_line(self, _old: int, new: int) -> None:
        self._scroll_to_line(new)
        self.refresh()

    def _scroll_to_line(self, index: int) -> None:
        if not self._lines:
            return
        top = self._first_row[index] if self.WRAP and self._first_row else index
        bottom = top
        if self.WRAP and self._first_row:
            nxt = (
                self._first_row[index + 1] if index + 1 < len(self._first_row) else len(self._rows)
            )
            bottom = nxt - 1
        height = self.scrollable_content_region.height
        scroll = round(self.scroll_offset.y)
        if top < scroll:
            self.scroll_to(y=top, animate=False, immediate=True)
        elif bottom >= scroll + height:
            self.scroll_to(y=max(top, bottom - height + 1), animate=False, immediate=True)

    def action_cursor(self, delta: int) -> None:
        if self.CURSOR:
            self.cursor_line += delta
        else:
            self.scroll_relative(y=delta, animate=False)

    def action_cursor_page(self, delta: int) -> None:
        step = max(1, self.scrollable_content_region.height - 1) * delta
        if self.CURSOR:
            self.cursor_line += step
        else:
            self.scroll_relative(y=step, animate=False)

    def move_cursor_to(self, predicate: Any) -> bool:
        """Put the cursor on the first line for which `predicate(line)` is true."""
        for index, item in enumerate(self._lines):
            if predicate(item):
                self.cursor_line = index
                return True
        return False

    @property
    def cursor_item(self) -> Line | None:
        """The highlighted line, if any."""
        if not self._lines:
            return None
        return self._lines[self.validate_cursor_line(self.cursor_line)]

    def copy_target(self) -> tuple[str, str] | None:
        """``(what, text)`` of the highlighted line, for the explorer's copy key."""
        item = self.cursor_item
        return item.copy if item is not None and self.CURSOR else None

    # --- painting -----------------------------------------------------------------------
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

    def on_resize(self) -> None:
        self._layout_rows()
        self.refresh()

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def _row_style(self, index: int, item: Line) -> Style | None:
        style = self._style(item.row_role) if item.row_role else None
        if self.CURSOR and self.has_focus and index == self.cursor_line:
            cursor = self.get_component_rich_style("lines--cursor")
            style = (style or self.rich_style) + Style(bgcolor=cursor.bgcolor)
        return style

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        row = self.scroll_offset.y + y
        if width <= 0 or row >= self._row_count():
            return Strip.blank(max(0, width), self.rich_style)
        if self.WRAP:
            if self._rows_width != width:
                self._layout_rows()
            index, start = self._rows[row]
        else:
            index, start = row, 0
        item = self._lines[index]
        row_style = self._row_style(index, item)
        base = row_style or self.rich_style
        left = Strip(self._segments(item.parts, row_style))
        if self.WRAP:
            hang = min(item.hang, width // 2) if start else 0
            piece = left.crop(start, start + width - hang)
            if hang:
                piece = Strip([Segment(" " * hang, base), *piece])
            return piece.adjust_cell_length(width, base)
        if not item.right or not self.show_right:
            return cut(left, width, base)
        level, column = self._right_plan(width)
        right = Strip(self._segments(item.right_at(level), row_style))
        if self._left_width is None:  # right-aligned, the left text has priority
            room = max(width // 3, width - left.cell_length - 1)
            right = cut(right, min(right.cell_length, room), base)
            left_strip = cut(left, width - right.cell_length - 1, base)
        else:
            left_strip = cut(left, column, base)
            right = cut(right, width - column - 1, base)
        gap = Segment(" ", base)
        return Strip([*left_strip, gap, *right]).adjust_cell_length(width, base)

    def _right_plan(self, width: int) -> tuple[int, int]:
        """(shortening level, column where the right side starts) for all lines: the
        fullest right side that fits beside the left text; failing that the most compact
        one, with the left text cut to leave it room (the left keeps at least half)."""
        left = self._left_width if self._left_width is not None else 0
        for level, need in enumerate(self._right_levels):
            if left + 1 + need <= width:
                return level, left
        last = max(0, len(self._right_levels) - 1)
        need = self._right_levels[last] if self._right_levels else 0
        return last, min(left, max(width - need - 1, width // 2))

    def _segments(self, parts: Sequence[Part], row_style: Style | None) -> list[Segment]:
        segments = []
        for text, role in parts:
            style = self._style(role)
            if row_style is not None:
                style = style + Style(bgcolor=row_style.bgcolor)
            segments.append(Segment(text, style))
        return segments
