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
import unicodedata
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from eventscope.store import ANY, EventStore, NewEvent

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
    # Characters that draw nothing, so two different ids look identical on screen.
    "tag-characters": "admin\U000e0061\U000e0064\U000e006d",
    "hangul-filler": "adm\u3164in\u115f\u1160\uffa0",
    "variation-selector": "ok\ufe0fok",
    "grapheme-joiner": "a\u034fb",
    "mongolian-separator": "x\u180ey",
    "interlinear-annotation": "\ufff9shown\ufffahidden\ufffb",
    "delete": "del\x7fete",
}


# The explorer tests' own two: one value and one stream id each, which the shell (stream
# browser) and the timeline/diff stores write into their deterministic stores.
SHELL_HOSTILE = "[@click=app.quit]boom[/] \x1b[2J\x1b]0;pwned\x07 \u202etxt.exe"
SHELL_HOSTILE_STREAM = "account-evil-[@click=app.quit]\x1b[2J\u202e"
TIMELINE_HOSTILE = "[@click=app.quit]boom[/] [bold red]x[/] \x1b[31mred\x1b[0m \u202eevil \x9b2J"
TIMELINE_HOSTILE_STREAM = "acct-[b]003[/b]"


def _forbidden_class() -> str:
    """Code points that must never leave eventscope raw, computed from this Python's Unicode
    tables (an oracle independent of `eventscope.domain.terminal_text`): every control,
    format character and line/paragraph separator (categories Cc, Cf, Zl, Zp) except
    newline and tab, plus the characters that draw nothing although Unicode calls them
    letters or marks: Hangul fillers, the combining grapheme joiner, variation selectors,
    the Mongolian selectors, and the whole tag block. (The oracle once left out the
    supplementary variation selectors U+E0100-U+E01EF; Hypothesis found one.)"""
    invisible = {0x034F, 0x115F, 0x1160, 0x3164, 0xFFA0, *range(0xFE00, 0xFE10)}
    invisible |= {*range(0x180B, 0x1810), *range(0xE0000, 0xE0080), *range(0xE0100, 0xE01F0)}
    codes = [
        code
        for code in range(0x110000)
        if code in invisible
        or (unicodedata.category(chr(code)) in ("Cc", "Cf", "Zl", "Zp") and code not in (9, 10))
    ]
    ranges: list[list[int]] = []
    for code in codes:
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1][1] = code
        else:
            ranges.append([code, code])
    return "".join(f"\\U{low:08x}-\\U{high:08x}" for low, high in ranges)


FORBIDDEN = re.compile(f"[{_forbidden_class()}]")
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
