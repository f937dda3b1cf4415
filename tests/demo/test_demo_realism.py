"""Does the history look like a real bank and shop? Business hours, quiet weekends,
months of activity, several kinds of actor, sagas with causation chains."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import timedelta

from demo_stores import anomalies
from eventscope.store import EventStore

BILLING, PAYROLL = "service:billing", "service:payroll-gateway"
BATCH_ACTORS = (BILLING, PAYROLL)


def test_business_hours_and_quiet_weekends(medium_demo) -> None:
    path, manifest = medium_demo
    source = EventStore.open(str(path), read_only=True)
    try:
        events = list(source.read_all())
    finally:
        source.close()
    span = events[-1].recorded_at - events[0].recorded_at
    assert span > timedelta(days=150)  # months of business
    days = (span.days // 7) * 7
    batch = [e for e in events if e.actor in BATCH_ACTORS]
    month_end = {(e.recorded_at.day, e.recorded_at.hour) for e in batch if e.actor == BILLING}
    assert month_end <= {(1, 1), (1, 2)}
    paydays = {e.recorded_at for e in batch if e.actor == PAYROLL}
    assert {(m.day, m.hour) for m in paydays} <= {(d, 5) for d in (23, 24, 25)}
    assert all(m.weekday() < 5 for m in paydays)
    weekday_hours = Counter()
    weekend = 0
    for event in events:
        moment = event.recorded_at
        if event.actor in BATCH_ACTORS:
            continue  # the month-end and payday night batches
        if moment.weekday() >= 5:
            weekend += 1
        else:
            weekday_hours[moment.hour] += 1
    people = len(events) - len(batch)
    office = sum(weekday_hours[h] for h in range(9, 17))
    night = sum(weekday_hours[h] for h in (23, 0, 1, 2, 3, 4, 5))
    assert office > 0.55 * people
    assert night < 0.03 * people
    per_weekend_day = weekend / (2 * days / 7)
    per_weekday = sum(weekday_hours.values()) / (5 * days / 7)
    assert per_weekend_day < 0.35 * per_weekday


def test_actors_streams_and_sagas(medium_demo) -> None:
    path, manifest = medium_demo
    source = EventStore.open(str(path), read_only=True)
    try:
        events = list(source.read_all())
    finally:
        source.close()
    kinds = Counter(event.actor.split(":")[0] for event in events if event.actor)
    assert set(kinds) == {"customer", "teller", "service", "officer", "backoffice"}
    assert len({e.actor for e in events if e.actor.startswith("teller:")}) >= 3
    assert set(manifest["streams"]) == {"account", "customer", "inventory", "order", "transfer"}
    by_id = {event.event_id: event for event in events}
    by_correlation = defaultdict(list)
    for event in events:
        by_correlation[event.correlation_id].append(event)
    outcomes = Counter()
    for transfer_id, chain in by_correlation.items():
        if not transfer_id.startswith("transfer-"):
            continue
        outcomes[chain[-1].event_type] += 1
        assert chain[0].event_type == "TransferRequested"
        for event in chain[1:]:  # every reaction names the event that caused it
            cause = by_id[event.causation_id]
            assert cause.correlation_id == transfer_id and cause.position < event.position
    assert outcomes["TransferCompleted"] > 100
    assert outcomes["TransferDeclined"] > 0 and outcomes["TransferFailed"] > 0
    assert manifest["rejected_commands"] > 0
    assert len(anomalies(manifest, "backdated_correction")) == 4


def test_balances_never_break_the_overdraft_rule_outside_compensation(medium_demo) -> None:
    """Replaying with the aggregate: no account ever went below its overdraft limit."""
    from eventscope.domain.demo import Account

    path, _manifest = medium_demo
    source = EventStore.open(str(path), read_only=True)
    try:
        states: dict[str, dict] = {}
        for event in source.read_all():
            if event.stream_type != "account":
                continue
            from eventscope.domain.demo.events import REGISTRY

            data = REGISTRY.decode(event).data
            state = states.setdefault(event.stream_id, Account.initial_state())
            Account.fold(state, event.event_type, data)
            assert state["balance_cents"] >= -state["overdraft_limit_cents"], event.position
    finally:
        source.close()
    assert len(states) > 100


def test_the_stream_catalog_matches_the_events(fixture_demo) -> None:
    path, _manifest = fixture_demo
    source = EventStore.open(str(path), read_only=True)
    try:
        last_seen: dict[str, object] = {}
        for event in source.read_all():
            last_seen[event.stream_id] = event.recorded_at
        wrong = [
            info.stream_id
            for info in source.streams(limit=10_000)
            if info.last_recorded_at != last_seen[info.stream_id]
        ]
    finally:
        source.close()
    assert wrong == []
