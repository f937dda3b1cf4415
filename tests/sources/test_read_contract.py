"""The read contract: one suite, run against every source kind eventscope opens.

`TestReadContract` is parametrised over the builders of `contract_sources` (native
SQLite and PostgreSQL, JSON Lines, the `eventsourcing` library on SQLite and
PostgreSQL), so every contract test reports per source, e.g. ``test_ordering[jsonl]``.
Each builder writes the same logical history with the source's own software and says
what eventscope must show; the tests compare the source's answers with that and with a
plain Python model of the source's own events (`Model`), covering ordering, exclusive
start positions, literal filters, keyset paging of streams, the event-rate histogram at
many bucket counts (with events exactly on slice boundaries), `event_at`, counts,
snapshots and checkpoints where the source keeps them, and read-only access (writes
refused, the file or tables unchanged afterwards).

How a new source joins: write its builder in `contract_sources.py` and add one line to
`BUILDERS` there; nothing in this file changes. A kind that cannot hold some part of
the history (hostile stream ids, actors) shows that in its `Built.expected`, and the
model-based checks adapt to what it holds.

The tests after the class compare two sources holding the same history (the native
store is the reference): `read_battery` equality, exports and imports.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from fractions import Fraction
from math import ceil, floor
from pathlib import Path

import pytest
import sqlalchemy as sa
from contract_sources import (
    BOUNDARY_COUNTS,
    SPAN_MICROS,
    T0,
    Built,
    build,
    builder_params,
    slice_start,
)
from eventscope.domain.events import EventRegistry, Upcaster
from eventscope.domain.folders import Folder
from eventscope.domain.timeline import Timeline
from eventscope.store import (
    ANY,
    EventFilter,
    EventSource,
    EventStore,
    NewEvent,
    ReadOnlyError,
    RecordedEvent,
    open_source,
)
from eventscope.store.native.importing import import_history
from eventscope.store.records import EPOCH, JSONObject, replay_row
from eventscope.store.sources.eventsourcing.source import EventsourcingSource
from eventscope.store.sources.jsonl.export import write_jsonl
from eventscope.store.sources.jsonl.source import JsonlSource
from sources_helpers import (
    assert_read_contract,
    build_native,
    es_postgres_env,
    es_sqlite_env,
    read_battery,
    reference_history,
    require_es_postgres,
    sha256_of,
    write_dogs,
    write_jsonl_by_hand,
)
from support.replay import FullRecordsOnly


@pytest.fixture(scope="module", params=builder_params())
def built(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Built]:
    """A history written by one source kind's own software, once per module."""
    yield from build(request.param, request, tmp_path_factory.mktemp(request.param))


@pytest.fixture
def source(built: Built) -> Iterator[EventSource]:
    """The history opened as a user would: by location, the kind detected."""
    opened = open_source(built.location)
    try:
        yield opened
    finally:
        opened.close()


# --- a plain model of a source's own events ---------------------------------------------
class Model:
    """What every read must answer, computed in plain Python from `read_all()`."""

    def __init__(self, events: list[RecordedEvent]) -> None:
        self.events = events
        self.positions = [e.position for e in events]
        self.by_stream: dict[str, list[RecordedEvent]] = {}
        for e in events:
            self.by_stream.setdefault(e.stream_id, []).append(e)
        self.stream_ids = sorted(self.by_stream)

    def stream_type(self, stream_id: str) -> str:
        return self.by_stream[stream_id][0].stream_type

    def where(self, flt: EventFilter) -> list[RecordedEvent]:
        return [e for e in self.events if literally_matches(e, flt)]


def literally_matches(e: RecordedEvent, flt: EventFilter) -> bool:
    """EventFilter's meaning, written out: exact text, literal prefixes, `since`
    inclusive and `until` exclusive on recorded_at."""
    checks = [
        flt.event_types is None or e.event_type in flt.event_types,
        flt.stream_type is None or e.stream_type == flt.stream_type,
        flt.stream_id is None or e.stream_id == flt.stream_id,
        not flt.stream_prefix or e.stream_id[: len(flt.stream_prefix)] == flt.stream_prefix,
        flt.correlation_id is None or e.metadata.get("correlation_id") == flt.correlation_id,
        flt.actor is None or e.metadata.get("actor") == flt.actor,
        flt.since is None or e.recorded_at >= flt.since,
        flt.until is None or e.recorded_at < flt.until,
    ]
    return all(checks)


