"""Shared pieces for the source tests: one reference history written natively and as JSON
Lines, an `eventsourcing` application to write real foreign stores, and the read half of
the store contract as two checks every source must pass.

Kept in one module so every source is held to exactly the same questions.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
from eventscope.store import EventFilter, EventStore, NewEvent
from eventscope.store.source import EventSource
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import Cipher

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- the reference history -----------------------------------------------------------
@dataclass(frozen=True)
class RefEvent:
    stream_id: str
    stream_type: str
    event_type: str
    data: dict[str, Any]
    metadata: dict[str, Any]
    occurred_at: datetime
    recorded_at: datetime
    event_id: str


def reference_history(count: int = 60) -> list[RefEvent]:
    """A deterministic mixed history: three stream types, eight streams (one with a
    non-ASCII id), nested data with nulls, lists and floats, actors and correlation ids,
    backdated occurred_at; recorded_at strictly increasing."""
    streams = [
        ("acct-1", "account"),
        ("acct-2", "account"),
        ("acct-10", "account"),
        ("order-1", "order"),
        ("order-2", "order"),
        ("order-3", "order"),
        ("cust-ü", "customer"),
        ("cust-b", "customer"),
    ]
    event_types = {
        "account": ["Opened", "Deposited", "Withdrawn"],
        "order": ["Placed", "LineAdded", "Shipped"],
        "customer": ["Registered", "Renamed"],
    }
    out = []
    for i in range(count):
        stream_id, stream_type = streams[(i * 5 + i // 7) % len(streams)]
        names = event_types[stream_type]
        recorded = T0 + timedelta(minutes=7 * i, microseconds=i * 37)
        occurred = recorded - timedelta(days=i % 3, seconds=i)
        data: dict[str, Any] = {
            "n": i,
            "amount": (i * 13) % 500,
            "ratio": i / 8,
            "tags": [f"t{i % 4}", "x"],
            "nested": {"level": i % 5, "gone": None if i % 4 == 0 else i},
            "text": "zürich ✓" if i % 6 == 0 else f"plain {i}",
        }
        metadata = {
            "actor": ["ann", "bob", "cy"][i % 3],
            "correlation_id": f"c-{i // 4}",
            "causation_id": f"c-{i // 4}-{i}",
        }
        out.append(
            RefEvent(
                stream_id=stream_id,
                stream_type=stream_type,
                event_type=names[i % len(names)],
                data=data,
                metadata=metadata,
                occurred_at=occurred,
                recorded_at=recorded,
                event_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"ref/{i}")),
            )
        )
    return out


def build_native(
    path: Path | str, events: Iterable[RefEvent], *, schema: str | None = None
) -> EventStore:
    """A native store (a SQLite path, or a PostgreSQL URL and `schema`) holding the
    events in order (recorded_at kept, as a backfill)."""
    store = EventStore.open(str(path), schema=schema)
    for item in events:
        store.append(
            item.stream_id,
            [
                NewEvent(
                    event_type=item.event_type,
                    data=item.data,
                    metadata=item.metadata,
                    event_id=uuid.UUID(item.event_id),
                    occurred_at=item.occurred_at,
                    recorded_at=item.recorded_at,
                )
            ],
            stream_type=item.stream_type,
        )
    return store


def write_jsonl_by_hand(path: Path, events: Iterable[RefEvent]) -> None:
    """The same history in the JSON Lines format as another program might write it:
    no positions or hashes, versions on some lines only, times in several ISO forms
    (a +02:00 offset, naive-means-UTC, 'Z')."""
    lines = []
    versions: dict[str, int] = {}
    for index, item in enumerate(events):
        versions[item.stream_id] = versions.get(item.stream_id, 0) + 1
        line: dict[str, Any] = {
            "stream_id": item.stream_id,
            "stream_type": item.stream_type,
            "event_type": item.event_type,
            "data": item.data,
            "metadata": item.metadata,
            "event_id": item.event_id,
        }
        if index % 2 == 0:
            line["version"] = versions[item.stream_id]
        plus_two = timezone(timedelta(hours=2))
        line["occurred_at"] = item.occurred_at.astimezone(plus_two).isoformat()
        if index % 3 == 0:
            line["recorded_at"] = item.recorded_at.replace(tzinfo=None).isoformat()
        else:
            line["recorded_at"] = item.recorded_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        lines.append(orjson.dumps(line))
    path.write_bytes(b"\n".join(lines) + b"\n")


# --- an eventsourcing application -----------------------------------------------------
class Dog(Aggregate):
    """The library's own example aggregate shape: decorated command methods."""

    @event("Registered")
    def __init__(self, name: str, weight: Decimal, owner: uuid.UUID) -> None:
        self.name = name
        self.weight = weight
        self.owner = owner
        self.tricks: list[str] = []

    @event("TrickAdded")
    def add_trick(self, trick: str) -> None:
        self.tricks.append(trick)

    @event("Weighed")
    def weigh(self, weight: Decimal, on: datetime) -> None:
        self.weight = weight
        self.weighed_on = on


