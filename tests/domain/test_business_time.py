"""The business-time axis against a plain reference fold, on every source kind.

The definition (README "What a state means"): the state as of business time O, as known
at recorded time R, folds the stream's events with recorded_at <= R and occurred_at <= O
in occurred order, ties by version; R defaults to everything recorded; no such event ->
the initial state at version 0.

The reference below is that sentence written as plainly as possible over the events the
source returns; the engine (checkpoints, cached views, a version-order prefix) must give
the same state, the same applied versions and the same blame on random histories with
backdated events -- written natively to SQLite and PostgreSQL, as JSON Lines, and
through the `eventsourcing` library.
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from domain_helpers import LEDGER_EVENTS, Credited, Ledger, at
from eventscope.domain import Engine
from eventscope.domain.aggregate import applies
from eventscope.domain.blame import leaves
from eventscope.domain.fold import merge
from eventscope.domain.plugin import DomainPlugin
from eventscope.store import EventStore, NewEvent, open_source
from eventscope.store.source import EventSource
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


# --- random histories -----------------------------------------------------------------
@dataclass(frozen=True)
class Draft:
    """One event to write: minutes after T0 it was recorded, and how far back it
    occurred (0 = on time; > 0 = backdated by that many minutes)."""

    recorded_minute: int
    backdated_minutes: int
    data: dict[str, Any]


values = st.one_of(st.integers(-3, 3), st.none(), st.text("xy", max_size=2))
payloads = st.dictionaries(
    st.sampled_from(["a", "b", "c", "o"]),
    st.one_of(values, st.dictionaries(st.sampled_from(["x", "y"]), values, max_size=2)),
    max_size=3,
)


@st.composite
def histories(draw: st.DrawFn) -> list[Draft]:
    count = draw(st.integers(0, 24))
    minute = 0
    out = []
    for _ in range(count):
        minute += draw(st.integers(0, 3))  # ties in recorded time happen too
        back = draw(st.one_of(st.just(0), st.integers(0, 40)))
        out.append(Draft(minute, back, draw(payloads)))
    return out


def moments(history: list[Draft]) -> st.SearchStrategy[tuple[datetime, datetime | None]]:
    last = max((d.recorded_minute for d in history), default=0)
    minute = st.integers(-45, last + 2).map(lambda m: T0 + timedelta(minutes=m))
    exact = [T0 + timedelta(minutes=d.recorded_minute - d.backdated_minutes) for d in history] + [
        T0 + timedelta(minutes=d.recorded_minute) for d in history
    ]
    moment = st.one_of(minute, st.sampled_from(exact)) if exact else minute
    return st.tuples(moment, st.one_of(st.none(), moment))


# --- the reference --------------------------------------------------------------------
def reference(
    source: EventSource, stream_id: str, as_of: datetime, known_at: datetime | None
) -> tuple[dict[str, Any], list[int], dict[tuple[Any, ...], int]]:
    """State, applied versions and blame ({leaf path: version}) by the definition."""
    events = [
        e
        for e in source.read_stream(stream_id)
        if e.occurred_at <= as_of and (known_at is None or e.recorded_at <= known_at)
    ]
    events.sort(key=lambda e: (e.occurred_at, e.version))
    state: dict[str, Any] = {}
    blame: dict[tuple[Any, ...], int] = {}
    for event in events:
        before = dict(leaves(state))
        merge(state, orjson.loads(orjson.dumps(event.data)))
        for path, value in leaves(state):
            if path not in before or not _same(before[path], value):
                blame[path] = event.version
    current = {path for path, _ in leaves(state)}
    return state, [e.version for e in events], {p: v for p, v in blame.items() if p in current}


def _same(a: Any, b: Any) -> bool:
    return orjson.dumps(a, option=orjson.OPT_SORT_KEYS) == orjson.dumps(
        b, option=orjson.OPT_SORT_KEYS
    )


def check(
    source: EventSource, stream_id: str, asks: list[tuple[datetime, datetime | None]]
) -> None:
    engine = Engine(source, checkpoint_every=3)  # small K: checkpoints are crossed often
    timeline = engine.timeline(stream_id)
    for as_of, known_at in asks:
        state, applied, blame = reference(source, stream_id, as_of, known_at)
        got = engine.state(stream_id, at=as_of, axis="occurred", known_at=known_at)
        assert _same(got.state, state), (as_of, known_at)
        assert list(got.applied_versions or ()) == applied
        assert got.version == max(applied, default=0)
        assert got.as_of == as_of and got.known_at == known_at
        entries = timeline.blame_as_of(as_of, known_at)
        assert {e.path: e.version for e in entries if e.version} == blame
        assert {e.path for e in entries} == {p for p, _ in leaves(state)}


# --- writing one history to each kind of source ----------------------------------------
def new_events(history: list[Draft], base: datetime = T0) -> list[NewEvent]:
    return [
        NewEvent(
            event_type="Noted",
            data=d.data,
            metadata={"actor": "ann"},
            occurred_at=base + timedelta(minutes=d.recorded_minute - d.backdated_minutes),
            recorded_at=base + timedelta(minutes=d.recorded_minute, microseconds=i),
        )
        for i, d in enumerate(history)
    ]


def write_native(store: EventStore, stream_id: str, history: list[Draft], base: datetime) -> None:
    """One append per event (a backfill keeps recorded_at), another stream interleaved."""
    for index, event in enumerate(new_events(history, base)):
        store.append(stream_id, [event], stream_type="thing")
        if index % 4 == 1:
            store.append(
                "other-" + stream_id,
                [NewEvent("Noted", {"z": index}, recorded_at=event.recorded_at)],
                stream_type="thing",
            )


def write_jsonl(path: Path, stream_id: str, history: list[Draft]) -> None:
    lines = []
    for index, event in enumerate(new_events(history)):
        lines.append(
            orjson.dumps(
                {
                    "stream_id": stream_id,
                    "stream_type": "thing",
                    "event_type": event.event_type,
                    "version": index + 1,
                    "data": event.data,
                    "occurred_at": event.occurred_at.isoformat() if event.occurred_at else None,
                    "recorded_at": event.recorded_at.isoformat() if event.recorded_at else None,
                }
            )
        )
    path.write_bytes(b"".join(line + b"\n" for line in lines) or b"")


class Thing(Aggregate):
    """An `eventsourcing` aggregate whose events carry a payload of random values."""

    class Noted(Aggregate.Event):
        values: dict[str, Any]

        def apply(self, aggregate: Any) -> None:
            pass


class Things(Application):
    name = "Things"


def write_eventsourcing(path: Path, history: list[Draft]) -> str:
    """The library's own Aggregate; each event's `timestamp` (both of its times for
    eventscope) is set explicitly, so histories are out of order there as well."""
    app = Things(env={"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(path)})
    try:
        thing = Thing()
        for event in new_events(history):
            thing.trigger_event(Thing.Noted, values=event.data, timestamp=event.occurred_at)
        app.save(thing)
        return str(thing.id)
    finally:
        app.close()


@st.composite
def cases(draw: st.DrawFn) -> tuple[list[Draft], list[tuple[datetime, datetime | None]]]:
    history = draw(histories())
    return history, draw(st.lists(moments(history), min_size=1, max_size=6))


SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@contextmanager
def scratch() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="eventscope-bt-") as folder:
        yield Path(folder)


@SETTINGS
@given(case=cases())
def test_native_store_matches_reference(
    case: tuple[list[Draft], list[Any]], store_factory: Any
) -> None:
    history, asks = case
    if not history:
        history = [Draft(0, 0, {})]
    store = store_factory()
    # The store never lets recorded_at go back, and examples share it: each history is
    # written a day after the previous one, and its questions are moved with it.
    head = store.event_at(store.head_position()) if store.head_position() else None
    base = max(T0, head.recorded_at + timedelta(days=1)) if head is not None else T0
    shift = base - T0
    stream_id = f"s-{uuid.uuid4().hex[:8]}"
    write_native(store, stream_id, history, base)
    reader = store_factory(read_only=True)
    moved = [(o + shift, None if r is None else r + shift) for o, r in asks]
    check(reader, stream_id, moved)


@SETTINGS
@given(case=cases())
def test_jsonl_source_matches_reference(case: tuple[list[Draft], list[Any]]) -> None:
    history, asks = case
    if not history:
        history = [Draft(0, 0, {})]
    with scratch() as folder:
        path = folder / "h.jsonl"
        write_jsonl(path, "s-1", history)
        with open_source(str(path), format="jsonl", read_only=True) as source:
            check(source, "s-1", asks)


@settings(max_examples=25, deadline=None)
@given(case=cases())
def test_eventsourcing_source_matches_reference(case: tuple[list[Draft], list[Any]]) -> None:
    history, asks = case
    with scratch() as folder:
        path = folder / "es.sqlite"
        stream_id = write_eventsourcing(path, history)
        with open_source(f"eventsourcing:{path}", read_only=True) as source:
            check(source, stream_id, asks)


# --- named cases ----------------------------------------------------------------------
def _store_with(store: EventStore, rows: list[tuple[int, int, dict[str, Any]]]) -> None:
    """rows: (recorded minute, occurred minute, data) in recorded order."""
    for i, (rec, occ, data) in enumerate(rows):
        store.append(
            "s",
            [
                NewEvent(
                    "Noted",
                    data,
                    occurred_at=T0 + timedelta(minutes=occ),
                    recorded_at=T0 + timedelta(minutes=rec, microseconds=i),
                )
            ],
            stream_type="thing",
        )


def test_events_after_the_moment_are_left_out_even_below_a_backdated_version(
    sqlite_store: EventStore,
) -> None:
    """The bug this axis had: "the last version whose occurred_at <= O" folded v2 (which
    occurred after O) because the backdated v3 occurred before it."""
    _store_with(sqlite_store, [(0, 0, {"a": 1}), (10, 10, {"b": 2}), (20, 5, {"c": 3})])
    timeline = Engine(sqlite_store).timeline("s")
    at = timeline.state_as_of(T0 + timedelta(minutes=6))
    assert at.state == {"a": 1, "c": 3}
    assert at.applied_versions == (1, 3)
    assert at.version == 3
    earlier = timeline.state_as_of(T0 + timedelta(minutes=6), T0 + timedelta(minutes=15))
    assert earlier.state == {"a": 1} and earlier.applied_versions == (1,)


def test_nothing_happened_yet_is_the_initial_state_not_an_error(sqlite_store: EventStore) -> None:
    _store_with(sqlite_store, [(0, 0, {"a": 1})])
    at = Engine(sqlite_store).timeline("s").state_as_of(T0 - timedelta(days=1))
    assert (at.version, at.state, at.applied_versions) == (0, {}, ())


def test_occurred_order_decides_last_writer_wins_and_blame(sqlite_store: EventStore) -> None:
    # v2 sets a=2 on time; v3, recorded later, is backdated to before v2 and sets a=3.
    # In business-time order v3 comes first, so v2's value wins and blame names v2.
    _store_with(sqlite_store, [(0, 0, {"a": 1}), (10, 10, {"a": 2}), (20, 5, {"a": 3})])
    timeline = Engine(sqlite_store).timeline("s")
    at = timeline.state_as_of(T0 + timedelta(minutes=30))
    assert at.state == {"a": 2} and at.applied_versions == (1, 3, 2)
    assert [(e.path, e.version) for e in timeline.blame_as_of(T0 + timedelta(minutes=30))] == [
        (("a",), 2)
    ]
    assert timeline.state_at().state == {"a": 3}  # the recorded axis stays version order


def test_cached_view_is_reused_while_as_of_moves(
    sqlite_store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Scrubbing O with a fixed R must not re-read or re-fold the stream every time."""
    rows = [(i, i - (30 if i % 10 == 9 else 0), {"n": i}) for i in range(200)]
    _store_with(sqlite_store, rows)
    timeline = Engine(sqlite_store, checkpoint_every=8).timeline("s")
    timeline.state_as_of(T0 + timedelta(minutes=100))
    view = timeline.business_view()
    assert not view.identity and view.base < 20
    reads: list[int] = []
    original: Callable[..., Any] = sqlite_store.read_stream

    def counting(*args: Any, **kwargs: Any) -> Any:
        reads.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(sqlite_store, "read_stream", counting)
    applied = 0
    folder = timeline.folder
    real_apply = folder.apply

    def counting_apply(*args: Any) -> Any:
        nonlocal applied
        applied += 1
        return real_apply(*args)

    monkeypatch.setattr(folder, "apply", counting_apply)
    for minute in range(60, 200, 7):
        timeline.state_as_of(T0 + timedelta(minutes=minute))
    assert timeline.business_view() is view
    assert applied <= 20 * 8  # at most K applies per question, never a refold
    assert len(reads) <= 8  # only chunks the LRU had dropped


