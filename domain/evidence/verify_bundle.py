#!/usr/bin/env python3
"""Verify an eventscope evidence bundle with nothing but the Python standard library.

This file is copied, unchanged, into every bundle, so a reviewer can check the evidence
on a machine that has only Python (3.8 or later) -- no eventscope, no third-party
packages, no network:

    python3 -I verify_bundle.py                 # the folder this script sits in
    python3 -I verify_bundle.py case.zip        # or a bundle that is still zipped
    python3 -I verify_bundle.py case/ --head 400:ee1e...   # also compare with a digest
                                                           #   kept in the case file

It re-implements, from the bundle's README, RFC 8785 canonical JSON and the event hash
chain, and checks:

1. every file listed in manifest.json has the SHA-256 recorded there (an edited state or
   event file fails here, naming the file);
2. every line of events.jsonl and chain.jsonl is exactly the canonical JSON of what it
   holds (so no byte can change without changing a value);
3. each selected event hashes to its chain link: ``SHA-256(prev || canonical(envelope))``
   equals its ``hash``, and its ``prev_hash`` is the link before it (an edited, removed,
   inserted or reordered event fails, naming the event);
4. the chain, walked from the bundle's start link to its end, reaches the head digest in
   the manifest (and the one given with ``--head``); positions the bundle gives by hash
   only are reported as not proven offline;
5. no context event of the chain belongs to the selection (a selected event moved out of
   events.jsonl is named);
6. each stream's selected events have contiguous versions, and every state the verifier
   can recompute (the generic fold over a whole history in the bundle) is recomputed and
   compared, whatever states.json claims; the others are listed with the reason.

Without ``--manifest-sha256`` (the value printed by ``eventscope bundle``, kept in the
case file) a NOTE says that the manifest itself was not checked: whoever can edit the
bundle could rewrite it together with the states.

Exit status: 0 when everything checked is intact, 1 when something was altered, 2 when
the bundle cannot be read at all.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import sys
import zipfile
from collections.abc import Iterator
from decimal import Decimal
from typing import IO, Any

BUNDLE_FORMAT = "eventscope-evidence-bundle/1"
GENESIS_HEX = "0" * 64
MAX_SAFE_INTEGER = 2**53
ENVELOPE_FIELDS = (
    "data",
    "event_id",
    "event_type",
    "metadata",
    "occurred_at",
    "position",
    "recorded_at",
    "schema_version",
    "stream_id",
    "stream_type",
    "version",
)
EVENT_LINE_FIELDS = frozenset(ENVELOPE_FIELDS + ("hash", "prev_hash"))


class Altered(Exception):
    """Something in the bundle is not what was recorded (exit status 1)."""


class Unreadable(Exception):
    """The bundle cannot be read at all (exit status 2)."""


# --- RFC 8785 canonical JSON -------------------------------------------------------------
_SHORT_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
}


def canonical(value: Any) -> bytes:
    """The RFC 8785 canonical UTF-8 bytes of a JSON value (ValueError if it has none)."""
    parts: list[str] = []
    _write(value, parts)
    try:
        return "".join(parts).encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("a string holds a lone surrogate") from None


def _write(value: Any, out: list[str]) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, str):
        out.append(_string(value))
    elif isinstance(value, int):
        if not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            raise ValueError("an integer is beyond 2^53")
        out.append(str(value))
    elif isinstance(value, float):
        out.append(_number(value))
    elif isinstance(value, dict):
        out.append("{")
        # Keys sort by their UTF-16 code units (RFC 8785 section 3.2.3).
        for index, key in enumerate(
            sorted(value, key=lambda k: k.encode("utf-16-be", "surrogatepass"))
        ):
            if index:
                out.append(",")
            out.append(_string(key))
            out.append(":")
            _write(value[key], out)
        out.append("}")
    elif isinstance(value, list):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _write(item, out)
        out.append("]")
    else:
        raise ValueError("not a JSON value: " + type(value).__name__)


def _string(text: str) -> str:
    out = ['"']
    for char in text:
        escaped = _SHORT_ESCAPES.get(char)
        if escaped is not None:
            out.append(escaped)
        elif char < " ":
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def _number(value: float) -> str:
    """ECMAScript Number::toString of a finite double (RFC 8785 section 3.2.2.3)."""
    if math.isnan(value) or math.isinf(value):
        raise ValueError("NaN and Infinity are not JSON")
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    digits_tuple = Decimal(repr(abs(value))).normalize().as_tuple()
    digits = "".join(str(d) for d in digits_tuple.digits)
    k = len(digits)
    n = int(digits_tuple.exponent) + k
    if k <= n <= 21:
        body = digits + "0" * (n - k)
    elif 0 < n <= 21:
        body = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        body = "0." + "0" * (-n) + digits
    else:
        exponent = n - 1
        mantissa = digits[0] + ("." + digits[1:] if k > 1 else "")
        body = mantissa + "e" + ("+" if exponent >= 0 else "-") + str(abs(exponent))
    return sign + body


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict:
    out: dict = {}
    for key, value in pairs:
        if key in out:
            raise ValueError("duplicate key " + json.dumps(key))
        out[key] = value
    return out


def _no_constants(name: str) -> Any:
    raise ValueError(name + " is not JSON")


def parse_canonical_line(line: bytes, where: str) -> Any:
    """Parse one line and insist it is byte-for-byte the canonical form of its value."""
    try:
        value = json.loads(
            line.decode("utf-8"),
            object_pairs_hook=_no_duplicates,
            parse_constant=_no_constants,
        )
        again = canonical(value)
    except (UnicodeDecodeError, ValueError) as exc:
        raise Altered(where + " is not valid canonical JSON (" + str(exc) + ")") from None
    if again != line:
        raise Altered(where + " is not in canonical form: its bytes were changed")
    return value


# --- the hash chain ---------------------------------------------------------------------
def chain_hash(previous_hex: str, envelope: dict) -> str:
    """``SHA-256(previous || canonical(envelope))`` as lowercase hex."""
    return hashlib.sha256(bytes.fromhex(previous_hex) + canonical(envelope)).hexdigest()


def envelope_of(event: dict) -> dict:
    return {name: event[name] for name in ENVELOPE_FIELDS}


# --- the generic fold (README: "States") -------------------------------------------------
def merge(state: dict, data: dict) -> dict:
    """Deep-merge: null removes a key, an object merges, anything else replaces."""
    for key, value in data.items():
        if value is None:
            state.pop(key, None)
        elif isinstance(value, dict):
            old = state.get(key)
            if not isinstance(old, dict):
                old = {}
                state[key] = old
            merge(old, value)
        else:
            state[key] = value
    return state


# --- reading the bundle -----------------------------------------------------------------
class Bundle:
    """Files of an unzipped folder or of a .zip, read as bytes."""

    def __init__(self, location: str) -> None:
        self.location = location
        self._zip: zipfile.ZipFile | None = None
        if os.path.isfile(location):
            try:
                self._zip = zipfile.ZipFile(location)
            except zipfile.BadZipFile:
                raise Unreadable(location + " is neither a folder nor a zip file") from None
        elif not os.path.isdir(location):
            raise Unreadable(location + " does not exist")

    def read(self, name: str) -> bytes:
        with self.open(name) as handle:
            return handle.read()

    def open(self, name: str) -> IO[bytes]:
        """A binary stream of one file, so large files are never held in memory."""
        try:
            if self._zip is not None:
                return self._zip.open(name)
            return open(os.path.join(self.location, name), "rb")
        except (KeyError, FileNotFoundError):
            raise Unreadable("the bundle has no " + name) from None

    def lines(self, name: str) -> Iterator[bytes]:
        """Lines without their newline, streamed. A last line without its newline was
        cut or edited; it is still yielded so the line at fault can be named, and the
        file digest check fails it in the end."""
        with self.open(name) as handle:
            for line in handle:
                yield line[:-1] if line.endswith(b"\n") else line

    def names(self) -> list[str]:
        if self._zip is not None:
            return sorted(n for n in self._zip.namelist() if not n.endswith("/"))
        found = []
        for folder, _dirs, files in os.walk(self.location):
            for file_name in files:
                full = os.path.join(folder, file_name)
                found.append(os.path.relpath(full, self.location).replace(os.sep, "/"))
        return sorted(found)


def describe(event: dict) -> str:
    """How an event is named in messages: position, stream, version, type and id."""
    try:
        return (
            f"event at position {event['position']} (stream {json.dumps(event['stream_id'])} "
            f"version {event['version']}, {json.dumps(event['event_type'])}, "
            f"id {json.dumps(event['event_id'])})"
        )
    except (KeyError, TypeError):
        return f"event at position {event.get('position', '?')}"


def describe_raw(raw: bytes, position: int) -> str:
    """Name a context event from its envelope bytes, even when they no longer parse."""
    try:
        envelope = json.loads(raw.decode("utf-8"))
        if isinstance(envelope, dict) and envelope.get("position") == position:
            return describe(envelope)
    except ValueError:
        pass
    return f"event at position {position}"


# --- the checks -------------------------------------------------------------------------
CONTEXT_PREFIX = b'{"envelope":'
CONTEXT_TAIL = b',"hash":"'


def read_link(line: bytes, number: int, start: int) -> dict:
    """One chain.jsonl line as {"position", "hash", ["selected"], ["envelope_bytes"]}.

    A context line is ``{"envelope":E,"hash":H,"position":P}`` in canonical form, so E
    is exactly the canonical envelope the chain hashed: it is sliced out and hashed as
    is (parsing and re-serialising 100k envelopes in pure Python would take minutes).
    Any changed byte inside E breaks its link; the rest of the line is checked by value.
    """
    where = f"chain.jsonl line {number} (the link at position {start + number})"
    context = line.startswith(CONTEXT_PREFIX)
    cut = line.rfind(CONTEXT_TAIL) if context else 0
    if cut < 0:
        raise Altered(f"{where} is not a chain link")
    try:
        link = json.loads(b"{" + line[cut + 1 :] if context else line)
    except ValueError:
        raise Altered(f"{where} is not valid JSON") from None
    if not isinstance(link, dict):
        raise Altered(f"{where} is not a chain link")
    position, link_hash, selected = link.get("position"), link.get("hash"), link.get("selected")
    if type(position) is not int or type(link_hash) is not str:
        raise Altered(f"{where} is not a chain link")
    # The canonical form of these small objects, written out (much faster than canonical())
    expected = '"hash":' + _string(link_hash) + ',"position":' + str(position)
    if selected is True and not context:
        expected += ',"selected":true'
    allowed = {"hash", "position"} | ({"selected"} if selected is True and not context else set())
    if set(link) != allowed or (line[cut + 1 :] if context else line[1:]) != (
        expected + "}"
    ).encode("utf-8"):
        raise Altered(f"{where} is not in canonical form: its bytes were changed")
    if context:
        link["envelope_bytes"] = line[len(CONTEXT_PREFIX) : cut]
    return link


def links_of(bundle: Bundle, start: int) -> Iterator[dict]:
    """Links after the start position; line N is the link at position start + N."""
    for number, line in enumerate(bundle.lines("chain.jsonl"), 1):
        yield read_link(line, number, start)


def selected_positions(bundle: Bundle, start: int) -> list[int]:
    """First pass over chain.jsonl: the positions it lists as selected, in order (the
    second pass, `walk_chain`, checks every line)."""
    out = []
    for number, line in enumerate(bundle.lines("chain.jsonl"), 1):
        if line.endswith(b',"selected":true}') and not line.startswith(CONTEXT_PREFIX):
            out.append(read_link(line, number, start)["position"])
    return out


def load_events(bundle: Bundle, expected_positions: list[int]) -> list[dict]:
    """Selected events in order; line N must hold the N-th selected position."""
    events: list[dict] = []
    for number, line in enumerate(bundle.lines("events.jsonl"), 1):
        expected = expected_positions[number - 1] if number <= len(expected_positions) else None
        where = f"events.jsonl line {number}"
        if expected is not None:
            where += f" (the event at position {expected})"
        event = parse_canonical_line(line, where)
        if not isinstance(event, dict) or set(event) != EVENT_LINE_FIELDS:
            raise Altered(f"{where} does not have exactly the fields of an event")
        if expected is None:
            raise Altered(
                f"events.jsonl line {number} holds an extra {describe(event)} that chain.jsonl "
                "does not list as selected: an event was inserted"
            )
        if event["position"] != expected:
            raise Altered(
                f"events.jsonl line {number} holds the {describe(event)} where the event at "
                f"position {expected} belongs: the event at position {expected} was removed, "
                "or events were inserted or reordered"
            )
        events.append(event)
    if len(events) < len(expected_positions):
        missing = expected_positions[len(events)]
        raise Altered(
            f"the event at position {missing} is missing from events.jsonl "
            "(chain.jsonl lists it as selected)"
        )
    return events


def check_not_selected(manifest: dict, states: list[dict], raw: bytes, position: int) -> None:
    """A context event must be one the selection leaves out. An event of a selected
    stream, at or below the version its state is given at (or recorded by the selection's
    time), with the selected correlation id when the selection is one, belongs in
    events.jsonl: finding it among the context links means a selected event was moved
    out of the selection (and the states rewritten to match)."""
    try:
        envelope = json.loads(raw.decode("utf-8"))
    except ValueError:
        raise Altered(f"the context event at position {position} is not valid JSON") from None
    if not isinstance(envelope, dict):
        raise Altered(f"the context event at position {position} is not an event")
    wanted = {entry.get("stream_id"): entry.get("version") for entry in states}
    stream_id = envelope.get("stream_id")
    if stream_id not in wanted:
        return
    selection = manifest.get("selection") or {}
    correlation = selection.get("correlation_id")
    if correlation is not None:
        metadata = envelope.get("metadata")
        if not isinstance(metadata, dict) or metadata.get("correlation_id") != correlation:
            return
    # The recorded-time cutoff of the selection: T, or R on the business-time axis.
    at = selection.get("known_at") if selection.get("axis") == "occurred" else selection.get("at")
    version = envelope.get("version")
    recorded_at = envelope.get("recorded_at")
    after_state = type(version) is int and type(wanted[stream_id]) is int
    after_state = after_state and version > wanted[stream_id]
    after_time = at is not None and isinstance(recorded_at, str) and recorded_at > at
    if after_state and after_time:
        return  # recorded after the selection's time: rightly left out
    raise Altered(
        f"the context {describe(envelope)} belongs to the selection (stream "
        f"{json.dumps(stream_id)} is selected and the event is not after the selection's "
        "time): a selected event was moved out of events.jsonl"
    )


def walk_chain(
    manifest: dict, links: Iterator[dict], events: list[dict], states: list[dict] | None = None
) -> tuple[int, int]:
    """Walk the links from the start to the end; return (proven, hash_only) counts."""
    chain = manifest["chain"]
    by_position = {event["position"]: event for event in events}
    previous = chain["start_hash"]
    expected_position = chain["start_position"] + 1
    proven = hash_only = 0
    for link in links:
        position = link["position"]
        if position != expected_position:
            raise Altered(
                f"chain.jsonl skips from position {expected_position - 1} to {position}: "
                "a link was removed or moved"
            )
        event = by_position.get(position)
        if link.get("selected") is True:
            if event is None:  # pragma: no cover - load_events already refuses this
                raise Altered(f"the event at position {position} is missing from events.jsonl")
            if event["prev_hash"] != previous:
                raise Altered(
                    f"the {describe(event)} does not follow the link before it (its prev_hash "
                    "differs): it was altered, or an event before it was removed or moved"
                )
            computed = chain_hash(previous, envelope_of(event))
            if computed != event["hash"]:
                raise Altered(f"the {describe(event)} was altered: it does not match its hash")
            if link.get("hash") != computed:
                raise Altered(f"chain.jsonl's link for the {describe(event)} differs from its hash")
            proven += 1
        elif "envelope_bytes" in link:
            raw = link["envelope_bytes"]
            computed = hashlib.sha256(bytes.fromhex(previous) + raw).hexdigest()
            if computed != link["hash"]:
                raise Altered(
                    f"the context {describe_raw(raw, position)} was altered: it does not "
                    "match its hash"
                )
            if states:
                check_not_selected(manifest, states, raw, position)
            proven += 1
        else:
            computed = link.get("hash")
            if not isinstance(computed, str) or len(computed) != 64:
                raise Altered(f"chain.jsonl's link at position {position} has no valid hash")
            hash_only += 1
        previous = computed
        expected_position += 1
    head = manifest["head_digest"]
    head_position, _, head_hash = head.partition(":")
    if str(expected_position - 1) != head_position or previous != head_hash:
        raise Altered(
            f"the chain ends at {expected_position - 1}:{previous}, not at the head digest "
            f"{head} in manifest.json: events were removed from the end or altered"
        )
    return proven, hash_only


def check_streams(states: list[dict], events: list[dict]) -> dict[str, list[dict]]:
    """Versions 1..v present and contiguous for each stream whose whole history up to its
    state's version was selected."""
    by_stream: dict[str, list[dict]] = {}
    for event in events:
        by_stream.setdefault(event["stream_id"], []).append(event)
    for entry in states:
        if not entry.get("complete_history"):
            continue
        name = json.dumps(entry["stream_id"])
        stream_events = by_stream.get(entry["stream_id"], [])
        for expected, event in enumerate(stream_events[: entry["version"]], 1):
            if event["version"] != expected:
                raise Altered(
                    f"stream {name} has no version {expected} before the {describe(event)}: "
                    "an event was removed"
                )
        if len(stream_events) < entry["version"]:
            raise Altered(
                f"stream {name} has {len(stream_events)} events in the bundle but its state is "
                f"at version {entry['version']}: its last events were removed"
            )
    return by_stream


