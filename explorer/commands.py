"""The command palette (ctrl+p): every action of the screen underneath, built from its live
bindings (so the palette and the help screen can never disagree with the keys), a few
actions without keys, and "open stream by id" backed by the store's catalog."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial
from typing import Any

from rich.text import Text
from textual.command import DiscoveryHit, Hit, Hits, Provider

from explorer.safe_text import visible_text

STREAM_SUGGESTIONS = 8


class EventscopeCommands(Provider):
    """Actions from bindings + extra actions + open stream by id / trace correlation id."""

    def _commands(self) -> list[tuple[str, str, Callable[[], Any]]]:
        app: Any = self.app
        screen = self.screen
        commands: list[tuple[str, str, Callable[[], Any]]] = []
        seen: set[str] = set()
        ranked = sorted(
            screen.active_bindings.values(),
            key=lambda active: 0 if active.node is screen else 1 if active.node is app else 2,
        )
        for active in ranked:
            binding = active.binding
            if binding.system or not binding.description or binding.description in seen:
                continue
            if not binding.show and active.node not in (screen, app):
                continue  # a widget's cursor keys (up, page down…) are not commands
            seen.add(binding.description)
            display = app.get_key_display(binding)
            run = partial(app.run_action, binding.action, active.node)
            commands.append((binding.description, f"key: {display}", run))
        extras = [
            ("Stream browser (home)", "back to the list of streams", app.action_home),
            ("World as of T", "projections at a global position", app.action_world),
            ("Verify integrity", "walk the hash chain", app.action_verify),
            (
                "Consistency check",
                "streams whose snapshots/projections disagree",
                app.action_consistency,
            ),
            ("Trace a correlation id", "all events of one correlation", app.open_correlation),
            ("Toggle light / dark theme", "for light or dark terminals", app.action_toggle_light),
            ("Help", "every key on this screen", app.action_help),
        ]
        for name, help_text, callback in extras:
            if name not in seen:
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
