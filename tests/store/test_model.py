"""A Hypothesis stateful model test of the store (reliability.md test 25, reduced).

The model is a plain list of (stream_id, event_id, data) in position order. Rules append,
append with a stale expected version, resend a stored event (same and different content),
read, and reopen the store; after every step the store must equal the model, positions
must be 1..N and the chain must verify. Runs on SQLite and PostgreSQL, one fresh store per
example. EVENTSCOPE_MODEL_EXAMPLES raises the example count (e.g. in a nightly run).
"""

from __future__ import annotations

import os
import tempfile
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from eventscope.store import NO_STREAM, ConcurrencyError, EventStore, IdempotencyConflict, NewEvent
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy.pool import NullPool

EXAMPLES = int(os.environ.get("EVENTSCOPE_MODEL_EXAMPLES", "15"))
STREAM_IDS = st.sampled_from(["acct-1", "acct-2", "order-1"])
PAYLOADS = st.dictionaries(
    st.text(min_size=1, max_size=5),
    st.one_of(st.integers(-(2**53), 2**53), st.text(max_size=8), st.booleans(), st.none()),
    max_size=3,
)


class StoreModel(RuleBasedStateMachine):
    """Compares an EventStore with a list model; `opener` opens the same store again."""

    opener = None  # set per test run

    def __init__(self) -> None:
        super().__init__()
        self.store: EventStore = type(self).opener()
        self.model: list[tuple[str, str, dict, NewEvent]] = []

    def version(self, stream_id: str) -> int:
        return sum(1 for s, *_ in self.model if s == stream_id)

    @rule(stream_id=STREAM_IDS, payloads=st.lists(PAYLOADS, min_size=1, max_size=3))
    def append(self, stream_id: str, payloads: list[dict]) -> None:
        current = self.version(stream_id)
        events = [NewEvent("Changed", data) for data in payloads]
        records = self.store.append(
            stream_id, events, expected_version=current if current else NO_STREAM
        )
        assert [r.version for r in records] == list(range(current + 1, current + 1 + len(events)))
        for event, record in zip(events, records, strict=True):
            assert record.position == len(self.model) + 1
            self.model.append((stream_id, record.event_id, event.data, event))

    @precondition(lambda self: self.model)
    @rule(data=st.data())
    def stale_append(self, data: st.DataObject) -> None:
        stream_id = data.draw(st.sampled_from(sorted({s for s, *_ in self.model})))
        stale = data.draw(st.integers(0, self.version(stream_id) - 1))
        with pytest.raises(ConcurrencyError):
            self.store.append(
                stream_id, [NewEvent("Stale", {})], expected_version=stale or NO_STREAM
            )

    @precondition(lambda self: self.model)
    @rule(data=st.data())
    def resend_same_event(self, data: st.DataObject) -> None:
        index = data.draw(st.integers(0, len(self.model) - 1))
        stream_id, event_id, _payload, event = self.model[index]
        [record] = self.store.append(stream_id, [event], expected_version=NO_STREAM)
        assert (record.position, record.event_id) == (index + 1, event_id)

    @precondition(lambda self: self.model)
    @rule(data=st.data())
    def resend_changed_event(self, data: st.DataObject) -> None:
        index = data.draw(st.integers(0, len(self.model) - 1))
        stream_id, _event_id, payload, event = self.model[index]
        changed = NewEvent(event.event_type, {**payload, "tampered": True}, event_id=event.event_id)
        with pytest.raises(IdempotencyConflict):
            self.store.append(stream_id, [changed])

    @rule(stream_id=STREAM_IDS)
    def read_stream(self, stream_id: str) -> None:
        expected = [(e, d) for s, e, d, _ in self.model if s == stream_id]
        got = [(r.event_id, r.data) for r in self.store.read_stream(stream_id)]
        assert got == expected

    @rule()
    def reopen(self) -> None:
        self.store.close()
        self.store = type(self).opener()

    @invariant()
    def store_equals_model(self) -> None:
        stored = list(self.store.read_all())
        assert [r.position for r in stored] == list(range(1, len(self.model) + 1))
        assert [(r.stream_id, r.event_id, r.data) for r in stored] == [
            (s, e, d) for s, e, d, _ in self.model
        ]
        assert self.store.verify().ok

    def teardown(self) -> None:
        self.store.close()


MODEL_SETTINGS = settings(
    max_examples=EXAMPLES,
    stateful_step_count=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def test_stateful_model(backend: str, request: pytest.FixtureRequest) -> None:
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as directory:
            counter = iter(range(10**6))
            state: dict[str, Path] = {}

            def fresh() -> None:
                state["path"] = Path(directory) / f"model-{next(counter)}.db"

            class SqliteModel(StoreModel):
                def __init__(self) -> None:
                    fresh()
                    super().__init__()

            SqliteModel.opener = staticmethod(lambda: EventStore.open(state["path"]))
            run_state_machine_as_test(SqliteModel, settings=MODEL_SETTINGS)
        return

    pg_url = request.getfixturevalue("pg_url")
    admin = sa.create_engine(pg_url, poolclass=NullPool)
    schemas: list[str] = []

    class PostgresModel(StoreModel):
        def __init__(self) -> None:
            schemas.append(f"m_{uuid.uuid4().hex[:20]}")
            super().__init__()

    PostgresModel.opener = staticmethod(lambda: EventStore.open(pg_url, schema=schemas[-1]))
    try:
        run_state_machine_as_test(PostgresModel, settings=MODEL_SETTINGS)
    finally:
        with admin.begin() as conn:
            for schema in schemas:
                conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.dispose()
