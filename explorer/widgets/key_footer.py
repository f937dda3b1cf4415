"""The footer: the keys that do something *now*, in the order a person needs them, and
never cut in the middle of a word.

It is Textual's `Footer` (so it follows the live bindings -- a binding another part adds
appears by itself -- and hides actions whose `check_action` says they do nothing in the
current state), with two changes:

* `? Help` comes first, then the focused widget's and the screen's keys, then the app's;
* keys that do not fit the width are left out from the end (the help screen lists them
  all), instead of a key being cut in half at the right edge.
"""

from __future__ import annotations

from collections import defaultdict
from itertools import groupby
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Footer
from textual.widgets._footer import FooterKey, FooterLabel, KeyGroup

HELP_ACTIONS = ("help", "app.help")
PALETTE_WIDTH = 14  # "▏^p palette" plus its padding


class KeyFooter(Footer):
    """A footer with the keys that apply, ordered and fitted (see the module docstring)."""

    DEFAULT_CSS = """
    KeyFooter.-compact FooterLabel {
        margin: 0 1 0 0;
    }
    """

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("compact", True)
        super().__init__(**kwargs)
        self._laid_out_for = -1

    def entries(self) -> list[tuple[Binding, bool, str, bool]]:
        """(binding, enabled, tooltip, belongs to the app) per action, in footer order."""
        app = self.app
        by_action: dict[str, list[tuple[Binding, bool, str, bool]]] = defaultdict(list)
        for node, binding, enabled, tooltip in self.screen.active_bindings.values():
            if binding.show:
                by_action[binding.action].append((binding, enabled, tooltip, node is app))
        first = [items[0] for items in by_action.values()]
        help_first = [e for e in first if e[0].action in HELP_ACTIONS]
        local = [e for e in first if e[0].action not in HELP_ACTIONS and not e[3]]
        global_ = [e for e in first if e[0].action not in HELP_ACTIONS and e[3]]
        return help_first + local + global_

    def _width_of(self, binding: Binding) -> int:
        return len(self.app.get_key_display(binding)) + len(binding.description) + 2

    def compose(self) -> ComposeResult:
        if not self._bindings_ready:
            return
        width = self.size.width or self.app.size.width
        self._laid_out_for = width
        budget = width - PALETTE_WIDTH
        kept: list[tuple[Binding, bool, str, bool]] = []
        used = 0
        for entry in self.entries():
            size = self._width_of(entry[0])
            if used + size > budget:
                continue  # a shorter key further on may still fit
            kept.append(entry)
            used += size
        for group, items_iter in groupby(kept, lambda item: item[0].group):
            items = list(items_iter)
            if group is not None and len(items) > 1:
                with KeyGroup(classes="-compact" if group.compact else ""):
                    for binding, enabled, tooltip, _ in items:
                        yield FooterKey(
                            binding.key,
                            self.app.get_key_display(binding),
                            "",
                            binding.action,
                            disabled=not enabled,
                            tooltip=tooltip or binding.description,
                            classes="-grouped",
                        ).data_bind(compact=Footer.compact)
                yield FooterLabel(group.description)
                continue
            for binding, enabled, tooltip, _ in items:
                yield FooterKey(
                    binding.key,
                    self.app.get_key_display(binding),
                    binding.description,
                    binding.action,
                    disabled=not enabled,
                    tooltip=tooltip,
                ).data_bind(compact=Footer.compact)
        if self.show_command_palette and self.app.ENABLE_COMMAND_PALETTE:
            active = self.screen.active_bindings.get(self.app.COMMAND_PALETTE_BINDING)
            if active is not None:
                _node, binding, enabled, tooltip = active
                yield FooterKey(
                    binding.key,
                    self.app.get_key_display(binding),
                    binding.description,
                    binding.action,
                    classes="-command-palette",
                    disabled=not enabled,
                    tooltip=binding.tooltip or binding.description,
                )

    def on_resize(self) -> None:
        if self._bindings_ready and self.size.width != self._laid_out_for:
            self.call_after_refresh(self.recompose)

    def shown_keys(self) -> list[str]:
        """``key description`` of every key on the footer now (for tests)."""
        out = []
        for key in self.query(FooterKey):
            out.append(f"{key.key_display} {key.description}".strip())
        for label in self.query(FooterLabel):
            out.append(str(label.content))
        return out
