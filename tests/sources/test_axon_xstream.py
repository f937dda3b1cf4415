"""The XStream XML decoder: Axon's payload shapes, hostile XML, and a round-trip property
against a small XStream-style encoder (tests/fixtures/foreign/axon/xstream_xml.py)."""

from __future__ import annotations

import ast
import string
import sys
from pathlib import Path
from typing import Any

import pytest
from eventscope.store.sources.axon import xstream
from eventscope.store.sources.axon.xstream import (
    XStreamDocument,
    XStreamError,
    decode,
    decode_metadata,
    java_name,
    simple_name,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.fixtures.foreign.axon.xstream_xml import (
    encode_document,
    expected_decoding,
    is_field_name,
    metadata_xml,
)

GIFT_CARD = (
    b"<com.example.giftcard.api.GiftCardIssuedEvent>"
    b"<id>gc-17</id><amount>25.00</amount>"
    b"<issuedAt>2026-02-02T08:30:00.123Z</issuedAt>"
    b"<owner><name>Ada</name><email>ada@example.test</email></owner>"
    b"<lines><com.example.giftcard.api.Line><sku>A</sku></com.example.giftcard.api.Line>"
    b"<com.example.giftcard.api.Line><sku>B</sku></com.example.giftcard.api.Line></lines>"
    b'<tags class="linked-list"><string>promo</string><string>spring</string></tags>'
    b'<limit class="long">9223372036854775807</limit>'
    b'<ratio class="double">0.25</ratio><active class="boolean">true</active>'
    b'<price class="big-decimal">0.10000000000000000555</price>'
    b"<note></note>"
    b"</com.example.giftcard.api.GiftCardIssuedEvent>"
)


def ok(result: XStreamDocument | XStreamError) -> XStreamDocument:
    assert isinstance(result, XStreamDocument), result
    return result


def refused(result: object) -> str:
    assert isinstance(result, XStreamError), result
    assert "\n" not in result.message and result.message.endswith(".")
    return result.message


# --- what Axon stores -------------------------------------------------------------------
def test_an_event_payload_becomes_an_object_named_by_its_root() -> None:
    doc = ok(decode(GIFT_CARD))
    assert doc.class_name == "com.example.giftcard.api.GiftCardIssuedEvent"
    assert doc.data == {
        "id": "gc-17",
        "amount": "25.00",  # a BigDecimal field: no type tag, so it stays text
        "issuedAt": "2026-02-02T08:30:00.123Z",
        "owner": {"name": "Ada", "email": "ada@example.test"},
        "lines": [{"sku": "A"}, {"sku": "B"}],
        "tags": ["promo", "spring"],
        "limit": 9223372036854775807,  # exact, beyond 2^53
        "ratio": 0.25,
        "active": True,
        "price": "0.10000000000000000555",  # big-decimal keeps every digit
        "note": "",
    }
    assert doc.classes == {
        "/lines/0": "com.example.giftcard.api.Line",
        "/lines/1": "com.example.giftcard.api.Line",
        "/tags": "linked-list",
        "/limit": "long",
        "/ratio": "double",
        "/active": "boolean",
        "/price": "big-decimal",
    }
    assert doc.references == {}


def test_str_and_bytes_decode_alike() -> None:
    assert decode(GIFT_CARD.decode()) == decode(GIFT_CARD) == decode(bytearray(GIFT_CARD))


def test_metadata_entries_become_a_dict() -> None:
    xml = metadata_xml({"traceId": "t-1", "correlationId": "c-9", "userName": "ada"})
    assert decode_metadata(xml) == {"traceId": "t-1", "correlationId": "c-9", "userName": "ada"}
    assert decode_metadata(b"<meta-data/>") == {}
    typed = b"<meta-data><entry><string>n</string><long>5</long></entry></meta-data>"
    assert decode_metadata(typed) == {"n": 5}
    assert "not <meta-data>" in refused(decode_metadata(GIFT_CARD))


def test_collections_maps_and_nulls() -> None:
    xml = (
        b'<x><s class="tree-set"><no-comparator/><int>1</int><int>2</int></s>'
        b"<m><entry><string>a</string><null/></entry><entry><int>7</int><string>seven</string>"
        b'</entry></m><props class="properties"><property name="k" value="v"/></props>'
        b'<arr class="string-array"><string>p</string><null/></arr>'
        b'<empty class="list"/><emptyMap class="map"/>'
        b'<bytes class="byte-array">AAEC</bytes></x>'
    )
    assert ok(decode(xml)).data == {
        "s": [1, 2],
        "m": {"a": None, "7": "seven"},
        "props": {"k": "v"},
        "arr": ["p", None],
        "empty": [],
        "emptyMap": {},
        "bytes": "AAEC",  # base64, as XStream writes byte[]
    }


def test_repeated_fields_are_an_implicit_collection() -> None:
    xml = b'<x><tag>a</tag><other>o</other><tag>b</tag><tag class="long">3</tag></x>'
    doc = ok(decode(xml))
    assert doc.data == {"tag": ["a", "b", 3], "other": "o"}
    assert doc.classes == {"/tag/2": "long"}


def test_names_are_decoded_from_xstreams_coding() -> None:
    xml = b"<com.example.Outer_-Inner><my__field>1</my__field><this_-0>o</this_-0></com.example.Outer_-Inner>"
    doc = ok(decode(xml))
    assert doc.class_name == "com.example.Outer$Inner"
    assert doc.data == {"my_field": "1", "this$0": "o"}
    assert java_name("a_.0041b") == "aAb"


def test_references_are_resolved_or_marked() -> None:
    xml = (
        b'<x><a><b>1</b></a><c reference="../a"/>'
        b'<d><e reference="../.."/></d>'
        b'<f reference="/x/a/b"/><g reference="../nowhere"/>'
        b'<list><y><v>1</v></y><y><v>2</v></y><z reference="../y[2]"/></list></x>'
    )
    doc = ok(decode(xml))
    assert doc.data == {
        "a": {"b": "1"},
        "c": {"b": "1"},
        "d": {"e": {"$ref": "../.."}},
        "f": "1",
        "g": {"$ref": "../nowhere"},
        "list": [{"v": "1"}, {"v": "2"}, {"v": "2"}],
    }
    assert doc.references == {"/d/e": "../..", "/g": "../nowhere"}


def test_id_references() -> None:
    xml = b'<x id="1"><a id="2"><b>1</b></a><c reference="2"/><me reference="1"/></x>'
    assert ok(decode(xml)).data == {"a": {"b": "1"}, "c": {"b": "1"}, "me": {"$ref": "1"}}


def test_gap_aware_tracking_tokens_in_both_of_axons_formats() -> None:
    converter = (
        b"<org.axonframework.eventhandling.GapAwareTrackingToken><index>1041</index>"
        b"<gaps><long>17</long><long>940</long></gaps>"
        b"</org.axonframework.eventhandling.GapAwareTrackingToken>"
    )
    reflective = (
        b"<org.axonframework.eventhandling.GapAwareTrackingToken><index>1041</index>"
        b'<gaps class="java.util.concurrent.ConcurrentSkipListSet">'
        b'<m class="java.util.concurrent.ConcurrentSkipListMap" serialization="custom">'
        b"<unserializable-parents/><java.util.concurrent.ConcurrentSkipListMap><default/>"
        b"<long>17</long><boolean>true</boolean><long>940</long><boolean>true</boolean><null/>"
        b"</java.util.concurrent.ConcurrentSkipListMap></m></gaps>"
        b"</org.axonframework.eventhandling.GapAwareTrackingToken>"
    )
    for xml in (converter, reflective):
        assert ok(decode(xml)).data == {"index": "1041", "gaps": [17, 940]}


def test_a_class_with_no_fields_and_a_bare_value() -> None:
    assert ok(decode(b"<com.example.Pinged/>")).data == {}
    assert ok(decode(b"<string>hello</string>")).data == "hello"
    assert ok(decode(b"<long>-4</long>")).data == -4


def test_mixed_content_and_attribute_fields() -> None:
    xml = b'<x><money currency="EUR">12.50</money><p name="n"/></x>'
    assert ok(decode(xml)).data == {
        "money": {"currency": "EUR", "$text": "12.50"},
        "p": {"name": "n"},
    }


def test_odd_leaves_stay_text() -> None:
    xml = b'<x><a class="int">twelve</a><b class="double">NaN</b><c class="boolean">yes</c></x>'
    assert ok(decode(xml)).data == {"a": "twelve", "b": "NaN", "c": "yes"}


# --- hostile XML --------------------------------------------------------------------------
BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
    b"<lolz>&lol3;</lolz>"
)


