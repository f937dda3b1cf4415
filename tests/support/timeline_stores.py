"""Small deterministic stores for the timeline and diff tests (and the slider benchmark).

Every timestamp is explicit, so snapshots of the screens are stable run after run. The
streams use the generic fold (no registered aggregate): each event's data is merged into
the state, which keeps the expected states easy to read in the tests.
"""

from __future__ import annotations

import sqlite3
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from eventscope.store import EventStore, NewEvent

from support.hostile import TIMELINE_HOSTILE as HOSTILE
from support.hostile import TIMELINE_HOSTILE_STREAM as HOSTILE_STREAM
from support.textual import screen_text, settle  # noqa: F401  (re-exported for the tests)

BASE = datetime(2026, 3, 1, 9, 0, 0, tzinfo=UTC)
ACCOUNT = "acct-001"
STALE = "acct-002"


def recorded(i: int) -> datetime:
    """Recorded time of the i-th event appended by `build_store` (1-based, per stream)."""
    return BASE + timedelta(hours=i)


def _event(i: int, event_type: str, data: dict[str, Any], actor: str, **kw: Any) -> NewEvent:
    occurred = kw.pop("occurred", recorded(i) - timedelta(minutes=5))
    return NewEvent(
        event_type=event_type,
        data=data,
        metadata={"actor": actor, "correlation_id": f"corr-{i:03d}", "causation_id": None},
        event_id=uuid.UUID(int=i + kw.pop("id_offset", 0)),
        occurred_at=occurred,
        recorded_at=recorded(i) + kw.pop("shift", timedelta(0)),
    )


def account_events(
    count: int = 12, id_offset: int = 0, shift: timedelta = timedelta(0)
) -> list[NewEvent]:
    """Opened, then deposits/withdrawals moving `balance`, an address change at v4, and a
    backdated correction at v7 (occurred ten days before it was recorded)."""
    out = [
        _event(
            1,
            "AccountOpened",
            {"owner": "alice", "balance": 0, "status": "open"},
            "alice",
            id_offset=id_offset,
            shift=shift,
        )
    ]
    balance = 0
    for i in range(2, count + 1):
        if i == 4:
            out.append(
                _event(
                    i,
                    "AddressChanged",
                    {"address": {"city": "Lyon", "zip": "69001"}},
                    "bob",
                    id_offset=id_offset,
                    shift=shift,
                )
            )
            continue
        if i == 7:
            balance -= 5
            out.append(
                _event(
                    i,
                    "FeeCorrected",
                    {"balance": balance, "fee": 5},
                    "auditor",
                    occurred=recorded(i) - timedelta(days=10),
                    id_offset=id_offset,
                    shift=shift,
                )
            )
            continue
        amount = 10 * i if i % 3 else -7 * i
        balance += amount
        kind = "Deposited" if amount > 0 else "Withdrawn"
        out.append(
            _event(
                i,
                kind,
                {"balance": balance, "last_amount": amount},
                "alice" if i % 2 else "bob",
                id_offset=id_offset,
                shift=shift,
            )
        )
    return out


def build_store(path: Path, *, hostile: bool = True) -> Path:
    """acct-001 (12 events); acct-002 (8 events) with snapshots at v3 (right), v6 (stale:
    balance off by 1000) and v8 (wrong too), so the first divergent snapshot is v6; and
    optionally a stream full of hostile strings."""
    store = EventStore.open(path)
    try:
        store.append(ACCOUNT, account_events(12), stream_type="Account")
        store.append(
            STALE, account_events(8, id_offset=1000, shift=timedelta(days=1)), stream_type="Account"
        )
        truth = _replay(6)
        stale = dict(truth, balance=truth["balance"] + 1000)
        store.save_snapshot(STALE, 3, _replay(3), "generic", code_version="test")
        store.save_snapshot(STALE, 6, stale, "generic", code_version="test")
        store.save_snapshot(STALE, 8, dict(_replay(8), balance=-1), "generic", code_version="t")
        if hostile:
            store.append(
                HOSTILE_STREAM,
                [
                    _event(
                        1,
                        "Opened[red]",
                        {"owner": HOSTILE, "balance": 1},
                        HOSTILE,
                        id_offset=2000,
                        shift=timedelta(days=2),
                    ),
                    _event(
                        2,
                        "Noted",
                        {HOSTILE: HOSTILE, "balance": 2},
                        "eve",
                        id_offset=2000,
                        shift=timedelta(days=2),
                    ),
                ],
                stream_type="Account",
            )
            claim = {"owner": "mallory", "balance": 2, HOSTILE: HOSTILE + "[/]"}
            store.save_snapshot(HOSTILE_STREAM, 2, claim, "generic", code_version="t")
    finally:
        store.close()
    # A snapshot's created_at is the wall clock of the write; screens show it (which code
    # wrote a claim, and when), so pin it for pictures that are the same run after run.
    connection = sqlite3.connect(path)
    try:
        with connection:
            connection.execute("UPDATE snapshots SET created_at = '2026-03-02T09:30:00.000000Z'")
    finally:
        connection.close()
    return path


def _replay(version: int) -> dict[str, Any]:
    """The generic fold of the first `version` events of `account_events`."""
    state: dict[str, Any] = {}
    for event in account_events(version):
        state = _merge(state, event.data)
    return state


def _merge(state: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    out = dict(state)
    for key, value in data.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict):
            out[key] = _merge(out.get(key) if isinstance(out.get(key), dict) else {}, value)
        else:
            out[key] = value
    return out


def build_long_stream(path: Path, count: int, stream_id: str = "acct-big") -> Path:
    """One stream of `count` balance-moving events (for the slider benchmark)."""
    store = EventStore.open(path, synchronous="NORMAL")
    try:
        batch: list[NewEvent] = []
        balance = 0
        written = 0
        for i in range(1, count + 1):
            amount = (i * 7919) % 200 - 90
            balance += amount
            data = {"balance": balance, "last_amount": amount, "ops": i}
            if i == 1:
                data.update(owner="bench", status="open")
            batch.append(
                NewEvent(
                    event_type="Deposited" if amount >= 0 else "Withdrawn",
                    data=data,
                    metadata={"actor": f"user-{i % 17}", "correlation_id": f"c-{i}"},
                    occurred_at=BASE + timedelta(seconds=30 * i),
                    recorded_at=BASE + timedelta(seconds=30 * i),
                )
            )
            if len(batch) == 5000:
                store.append(stream_id, batch, expected_version=written, stream_type="Account")
                written += len(batch)
                batch = []
        if batch:
            store.append(stream_id, batch, expected_version=written, stream_type="Account")
    finally:
        store.close()
    return path


def open_app(
    path: Path | str,
    stream: str | None = None,
    version: int | None = None,
    domain: str | None = None,
) -> Any:
    """The real app on `path` (read-only), as `eventscope open --stream` builds it."""
    from eventscope.explorer.app import make_app

    return make_app(str(path), stream=stream, version=version, domain=domain)
