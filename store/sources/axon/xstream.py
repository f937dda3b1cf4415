"""Axon Framework's XStream XML, read as a JSON-like document without the Java classes.

Axon 4 serialises event payloads, metadata, snapshots and tracking tokens with XStream by
default (UTF-8, XStream's compact writer: no declaration, no whitespace). An auditor has
the bytes but not the application's classes, so this module maps the element tree
structurally, the way a person reads it:

* the root element names the event class (returned apart from the data);
* an element with child elements is an object; a child name seen twice becomes a list
  (XStream's implicit collections);
* collection elements (`<list>`, `<set>`, `<linked-list>`, `<tree-set>`, arrays, or any
  element whose `class=` names one) are lists; map elements (`<map>`, `<linked-hash-map>`,
  `<tree-map>`, ... and Axon's `<meta-data>`) are objects built from their `<entry>`
  children (first child the key, second the value);
* leaves are strings, except XStream's typed leaves: `<int>`, `<long>`, `<short>`,
  `<byte>`, `<big-int>` become integers (exact, however large), `<double>`/`<float>`
  finite floats, `<boolean>` booleans and `<null/>` None. `<big-decimal>` stays a string
  so no digit is lost. A field declared `int` in Java has no type tag in XStream's output,
  so it reads as a string: that is the price of not having the classes;
* `reference="../.."` (XStream's default relative XPath references, absolute paths and
  `id` references too) is resolved to a copy of the referenced value, or, when it points
  at an ancestor (a cycle), marked as ``{"$ref": path}`` and listed in `references`;
* every `class=` attribute, and the element name of each collection item that is not an
  XStream alias, is kept in `classes`, keyed by the JSON Pointer of the value it types, so
  the detail view can show the Java types without putting them into the data.

What structure alone cannot tell: an empty element is an empty string (XStream writes an
empty collection field and an object with no non-null fields the same way), and a field
named like an XStream alias (`list`, `map`, ...) is read as that alias.

XStream writes a control character in a string as a reference XML 1.0 forbids
(`&#x1b;`); those references are read as the characters XStream meant, so one ANSI escape
in a user name does not make an event unreadable. Hostile input is refused, never obeyed:
a DOCTYPE or ENTITY declaration (the only way to entity expansion) is refused before
parsing, input is bounded in bytes, depth and produced values (which also bounds
reference expansion), and nothing raises: a failure is returned as an `XStreamError`
carrying one sentence. See docs/ARCHITECTURE.md (foreign sources) for where this sits.
"""

from __future__ import annotations

import functools
import json
import math
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import TypeAlias

JsonValue: TypeAlias = None | bool | int | float | str | list["JsonValue"] | dict[str, "JsonValue"]

MAX_BYTES = 2 * 1024 * 1024
MAX_DEPTH = 128
MAX_VALUES = 200_000


@dataclass(frozen=True, slots=True)
class XStreamDocument:
    """A decoded XStream document.

    `class_name` is the root element's name decoded from XStream's name coding (for an
    event payload, the event's fully qualified class name; for metadata, ``meta-data``).
    `classes` maps JSON Pointers (RFC 6901, ``""`` is the root) to the Java class a
    `class=` attribute or a collection item's element named there; `references` maps the
    JSON Pointer of each reference left unresolved (a cycle) to its XStream path.
    """

    class_name: str
    data: JsonValue
    classes: dict[str, str] = field(default_factory=dict)
    references: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class XStreamError:
    """Why a payload could not be decoded, as one sentence for the user."""

    message: str


