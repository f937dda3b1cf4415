"""Small, deterministic native stores for the shell's Pilot and snapshot tests.

Explicit event ids and timestamps (recorded and occurred) make every hash, every row and
every snapshot SVG identical from run to run.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from eventscope.store import ANY, EventStore, NewEvent

from support.hostile import SHELL_HOSTILE as HOSTILE
from support.hostile import SHELL_HOSTILE_STREAM as HOSTILE_STREAM

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def event_id(n: int) -> uuid.UUID:
    return uuid.UUID(int=n + 1)


def build_store(path: Path, accounts: int = 40, orders: int = 12) -> Path:
    """Accounts with deposits/withdrawals, orders, one transfer saga (correlation
    ``corr-transfer-1``) linking two accounts by causation, and hostile strings: an actor
    and a payload (account-0003, ``corr-hostile``) and a whole stream id (HOSTILE_STREAM)."""
    store = EventStore.open(path)
    n = 0
    clock = T0
    batches = []

    def new(
        event_type: str, data: dict, actor: str, corr: str, cause: str | None = None
    ) -> NewEvent:
        nonlocal n, clock
        n += 1
        clock += timedelta(minutes=7, seconds=n % 13)
        meta = {"actor": actor, "correlation_id": corr}
        if cause is not None:
            meta["causation_id"] = cause
        return NewEvent(
            event_type,
            data,
            meta,
            event_id=event_id(n),
            occurred_at=clock - timedelta(seconds=30),
            recorded_at=clock,
        )

    for a in range(accounts):
        sid = f"account-{a:04d}"
        events = [
            new(
                "AccountOpened",
                {"owner": f"customer-{a}", "balance": 0},
                "teller-ann",
                f"corr-open-{a}",
            )
        ]
        for k in range(1 + a % 5):
            events.append(
                new(
                    "MoneyDeposited",
                    {"amount": 100 * (k + 1)},
                    f"customer-{a}",
                    f"corr-dep-{a}-{k}",
                )
            )
        if a == 3:
            events.append(new("NoteAdded", {"note": HOSTILE}, HOSTILE, "corr-hostile"))
        batches.append((sid, events, None, "account"))
    for o in range(orders):
        sid = f"order-{o:04d}"
        events = [
            new("OrderPlaced", {"lines": o + 1}, "shop", f"corr-order-{o}"),
            new("OrderPaid", {"total": 10 * (o + 1)}, "payments", f"corr-order-{o}"),
        ]
        batches.append((sid, events, None, "order"))
    batches.append(
        (
            HOSTILE_STREAM,
            [new("AccountOpened", {"owner": HOSTILE}, HOSTILE, "corr-evil")],
            None,
            "account",
        )
    )
    store.append_streams([(s, e, ANY, t) for s, e, _, t in batches])
    # A transfer saga: command -> withdrawal -> deposit, one correlation id, causation links.
    first = new("TransferRequested", {"amount": 50}, "saga", "corr-transfer-1", "cmd-77")
    withdrawn = new(
        "MoneyWithdrawn", {"amount": 50}, "saga", "corr-transfer-1", str(first.event_id)
    )
    clock_gap = timedelta(hours=2)
    deposited = new(
        "MoneyDeposited", {"amount": 50}, "saga", "corr-transfer-1", str(withdrawn.event_id)
    )
    deposited = NewEvent(
        deposited.event_type,
        deposited.data,
        deposited.metadata,
        event_id=deposited.event_id,
        occurred_at=deposited.occurred_at + clock_gap,
        recorded_at=deposited.recorded_at + clock_gap,
    )
    store.append("transfer-0001", [first], stream_type="transfer")
    store.append("account-0001", [withdrawn])
    store.append("account-0002", [deposited])
    store.close()
    return path


def tamper(path: Path, position: int) -> None:
    """Edit one stored event after the fact, as an attacker with SQL access would."""
    import sqlite3

    with sqlite3.connect(path) as db:
        db.execute("UPDATE events SET data = ? WHERE position = ?", ('{"amount":999999}', position))
