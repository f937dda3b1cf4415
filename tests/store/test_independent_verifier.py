"""The README's stdlib-only verifier (its hash-chain section) must agree with `verify`:
an auditor re-implementing the chain from its written definition gets the same answer,
including on hostile strings, and a one-byte edit fails both."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

from eventscope.store import EventStore, NewEvent


def stdlib_verify(path: Path) -> int | None:
    """The documented verifier: None when the chain holds, else the first bad position."""
    prev = bytes(32)
    expected = 1
    with sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True) as conn:
        rows = conn.execute(
            "SELECT position, stream_id, stream_type, version, event_id, event_type, "
            "schema_version, data, metadata, occurred_at, recorded_at, hash FROM events "
            "ORDER BY position"
        )
        for pos, sid, stype, ver, eid, etype, sver, data, meta, occ, rec, stored in rows:
            if pos != expected:
                return expected

            def s(text: str) -> str:
                return json.dumps(text, ensure_ascii=False)

            envelope = (
                f'{{"data":{data},"event_id":{s(eid)},"event_type":{s(etype)},'
                f'"metadata":{meta},"occurred_at":"{occ}","position":{pos},'
                f'"recorded_at":"{rec}","schema_version":{sver},"stream_id":{s(sid)},'
                f'"stream_type":{s(stype)},"version":{ver}}}'
            ).encode()
            prev = hashlib.sha256(prev + envelope).digest()
            if prev.hex() != stored:
                return pos
            expected += 1
    return None


def test_stdlib_verifier_agrees_with_the_store(tmp_path: Path) -> None:
    path = tmp_path / "audit.db"
    store = EventStore.open(path)
    hostile = 'we\u2028ird-\x1b[2J\x7f"\\/é😀\u202e'
    store.append(hostile, [NewEvent("T\x01\n", {"k\u2029": "v\x00", "n": -0.5, "b": 1e21})])
    for i in range(20):
        store.append(f"acct-{i % 3}", [NewEvent("Deposited", {"amount": i}, {"actor": "ü"})])
    store.close()
    assert stdlib_verify(path) is None
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE events SET data = replace(data, '7', '8') WHERE position = 9")
    conn.close()
    store = EventStore.open(path, read_only=True)
    assert store.verify().first_bad_position == 9 == stdlib_verify(path)
    store.close()