# XStream's aliases for leaf values, and what each becomes.
_INTEGER_TAGS = frozenset({"int", "long", "short", "byte", "big-int"})
_FLOAT_TAGS = frozenset({"double", "float"})
_LIST_ALIASES = frozenset(
    {
        "list",
        "linked-list",
        "set",
        "linked-hash-set",
        "tree-set",
        "sorted-set",
        "vector",
        "array",
        "java.util.Arrays_-ArrayList",
        "java.util.ArrayList",
        "java.util.LinkedList",
        "java.util.HashSet",
        "java.util.LinkedHashSet",
        "java.util.TreeSet",
        "java.util.concurrent.CopyOnWriteArrayList",
        "java.util.concurrent.CopyOnWriteArraySet",
        "java.util.Collections_-UnmodifiableRandomAccessList",
        "java.util.Collections_-UnmodifiableList",
        "java.util.Collections_-UnmodifiableSet",
        "java.util.Collections_-SingletonList",
        "java.util.Collections_-EmptyList",
        "java.util.Collections_-EmptySet",
        "java.util.ImmutableCollections_-ListN",
        "java.util.ImmutableCollections_-List12",
        "java.util.ImmutableCollections_-SetN",
        "java.util.ImmutableCollections_-Set12",
    }
)
_MAP_ALIASES = frozenset(
    {
        "map",
        "linked-hash-map",
        "tree-map",
        "sorted-map",
        "hashtable",
        "concurrent-hash-map",
        "properties",
        "meta-data",
        "java.util.HashMap",
        "java.util.LinkedHashMap",
        "java.util.TreeMap",
        "java.util.concurrent.ConcurrentHashMap",
        "java.util.Collections_-UnmodifiableMap",
        "java.util.Collections_-EmptyMap",
        "java.util.Collections_-SingletonMap",
        "java.util.ImmutableCollections_-MapN",
        "java.util.ImmutableCollections_-Map1",
    }
)
# Written by XStream before a sorted collection's items; not items themselves.
_COMPARATOR_TAGS = frozenset({"no-comparator", "comparator"})
_SKIP_LIST_SET = "java.util.concurrent.ConcurrentSkipListSet"
_SKIP_LIST_MAP = "java.util.concurrent.ConcurrentSkipListMap"
# Root elements that hold a bare value rather than an object.
_SCALAR_ROOTS = (
    _INTEGER_TAGS | _FLOAT_TAGS | {"string", "boolean", "char", "big-decimal", "uuid", "null"}
)
# Attributes XStream writes for itself; any other attribute is a field value
# (`useAttributeFor`).
_SYSTEM_ATTRIBUTES = frozenset(
    {"class", "reference", "id", "resolves-to", "serialization", "defined-in", "enum-type"}
)
# Names XStream uses for values that carry no Java class worth recording on an item.
_BUILTIN_ITEM_TAGS = (
    _INTEGER_TAGS
    | _FLOAT_TAGS
    | _LIST_ALIASES
    | _MAP_ALIASES
    | {"string", "boolean", "char", "big-decimal", "null", "uuid", "date", "entry"}
)

# Element names that cannot be a Java field name, so a child so named is a value's type:
# Java keywords XStream uses as aliases, `string`, and names with `.` (a class) or `-`
# (XStream's hyphenated aliases such as `big-decimal`, `linked-list`, `local-date`).
_TYPE_ONLY_NAMES = frozenset(
    {"int", "long", "short", "byte", "double", "float", "boolean", "char", "null", "string"}
)


@functools.lru_cache(maxsize=8192)
def _names_a_type(tag: str) -> bool:
    if tag in _TYPE_ONLY_NAMES:
        return True
    name = java_name(tag)  # `_-` is a coded `$` (as in `this$0`), not a hyphen
    return "." in name or "-" in name


_DECLARATION = re.compile(rb"<!(?:doctype|entity)", re.IGNORECASE)
_DECLARATION_TEXT = re.compile(r"<!(?:doctype|entity)", re.IGNORECASE)
_STEP = re.compile(r"^(?P<name>[^\[\]]+)(?:\[(?P<index>[0-9]+)\])?$")


class _Refused(Exception):
    """A limit or rule stopped decoding; the message is the user's sentence."""


def decode(
    xml: bytes | bytearray | memoryview | str,
    *,
    max_bytes: int = MAX_BYTES,
    max_depth: int = MAX_DEPTH,
    max_values: int = MAX_VALUES,
) -> XStreamDocument | XStreamError:
    """Decode one XStream document (an event payload, a snapshot, a token, metadata)."""
    try:
        root, restore = _parse(xml, max_bytes)
        decoder = _Decoder(root, max_depth, max_values, restore=restore)
        data = decoder.value(root, 0)
        if data == "" and not root.text and root.tag not in _SCALAR_ROOTS:
            data = {}  # an event class in the default package with no non-null fields
        return XStreamDocument(
            class_name=java_name(root.tag),
            data=data,
            classes=decoder.classes,
            references=decoder.references,
        )
    except _Refused as refused:
        return XStreamError(str(refused))
    except ET.ParseError as error:
        return XStreamError(f"The payload is not well-formed XML ({error}).")
    except RecursionError:
        return XStreamError("The XML nests too deeply to decode.")
    except MemoryError:
        return XStreamError("The XML is too large to decode in memory.")
    except Exception as error:  # a payload must never crash the reader
        return XStreamError(f"The XML could not be decoded ({type(error).__name__}).")


