"""Anchored digests through the store CLI: a digest kept outside the store catches a tail
cut away so carefully that the store's own bookkeeping agrees (issue 7, section 2)."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import orjson
from eventscope.store import Digest

from tests.evidence.conftest import run


def cut_tail(db: Path, keep: int) -> None:
    """Delete every event after `keep` and rewrite the store's own head record, the way an
    insider with database access would hide the removal from a plain `verify`."""
    connection = sqlite3.connect(str(db), isolation_level=None)
    try:
        connection.execute("BEGIN IMMEDIATE")
        kept_hash, kept_time = connection.execute(
            "SELECT hash, recorded_at FROM events WHERE position = ?", (keep,)
        ).fetchone()
        connection.execute("DELETE FROM events WHERE position > ?", (keep,))
        connection.execute(
            "UPDATE chain_head SET position = ?, hash = ?, recorded_at = ? WHERE id = 1",
            (keep, kept_hash, kept_time),
        )
        connection.execute("COMMIT")
    finally:
        connection.close()


def test_digest_prints_position_and_hash(demo_db: str) -> None:
    code, out, err = run("digest", demo_db)
    assert code == 0, err
    digest = Digest.parse(out)
    assert digest.position == 400
    assert orjson.loads(run("digest", demo_db, "--json")[1]) == {
        "position": 400,
        "hash": digest.hash,
        "verified": True,
    }
    events = orjson.loads(run("events", demo_db, "account-000001", "--json")[1])
    assert all(len(e["hash"]) == 64 for e in events)


def test_verify_against_an_earlier_digest_passes_and_a_cut_tail_fails(
    demo_db: str, tmp_path: Path
) -> None:
    anchored = run("digest", demo_db)[1].strip()
    copy = tmp_path / "copy.db"
    shutil.copy(demo_db, copy)
    code, out, _ = run("verify", str(copy), "--against", anchored)
    assert code == 0 and out.startswith("ok: 400 events checked")
    # an older digest still holds: history up to it is unchanged
    older = orjson.loads(run("events", demo_db, "account-000001", "--json")[1])[2]
    code, out, _ = run("verify", str(copy), "--against", f"{older['position']}:{older['hash']}")
    assert code == 0, out

    cut_tail(copy, 390)
    code, out, _ = run("verify", str(copy), "--json")
    cut = orjson.loads(out)  # the chain and its head record agree; only the catalog...
    assert code == 1 and cut["first_bad_position"] is None and cut["catalog_problems"]
    code, out, err = run("verify", str(copy), "--against", anchored, "--json")
    report = orjson.loads(out)
    assert code == 1 and not report["ok"]  # ...but the digest kept outside does not
    assert report["first_bad_position"] == 391
    assert "removed from the tail" in report["reason"]
    code, out, _ = run("verify", str(copy), "--against", anchored)
    assert code == 1 and out.startswith("BROKEN at position 391")


def test_verify_against_a_rewritten_history_fails_at_the_digest(
    demo_db: str, tmp_path: Path
) -> None:
    anchored = Digest.parse(run("digest", demo_db)[1])
    forged = Digest(anchored.position, "0" * 64)
    code, out, _ = run("verify", demo_db, "--against", str(forged), "--json")
    assert code == 1 and orjson.loads(out)["first_bad_position"] == anchored.position
    code, _, err = run("verify", demo_db, "--against", "not-a-digest")
    assert code == 2 and err.startswith("eventscope: ") and err.count("\n") == 1
