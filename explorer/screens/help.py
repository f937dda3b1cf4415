"""Help that teaches: what the screen below answers, its keys grouped by purpose, what
every mark on screen means, and the filter language with examples.

The keys are read from the live bindings of the screen underneath (its focused widget,
the screen, the app), so the help cannot drift from what the keys do: a binding another
part adds shows up here by itself -- under its purpose when its action is one this
module knows, otherwise under "More on this screen". Textual's own plumbing (focus
cycling, text selection, scrolling a pane sideways) is left out; a list's cursor keys
are summed up in one line.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

from eventscope.explorer.keys import bare_action, textual_default_bindings
from eventscope.explorer.widgets.lines_view import Line, LinesView, Part
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

PURPOSES: list[tuple[str, frozenset[str]]] = [
    (
        "Move through history",
        frozenset({"step", "first", "last", "jump_time", "axis", "play", "speed", "event", "jump"}),
    ),
    (
        "Look closer",
        frozenset(
            {
                "filter",
                "clear_filter",
                "blame",
                "next_field",
                "field_history",
                "pane",
                "copy",
                "edit_id",
                "next_projection",
                "select_cursor",
                "open_broken",
            }
        ),
    ),
    (
        "Investigate",
        frozenset(
            {
                "diff",
                "first_divergence",
                "swap",
                "compare",
                "correlation",
                "consistency",
                "verify",
                "world",
                "export_report",
                "restart",
                "recheck",
            }
        ),
    ),
    ("Live data", frozenset({"follow", "refresh"})),
    ("The app", frozenset({"help", "quit", "back", "command_palette", "dismiss"})),
]
MORE = "More on this screen"
MOVE_ACTIONS = frozenset(
    {"cursor_up", "cursor_down", "page_up", "page_down", "first", "last", "cursor", "cursor_page"}
)
"""A list's or pane's own cursor keys: summed up in one help line."""

MARKS: list[tuple[str, str]] = [
    ("«", "occurred more than an hour before it was recorded (backdated, booked late)"),
    ("✗", "cannot be decoded; states are computed with it skipped (its row is red)"),
    ("●", "a field the selected event changed; `was` shows the value before"),
    ("+  −", "a field added / removed (removed ones are struck through)"),
    ("·", "an object or list with a change somewhere inside"),
    ("~", "in a diff: a field whose value differs (before → after)"),
    ("dimmed", "events after the slider: not yet happened at the moment shown"),
    ("░", "in a diff side: the field exists only on the other side"),
    ("●  ‖", "in the status bar: following new events / paused"),
]

FILTERS: list[tuple[str, str]] = [
    ("account-0004", "streams whose id starts with it"),
    ("type:order", "streams of one type (or pick the type on the left)"),
    ("event:MoneyWithdrawn,FeeCharged", "the matching events, not streams"),
    ("actor:compliance-officer", "events by one actor"),
    ("corr:7f3a…", "events of one correlation id"),
    ("since:2026-03-01 until:2026-04-01", "events recorded in that range (UTC if no zone)"),
    ('type:account actor:"Ann Lee"', "words combine; quote values with spaces"),
]


@dataclass(frozen=True, slots=True)
class HelpKey:
    """One line of the keys part: the key(s), what they do, and the purpose heading."""

    keys: str
    does: str
    purpose: str


TEXTUAL_DEFAULTS = textual_default_bindings()


def purpose_of(action: str) -> str:
    bare = bare_action(action)
    for title, actions in PURPOSES:
        if bare in actions:
            return title
    return MORE


def help_keys(screen: Screen[Any]) -> list[HelpKey]:
    """The keys active on `screen`, one line per action, in purpose order."""
    app = screen.app
    by_action: dict[tuple[int, str], list[str]] = {}
    descriptions: dict[tuple[int, str], str] = {}
    moves: list[str] = []
    for key, active in screen.active_bindings.items():
        binding, node = active.binding, active.node
        if binding.system or binding.action in ("", "noop"):
            continue
        if (key, binding.action) in TEXTUAL_DEFAULTS and binding.action != "command_palette":
            continue
        display = app.get_key_display(binding)
        if not isinstance(node, App | Screen) and bare_action(binding.action) in MOVE_ACTIONS:
            if not binding.show and display not in moves:
                moves.append(display)
                continue
        slot = (id(node), binding.action)
        by_action.setdefault(slot, [])
        if display not in by_action[slot]:
            by_action[slot].append(display)
        description = (
            binding.tooltip or binding.description or bare_action(binding.action).replace("_", " ")
        )
        descriptions.setdefault(slot, description[:1].upper() + description[1:])
    lines: list[HelpKey] = []
    if moves:
        lines.append(HelpKey(" ".join(moves), "Move in the focused list or pane", "Look closer"))
    for slot, displays in by_action.items():
        lines.append(HelpKey(" ".join(displays), descriptions[slot], purpose_of(slot[1])))
    order = {title: float(index) for index, (title, _) in enumerate(PURPOSES)}
    order[MORE] = len(PURPOSES) - 1.5  # before "The app"
    lines.sort(key=lambda item: (order.get(item.purpose, 99.0), item.does.lower()))
    return lines


def help_lines(screen: Screen[Any]) -> list[Line]:
    """Everything the help shows for `screen`, as lines for a `LinesView`."""
    lines: list[Line] = []
    intro = getattr(screen, "HELP_TEXT", "")
    if intro:
        lines += [Line(((text, "value"),)) for text in _wrap(intro, 72)]
        lines.append(Line((("", ""),)))
    keys = help_keys(screen)
    width = min(18, max((len(k.keys) for k in keys), default=4) + 2)
    current = None
    for item in keys:
        if item.purpose != current:
            if current is not None:
                lines.append(Line((("", ""),)))
            lines.append(Line(((item.purpose, "title"),)))
            current = item.purpose
        if len(item.keys) >= width:  # a long key list gets its own row: never glued on
            lines.append(Line(((f"  {item.keys}", "key"),)))
            lines.append(Line(((" " * (width + 2), ""), (item.does, "value")), hang=width + 2))
            continue
        lines.append(
            Line(((f"  {item.keys:<{width}}", "key"), (item.does, "value")), hang=width + 2)
        )
    lines.append(Line((("", ""),)))
    lines += _table("Marks on screen", MARKS)
    lines.append(Line((("", ""),)))
    lines += _table("The filter language (stream browser, press /)", FILTERS)
    return lines


def _table(title: str, rows: Iterable[tuple[str, str]]) -> list[Line]:
    rows = list(rows)
    width = max(len(left) for left, _ in rows) + 2
    out = [Line(((title, "title"),))]
    for left, right in rows:
        parts: tuple[Part, ...] = ((f"  {left:<{width}}", "accent"), (right, "value"))
        out.append(Line(parts, hang=width + 2))
    return out


def _wrap(text: str, width: int) -> list[str]:
    words, out, current = text.split(), [], ""
    for word in words:
        if current and len(current) + 1 + len(word) > width:
            out.append(current)
            current = word
        else:
            current = f"{current} {word}".strip()
    if current:
        out.append(current)
    return out


class HelpText(LinesView):
    """The help's body: wrapped lines, scrolled with the arrow keys (no cursor)."""

    WRAP = True
    CURSOR = False


class HelpScreen(ModalScreen[None]):
    """The guide to the screen below (see the module docstring)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,q", "dismiss", "Close help", id="help.close"),
    ]

    def __init__(self, under: Screen[Any]) -> None:
        super().__init__()
        self.under = under

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box"):
            title = getattr(self.under, "HELP_TITLE", None) or type(self.under).__name__
            yield Static(
                f"Help — {title}   (escape closes, ↑↓ scroll)", id="help-title", markup=False
            )
            yield HelpText(id="help-text")

    def on_mount(self) -> None:
        text = self.query_one(HelpText)
        text.set_lines(help_lines(self.under))
        text.focus()

    def plain_text(self) -> str:
        return "\n".join(self.query_one(HelpText).plain_lines())

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)


__all__ = ["HelpScreen", "help_keys", "help_lines", "purpose_of"]