def reference_histogram(times: list[datetime], buckets: int) -> list[tuple[datetime, int]]:
    """The histogram rule with exact fractions: slice i of the span [lo, hi] (at least
    1 µs) starts at lo + ceil(i * span / buckets); an event at t is in slice
    floor((t - lo) * buckets / span), the last slice holding hi."""
    if not times:
        return []
    micros = [(t - EPOCH) // timedelta(microseconds=1) for t in times]
    low, high = min(micros), max(micros)
    span = max(high - low, 1)
    counts = [0] * buckets
    for value in micros:
        counts[min(floor(Fraction((value - low) * buckets, span)), buckets - 1)] += 1
    return [
        (EPOCH + timedelta(microseconds=low + ceil(Fraction(i * span, buckets))), counts[i])
        for i in range(buckets)
    ]


def contract_filters(model: Model) -> dict[str, EventFilter]:
    """Filters built from what the source holds, plus text that a LIKE or a glob would
    misread; each must match exactly what `literally_matches` says."""
    first, middle = model.events[0], model.events[len(model.events) // 2]
    filters = {
        "none": EventFilter(),
        "types_none": EventFilter(event_types=[]),
        "wildcard_type": EventFilter(event_types=["%"]),
        "wildcard_prefix": EventFilter(stream_prefix="%"),
        "underscore_prefix": EventFilter(stream_prefix="a_"),
        "percent_prefix": EventFilter(stream_prefix="a%"),
        "wildcard_actor": EventFilter(actor="%"),
        "injection": EventFilter(actor="'; DROP TABLE events; --"),
        "since": EventFilter(since=middle.recorded_at),
        "until": EventFilter(until=middle.recorded_at),
        "window": EventFilter(since=first.recorded_at, until=middle.recorded_at),
        "stream_id": EventFilter(stream_id=middle.stream_id),
        "unknown_stream": EventFilter(stream_id="no such stream"),
        "combined": EventFilter(stream_type=middle.stream_type, since=middle.recorded_at),
    }
    for event_type in sorted({e.event_type for e in model.events}):
        filters[f"type {event_type}"] = EventFilter(event_types=[event_type])
    for stream_type in sorted({e.stream_type for e in model.events}):
        filters[f"stream_type {stream_type}"] = EventFilter(stream_type=stream_type)
    for stream_id in model.stream_ids[:4]:
        for cut in range(1, len(stream_id) + 1):
            filters[f"prefix {stream_id[:cut]}"] = EventFilter(stream_prefix=stream_id[:cut])
    for actor in sorted({e.actor for e in model.events if e.actor}):
        filters[f"actor {actor}"] = EventFilter(actor=actor)
    if middle.correlation_id:
        filters["correlation"] = EventFilter(correlation_id=middle.correlation_id)
    return filters


class _TypeCounter(Folder):
    """A non-generic fold (the event type matters): counts types, keeps the last data."""

    name = "type-counter"

    def apply(self, state: JSONObject, event_type: str, data: JSONObject) -> JSONObject:
        state[event_type] = state.get(event_type, 0) + 1
        state["last"] = data
        return state


def _folder(kind: str) -> Folder:
    return Folder() if kind == "generic" else _TypeCounter()


def _mark_upcast(data: JSONObject) -> JSONObject:
    return {**data, "upcast": True}


class TestReadContract:
    """Every source kind, the same questions (see the module docstring)."""

    def test_detected_read_only_and_described(self, source: EventSource, built: Built) -> None:
        assert isinstance(source, EventSource)  # the whole protocol is implemented
        info = source.describe()
        assert info.kind == built.kind
        assert info.read_only is True
        assert info.has_hash_chain is built.has_hash_chain

    def test_ordering(self, source: EventSource, built: Built) -> None:
        events = list(source.read_all())
        assert [(e.stream_id, e.stream_type, e.event_type, e.recorded_at) for e in events] == [
            (x.stream_id, x.stream_type, x.event_type, x.recorded_at) for x in built.expected
        ]
        positions = [e.position for e in events]
        assert positions == sorted(set(positions)), "positions strictly increase"
        assert source.head_position() == positions[-1]
        assert list(source.read_all(backwards=True)) == events[::-1]
        model = Model(events)
        for stream_id, stream_events in model.by_stream.items():
            assert [e.version for e in stream_events] == list(range(1, len(stream_events) + 1))
            assert list(source.read_stream(stream_id)) == stream_events
            assert list(source.read_stream(stream_id, backwards=True)) == stream_events[::-1]
            last = len(stream_events)
            for low, high in ((1, 1), (2, 3), (2, last), (last, last + 5), (0, 2), (3, 2)):
                wanted = [e for e in stream_events if max(low, 1) <= e.version <= high]
                assert list(source.read_stream(stream_id, low, high)) == wanted
                assert (
                    list(source.read_stream(stream_id, low, high, backwards=True)) == (wanted[::-1])
                )
        assert list(source.read_stream("no such stream")) == []

    def test_replay_rows_are_read_streams_fold_fields(self, source: EventSource) -> None:
        """The lean read is the full read minus what a fold does not use, for every
        range a timeline asks for (a wrong version, type or payload changes a state)."""
        model = Model(list(source.read_all()))
        for stream_id, stream_events in model.by_stream.items():
            assert list(source.read_replay(stream_id)) == [replay_row(e) for e in stream_events]
            last = len(stream_events)
            for low, high in ((1, 1), (2, 3), (2, last), (last, last + 5), (0, 2), (3, 2)):
                wanted = [replay_row(e) for e in stream_events if max(low, 1) <= e.version <= high]
                assert list(source.read_replay(stream_id, low, high)) == wanted
            assert list(source.read_replay(stream_id, last + 1)) == []
        assert list(source.read_replay("no such stream")) == []

    @pytest.mark.parametrize("fold", ["generic", "typed"])
    @pytest.mark.parametrize("upcasting", [False, True], ids=["raw", "upcast"])
    def test_lean_replay_gives_the_full_paths_states(
        self, source: EventSource, fold: str, upcasting: bool
    ) -> None:
        """States (and skips) at every version from the lean read equal those the engine
        derives from full records; upcasters still apply on the lean path."""
        registry = EventRegistry()
        if upcasting:
            for event_type in {e.event_type for e in source.read_all()}:
                registry.add_upcaster(Upcaster(event_type, 1, _mark_upcast))
        model = Model(list(source.read_all()))
        for stream_id, stream_events in model.by_stream.items():
            lean, full = (
                Timeline(s, stream_id, folder=_folder(fold), registry=registry, checkpoint_every=2)
                for s in (source, FullRecordsOnly(source))
            )
            assert lean.length == full.length == len(stream_events)
            for version in range(len(stream_events) + 1):
                assert lean.state_at(version) == full.state_at(version)
            assert lean.skipped == full.skipped
            assert lean.series(("upcast",)) == full.series(("upcast",))
            foldable = [e for e in stream_events if e.decode_error is None]
            if upcasting and fold == "generic" and any(e.schema_version == 1 for e in foldable):
                assert lean.state_at().state.get("upcast") is True
            # Times and positions the lean build left out are still the records' own.
            last = stream_events[-1]
            assert lean.time_of(last.version) == last.recorded_at
            assert lean.position_of(last.version) == last.position
            assert lean.latest_recorded_at == max(e.recorded_at for e in stream_events)
            assert lean.version_at_time(last.recorded_at) == full.version_at_time(last.recorded_at)

    def test_exclusive_start_positions(self, source: EventSource) -> None:
        events = list(source.read_all())
        positions = [e.position for e in events]
        head = positions[-1]
        cuts = sorted({0, 1, 2, head - 1, head, head + 1, *positions[:: max(1, len(events) // 9)]})
        for start in cuts:
            after = [e for e in events if e.position > start]
            assert list(source.read_all(start)) == after, start
            assert list(source.read_all(start, limit=3)) == after[:3], start
            before = [e for e in events if e.position < start] if start else list(events)
            assert list(source.read_all(start, backwards=True)) == before[::-1], start
            assert list(source.read_all(start, backwards=True, limit=2)) == before[::-1][:2]
            for end in cuts:
                window = [e for e in after if e.position <= end]
                assert list(source.read_all(start, end)) == window, (start, end)
                down = [e for e in before if e.position >= end]
                assert list(source.read_all(start, end, backwards=True)) == down[::-1]
        assert list(source.read_all(limit=0)) == []

    def test_literal_filters(self, source: EventSource) -> None:
        model = Model(list(source.read_all()))
        for name, flt in contract_filters(model).items():
            wanted = model.where(flt)
            assert list(source.read_all(filter=flt)) == wanted, name
            assert source.count_events(flt) == len(wanted), name
            assert list(source.read_all(filter=flt, limit=2)) == wanted[:2], name
            assert list(source.read_all(filter=flt, backwards=True)) == wanted[::-1], name
            if wanted:
                middle = wanted[len(wanted) // 2].position
                assert list(source.read_all(middle, filter=flt)) == [
                    e for e in wanted if e.position > middle
                ], name

    def test_keyset_paging_of_streams(self, source: EventSource) -> None:
        model = Model(list(source.read_all()))
        types: dict[str, int] = {}
        for stream_id in model.stream_ids:
            types[model.stream_type(stream_id)] = types.get(model.stream_type(stream_id), 0) + 1
        assert source.stream_types() == sorted(types.items())
        assert source.count_streams() == len(model.stream_ids)
        prefixes = sorted({s[:cut] for s in model.stream_ids for cut in (1, 2, 3)} | {"%", "a_"})
        selections: list[tuple[str | None, str | None]] = [(None, None)]
        selections += [(t, None) for t in types] + [(None, p) for p in prefixes]
        selections += [(t, p) for t in types for p in prefixes[:5]] + [("no-such-type", None)]
        for stream_type, prefix in selections:
            wanted = [
                s
                for s in model.stream_ids
                if (stream_type is None or model.stream_type(s) == stream_type)
                and (not prefix or s[: len(prefix)] == prefix)
            ]
            assert source.count_streams(stream_type, prefix) == len(wanted), (stream_type, prefix)
            for limit in (1, 2, 3, 7, 100):
                paged: list[str] = []
                after = None
                while page := source.streams(stream_type, prefix, after, limit):
                    assert len(page) <= limit
                    paged.extend(info.stream_id for info in page)
                    after = page[-1].stream_id
                assert paged == wanted, (stream_type, prefix, limit)
        assert source.streams(limit=0) == []
        for stream_id in model.stream_ids:
            stream_events = model.by_stream[stream_id]
            info = source.stream_info(stream_id)
            assert info is not None
            assert info.stream_type == model.stream_type(stream_id)
            assert info.version == info.event_count == len(stream_events)
            assert info.first_position == stream_events[0].position
            assert info.last_position == stream_events[-1].position
            assert info.first_recorded_at == stream_events[0].recorded_at
            assert info.last_recorded_at == stream_events[-1].recorded_at
            assert source.streams(after=stream_id, limit=1) == [
                i for i in [source.stream_info(s) for s in model.stream_ids if s > stream_id][:1]
            ]
        assert source.stream_info("no such stream") is None

    def test_histograms_at_many_bucket_counts(self, source: EventSource) -> None:
        events = list(source.read_all())
        micros = {(e.recorded_at - T0) // timedelta(microseconds=1) for e in events}
        assert min(micros) == 0 and max(micros) == SPAN_MICROS  # the span the history chose
        for buckets in BOUNDARY_COUNTS:  # the history really has events on boundaries
            assert {slice_start(i, buckets) for i in range(1, buckets)} & micros
        model = Model(events)
        some = contract_filters(model)
        picked = ["none", "since", "until", "combined", "wildcard_actor", "stream_id"]
        for buckets in [*range(1, 61), 61, 97, 240, 1000]:
            for name in picked:
                flt = some[name]
                wanted = reference_histogram([e.recorded_at for e in model.where(flt)], buckets)
                got = source.event_histogram(buckets, None if name == "none" else flt)
                # Counts first: an event on a boundary must land in the same slice everywhere.
                assert [n for _t, n in got] == [n for _t, n in wanted], (buckets, name)
                assert got == wanted, (buckets, name)
        with pytest.raises(ValueError, match="at least one bucket"):
            source.event_histogram(0)

    def test_event_at(self, source: EventSource) -> None:
        events = list(source.read_all())
        for e in events:
            assert source.event_at(e.position) == e
        positions = {e.position for e in events}
        for missing in (0, -1, max(positions) + 1, max(positions) + 1000):
            assert source.event_at(missing) is None
        for gap in set(range(1, max(positions))) - positions:
            assert source.event_at(gap) is None

    def test_counts(self, source: EventSource, built: Built) -> None:
        events = list(source.read_all())
        assert source.event_count() == len(events) == len(built.expected)
        assert source.count_events() == len(events)
        assert source.count_events(EventFilter()) == len(events)
        assert source.count_streams() == len({x.stream_id for x in built.expected})
        assert sum(n for _t, n in source.event_histogram(5)) == len(events)

    def test_snapshots_and_checkpoints(self, source: EventSource, built: Built) -> None:
        model = Model(list(source.read_all()))
        for stream_id in model.stream_ids:
            versions = built.snapshots.get(stream_id, [])
            stored = source.snapshots(stream_id)
            assert [s.version for s in stored] == versions, stream_id
            assert all(s.stream_id == stream_id for s in stored)
            for version in range(0, len(model.by_stream[stream_id]) + 2):
                at = source.snapshot_at(stream_id, version)
                earlier = [v for v in versions if v <= version]
                assert (at.version if at else None) == (earlier[-1] if earlier else None)
        assert source.snapshots("no such stream") == []
        assert source.snapshot_at("no such stream", 1) is None
        assert source.checkpoints() == built.checkpoints
        names = sorted(set(built.checkpoints) | set(built.projection_rows))
        assert source.projection_names() == names
        for name in names:
            keys = built.projection_rows.get(name, [])
            assert [r.key for r in source.projection_rows(name)] == keys
            paged: list[str] = []
            after = None
            while page := source.projection_rows(name, after=after, limit=2):
                paged.extend(r.key for r in page)
                after = page[-1].key
            assert paged == keys
            for key in keys:
                row = source.projection_row(name, key)
                assert row is not None and row.projection == name and row.key == key
            assert source.projection_row(name, "no such key") is None
        assert source.projection_rows("no such projection") == []

    def test_read_only(self, built: Built) -> None:
        before = built.fingerprint()
        with open_source(built.location) as source:
            read_everything(source)
            if built.kind.startswith("native"):
                for write in (
                    lambda: source.append("s-1", [NewEvent("X", {})]),  # type: ignore[attr-defined]
                    lambda: source.append_streams([("s-2", [NewEvent("X", {})], ANY, None)]),  # type: ignore[attr-defined]
                    lambda: source.save_snapshot("s-1", 1, {}, "T"),  # type: ignore[attr-defined]
                    lambda: source.save_checkpoint("p", 1),  # type: ignore[attr-defined]
                    lambda: source.put_projection_rows("p", [("k", {}, 1)], checkpoint=1),  # type: ignore[attr-defined]
                    lambda: source.clear_projection("p"),  # type: ignore[attr-defined]
                ):
                    with pytest.raises(ReadOnlyError, match="opened read-only"):
                        write()
            else:
                assert not hasattr(source, "append")
                kind = built.kind.partition("-")[0]
                with pytest.raises(ReadOnlyError, match=f"a {kind} source can only be read"):
                    open_source(f"{kind}:{built.location}", read_only=False)
            if built.write_sql is not None:
                # Below eventscope's own guard: the connection every read uses refuses too.
                with source.connect() as conn:  # type: ignore[attr-defined]
                    with pytest.raises(sa.exc.DBAPIError, match="(?i)read-?only"):
                        conn.exec_driver_sql(built.write_sql)
        assert built.fingerprint() == before


def read_everything(source: EventSource) -> None:
    """Every read of the protocol once (what a session of the explorer does)."""
    model = Model(list(source.read_all()))
    list(source.read_all(backwards=True))
    for stream_id in model.stream_ids:
        list(source.read_stream(stream_id, backwards=True))
        source.stream_info(stream_id)
        source.snapshots(stream_id)
    for flt in contract_filters(model).values():
        source.count_events(flt)
        source.event_histogram(7, flt)
    source.streams()
    source.stream_types()
    source.count_streams(prefix="a")
    source.checkpoints()
    source.projection_names()
    source.verify()
    source.event_at(1)


# --- two sources holding the same history -------------------------------------------------
def test_jsonl_written_by_another_program_answers_like_the_native_store(tmp_path: Path) -> None:
    history = reference_history()
    native = build_native(tmp_path / "native.db", history)
    path = tmp_path / "history.jsonl"
    write_jsonl_by_hand(path, history)
    before = sha256_of(path)
    with JsonlSource.open(path) as jsonl:
        # Hand-written lines carry no chain, so compare everything but the hash.
        assert read_battery(jsonl, with_hash=False) == read_battery(native, with_hash=False)
        assert_read_contract(jsonl)
    native.close()
    assert sha256_of(path) == before


def test_an_export_answers_exactly_like_its_native_store_hashes_included(tmp_path: Path) -> None:
    native = build_native(tmp_path / "native.db", reference_history())
    path = tmp_path / "export.jsonl"
    with open(path, "wb") as out:
        write_jsonl(native, out)
    with open_source(str(path)) as jsonl:
        assert jsonl.describe().kind == "jsonl"
        assert jsonl.describe().has_hash_chain
        assert read_battery(jsonl) == read_battery(native)
        assert jsonl.head_digest() == native.head_digest()
    native.close()


def test_native_store_satisfies_the_read_contract(tmp_path: Path) -> None:
    native = build_native(tmp_path / "native.db", reference_history())
    assert_read_contract(native)
    native.close()


def test_empty_jsonl_export_is_an_empty_history(tmp_path: Path) -> None:
    native = EventStore.open(str(tmp_path / "empty.db"))
    path = tmp_path / "empty.jsonl"
    with open(path, "wb") as out:
        assert write_jsonl(native, out) == 0
    with open_source(str(path)) as jsonl:
        assert read_battery(jsonl) == read_battery(native)
        assert jsonl.verify().ok
    native.close()


def test_eventsourcing_sqlite_store_satisfies_the_contract_and_matches_its_import(
    tmp_path: Path,
) -> None:
    db = tmp_path / "dogs.sqlite"
    write_dogs(es_sqlite_env(db), 40, snapshot_every=7)
    before = sha256_of(db)
    with EventsourcingSource.open(db) as source:
        assert_read_contract(source)
        # The same history imported natively must answer every question the same way
        # (positions, ids, times, payloads) -- only the native hash chain is extra.
        target = EventStore.open(str(tmp_path / "imported.db"))
        # One event per append: see the catalog test below for multi-stream batches.
        report = import_history(source, target, batch_events=1)
        assert report.appended == source.event_count() and report.clamped == 0
        assert read_battery(source, with_hash=False) == read_battery(target, with_hash=False)
        target.close()
    assert sha256_of(db) == before


@pytest.mark.postgres
def test_eventsourcing_postgres_store_satisfies_the_contract_and_matches_its_import(
    tmp_path: Path, pg_url: str, pg_schema: str
) -> None:
    require_es_postgres()
    write_dogs(es_postgres_env(pg_url, pg_schema), 40, snapshot_every=7)
    with open_source(f"{pg_url}?schema={pg_schema}") as source:
        assert source.describe().kind == "eventsourcing-postgresql"
        assert_read_contract(source)
        target = EventStore.open(str(tmp_path / "imported.db"))
        import_history(source, target, batch_events=1)
        assert read_battery(source, with_hash=False) == read_battery(target, with_hash=False)
        target.close()


def test_batched_import_keeps_each_streams_own_last_recorded_at(tmp_path: Path) -> None:
    native = build_native(tmp_path / "native.db", reference_history())
    target = EventStore.open(str(tmp_path / "imported.db"))
    import_history(native, target, batch_events=1000)
    for info in native.streams(limit=100):
        assert target.stream_info(info.stream_id) == info
    native.close()
    target.close()