def business_time_events(entry: dict, history: list[dict]) -> list[dict]:
    """README "States": as of business time O (`as_of`), as known at R (`known_at`) --
    the events with recorded_at <= R and occurred_at <= O in occurred order, ties by
    version. The times are canonical UTC text, so text order is time order."""
    as_of, known_at = entry.get("as_of"), entry.get("known_at")
    chosen = [
        event
        for event in history
        if event["occurred_at"] <= as_of and (known_at is None or event["recorded_at"] <= known_at)
    ]
    chosen.sort(key=lambda event: (event["occurred_at"], event["version"]))
    if [event["version"] for event in chosen] != entry["applied_versions"]:
        raise Altered(
            f"states.json: the versions applied for stream {json.dumps(entry['stream_id'])} "
            "as of business time are not the ones its events select"
        )
    return chosen


def check_states(
    states: list[dict], by_stream: dict[str, list[dict]], manifest: dict
) -> tuple[int, list[str]]:
    """Recompute every state the verifier can -- the generic fold over a whole history in
    the bundle -- whatever states.json says about it; return (recomputed, the states it
    could not recompute, each with the reason)."""
    recomputed = 0
    not_recomputed: list[str] = []
    domain = manifest.get("domain")
    for entry in states:
        name = f"{json.dumps(entry.get('stream_id'))} at version {entry.get('version')}"
        version = entry.get("version")
        events = by_stream.get(entry.get("stream_id"), [])
        whole = type(version) is int and [e["version"] for e in events[:version]] == list(
            range(1, version + 1)
        )
        if entry.get("derivation") != "generic":
            why = (
                f"derived by domain code {json.dumps(entry.get('derivation'))}, which this "
                "verifier does not have"
            )
        elif not whole:
            why = "the bundle does not hold its whole history up to that version"
        elif entry.get("skipped") or any(not isinstance(e["data"], dict) for e in events):
            why = "eventscope skipped some of its events (listed in states.json)"
        else:
            why = None
        if why is not None:
            not_recomputed.append(f"{name}: {why}")
            continue
        history = events[:version]
        if "applied_versions" in entry:  # the business-time axis
            history = business_time_events(entry, history)
        state: dict = {}
        for event in history:
            merge(state, event["data"])
        if canonical(state) == canonical(entry.get("state")):
            recomputed += 1
        elif domain and entry.get("recompute") is not True:
            not_recomputed.append(
                f"{name}: its events were upcast by domain code {json.dumps(domain)}, so "
                "the plain fold of the stored payloads differs"
            )
        else:
            raise Altered(f"states.json: the state of stream {name} is not what its events fold to")
    return recomputed, not_recomputed