# --- an aggregate that refuses an event out of order ------------------------------------
class StrictLedger(Ledger):
    """A credit before the ledger was opened is refused by its applier."""

    stream_type = "ledger"

    @applies(Credited)
    def _credited(state: dict[str, Any], data: dict[str, Any]) -> None:
        if state["owner"] is None:
            raise ValueError("a credit before the ledger was opened")
        state["balance"] += data["amount"]
        state["credits"] += 1


STRICT = DomainPlugin(aggregates={"ledger": StrictLedger}, events=LEDGER_EVENTS)


def test_an_event_refused_in_business_time_order_is_skipped_and_named(
    sqlite_store: EventStore,
) -> None:
    """v2 (a credit) is backdated to before v1 (the opening): the aggregate refuses it in
    business-time order. The answer names it with the reason instead of failing."""
    for rec, occ, event_type, data in [
        (10, 10, "Opened", {"owner": "ann"}),
        (11, 9, "Credited", {"amount": 5, "currency": "EUR"}),
        (12, 12, "Credited", {"amount": 7, "currency": "EUR"}),
    ]:
        sqlite_store.append(
            "l-1",
            [
                NewEvent(
                    event_type,
                    data,
                    schema_version=2 if event_type == "Credited" else 1,
                    occurred_at=at(occ),
                    recorded_at=at(rec),
                )
            ],
            stream_type="ledger",
        )
    engine = Engine(sqlite_store, STRICT)
    timeline = engine.timeline("l-1")
    assert timeline.state_at().state["balance"] == 12  # version order: all apply
    result = engine.state("l-1", at=at(13), axis="occurred")
    assert result.applied_versions == (1, 3)
    assert result.state["balance"] == 7
    [refused] = result.skipped
    assert (refused.version, refused.event_type) == (2, "Credited")
    assert "refused it in business-time order" in refused.reason
    assert "a credit before the ledger was opened" in refused.reason
    assert result.to_json()["skipped"][0]["version"] == 2
    before = engine.state("l-1", at=at(9.5), axis="occurred")
    assert before.applied_versions == () and [s.version for s in before.skipped] == [2]


