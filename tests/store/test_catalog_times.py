"""The stream catalog's times are each stream's own, even when one `append_streams` call
carries backfilled events (imports, the demo generator) with their own recorded_at."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from eventscope.store import ANY, NO_STREAM, EventStore, NewEvent

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def _at(minutes: int) -> NewEvent:
    moment = T0 + timedelta(minutes=minutes)
    return NewEvent(event_type="Noted", data={"m": minutes}, recorded_at=moment, occurred_at=moment)


def test_each_stream_keeps_its_own_first_and_last_recorded_at(store: EventStore) -> None:
    store.append_streams(
        [
            ("a-1", [_at(0), _at(1)], NO_STREAM, None),
            ("b-1", [_at(2), _at(3), _at(4)], NO_STREAM, None),
        ]
    )
    store.append_streams([("a-1", [_at(5)], ANY, None), ("c-1", [_at(6)], NO_STREAM, None)])
    infos = {info.stream_id: info for info in store.streams()}
    assert infos["a-1"].first_recorded_at == T0
    assert infos["a-1"].last_recorded_at == T0 + timedelta(minutes=5)
    assert infos["b-1"].first_recorded_at == T0 + timedelta(minutes=2)
    assert infos["b-1"].last_recorded_at == T0 + timedelta(minutes=4)
    assert infos["c-1"].last_recorded_at == T0 + timedelta(minutes=6)
    for stream_id, info in infos.items():
        events = list(store.read_stream(stream_id))
        assert info.last_recorded_at == events[-1].recorded_at
