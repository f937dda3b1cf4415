"""Events, the registry and upcasters: every undecodable case becomes a value with a
reason, and upcasting never changes stored bytes."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from domain_helpers import LEDGER_EVENTS, Credited, add_currency
from eventscope.domain.events import DomainEvent, EventRegistry, upcaster
from eventscope.store.records import RecordedEvent
from hypothesis import given
from hypothesis import strategies as st

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def record(
    event_type: str, data: dict[str, Any], schema_version: int = 1, decode_error: str | None = None
) -> RecordedEvent:
    return RecordedEvent(
        1, "s-1", "thing", 1, "id-1", event_type, schema_version, data, {}, NOW, NOW, "h",
        decode_error,
    )  # fmt: skip


def test_event_type_defaults_to_the_class_name_and_payload_is_json() -> None:
    class ThingHappened(DomainEvent):
        at: datetime

    assert ThingHappened.event_type == "ThingHappened"
    assert ThingHappened.schema_version == 1
    assert Credited.schema_version == 2
    assert ThingHappened(at=NOW).payload() == {"at": "2026-01-01T00:00:00Z"}


def test_events_are_frozen_and_refuse_unknown_fields() -> None:
    event = Credited(amount=1, currency="EUR")
    with pytest.raises(Exception, match="frozen"):
        event.amount = 2  # type: ignore[misc]
    with pytest.raises(Exception, match="extra"):
        Credited(amount=1, currency="EUR", note="x")  # type: ignore[call-arg]


def test_upcast_chains_to_the_current_version_and_reports_the_chain() -> None:
    registry = EventRegistry(LEDGER_EVENTS, [add_currency])
    decoded = registry.decode(record("Credited", {"amount": 5}, schema_version=1))
    assert decoded.ok
    assert decoded.raw == {"amount": 5}
    assert decoded.data == {"amount": 5, "currency": "EUR"}
    assert decoded.schema_version == 2
    assert decoded.chain == ("Credited v1→v2 (add_currency)",)
    assert decoded.validate() == Credited(amount=5, currency="EUR")


def test_multi_step_chain_runs_in_order() -> None:
    class Moved(DomainEvent):
        schema_version = 3
        to: str
        by: str

    @upcaster("Moved", 1)
    def rename(data: dict[str, Any]) -> dict[str, Any]:
        return {"to": data["target"]}

    @upcaster("Moved", 2)
    def add_by(data: dict[str, Any]) -> dict[str, Any]:
        return {**data, "by": "system"}

    registry = EventRegistry([Moved], [add_by, rename])
    decoded = registry.decode(record("Moved", {"target": "B"}))
    assert decoded.data == {"to": "B", "by": "system"}
    assert [label.split(" (")[0] for label in decoded.chain] == ["Moved v1→v2", "Moved v2→v3"]
    current = registry.decode(record("Moved", {"to": "C", "by": "x"}, schema_version=3))
    assert current.chain == () and current.data == {"to": "C", "by": "x"}


@pytest.mark.parametrize(
    ("case", "recorded", "reason"),
    [
        ("invalid JSON", record("Credited", {}, decode_error="line 3: invalid JSON"), "line 3"),
        ("missing step", record("Credited", {"amount": 1}, schema_version=0), "no upcaster from version 0"),
        ("newer than code", record("Credited", {"amount": 1}, schema_version=7), "newer than the code"),
    ],
)  # fmt: skip
def test_undecodable_events_carry_a_reason(case: str, recorded: RecordedEvent, reason: str) -> None:
    decoded = EventRegistry(LEDGER_EVENTS, [add_currency]).decode(recorded)
    assert not decoded.ok, case
    assert decoded.data is None
    assert reason in (decoded.error or "")
    assert decoded.raw == recorded.data


def test_unknown_type_is_undecodable_only_in_a_strict_registry() -> None:
    foreign = record("SomethingElse", {"x": 1})
    assert EventRegistry(LEDGER_EVENTS).decode(foreign).data == {"x": 1}
    strict = EventRegistry(LEDGER_EVENTS, strict=True).decode(foreign)
    assert strict.error is not None and "unknown event type 'SomethingElse'" in strict.error


def test_a_failing_upcaster_is_an_explained_value_not_an_exception() -> None:
    @upcaster("Credited", 1)
    def broken(data: dict[str, Any]) -> dict[str, Any]:
        return {"amount": data["cents"] // 100}

    decoded = EventRegistry(LEDGER_EVENTS, [broken]).decode(record("Credited", {"amount": 1}))
    assert decoded.error is not None
    assert "upcaster Credited v1→v2 (broken) failed: KeyError" in decoded.error


def test_an_upcaster_returning_a_non_object_is_undecodable() -> None:
    @upcaster("Credited", 1)
    def to_list(data: dict[str, Any]) -> Any:
        return [data]

    decoded = EventRegistry(LEDGER_EVENTS, [to_list]).decode(record("Credited", {"amount": 1}))
    assert decoded.error is not None and "returned list, not an object" in decoded.error


def test_payload_that_does_not_fit_its_class_is_reported_at_the_boundary() -> None:
    registry = EventRegistry(LEDGER_EVENTS, [add_currency])
    decoded = registry.decode(record("Credited", {"amount": "lots"}, schema_version=1))
    assert decoded.ok  # replay works on plain data ...
    assert decoded.validation_error() is not None  # ... the detail view can still say so
    assert "amount" in (decoded.validation_error() or "")


def test_duplicate_registrations_are_refused() -> None:
    registry = EventRegistry([Credited], [add_currency])

    class Credited2(DomainEvent):
        event_type = "Credited"

    with pytest.raises(ValueError, match="registered twice"):
        registry.register(Credited2)
    with pytest.raises(ValueError, match="two upcasters"):
        registry.add_upcaster(upcaster("Credited", 1)(lambda d: d))


PAYLOADS = st.dictionaries(
    st.text(max_size=5),
    st.recursive(
        st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=5),
        lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=3), c, max_size=3),
        max_leaves=10,
    ),
    max_size=5,
)


@given(PAYLOADS)
def test_upcast_is_deterministic_and_never_changes_the_stored_payload(data: dict) -> None:
    @upcaster("Credited", 1)
    def mutating(payload: dict[str, Any]) -> dict[str, Any]:
        payload["currency"] = "EUR"  # a careless upcaster mutating its input
        payload.setdefault("amount", 0)
        for value in payload.values():
            if isinstance(value, list):
                value.append("touched")
        return payload

    registry = EventRegistry([Credited], [mutating])
    stored = record("Credited", data)
    before = orjson.dumps(stored.data)
    pristine = copy.deepcopy(stored.data)
    first = registry.decode(stored)
    second = registry.decode(stored)
    assert orjson.dumps(stored.data) == before  # stored bytes untouched
    assert stored.data == pristine
    assert first.data == second.data
    assert first.chain == second.chain == ("Credited v1→v2 (mutating)",)
    assert first.raw is stored.data