@pytest.mark.parametrize(
    "xml",
    [
        BILLION_LAUGHS,
        b'<!doctype x SYSTEM "file:///etc/passwd"><x/>',
        b'<x><!ENTITY a "b"></x>',
        '<?xml version="1.0"?>\n<!DOCTYPE x><x/>',
    ],
)
def test_doctype_and_entity_declarations_are_refused(xml: bytes | str) -> None:
    assert "DOCTYPE or ENTITY" in refused(decode(xml))


def test_utf16_cannot_smuggle_a_doctype_past_the_check() -> None:
    assert "not UTF-8" in refused(decode(BILLION_LAUGHS.decode().encode("utf-16")))
    assert "NUL" in refused(decode("<x>\x00</x>"))


def test_size_depth_and_expansion_are_bounded() -> None:
    assert "over the limit" in refused(decode(b"<x>" + b"a" * 100 + b"</x>", max_bytes=50))
    deep = b"<a>" * 300 + b"</a>" * 300
    assert "nests deeper" in refused(decode(deep))
    assert "nests deeper" in refused(decode(b"<a>" * 20 + b"</a>" * 20, max_depth=10))
    # Each level references the previous one twice: 2^30 values if expanded naively.
    levels = [b"<l0><v>x</v></l0>"]
    for i in range(1, 31):
        levels.append(
            b'<l%d><p reference="../../l%d"/><q reference="../../l%d"/></l%d>'
            % (i, i - 1, i - 1, i)
        )
    bomb = b"<x>" + b"".join(levels) + b"</x>"
    assert "too many values" in refused(decode(bomb))