def decode_metadata(
    xml: bytes | bytearray | memoryview | str, *, max_bytes: int = MAX_BYTES
) -> dict[str, JsonValue] | XStreamError:
    """Decode Axon's `<meta-data>` document (`MetaDataConverter`: `<entry>` pairs of key
    and value; an empty MetaData is written as ``<meta-data/>``) into a key/value dict."""
    document = decode(xml, max_bytes=max_bytes)
    if isinstance(document, XStreamError):
        return document
    if document.class_name != "meta-data":
        return XStreamError(
            f"The metadata's root element is <{document.class_name}>, not <meta-data>."
        )
    if not isinstance(document.data, dict):
        return XStreamError("The metadata is not a list of key/value entries.")
    return document.data


@functools.lru_cache(maxsize=8192)
def java_name(element_name: str) -> str:
    """Undo XStream's XML-friendly name coding: ``_-`` is ``$`` (nested classes), ``__``
    is ``_``, and ``_.XXXX`` is the character with that hex code."""
    if "_" not in element_name:
        return element_name
    out: list[str] = []
    i, n = 0, len(element_name)
    while i < n:
        char = element_name[i]
        if char == "_" and i + 1 < n:
            following = element_name[i + 1]
            if following == "-":
                out.append("$")
                i += 2
                continue
            if following == "_":
                out.append("_")
                i += 2
                continue
            if following == "." and i + 6 <= n:
                code = element_name[i + 2 : i + 6]
                if all(c in "0123456789abcdefABCDEF" for c in code):
                    out.append(chr(int(code, 16)))
                    i += 6
                    continue
        out.append(char)
        i += 1
    return "".join(out)


def simple_name(class_name: str) -> str:
    """The name a person calls a Java class by, as `Class.getSimpleName()` gives it:
    ``com.acme.GiftCardIssuedEvent`` -> ``GiftCardIssuedEvent``, a nested
    ``com.acme.Events$Issued`` -> ``Issued``, a local ``Outer$1Local`` -> ``Local``; an
    anonymous ``Outer$1`` has no simple name and keeps ``Outer$1``; an array type
    ``[Lcom.acme.Line;`` -> ``Line[]``. Axon 4 stores the aggregate type this way and the
    event type as the full name; the full name stays in the detail."""
    name = class_name.strip()
    if name.startswith("[L") and name.endswith(";"):
        return simple_name(name[2:-1]) + "[]"
    last = name.rsplit(".", 1)[-1] or name
    if "$" not in last:
        return last
    nested = last.rsplit("$", 1)[-1].lstrip("0123456789")
    return nested or last


def _parse(
    xml: bytes | bytearray | memoryview | str, max_bytes: int
) -> tuple[ET.Element, dict[int, int] | None]:
    """The element tree, and the table that restores the control-character references set
    aside before parsing (None when there were none)."""
    if isinstance(xml, str):
        size = len(xml)
        if size > max_bytes:
            raise _Refused(f"The XML has {size} characters, over the limit of {max_bytes}.")
        if "\x00" in xml:
            raise _Refused("The XML contains a NUL character.")
        if _DECLARATION_TEXT.search(xml):
            raise _Refused("The XML declares a DOCTYPE or ENTITY, which is refused.")
        data = xml.encode("utf-8", "surrogatepass")
    elif isinstance(xml, (bytes, bytearray, memoryview)):
        data = bytes(xml)
        if len(data) > max_bytes:
            raise _Refused(f"The XML has {len(data)} bytes, over the limit of {max_bytes}.")
        # UTF-16/32 text always carries NUL bytes; refusing them keeps the declaration
        # check below looking at the very characters the parser will see.
        if b"\x00" in data:
            raise _Refused("The XML is not UTF-8 text (it contains NUL bytes).")
        if b"<!" in data and _DECLARATION.search(data):
            raise _Refused("The XML declares a DOCTYPE or ENTITY, which is refused.")
    else:
        raise _Refused(f"The payload is {type(xml).__name__}, not XML text.")
    restore: dict[int, int] | None = None
    if b"&#" in data and _CONTROL_REFERENCE.search(data):
        base = _free_set_aside_base(data)
        data, count = _CONTROL_REFERENCE.subn(functools.partial(_set_aside, base), data)
        if count:
            restore = {base + c: c for c in _SET_ASIDE_CODES}
    return ET.fromstring(data), restore