class KeyedXorCipher(Cipher):
    """A stand-in for the library's AESCipher (pycryptodome is not installed here): a
    keyed, nonce-prefixed keystream -- opaque without the key, which is all the tests need
    (eventscope must list such events with the reason, never fail)."""

    def __init__(self, environment: Any) -> None:
        self.key = (environment.get("CIPHER_KEY") or "").encode()
        if not self.key:
            raise OSError("CIPHER_KEY not in env")

    def _stream(self, nonce: bytes, size: int) -> bytes:
        blocks = []
        counter = 0
        while sum(map(len, blocks)) < size:
            blocks.append(hashlib.sha256(self.key + nonce + counter.to_bytes(8, "big")).digest())
            counter += 1
        return b"".join(blocks)[:size]

    def encrypt(self, plaintext: bytes) -> bytes:
        nonce = os.urandom(12)
        return nonce + bytes(
            a ^ b for a, b in zip(plaintext, self._stream(nonce, len(plaintext)), strict=True)
        )

    def decrypt(self, ciphertext: bytes) -> bytes:
        nonce, body = ciphertext[:12], ciphertext[12:]
        return bytes(a ^ b for a, b in zip(body, self._stream(nonce, len(body)), strict=True))


class DogSchool(Application):
    """An application whose events table is the one eventscope reads."""

    name = "DogSchool"


def es_sqlite_env(path: Path, **extra: str) -> dict[str, str]:
    return {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": str(path),
        **extra,
    }


def require_es_postgres() -> None:
    """The library's PostgreSQL module needs `psycopg_pool` (its `postgres` extra)."""
    import pytest

    pytest.importorskip(
        "psycopg_pool",
        reason="eventsourcing's PostgreSQL recorder needs psycopg-pool "
        "(install eventsourcing[postgres])",
    )


def es_postgres_env(pg_url: str, schema: str, **extra: str) -> dict[str, str]:
    from sqlalchemy.engine import make_url

    url = make_url(pg_url)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": url.database or "",
        "POSTGRES_HOST": url.host or "127.0.0.1",
        "POSTGRES_PORT": str(url.port or 5432),
        "POSTGRES_USER": url.username or "postgres",
        "POSTGRES_PASSWORD": url.password or "",
        "POSTGRES_SCHEMA": schema,
        **extra,
    }


def write_dogs(env: dict[str, str], count: int, *, snapshot_every: int = 0) -> list[Dog]:
    """`count` dogs with 0..3 tricks each (and a weighing for every fifth), saved through
    the library; every `snapshot_every`-th dog also gets a library snapshot."""
    app = DogSchool(env={**env, "IS_SNAPSHOTTING_ENABLED": "y" if snapshot_every else "n"})
    dogs = []
    try:
        batch = []
        for i in range(count):
            dog = Dog(f"dog {i}", Decimal(f"{i}.25"), uuid.uuid5(uuid.NAMESPACE_DNS, f"o{i}"))
            for k in range(i % 4):
                dog.add_trick(f"trick {k}")
            if i % 5 == 0:
                dog.weigh(Decimal("9.75"), T0 + timedelta(days=i))
            dogs.append(dog)
            batch.append(dog)
            if len(batch) == 100:
                app.save(*batch)
                batch = []
        if batch:
            app.save(*batch)
        if snapshot_every:
            for dog in dogs[::snapshot_every]:
                app.take_snapshot(dog.id)
    finally:
        app.close()
    return dogs


# --- the read half of the store contract ----------------------------------------------
def event_view(event: Any, *, with_hash: bool = True) -> dict[str, Any]:
    view = event.to_json()
    view["decode_error"] = event.decode_error
    if not with_hash:
        view.pop("hash")
    return view


def info_view(info: Any) -> dict[str, Any]:
    view = info.to_json()
    view["first_position"] = info.first_position
    view["last_position"] = info.last_position
    return view