@pytest.mark.parametrize(
    "payload",
    [
        b"",
        b"<x>",
        b"<x></y>",
        b"not xml at all",
        b"<x>&#0;</x>",  # NUL is never read back
        b"<x>&#xFFFE;</x>",
        b"<x>\x1b</x>",  # a raw control character (XStream writes a reference)
        b"<x>&undefined;</x>",
        b"\xff\xfe\xfa garbage",
        b"<x a='1' a='2'/>",
    ],
)
def test_broken_xml_is_a_value_with_a_message(payload: bytes) -> None:
    refused(decode(payload))


def test_control_character_references_read_as_xstream_meant_them() -> None:
    """XStream writes `&#x1b;` (XML 1.0 forbids it, XStream reads it back): one ANSI escape
    in a user name must not make the whole event unreadable."""
    doc = ok(
        decode(
            b'<x a="&#x7;"><n>&#x1b;[31mred&#27;[0m &#13; &#x9;</n><k><entry>'
            b"<string>&#x1;</string><string>v</string></entry></k></x>"
        )
    )
    assert doc.data == {"a": "\x07", "n": "\x1b[31mred\x1b[0m \r \t", "k": {"\x01": "v"}}


@pytest.mark.parametrize(
    "payload",
    [
        "<x><a>&#x1f;\U0010ff01</a></x>".encode(),  # the stand-in block, written literally
        b"<x><a>&#x1f;&#x10FF01;</a></x>",  # ... and as a reference
        b"<x><a>&#31;&#1113857;</a></x>",
    ],
)
def test_private_use_text_is_not_mistaken_for_a_set_aside_control(payload: bytes) -> None:
    """Control references are swapped for private-use stand-ins while parsing; a payload's
    own private-use characters must come back as themselves, not as control characters
    (found by the round-trip property: U+10FF01 read back as U+0001)."""
    assert ok(decode(payload)).data == {"a": "\x1f\U0010ff01"}


def test_not_text_is_refused() -> None:
    assert "not XML text" in refused(decode(12345))  # type: ignore[arg-type]


def test_the_decoder_imports_only_the_standard_library() -> None:
    """Pure and stdlib-only, so it can be reused (and audited) on its own."""
    tree = ast.parse(Path(xstream.__file__).read_text())
    imported = {
        (node.module or "") if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for alias in node.names
    }
    tops = {name.split(".")[0] for name in imported}
    assert tops and tops <= set(sys.stdlib_module_names) | {"__future__"}, tops


# --- simple names ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("full", "short"),
    [
        ("com.example.giftcard.api.GiftCardIssuedEvent", "GiftCardIssuedEvent"),
        ("com.example.Events$Issued", "Issued"),
        ("com.example.Outer$Middle$Inner", "Inner"),
        ("com.example.Outer$1", "Outer$1"),
        ("com.example.Outer$1Local", "Local"),
        ("GiftCard", "GiftCard"),
        ("[Lcom.example.Line;", "Line[]"),
        ("", ""),
        ("com.example.", "com.example."),
    ],
)
def test_simple_name(full: str, short: str) -> None:
    assert simple_name(full) == short


# --- the round trip ---------------------------------------------------------------------------
# Any text but NUL, surrogates and the two non-characters XML cannot carry at all; the
# other control characters travel as XStream's character references.
XML_TEXT = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cs",),
        blacklist_characters="\x00\ufffe\uffff",
    ),
    max_size=20,
)
FIELD_NAMES = st.text(
    alphabet=string.ascii_letters + string.digits + "_$", min_size=1, max_size=8
).filter(is_field_name)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | XML_TEXT
)


def documents() -> st.SearchStrategy[Any]:
    return st.recursive(
        SCALARS,
        lambda children: (
            st.lists(children, max_size=4)
            | st.dictionaries(FIELD_NAMES, children, max_size=4)
            | st.dictionaries(XML_TEXT, children, max_size=3)
        ),
        max_leaves=20,
    )


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(FIELD_NAMES, documents(), max_size=5))
def test_round_trip_through_xstream_style_xml(doc: dict[str, Any]) -> None:
    xml = encode_document("com.example.SomethingHappened", doc)
    decoded = ok(decode(xml.encode()))
    assert decoded.class_name == "com.example.SomethingHappened"
    assert decoded.data == expected_decoding(doc, "root")
    assert decoded.references == {}
