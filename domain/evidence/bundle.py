"""The evidence bundle: a zip a reviewer can check on another machine with only Python.

    summary = build_bundle(engine, stream, streams=["acct-1"], at=moment)

writes to the binary, seekable `stream` a zip holding

* ``events.jsonl`` -- the selected events, one canonical JSON object a line, in position
  order: the envelope fields, ``hash`` and ``prev_hash`` (the link before it);
* ``chain.jsonl`` -- one line per position from the first selected event to the head
  digest: ``{"hash", "position", "selected": true}`` for a selected event; for every
  other event either its whole envelope (``links="full"``, the default: the chain can be
  recomputed offline up to the head digest) or its hash only (``links="hashes"``: other
  events' payloads stay private, and the link to the head is proven on the store with
  ``eventscope verify --against``). The chain is ``SHA-256(prev || envelope)``, so a
  link can only be *recomputed* from the event's full envelope -- hashes alone let a
  reader follow the chain but not check it (the bundle README says so too);
* ``states.json`` -- the state of each selected stream at T, how it was derived, and
  whether the standalone verifier can recompute it (generic fold over a complete history);
* ``manifest.json`` -- tool version, source, selection, head digest, the store's own
  verify result, counts, creation time and the SHA-256 of every other file;
* ``verify_bundle.py`` (stdlib only) and ``README.md`` (the chain and canonical JSON
  definition, so the check can be re-implemented in another language).

Events are read in one pass over positions first-selected..head; memory holds the set of
selected positions and the states, never the payloads. Nothing is written to the store.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any, BinaryIO, Literal

import orjson
from eventscope.domain.diff import same
from eventscope.domain.evidence.bundle_readme import bundle_readme
from eventscope.domain.evidence.errors import EvidenceError
from eventscope.domain.fold import merge
from eventscope.store.errors import StreamNotFound
from eventscope.store.native.canonical import GENESIS_HASH, canonical_json, chain_hash
from eventscope.store.progress import ProgressCallback
from eventscope.store.records import Digest, JSONObject, RecordedEvent, format_timestamp
from eventscope.store.source import EventFilter

BUNDLE_FORMAT = "eventscope-evidence-bundle/1"
VERIFIER_PATH = Path(__file__).with_name("verify_bundle.py")
Links = Literal["full", "hashes"]


def verifier_sha256() -> str:
    """The SHA-256 of the standalone verifier shipped in every bundle. A bundle carries
    its own checker, so a forged bundle could carry a forged one that prints OK: this
    digest (in the README, `eventscope --version --verbose`, every report and the bundle's
    own README) lets a reviewer check the copy, or run `eventscope verify-bundle`."""
    return _sha256(VERIFIER_PATH.read_bytes())


@dataclass(frozen=True, slots=True)
class BundleSummary:
    """What was bundled; `manifest_sha256` and `head` belong in the case file."""

    head: Digest
    manifest_sha256: str
    selected_events: int
    streams: int
    links: Links
    chain_links: int
    # [first, last] global position of the selected events (for the access log).
    selected_positions: list[int] = field(default_factory=list)

    def to_json(self) -> JSONObject:
        return {
            "head_digest": str(self.head),
            "manifest_sha256": self.manifest_sha256,
            "selected_events": self.selected_events,
            "streams": self.streams,
            "links": self.links,
            "chain_links": self.chain_links,
        }


def tool_version() -> str:
    try:
        return metadata.version("eventscope")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a checkout
        return "unknown"


def envelope_json(event: RecordedEvent) -> JSONObject:
    """The hashed fields of an event as plain JSON (store.native.canonical.ENVELOPE_FIELDS)."""
    return {
        "data": event.data,
        "event_id": event.event_id,
        "event_type": event.event_type,
        "metadata": event.metadata,
        "occurred_at": format_timestamp(event.occurred_at),
        "position": event.position,
        "recorded_at": format_timestamp(event.recorded_at),
        "schema_version": event.schema_version,
        "stream_id": event.stream_id,
        "stream_type": event.stream_type,
        "version": event.version,
    }


@dataclass(slots=True)
class _StreamPick:
    """One selected stream: its type and the version of its state at T."""

    stream_id: str
    stream_type: str
    version: int
    selected: int = 0  # selected events seen in the pass
    contiguous: bool = True  # selected versions so far are exactly 1..selected
    fold: JSONObject | None = None  # generic fold of raw payloads (complete histories)


class _Selection:
    """Which events a bundle holds: whole streams up to T, or one correlation id up to T."""

    def __init__(
        self,
        engine: Any,
        head: Digest,
        streams: list[str] | None,
        correlation_id: str | None,
        at: datetime | None,
    ) -> None:
        self.engine = engine
        self.source = engine.source
        self.head = head
        self.at = at
        self.correlation_id = correlation_id
        self.picks: dict[str, _StreamPick] = {}
        self.first_position: int | None = None
        if streams:
            self._pick_streams(streams)
        elif correlation_id is not None:
            self._pick_correlation(correlation_id)
        else:
            raise EvidenceError("choose what to bundle: --streams IDS or --correlation ID")

    def _version_at(self, stream_id: str) -> int:
        timeline = self.engine.timeline(stream_id)
        version = timeline.length
        if self.at is not None:
            version = timeline.version_at_time(self.at, "recorded")
        # Appends after the head digest was read are not part of this bundle.
        return min(version, timeline.version_at_position(self.head.position))

    def _pick_streams(self, streams: list[str]) -> None:
        for stream_id in dict.fromkeys(streams):
            info = self.source.stream_info(stream_id)
            if info is None:
                raise StreamNotFound(stream_id)
            version = self._version_at(stream_id)
            self.picks[stream_id] = _StreamPick(stream_id, info.stream_type, version, fold={})
            if version:
                first = next(self.source.read_stream(stream_id, 1, 1), None)
                if first is not None:
                    self._first(first.position)
        if self.first_position is None:
            when = f" at {format_timestamp(self.at)}" if self.at else ""
            raise EvidenceError(f"the selected streams have no events{when}; nothing to bundle")

    def _pick_correlation(self, correlation_id: str) -> None:
        found = self.source.read_all(
            0, self.head.position, filter=EventFilter(correlation_id=correlation_id)
        )
        for event in found:
            if self.at is not None and event.recorded_at > self.at:
                continue
            self._first(event.position)
            if event.stream_id not in self.picks:
                self.picks[event.stream_id] = _StreamPick(
                    event.stream_id, event.stream_type, self._version_at(event.stream_id)
                )
        if self.first_position is None:
            when = f" up to {format_timestamp(self.at)}" if self.at else ""
            raise EvidenceError(
                f"no event has correlation id {correlation_id!r}{when}; nothing to bundle"
            )

    def _first(self, position: int) -> None:
        if self.first_position is None or position < self.first_position:
            self.first_position = position

    def selects(self, event: RecordedEvent) -> bool:
        pick = self.picks.get(event.stream_id)
        if pick is None or event.version > pick.version:
            return False
        if self.correlation_id is not None:
            return event.correlation_id == self.correlation_id
        return True


def build_bundle(
    engine: Any,
    out: BinaryIO,
    *,
    streams: list[str] | None = None,
    correlation_id: str | None = None,
    at: datetime | None = None,
    links: Links = "full",
    created_at: datetime | None = None,
    progress: ProgressCallback | None = None,
    axis: Literal["recorded", "occurred"] = "recorded",
    known_at: datetime | None = None,
) -> BundleSummary:
    """Write an evidence bundle (a zip) to `out`; see the module docstring for its content.

    Args:
        engine: a `domain.Engine` over the source (its plugin derives the states).
        out: a writable, seekable binary stream (e.g. from `explorer.atomic_file`).
        streams / correlation_id: what to select (one of them).
        at: T -- events recorded after it are not selected; states are as of T.
        links: "full" (default) or "hashes" for the events between selected ones.
        axis / known_at: with "occurred", `at` is business time O and `known_at` R
            (default everything up to the head): events recorded after R are not
            selected, and each state is as of O as known at R, with the versions applied
            in business-time order (`applied_versions`, recomputed by the verifier).

    Raises EvidenceError (or StreamNotFound) with one sentence for a user mistake, or
    when the source has no hash chain or its chain is broken.
    """
    if links not in ("full", "hashes"):
        raise EvidenceError(f"--links is 'full' or 'hashes', not {links!r}")
    business = axis == "occurred"
    if business and at is None:
        raise EvidenceError("a bundle on the occurred axis needs a business time (--at)")
    if known_at is not None and not business:
        raise EvidenceError("--known-at is for the occurred axis (--axis occurred)")
    source = engine.source
    info = source.describe()
    if not info.has_hash_chain:
        raise EvidenceError(
            f"{info.location} has no hash chain, so a bundle could not prove anything; "
            "import it into a native store first (eventscope import)"
        )
    head = source.head_digest()
    report = source.verify(against=head, progress=progress)
    if not report.ok:
        raise EvidenceError(
            f"the store's hash chain is broken at position {report.first_bad_position} "
            f"({report.reason}); a bundle would not verify -- run eventscope verify"
        )
    selection = _Selection(engine, head, streams, correlation_id, known_at if business else at)
    created = created_at or datetime.now(UTC)
    start = (selection.first_position or 1) - 1
    start_event = source.event_at(start) if start else None
    start_hash = start_event.hash if start_event is not None else GENESIS_HASH.hex()

    with tempfile.TemporaryDirectory(prefix="eventscope-bundle-") as work:
        events_path = Path(work) / "events.jsonl"
        chain_path = Path(work) / "chain.jsonl"
        counts = _write_lines(selection, start, start_hash, links, events_path, chain_path)
        states = _states(engine, selection, (at, known_at) if business else None)
        states_bytes = orjson.dumps(states, option=orjson.OPT_INDENT_2) + b"\n"
        verifier = VERIFIER_PATH.read_bytes()
        readme = bundle_readme(
            head=str(head), links=links, verifier_sha256=_sha256(verifier)
        ).encode("utf-8")
        files = {
            "README.md": _sha256(readme),
            "chain.jsonl": _sha256_file(chain_path),
            "events.jsonl": _sha256_file(events_path),
            "states.json": _sha256(states_bytes),
            "verify_bundle.py": _sha256(verifier),
        }
        manifest = {
            "format": BUNDLE_FORMAT,
            "tool": {"name": "eventscope", "version": tool_version()},
            "created_at": format_timestamp(created),
            "source": {
                "kind": info.kind,
                "location": info.location,
                "read_only": info.read_only,
            },
            "selection": {
                "streams": list(selection.picks) if streams else None,
                "correlation_id": correlation_id,
                "at": format_timestamp(at) if at is not None else None,
                "axis": axis,
                "known_at": format_timestamp(known_at) if known_at is not None else None,
            },
            "head_digest": str(head),
            "store_verify": report.to_json(),
            "links": links,
            "chain": {
                "algorithm": "sha256",
                "start_position": start,
                "start_hash": start_hash,
                "end_position": head.position,
            },
            "counts": {
                "selected_events": counts["selected"],
                "chain_links": counts["links"],
                "context_events": counts["context"],
                "hash_only_links": counts["hash_only"],
                "streams": len(selection.picks),
                "states": len(states),
            },
            "domain": getattr(engine.plugin, "name", None) or None,
            "files": files,
        }
        manifest_bytes = orjson.dumps(manifest, option=orjson.OPT_INDENT_2) + b"\n"
        stamp = created.astimezone(UTC).timetuple()[:6]
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, payload in (
                ("README.md", readme),
                ("manifest.json", manifest_bytes),
                ("states.json", states_bytes),
                ("verify_bundle.py", verifier),
            ):
                archive.writestr(_entry(name, stamp), payload)
            for name, path in (("events.jsonl", events_path), ("chain.jsonl", chain_path)):
                with path.open("rb") as source_file, archive.open(_entry(name, stamp), "w") as dst:
                    shutil.copyfileobj(source_file, dst, 1 << 20)
    return BundleSummary(
        head=head,
        manifest_sha256=_sha256(manifest_bytes),
        selected_events=counts["selected"],
        streams=len(selection.picks),
        links=links,
        chain_links=counts["links"],
        selected_positions=[counts["first"], counts["last"]] if counts["selected"] else [],
    )


def _write_lines(
    selection: _Selection,
    start: int,
    start_hash: str,
    links: Links,
    events_path: Path,
    chain_path: Path,
) -> dict[str, int]:
    """One pass over positions start+1..head: events.jsonl and chain.jsonl."""
    counts = {"selected": 0, "links": 0, "context": 0, "hash_only": 0, "first": 0, "last": 0}
    previous = start_hash
    expected = start + 1
    with events_path.open("wb") as events_file, chain_path.open("wb") as chain_file:
        for event in selection.source.read_all(start, selection.head.position):
            if event.position != expected:
                raise EvidenceError(f"the source has no event at position {expected}")
            selected = selection.selects(event)
            if selected or links == "full":
                envelope = envelope_json(event)
                envelope_bytes = canonical_json(envelope)
                if chain_hash(previous, envelope_bytes) != event.hash:
                    raise EvidenceError(
                        f"the event at position {event.position} does not reproduce its "
                        "hash; the store changed while bundling -- run eventscope verify"
                    )
            # (A hash-only link is not re-derived: `verify` has just walked the chain.)
            # Links are canonical JSON written out directly: keys "envelope" < "hash" <
            # "position" < "selected" are already in order, and the envelope bytes are
            # the ones just hashed (no second serialisation of 100k payloads).
            tail = b'"hash":"' + event.hash.encode() + b'","position":' + b"%d" % event.position
            if selected:
                line = {**envelope, "hash": event.hash, "prev_hash": previous}
                events_file.write(canonical_json(line) + b"\n")
                chain_file.write(b"{" + tail + b',"selected":true}\n')
                counts["selected"] += 1
                counts["first"] = counts["first"] or event.position
                counts["last"] = event.position
                _fold(selection.picks[event.stream_id], event)
            elif links == "full":
                chain_file.write(b'{"envelope":' + envelope_bytes + b"," + tail + b"}\n")
                counts["context"] += 1
            else:
                chain_file.write(b"{" + tail + b"}\n")
                counts["hash_only"] += 1
            previous = event.hash
            expected += 1
            counts["links"] += 1
    if expected - 1 != selection.head.position:
        raise EvidenceError(
            f"the source ends at position {expected - 1}, before its head digest "
            f"{selection.head}; run eventscope verify"
        )
    return counts


def _fold(pick: _StreamPick, event: RecordedEvent) -> None:
    """Track whether a stream's selected events are exactly versions 1..n, and fold their
    raw payloads the way the standalone verifier will."""
    pick.selected += 1
    if event.version != pick.selected:
        pick.contiguous = False
    if pick.fold is not None and pick.contiguous and event.decode_error is None:
        merge(pick.fold, orjson.loads(orjson.dumps(event.data)))
    elif event.decode_error is not None:
        pick.fold = None


def _states(
    engine: Any, selection: _Selection, business: tuple[Any, Any] | None
) -> list[JSONObject]:
    """The state of each selected stream at T -- or, with `business` = (O, R), as of
    business time O as known at R (with the versions applied, in that order)."""
    out: list[JSONObject] = []
    for pick in selection.picks.values():
        timeline = engine.timeline(pick.stream_id)
        moment = timeline.time_of(pick.version) if pick.version else None
        complete = pick.contiguous and pick.selected == pick.version
        if business is not None:
            as_of, known_at = business
            # Only what the bundle holds can be known: events up to the head digest.
            known = known_at or moment
            state_at = (
                timeline.state_as_of(as_of, known)
                if pick.version
                else engine.state(pick.stream_id, version=0)
            )
            recompute = complete and state_at.derivation == "generic" and not state_at.skipped
        else:
            state_at = engine.state(pick.stream_id, version=pick.version)
            recompute = (
                complete
                and state_at.derivation == "generic"
                and pick.fold is not None
                and not state_at.skipped
                and same(pick.fold, state_at.state)
            )
        entry: JSONObject = {
            "stream_id": pick.stream_id,
            "stream_type": pick.stream_type,
            "version": pick.version,
            "recorded_at": format_timestamp(moment) if moment else None,
            "derivation": state_at.derivation,
            "complete_history": complete,
            "recompute": recompute,
            "skipped": [s.to_json() for s in state_at.skipped],
            "state": state_at.state,
        }
        if business is not None:
            entry["axis"] = "occurred"
            entry["as_of"] = format_timestamp(business[0])
            entry["known_at"] = format_timestamp(known) if known is not None else None
            entry["applied_versions"] = list(state_at.applied_versions or ())
        out.append(entry)
    return out


def _entry(name: str, stamp: tuple[int, ...]) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=stamp)  # type: ignore[arg-type]
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info


def _sha256(payload: bytes) -> str:
    return hashlib.sha256(payload).hexdigest()


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
