"""Invisible characters (reliability.md test 18, extended): one escaping rule for every
place text is shown, covering controls *and* characters that draw nothing.

Two stream ids that differ only by a Unicode tag character, a Hangul filler or a variation
selector look identical on a terminal; DEL is ASCII, so an "ASCII-only, nothing to
escape" shortcut let it through raw. The oracle here is `support.hostile.FORBIDDEN`,
computed from this Python's Unicode tables, not from the implementation.
"""

from __future__ import annotations

import orjson
from eventscope.domain.evidence import text as report_text
from eventscope.domain.terminal_text import json_visible, json_visible_bytes, visible
from eventscope.explorer import safe_text
from eventscope.explorer.cli import common
from hypothesis import given, settings
from hypothesis import strategies as st
from reliability_support import figure
from support.hostile import FORBIDDEN, HOSTILE, forbidden_in

_TEXT = st.text(st.characters(blacklist_categories=("Cs",)))  # JSON text is valid UTF-8


def _forbidden_code_points() -> list[int]:
    return [code for code in range(0x110000) if FORBIDDEN.fullmatch(chr(code))]


def test_every_invisible_or_control_code_point_is_shown_as_an_escape() -> None:
    codes = _forbidden_code_points()
    for code in codes:
        char = chr(code)
        shown = visible(f"a{char}b")
        assert not forbidden_in(shown), (f"U+{code:04X}", shown)
        assert shown.startswith("a\\") and shown.endswith("b"), (f"U+{code:04X}", shown)
    # The ones the adversarial review used, by name.
    assert visible("admin\U000e0041") == "admin\\U000e0041"
    assert visible("adm\u3164in") == "adm\\u3164in"
    assert visible("ok\ufe0f") == "ok\\ufe0f"
    assert visible("a\u034fb\u180ec") == "a\\u034fb\\u180ec"
    assert visible("\ufff9x\ufffb") == "\\ufff9x\\ufffb"
    assert visible("del\x7f") == "del\\x7f"
    figure("text/invisible", f"{len(codes):,} forbidden code points, each shown as an escape")


@settings(max_examples=300)
@given(st.text())
def test_visible_text_is_unchanged_when_nothing_is_forbidden(text: str) -> None:
    shown = visible(text)
    assert not forbidden_in(shown)
    if not forbidden_in(text) and "\n" not in text and "\t" not in text:
        assert shown == text  # nothing visible is ever altered (lines are kept one line)


@settings(max_examples=300)
@given(
    st.recursive(
        _TEXT | st.integers(-(2**63), 2**63 - 1), lambda inner: st.dictionaries(_TEXT, inner)
    )
)
def test_json_output_escapes_them_and_decodes_to_the_same_value(value: object) -> None:
    raw = orjson.dumps(value, option=orjson.OPT_INDENT_2)
    for text in (json_visible(raw.decode()), json_visible_bytes(raw).decode()):
        assert not forbidden_in(text.replace("\n", ""))
        assert orjson.loads(text) == value  # tags etc. above U+FFFF as surrogate pairs


def test_del_in_ascii_only_json_is_escaped() -> None:
    raw = orjson.dumps({"note": "del\x7fete"})
    assert raw.isascii() and b"\x7f" in raw  # the shortcut that let it through
    assert json_visible_bytes(raw) == b'{"note":"del\\u007fete"}'
    assert orjson.loads(json_visible_bytes(raw)) == {"note": "del\x7fete"}


def test_one_rule_serves_the_explorer_the_cli_and_the_reports() -> None:
    assert safe_text.visible_text is visible
    assert report_text.visible is visible
    for name, value in HOSTILE.items():
        shown = {
            "explorer": safe_text.visible_text(value),
            "cli": common.safe_text(value),
            "report": report_text.visible(value),
        }
        assert len(set(shown.values())) == 1, (name, shown)
        assert not forbidden_in(report_text.md(value)) and not forbidden_in(report_text.h(value))
        assert not forbidden_in(report_text.json_text({name: value}))
