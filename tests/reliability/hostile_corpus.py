"""Hostile strings (reliability.md test 18) and a store that carries them everywhere a
string can live: stream id and type, event type, payload keys and values, actor,
correlation id, snapshot state.

Each string is something a terminal or Textual would *act on* if it reached them raw:
erase the screen, write the clipboard (OSC 52), plant a link (OSC 8), retitle the window
(OSC 0), the 8-bit C1 forms of CSI/OSC, bell, carriage-return overwrite, Trojan-Source
bidi controls, a cursor-position query whose reply lands on stdin, an unterminated OSC,
and Rich/Textual markup including a clickable ``[@click=app.quit]``.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from store import ANY, EventStore, NewEvent

HOSTILE: dict[str, str] = {
    "clear-screen": "\x1b[2J\x1b[Hwiped",
    "osc52-clipboard": "\x1b]52;c;cm0gLXJmIH4K\x07clip",
    "osc8-link": "\x1b]8;;https://evil.example/\x1b\\click me\x1b]8;;\x1b\\",
    "osc0-title": "\x1b]0;pwned\x07title",
    "c1-csi": "\x9b2Jc1csi",
    "c1-osc": "\x9d0;c1-title\x9c",
    "bell": "ring\x07ring",
    "carriage-return": "benign\rEVIL!!",
    "bidi-override": "invoice\u202efdp.exe",
    "bidi-isolate": "\u2066admin\u2069",
    "dsr-query": "\x1b[6nquery",
    "unterminated-osc": "\x1b]52;c;AAAA",
    "rich-markup": "[bold red]ALERT[/]",
    "click-action": "[@click=app.quit]quit[/]",
    "link-markup": "[link=https://evil.example]here[/link]",
    "textual-variable": "[$accent]var[/] $accent",
}

# Code points that must never leave eventscope raw: C0 controls except newline and tab,
# DEL, C1 controls, and the bidi/format controls of Trojan Source.
FORBIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
MARKUP = [HOSTILE[name] for name in ("rich-markup", "click-action", "link-markup")]

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
STREAM_PREFIX = "acct-"
PLAIN_STREAM = "acct-plain"
HOSTILE_CORRELATION = "corr-\x1b]52;c;AAAA\x07[@click=app.quit]x[/]"


def hostile_stream(name: str) -> str:
    return f"{STREAM_PREFIX}{name}-{HOSTILE[name]}"


def forbidden_in(text: str) -> list[str]:
    """The forbidden code points found in `text`, as escapes (for assertion messages)."""
    return sorted({f"U+{ord(char):04X}" for char in FORBIDDEN.findall(text)})


def build_hostile_store(path: Path) -> Path:
    """One stream per hostile string (in its id), plus a plain stream whose events carry
    every hostile string as event type, payload key and value, actor and correlation id,
    and a snapshot claiming hostile state."""
    store = EventStore.open(path)
    clock = iter(T0 + timedelta(minutes=n) for n in range(10_000))
    ids = iter(uuid.UUID(int=n) for n in range(1, 10_000))

    def event(event_type: str, data: dict, actor: str, correlation: str) -> NewEvent:
        moment = next(clock)
        return NewEvent(
            event_type,
            data,
            {"actor": actor, "correlation_id": correlation, "note": actor},
            event_id=next(ids),
            occurred_at=moment,
            recorded_at=moment,
        )

    try:
        plain = [event("Opened", {"balance": 0, "owner": "alice"}, "alice", "corr-open")]
        for n, (name, text) in enumerate(HOSTILE.items(), start=1):
            plain.append(
                event(
                    f"Noted{text}",
                    {"balance": n, "note": text, text: name},
                    text,
                    HOSTILE_CORRELATION if n % 2 else f"corr-{text}",
                )
            )
        store.append(PLAIN_STREAM, plain, stream_type="acct")
        store.append_streams(
            [
                (
                    hostile_stream(name),
                    [event("Opened", {"owner": text, "balance": 1}, text, HOSTILE_CORRELATION)],
                    ANY,
                    f"acct{text}" if name == "click-action" else "acct",
                )
                for name, text in HOSTILE.items()
            ]
        )
        store.save_snapshot(
            PLAIN_STREAM,
            len(plain),
            {"balance": -1, "note": HOSTILE["click-action"], HOSTILE["osc8-link"]: "x"},
            "generic",
            code_version="hostile",
        )
    finally:
        store.close()
    return path
