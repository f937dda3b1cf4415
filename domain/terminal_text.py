"""The one rule for showing untrusted text: every character a terminal would act on, or
that a reader cannot see, becomes a visible escape.

Stored data is evidence, not instructions. A stream id, actor or payload may carry an ESC
sequence, a C1 control, a bidi override (Trojan Source), or characters that draw nothing
at all -- Unicode tag characters, Hangul fillers, variation selectors, the combining
grapheme joiner -- so that two different ids look identical. All of them are *shown*
(``\\x1b``, ``\\u202e``, ``\\U000e0041``), never sent raw. The explorer, the CLI, the
reports and every ``--json`` printer use this module; it sits in `domain` because the
report renderers need it and `domain` may not import the explorer (see
docs/ARCHITECTURE.md, layers).

The character class is written out (building it from `unicodedata` at import would cost
a tenth of a second on every command); a test checks that it covers every code point of
the categories Cc, Cf, Zl and Zp in this Python's Unicode tables, plus the invisible
letters and marks listed below.
"""

from __future__ import annotations

import re

# Cc/Cf/Zl/Zp (controls, format characters, line and paragraph separators) and the
# characters that draw nothing although Unicode calls them letters or marks: U+00AD soft
# hyphen, U+034F combining grapheme joiner, U+115F/U+1160/U+3164/U+FFA0 Hangul fillers,
# U+17B4/U+17B5 Khmer inherent vowels, U+180B-U+180F Mongolian selectors and vowel
# separator, U+FE00-U+FE0F and U+E0100-U+E01EF variation selectors, U+2800 braille blank,
# the whole tag block U+E0000-U+E007F, and lone surrogates (undecodable bytes).
_C0 = "\x00-\x1f"
_INVISIBLE = (
    "\x7f-\x9f\xad\u034f\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2"
    "\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u2028-\u202e\u2060-\u206f"
    "\u2800\u3164\ud800-\udfff\ufe00-\ufe0f\ufeff\uffa0\ufff9-\ufffb"
    "\U000110bd\U000110cd\U00013430-\U00013438\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a\U000e0000-\U000e007f\U000e0100-\U000e01ef"
)
_UNSAFE = re.compile(f"[{_C0}{_INVISIBLE}]")
# In JSON text a raw newline is layout (indentation); inside strings JSON escapes it, and
# JSON encoders already escape the other C0 controls.
_UNSAFE_IN_JSON = re.compile(f"[\x00-\x09\x0b-\x1f{_INVISIBLE}]")
_NAMED = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def visible(text: object) -> str:
    """`text` with every control and invisible character replaced by a visible escape."""
    value = str(text)
    if value.isascii() and value.isprintable():
        return value
    return _UNSAFE.sub(_escape, value)


def visible_block(text: str) -> str:
    """Like `visible`, but keeps the newlines of a multi-line block."""
    return "\n".join(visible(line) for line in text.split("\n"))


def _json_escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    code -= 0x10000  # JSON spells a code point above U+FFFF as a UTF-16 surrogate pair
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def json_visible(text: str) -> str:
    """JSON text with every unsafe character written as a ``\\uXXXX`` escape.

    Those characters can only occur inside JSON strings, where the escape denotes the same
    character: the text decodes to exactly the same value, while a terminal showing it
    (`--json` output, `cat` of a report) receives only ASCII escapes.
    """
    if text.isascii() and "\x7f" not in text:
        return text
    return _UNSAFE_IN_JSON.sub(_json_escape, text)


def json_visible_bytes(payload: bytes) -> bytes:
    """`json_visible` for UTF-8 JSON bytes (what orjson produces)."""
    if payload.isascii() and b"\x7f" not in payload:
        return payload
    return json_visible(payload.decode()).encode()