def check_files(bundle: Bundle, manifest: dict) -> int:
    files = manifest.get("files")
    if not isinstance(files, dict) or not files:
        raise Altered("manifest.json lists no file digests")
    for name in sorted(files):
        digest = hashlib.sha256()
        with bundle.open(name) as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        actual = digest.hexdigest()
        if actual != files[name]:
            raise Altered(f"{name} was changed: its SHA-256 is not the one in manifest.json")
    return len(files)


def read_manifest(bundle: Bundle, manifest_sha256: str | None) -> tuple[dict, str]:
    payload = bundle.read("manifest.json")
    digest = hashlib.sha256(payload).hexdigest()
    if manifest_sha256 is not None and manifest_sha256.strip().lower() != digest:
        raise Altered(
            "manifest.json is not the one recorded in the case file (its SHA-256 differs)"
        )
    try:
        manifest = json.loads(payload.decode("utf-8"))
    except ValueError:
        raise Altered("manifest.json is not valid JSON") from None
    if not isinstance(manifest, dict) or manifest.get("format") != BUNDLE_FORMAT:
        raise Unreadable(f"this is not an {BUNDLE_FORMAT}")
    for key in ("head_digest", "chain", "files"):
        if key not in manifest:
            raise Altered(f"manifest.json has no {key}")
    return manifest, digest