def read_battery(source: EventSource, *, with_hash: bool = True) -> dict[str, Any]:
    """Ask a source every read question of the protocol, with answers as plain data, so
    two sources holding the same history can be compared in one assertion."""
    ev = lambda events: [event_view(e, with_hash=with_hash) for e in events]  # noqa: E731
    all_events = list(source.read_all())
    head = source.head_position()
    mid = all_events[len(all_events) // 2].position if all_events else 0
    mid_time = all_events[len(all_events) // 2].recorded_at if all_events else T0
    first = all_events[0] if all_events else None
    out: dict[str, Any] = {
        "head": head,
        "count": source.event_count(),
        "all": ev(all_events),
        "from_mid": ev(source.read_all(from_position=mid)),
        "to_mid": ev(source.read_all(to_position=mid)),
        "window": ev(source.read_all(from_position=3, to_position=mid)),
        "limit3": ev(source.read_all(limit=3)),
        "backwards": ev(source.read_all(backwards=True)),
        "backwards_from_mid": ev(source.read_all(from_position=mid, backwards=True, limit=5)),
        "backwards_window": ev(source.read_all(from_position=mid, to_position=3, backwards=True)),
        "event_at": [
            event_view(e, with_hash=with_hash) if e else None
            for e in (source.event_at(p) for p in (0, 1, mid, head, head + 1))
        ],
        "stream_types": source.stream_types(),
        "count_streams": source.count_streams(),
    }
    filters: dict[str, EventFilter] = {}
    if first is not None:
        filters = {
            "type": EventFilter(event_types=[first.event_type]),
            "types_none": EventFilter(event_types=[]),
            "stream_type": EventFilter(stream_type=first.stream_type),
            "stream_id": EventFilter(stream_id=first.stream_id),
            "prefix": EventFilter(stream_prefix=first.stream_id[:3]),
            "literal_pct": EventFilter(stream_prefix="%"),
            "since": EventFilter(since=mid_time),
            "until": EventFilter(until=mid_time),
            "actor": EventFilter(actor=first.actor) if first.actor else EventFilter(),
            "correlation": EventFilter(correlation_id=first.correlation_id)
            if first.correlation_id
            else EventFilter(),
            "combined": EventFilter(stream_type=first.stream_type, since=mid_time),
        }
    for name, flt in filters.items():
        out[f"filter_{name}"] = ev(source.read_all(filter=flt))
        out[f"count_{name}"] = source.count_events(flt)
        out[f"limited_{name}"] = ev(source.read_all(filter=flt, limit=2))
        hist = source.event_histogram(4, flt)
        out[f"hist_{name}"] = (len(hist), sum(n for _t, n in hist), hist[0][0] if hist else None)
    pages = []
    after = None
    while True:
        page = source.streams(limit=3, after=after)
        if not page:
            break
        pages.append([info_view(i) for i in page])
        after = page[-1].stream_id
    out["stream_pages"] = pages
    infos = [info for page in pages for info in page]
    for stream_type, _count in out["stream_types"]:
        out[f"streams_of_{stream_type}"] = [info_view(i) for i in source.streams(stream_type)]
        out[f"count_streams_{stream_type}"] = source.count_streams(stream_type)
    if infos:
        prefix = infos[0]["stream_id"][:3]
        out["streams_prefix"] = [info_view(i) for i in source.streams(prefix=prefix)]
        out["count_streams_prefix"] = source.count_streams(prefix=prefix)
    out["streams_none"] = source.streams(stream_type="no-such-type")
    for info in infos:
        sid = info["stream_id"]
        one = source.stream_info(sid)
        out[f"info {sid}"] = info_view(one) if one else None
        out[f"stream {sid}"] = ev(source.read_stream(sid))
        out[f"stream {sid} back"] = ev(source.read_stream(sid, backwards=True))
        out[f"stream {sid} 2..3"] = ev(source.read_stream(sid, 2, 3))
        out[f"stream {sid} 2..3 back"] = ev(source.read_stream(sid, 2, 3, backwards=True))
    out["stream_unknown"] = ev(source.read_stream("no such stream"))
    out["info_unknown"] = source.stream_info("no such stream")
    return out


def assert_read_contract(source: EventSource) -> None:
    """What every source must satisfy on its own, whatever it holds."""
    assert isinstance(source, EventSource)  # the whole protocol is implemented
    events = list(source.read_all())
    positions = [e.position for e in events]
    assert positions == sorted(set(positions)), "positions strictly increase"
    assert source.head_position() == (positions[-1] if positions else 0)
    assert source.event_count() == len(events) == source.count_events()
    assert list(source.read_all(backwards=True)) == events[::-1]
    by_stream: dict[str, list[Any]] = {}
    for e in events:
        by_stream.setdefault(e.stream_id, []).append(e)
        assert source.event_at(e.position) == e
    assert source.count_streams() == len(by_stream)
    listed = []
    after = None
    while page := source.streams(limit=7, after=after):
        listed.extend(page)
        after = page[-1].stream_id
    assert [i.stream_id for i in listed] == sorted(by_stream)
    for info in listed:
        stream_events = by_stream[info.stream_id]
        assert list(source.read_stream(info.stream_id)) == stream_events
        assert [e.version for e in stream_events] == list(range(1, len(stream_events) + 1))
        assert info.version == info.event_count == len(stream_events)
        assert {e.stream_type for e in stream_events} == {info.stream_type}
        assert info.first_position == stream_events[0].position
        assert info.last_position == stream_events[-1].position
        assert source.stream_info(info.stream_id) == info
    types: dict[str, int] = {}
    for info in listed:
        types[info.stream_type] = types.get(info.stream_type, 0) + 1
    assert source.stream_types() == sorted(types.items())
    for e in events[:: max(1, len(events) // 5)]:
        flt = EventFilter(event_types=[e.event_type], stream_type=e.stream_type)
        expected = [
            x for x in events if x.event_type == e.event_type and x.stream_type == e.stream_type
        ]
        assert list(source.read_all(filter=flt)) == expected
        assert source.count_events(flt) == len(expected)
    hist = source.event_histogram(5)
    assert sum(n for _t, n in hist) == len(events)
    assert source.snapshots("no such stream") == []
    assert source.snapshot_at("no such stream", 1) is None