# XStream (in its default XML_QUIRKS mode) writes a control character in a string as a
# character reference such as `&#x1b;`, which XML 1.0 forbids and strict parsers reject,
# though XStream reads it back. Such references are swapped for private-use characters
# before parsing and swapped back in the decoded text, so an ANSI escape in a user name
# does not make a whole event unreadable (showing it harmlessly is the UI's job).
_CONTROL_REFERENCE = re.compile(rb"&#(?:[xX]0*([0-9a-fA-F]{1,2})|0*([0-9]{1,2}));")
# The stand-ins are a block of 32 private-use characters (planes 15 and 16) that the
# document itself does not contain: a payload may carry private-use text of its own, and
# restoring that as control characters would alter what the event says.
_SET_ASIDE_CODES = frozenset(c for c in range(1, 32) if c not in (9, 10, 13))  # never NUL
_PRIVATE_USE = re.compile("[\U000f0000-\U0010fffd]")
_ANY_REFERENCE = re.compile(r"&#(?:[xX]([0-9a-fA-F]{1,8})|([0-9]{1,9}));")


def _free_set_aside_base(data: bytes) -> int:
    """The first 32-character private-use block none of whose stand-ins occur in `data`."""
    text = data.decode("utf-8", "replace")
    taken = {ord(c) >> 5 for c in _PRIVATE_USE.findall(text)}
    for hex_digits, decimal_digits in _ANY_REFERENCE.findall(text):  # `&#x10FF01;` too
        code = int(hex_digits, 16) if hex_digits else int(decimal_digits)
        taken.add(code >> 5)
    for block in range(0xF0000 >> 5, 0x10FFE0 >> 5):
        if block not in taken:
            return block << 5
    raise _Refused("The XML uses every private-use character, which is refused.")


def _set_aside(base: int, match: re.Match[bytes]) -> bytes:
    hex_digits, decimal_digits = match.group(1), match.group(2)
    code = int(hex_digits, 16) if hex_digits is not None else int(decimal_digits)
    if code not in _SET_ASIDE_CODES:
        return match.group(0)  # a character XML allows: the parser handles it
    return chr(base + code).encode()


def _pointer_part(key: str | int) -> str:
    return str(key).replace("~", "~0").replace("/", "~1")