def test_a_projection_as_of_business_time_feeds_events_in_occurred_order(
    sqlite_store: EventStore,
) -> None:
    """World as of T on the business-time axis: the Balances projection as of O, as
    known at R, against a hand-made reference (owner set last in occurred order wins)."""
    from domain_helpers import PLUGIN

    rows = [  # (stream, recorded h, occurred h, type, data)
        ("l-1", 1, 1, "Opened", {"owner": "ann"}),
        ("l-2", 2, 2, "Opened", {"owner": "bob"}),
        ("l-1", 3, 3, "Credited", {"amount": 10, "currency": "EUR"}),
        ("l-1", 4, 2.5, "Debited", {"amount": 4}),  # backdated before the credit
        ("l-2", 5, 1.5, "Credited", {"amount": 7, "currency": "EUR"}),  # before bob opened
        ("l-1", 6, 6, "Credited", {"amount": 1, "currency": "EUR"}),
    ]
    for stream, rec, occ, event_type, data in rows:
        sqlite_store.append(
            stream,
            [
                NewEvent(
                    event_type,
                    data,
                    schema_version=2 if event_type == "Credited" else 1,
                    occurred_at=at(occ),
                    recorded_at=at(rec),
                )
            ],
            stream_type="ledger",
        )
    engine = Engine(sqlite_store, PLUGIN)
    docs = engine.projection_as_of_business("balances", at(3))
    assert docs["l-1"] == {"owner": "ann", "balance": 6, "events": 3}
    assert docs["l-2"] == {"owner": "bob", "balance": 7, "events": 2}
    known = engine.projection_as_of_business("balances", at(3), known_at=at(4.5))
    assert known["l-2"] == {"owner": "bob", "balance": 0, "events": 1}  # v2 not known yet
    assert engine.projection_as_of_business("balances", at(0)) == {}
    everything = engine.projection_as_of_business("balances", at(99))
    assert everything == engine.projection_as_of("balances")
