"""The command palette (ctrl+p): every action of the screen underneath, built from its live
bindings (so the palette and the help screen can never disagree with the keys), a few
actions without keys, and "open stream by id" backed by the store's catalog."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial
from typing import Any

from eventscope.explorer.keys import bare_action, textual_default_bindings
from eventscope.explorer.safe_text import visible_text
from rich.text import Text
from textual.command import DiscoveryHit, Hit, Hits, Provider

STREAM_SUGGESTIONS = 8


class EventscopeCommands(Provider):
    """Actions from bindings + extra actions + open stream by id / trace correlation id."""

    def _commands(self) -> list[tuple[str, str, Callable[[], Any]]]:
        """One entry per action: the screen's and the app's keys first (labelled with
        their key), then actions that have no key here. An action reachable both ways is
        listed once -- under its longer name, with its key -- so the palette never offers
        the same thing twice."""
        app: Any = self.app
        screen = self.screen
        named = {
            "home": ("Stream browser (home)", "back to the list of streams", app.action_home),
            "world": ("World as of T", "projections at a global position", app.action_world),
            "verify": ("Verify integrity", "walk the hash chain", app.action_verify),
            "consistency": (
                "Consistency check",
                "snapshots and projection rows that disagree with the events",
                app.action_consistency,
            ),
            "correlation": (
                "Trace a correlation id",
                "all events of one correlation",
                app.open_correlation,
            ),
            "toggle_light": (
                "Toggle light / dark theme",
                "for light or dark terminals",
                app.action_toggle_light,
            ),
            "help": ("Help", "keys, marks and the filter language", app.action_help),
        }
        commands: list[tuple[str, str, Callable[[], Any]]] = []
        seen_actions: set[str] = set()
        seen_names: set[str] = set()
        defaults = textual_default_bindings()

        def textual_own(binding: Any) -> bool:
            return (binding.key, binding.action) in defaults

        ranked = sorted(
            screen.active_bindings.values(),
            key=lambda active: 0 if active.node is screen else 1 if active.node is app else 2,
        )
        for active in ranked:
            binding = active.binding
            if binding.system or not binding.description or textual_own(binding):
                continue  # Textual's own keys (tab, ctrl+q...) are its business, not ours
            if not binding.show and active.node not in (screen, app):
                continue  # a widget's cursor keys (up, page down…) are not commands
            action = bare_action(binding.action)
            if action in seen_actions:
                continue
            display = app.get_key_display(binding)
            run = partial(app.run_action, binding.action, active.node)
            name, help_text = binding.description, binding.tooltip
            if action in named:
                name, help_text, _callback = named[action]
            if name in seen_names:
                continue
            seen_actions.add(action)
            seen_names.add(name)
            help_line = f"{help_text} · key: {display}" if help_text else f"key: {display}"
            commands.append((name, help_line, run))
        for action, (name, help_text, callback) in named.items():
            if action not in seen_actions and name not in seen_names:
                commands.append((name, help_text, callback))
        return commands

    async def discover(self) -> Hits:
        for name, help_text, callback in self._commands():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)
        text = query.strip()
        if not text:
            return
        app: Any = self.app
        source = app.source
        streams = await asyncio.to_thread(source.streams, None, text, None, STREAM_SUGGESTIONS)
        for info in streams:
            label = Text("Open stream ")
            label.append(visible_text(info.stream_id), style="bold")
            label.append(
                f"  ({visible_text(info.stream_type)}, {info.version:,} events)", style="dim"
            )
            exact = 1.0 if info.stream_id == text else 0.9
            yield Hit(
                exact, label, partial(app.open_stream, info.stream_id), help="stream timeline"
            )
        trace = Text("Trace correlation id ")
        trace.append(visible_text(text), style="bold")
        yield Hit(0.5, trace, partial(app.open_correlation, text), help="correlation trace")