def read_states(bundle: Bundle) -> list[dict]:
    try:
        states = json.loads(bundle.read("states.json").decode("utf-8"))
    except ValueError:
        raise Altered("states.json is not valid JSON: it was changed") from None
    if not isinstance(states, list) or not all(isinstance(s, dict) for s in states):
        raise Altered("states.json is not a list of states: it was changed")
    return states


def verify(location: str, head: str | None = None, manifest_sha256: str | None = None) -> list[str]:
    """Run every check; return the report lines (raises Altered or Unreadable).

    Event-level checks run before the file digests, so an edited event is named rather
    than reported as "events.jsonl was changed".
    """
    bundle = Bundle(location)
    manifest, digest = read_manifest(bundle, manifest_sha256)
    if head is not None and head.strip().lower() != manifest["head_digest"]:
        raise Altered(
            f"the bundle's head digest {manifest['head_digest']} is not the digest kept "
            f"outside ({head.strip()})"
        )
    start = manifest["chain"]["start_position"]
    selected = selected_positions(bundle, start)
    events = load_events(bundle, selected)
    states = read_states(bundle)
    proven, hash_only = walk_chain(manifest, links_of(bundle, start), events, states)
    by_stream = check_streams(states, events)
    recomputed, not_recomputed = check_states(states, by_stream, manifest)
    files = check_files(bundle, manifest)
    start = manifest["chain"]["start_position"] + 1
    lines = [
        f"OK: {len(events)} selected events match their hash chain links",
        f"OK: the chain from position {start} to the head digest {manifest['head_digest']} "
        f"is intact ({proven} events recomputed)",
        f"OK: {recomputed} of {len(states)} states recomputed from the events",
        f"OK: {files} files match manifest.json, whose SHA-256 is {digest}",
    ]
    if not_recomputed:
        lines.append(
            f"NOTE: {len(not_recomputed)} states could not be recomputed here; they are "
            "covered only by manifest.json's file digests:"
        )
        lines.extend("  - " + item for item in not_recomputed)
    if hash_only:
        lines.append(
            f"NOTE: {hash_only} positions are given by hash only (a bundle made with --links "
            "hashes), so the link from the selected events to the head digest is NOT proven "
            "offline; prove it on the store with: eventscope verify SOURCE --against "
            f"{manifest['head_digest']}"
        )
    if manifest_sha256 is None:
        lines.append(
            "NOTE: manifest.json was not compared with the SHA-256 kept in the case file "
            "(no --manifest-sha256): whoever can edit the bundle can rewrite the manifest, "
            "the selection and the states together; pass --manifest-sha256 "
            + digest
            + " after checking it against the case file"
        )
    if head is None:
        lines.append(
            f"NOTE: compare the head digest {manifest['head_digest']} with the one kept in "
            "the case file, or pass it with --head"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    head = manifest_sha256 = None
    location = None
    while args:
        arg = args.pop(0)
        if arg in ("-h", "--help"):
            print(__doc__)
            return 0
        if arg in ("--head", "--manifest-sha256") and args:
            if arg == "--head":
                head = args.pop(0)
            else:
                manifest_sha256 = args.pop(0)
        elif location is None and not arg.startswith("--"):
            location = arg
        else:
            print("verify_bundle: unexpected argument " + arg, file=sys.stderr)
            return 2
    if location is None:
        location = os.path.dirname(os.path.abspath(__file__))
    sys.stdout.flush()
    out = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", errors="backslashreplace")
    try:
        lines = verify(location, head, manifest_sha256)
    except Altered as exc:
        lines, status = ["FAILED: " + str(exc)], 1
    except Unreadable as exc:
        lines, status = ["UNREADABLE: " + str(exc)], 2
    else:
        status = 0
    try:
        for line in lines:
            out.write(_printable(line) + "\n")
        out.flush()
    finally:
        out.detach()  # leave sys.stdout open for whoever called main()
    return status


# Letters and marks that draw nothing (Python calls them printable): Hangul fillers, the
# combining grapheme joiner, Khmer and Mongolian invisibles, variation selectors, the
# braille blank. The same set as eventscope's own rule (domain/terminal_text.py).
_INVISIBLE = frozenset(
    [0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x2800, 0x3164, 0xFFA0]
    + list(range(0x180B, 0x1810))
    + list(range(0xFE00, 0xFE10))
    + list(range(0xE0100, 0xE01F0))
)


def _printable(text: str) -> str:
    """Never let bundle content drive the terminal: control characters and characters
    that draw nothing become escapes."""
    return "".join(
        c
        if c == " " or (c.isprintable() and ord(c) not in _INVISIBLE)
        else (f"\\u{ord(c):04x}" if ord(c) <= 0xFFFF else f"\\U{ord(c):08x}")
        for c in text
    )


if __name__ == "__main__":
    sys.exit(main())