class _Decoder:
    """One document's walk; holds the limits, the findings and lazy lookup tables."""

    __slots__ = (
        "root",
        "restore",
        "max_depth",
        "budget",
        "classes",
        "references",
        "path",
        "jumps",
        "_parents",
        "_ids",
    )

    def __init__(
        self,
        root: ET.Element,
        max_depth: int,
        max_values: int,
        restore: dict[int, int] | None = None,
    ) -> None:
        self.root = root
        self.restore = restore
        self.max_depth = max_depth
        self.budget = max_values
        self.classes: dict[str, str] = {}
        self.references: dict[str, str] = {}
        # Keys from the root to the value being decoded; escaped into a JSON Pointer only
        # when something is recorded. (No try/finally around pushes: any exception ends
        # the whole decode, and this object with it.)
        self.path: list[str | int] = []
        # References being followed (the referencing elements), for cycle detection.
        self.jumps: list[ET.Element] = []
        self._parents: dict[ET.Element, ET.Element] | None = None
        self._ids: dict[str, ET.Element] | None = None

    # -- bookkeeping ------------------------------------------------------------------
    def pointer(self) -> str:
        return "".join("/" + _pointer_part(part) for part in self.path)

    def note_class(self, name: str) -> None:
        self.classes[self.pointer()] = java_name(name)

    def child(self, key: str | int, element: ET.Element, depth: int) -> JsonValue:
        path = self.path
        path.append(key)
        value = self.value(element, depth)
        path.pop()
        return value

    # -- the walk ---------------------------------------------------------------------
    def value(self, element: ET.Element, depth: int) -> JsonValue:
        self.budget -= 1
        if self.budget < 0:
            raise _Refused("The XML produces too many values to decode.")
        if depth > self.max_depth:
            raise _Refused(f"The XML nests deeper than {self.max_depth} levels.")
        attrib = element.attrib
        if attrib:
            reference = attrib.get("reference")
            if reference is not None:
                return self.resolve(element, reference, depth)
            declared = attrib.get("class")
            if declared is not None:
                self.note_class(declared)
                kind = declared
            else:
                kind = element.tag
        else:
            kind = element.tag
        if len(element) == 0:
            return self.leaf(element, kind)
        if kind in _LIST_ALIASES or kind.endswith("-array"):
            return self.items(element, depth)
        if kind in _MAP_ALIASES:
            return self.entries(element, depth)
        if kind == _SKIP_LIST_SET or kind == _SKIP_LIST_MAP:
            return self.skip_list(element, kind, depth)
        # A field declared List/Set/Map holding Java's default implementation carries no
        # `class=`; its children then name types, not fields.
        first = element[0].tag
        if first not in _BUILTIN_ITEM_TAGS and not _names_a_type(first):
            return self.fields(element, depth)  # the common case: a field name
        tags = {child.tag for child in element}
        if tags == {"entry"}:
            return self.entries(element, depth)
        if all(_names_a_type(tag) for tag in tags) or (
            len(tags) == 1 and len(element) > 1 and tags <= _BUILTIN_ITEM_TAGS
        ):
            return self.items(element, depth)
        return self.fields(element, depth)

    def leaf(self, element: ET.Element, kind: str) -> JsonValue:
        text = element.text or ""
        if self.restore and text:
            text = self.text(text)
        if kind == "null":
            return None
        if kind in _INTEGER_TAGS:
            try:
                return int(text.strip())
            except ValueError:
                return text
        if kind in _FLOAT_TAGS:
            try:
                number = float(text)
            except ValueError:
                return text
            return number if math.isfinite(number) else text
        if kind == "boolean":
            return {"true": True, "false": False}.get(text.strip(), text)
        if not text:
            if kind in _LIST_ALIASES or (kind.endswith("-array") and kind != "byte-array"):
                return []
            if kind in _MAP_ALIASES:
                return {}
            if "." in kind and not element.attrib.keys() - _SYSTEM_ATTRIBUTES:
                return {}  # an instance of a class with no non-null fields
        if element.attrib:
            extra = self.attribute_fields(element)
            if extra:
                # Fields written as attributes (XStream's `useAttributeFor`); the text, if
                # any, is the value a ToAttributedValueConverter wrote.
                if text:
                    extra["$text"] = text
                return extra
        return text

    def text(self, value: str) -> str:
        return value.translate(self.restore) if self.restore else value

    def attribute_fields(self, element: ET.Element) -> dict[str, JsonValue]:
        return {
            java_name(name): self.text(value)
            for name, value in element.attrib.items()
            if name not in _SYSTEM_ATTRIBUTES
        }

    def items(self, element: ET.Element, depth: int) -> list[JsonValue]:
        out: list[JsonValue] = []
        for item in element:
            if item.tag in _COMPARATOR_TAGS:
                continue
            index = len(out)
            if item.tag not in _BUILTIN_ITEM_TAGS and "reference" not in item.attrib:
                self.path.append(index)
                self.note_class(item.tag)
                self.path.pop()
            out.append(self.child(index, item, depth + 1))
        return out

    def entries(self, element: ET.Element, depth: int) -> dict[str, JsonValue]:
        out: dict[str, JsonValue] = {}
        for entry in element:
            tag = entry.tag
            if tag == "entry" and len(entry) == 2:  # the usual shape: key element, value
                key = self.key_text(entry[0], depth + 2)
                out[key] = self.child(key, entry[1], depth + 2)
                continue
            if tag in _COMPARATOR_TAGS:
                continue
            if tag == "property":  # java.util.Properties
                name = self.text(entry.attrib.get("name", ""))
                out[name] = self.text(entry.attrib.get("value", ""))
                continue
            parts = list(entry)
            if tag != "entry" or not parts:
                key = java_name(tag)
                out[key] = self.child(key, entry, depth + 1)
                continue
            # An odd entry (a key alone, or extra parts): the first is the key, the second
            # the value, the rest is not XStream's and is left out.
            key = self.key_text(parts[0], depth + 2)
            out[key] = self.child(key, parts[1], depth + 2) if len(parts) > 1 else None
        return out

    def key_text(self, element: ET.Element, depth: int) -> str:
        if element.tag == "string" and not element.attrib and len(element) == 0:
            self.budget -= 1  # the common key, a plain string
            return self.text(element.text or "")
        key = self.value(element, depth)
        if isinstance(key, str):
            return key
        if key is None:
            return "null"
        if isinstance(key, bool):
            return "true" if key else "false"
        if isinstance(key, (int, float)):
            return str(key)
        return _compact(key)

    def skip_list(self, element: ET.Element, kind: str, depth: int) -> JsonValue:
        """A `ConcurrentSkipListSet`/`Map` written by Java serialization (XStream's
        `serialization="custom"`), as Axon's GapAwareTrackingToken gap sets are: the data
        block lists key, value, key, value, ... and ends with `<null/>`; a set's values
        are all `true`, so the set is the keys."""
        stream = next(element.iter(_SKIP_LIST_MAP), None)
        if stream is None:
            return self.fields(element, depth)
        values = [part for part in stream if part.tag not in ("default", "null")]
        keys = values[0::2]
        if kind == _SKIP_LIST_SET:
            return [self.child(i, key, depth + 1) for i, key in enumerate(keys)]
        out: dict[str, JsonValue] = {}
        for key_element, value_element in zip(keys, values[1::2], strict=False):
            key = self.key_text(key_element, depth + 1)
            out[key] = self.child(key, value_element, depth + 1)
        return out

    def fields(self, element: ET.Element, depth: int) -> dict[str, JsonValue]:
        out: dict[str, JsonValue] = self.attribute_fields(element) if element.attrib else {}
        repeated: set[str] = set()
        for part in element:
            name = java_name(part.tag)
            if name not in out:
                out[name] = self.child(name, part, depth + 1)
                continue
            # XStream's implicit collection: the same field element again.
            if name not in repeated:
                repeated.add(name)
                out[name] = [out[name]]
                self.move_classes(name)
            existing = out[name]
            assert isinstance(existing, list)
            self.path.append(name)
            existing.append(self.child(len(existing), part, depth + 1))
            self.path.pop()
        return out

    def move_classes(self, name: str) -> None:
        """A field that turned out to be repeated now holds a list: what was recorded for
        its first value moves from `/name...` to `/name/0...`."""
        old = self.pointer() + "/" + _pointer_part(name)
        new = old + "/0"
        for table in (self.classes, self.references):
            for pointer in [p for p in table if p == old or p.startswith(old + "/")]:
                table[new + pointer[len(old) :]] = table.pop(pointer)

    # -- references -------------------------------------------------------------------
    def resolve(self, element: ET.Element, reference: str, depth: int) -> JsonValue:
        target = self.find(element, reference)
        if target is None or self.on_stack(target, element):
            self.references[self.pointer()] = reference
            return {"$ref": reference}
        self.jumps.append(element)
        value = self.value(target, depth)
        self.jumps.pop()
        return value

    def on_stack(self, target: ET.Element, element: ET.Element) -> bool:
        """Is `target` being decoded already: an ancestor of `element`, or of a reference
        followed to get here? (Then resolving it would never end: a cycle.)"""
        assert self._parents is not None
        for start in (element, *self.jumps):
            node: ET.Element | None = start
            while node is not None:
                if node is target:
                    return True
                node = self._parents.get(node)
        return False

    def find(self, element: ET.Element, reference: str) -> ET.Element | None:
        if self._parents is None:
            self._parents = {child: parent for parent in self.root.iter() for child in parent}
        if reference.isdigit():
            if self._ids is None:
                self._ids = {
                    node.attrib["id"]: node for node in self.root.iter() if "id" in node.attrib
                }
            return self._ids.get(reference)
        if reference.startswith("/"):
            steps = [step for step in reference.split("/") if step]
            if not steps:
                return None
            first = _STEP.match(steps[0])
            if first is None or first.group("name") != self.root.tag:
                return None
            if first.group("index") not in (None, "1"):
                return None
            return self.walk(self.root, steps[1:])
        return self.walk(element, [step for step in reference.split("/") if step])

    def walk(self, start: ET.Element, steps: list[str]) -> ET.Element | None:
        assert self._parents is not None
        node: ET.Element | None = start
        for step in steps:
            if node is None:
                return None
            if step == ".":
                continue
            if step == "..":
                node = self._parents.get(node)
                continue
            match = _STEP.match(step)
            if match is None:
                return None
            index = int(match.group("index") or "1")
            same_name = [child for child in node if child.tag == match.group("name")]
            node = same_name[index - 1] if 0 < index <= len(same_name) else None
        return node


def _compact(value: JsonValue) -> str:
    """A stable one-line text for a non-scalar map key (a Java object used as a key)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
