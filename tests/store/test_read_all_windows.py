"""`read_all` with a filter walks the log in adaptive position windows, switching
between the filter's index and a plain position scan; whatever it does, it must return
exactly the events a plain filter over the whole log returns, in order.

The chunk size is shrunk so a few hundred events make many windows: rare, common and
mixed event types, bounds, limits and both directions are drawn by Hypothesis.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from eventscope.store import EventFilter, EventStore, NewEvent
from eventscope.store.native import reading as reading_module
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

EVENTS = 900


def kind(i: int) -> str:
    if i % 97 == 0:
        return "Rare"
    if i % 3 == 0:
        return "Third"
    return "Common"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> EventStore:
    path = Path(tmp_path_factory.mktemp("windows")) / "store.db"
    writer = EventStore.open(path)
    writer.append_streams(
        [(f"s-{i % 13}", [NewEvent(kind(i), {"i": i})]) for i in range(1, EVENTS + 1)]
    )
    writer.close()
    reader = EventStore.open(path, read_only=True)
    yield reader
    reader.close()


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    types=st.sets(st.sampled_from(["Rare", "Third", "Common", "Absent"]), min_size=1),
    start=st.integers(0, EVENTS + 5),
    stop=st.one_of(st.none(), st.integers(0, EVENTS + 5)),
    limit=st.one_of(st.none(), st.integers(1, 400)),
    backwards=st.booleans(),
    chunk=st.sampled_from([3, 7, 50]),
)
def test_windows_return_what_a_plain_filter_returns(
    store: EventStore,
    monkeypatch: pytest.MonkeyPatch,
    types: set[str],
    start: int,
    stop: int | None,
    limit: int | None,
    backwards: bool,
    chunk: int,
) -> None:
    everything = list(store.read_all())
    assert len(everything) == EVENTS
    if backwards:
        cursor = start if start > 0 else EVENTS + 1
        low = stop if stop is not None else 0
        expected = [e for e in reversed(everything) if low <= e.position < cursor]
    else:
        high = stop if stop is not None else EVENTS
        expected = [e for e in everything if start < e.position <= high]
    expected = [e.position for e in expected if e.event_type in types][:limit]
    with monkeypatch.context() as patch:
        patch.setattr(reading_module, "READ_CHUNK", chunk)
        found = store.read_all(
            start, stop, filter=EventFilter(event_types=types), limit=limit, backwards=backwards
        )
        assert [e.position for e in found] == expected


def test_a_filtered_walk_picks_up_events_appended_during_it(tmp_path: Path, monkeypatch) -> None:
    """Past the head read when the walk began, the last query is unbounded."""
    monkeypatch.setattr(reading_module, "READ_CHUNK", 5)
    store = EventStore.open(tmp_path / "live.db")
    store.append("s-1", [NewEvent("Common", {"i": i}) for i in range(20)])
    walk = store.read_all(filter=EventFilter(event_types={"Common"}))
    first = [next(walk).position for _ in range(3)]
    store.append("s-1", [NewEvent("Common", {"i": i}) for i in range(20, 30)])
    assert first + [e.position for e in walk] == list(range(1, 31))
    store.close()


@pytest.mark.parametrize("backwards", [False, True])
def test_windows_on_both_backends(store_factory, monkeypatch, backwards: bool) -> None:
    """The SQLite-only planner hint must never reach PostgreSQL (where `+text` is an
    error); the windows must give the plain filter's answer on both."""
    monkeypatch.setattr(reading_module, "READ_CHUNK", 4)
    live = store_factory()
    live.append_streams([(f"s-{i % 5}", [NewEvent(kind(i), {"i": i})]) for i in range(1, 301)])
    for types in ({"Common"}, {"Rare"}, {"Rare", "Third"}):
        everything = list(live.read_all(backwards=backwards))
        expected = [e.position for e in everything if e.event_type in types]
        found = live.read_all(filter=EventFilter(event_types=types), backwards=backwards)
        assert [e.position for e in found] == expected
