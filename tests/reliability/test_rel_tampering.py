"""Tampering through raw SQL (reliability.md test 10), on SQLite and PostgreSQL.

A 10,000-event store is altered *outside* the store, the way an attacker with database
access would do it, and `eventscope verify` (through the CLI, as an auditor runs it) must
name the first bad position and exit 1:

* edit one byte of a payload / of metadata / of a timestamp / of the stored hash;
* delete a row in the middle; swap two rows' positions;
* forge a row (new content, its own hash recomputed correctly) -- the chain breaks at
  the next link, which is where a verifier without a key can first see it;
* truncate the tail and fix the head record's position and hash -- its time still names
  the cut;
* forge a whole tail (every later hash recomputed) or truncate the tail and fix the
  whole head record -- invisible to the chain alone, so `--against` the digest kept outside
  names the position (the limit Crosby & Wallach describe, and why `digest` exists).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

import orjson
import pytest
from click.testing import CliRunner
from eventscope.explorer.cli import main
from eventscope.store import ANY, NewEvent
from eventscope.store.native.canonical import envelope_bytes
from reliability_support import figure

EVENTS = 10_000
STREAMS = 40
TARGET = 4_321  # the position the tamperer goes after


def _build(store) -> None:
    """EVENTS deposits over STREAMS streams, appended 1,000 per transaction."""
    for start in range(1, EVENTS + 1, 1000):
        store.append_streams(
            [
                (
                    f"acct-{position % STREAMS:03d}",
                    [NewEvent("Deposited", {"amount": position, "note": f"n{position}"})],
                    ANY,
                    "acct",
                )
                for position in range(start, min(start + 1000, EVENTS + 1))
            ]
        )


_KEYS = (
    "position stream_id stream_type version event_id event_type schema_version data "
    "metadata occurred_at recorded_at hash"
).split()


def _rows(raw, low: int, high: int) -> list[dict]:
    """Rows with low <= position <= high, in order, read outside the store."""
    rows = raw(
        f"SELECT {', '.join(_KEYS)} FROM events "  # fixed column names
        "WHERE position >= :low AND position <= :high ORDER BY position",
        {"low": low, "high": high},
    )
    return [dict(zip(_KEYS, row, strict=True)) for row in rows]


def _row(raw, position: int) -> dict:
    return _rows(raw, position, position)[0]


def _rehash(row: dict, previous_hex: str) -> str:
    """The chain link a forger with full knowledge of the algorithm would compute."""
    envelope = envelope_bytes(
        position=row["position"],
        stream_id=row["stream_id"],
        stream_type=row["stream_type"],
        version=row["version"],
        event_id=row["event_id"],
        event_type=row["event_type"],
        schema_version=row["schema_version"],
        data_json=row["data"].encode(),
        metadata_json=row["metadata"].encode(),
        occurred_at=row["occurred_at"],
        recorded_at=row["recorded_at"],
    )
    return hashlib.sha256(bytes.fromhex(previous_hex) + envelope).hexdigest()


def _forge(raw, position: int, data: dict) -> str:
    """Replace one row's payload and give it a correctly recomputed hash."""
    row = _row(raw, position)
    previous = _row(raw, position - 1)["hash"]
    row["data"] = orjson.dumps(data, option=orjson.OPT_SORT_KEYS).decode()
    new_hash = _rehash(row, previous)
    raw(
        "UPDATE events SET data = :d, hash = :h WHERE position = :p",
        {"d": row["data"], "h": new_hash, "p": position},
    )
    return new_hash


def edit_payload_byte(raw) -> None:
    data = _row(raw, TARGET)["data"]
    raw(
        "UPDATE events SET data = :d WHERE position = :p",
        {"d": data.replace(f"{TARGET}", f"{TARGET + 1}", 1), "p": TARGET},
    )


def edit_metadata(raw) -> None:
    raw("UPDATE events SET metadata = :m WHERE position = :p", {"m": '{"actor":"x"}', "p": TARGET})


def edit_recorded_at(raw) -> None:
    recorded = _row(raw, TARGET)["recorded_at"]
    raw(
        "UPDATE events SET recorded_at = :r WHERE position = :p",
        {"r": recorded[:-2] + ("0Z" if recorded[-2] != "0" else "1Z"), "p": TARGET},
    )


def edit_hash(raw) -> None:
    digest = _row(raw, TARGET)["hash"]
    raw(
        "UPDATE events SET hash = :h WHERE position = :p",
        {"h": ("0" if digest[0] != "0" else "1") + digest[1:], "p": TARGET},
    )


def delete_row(raw) -> None:
    raw("DELETE FROM events WHERE position = :p", {"p": TARGET})


def swap_rows(raw) -> None:
    other = TARGET + 500
    raw("UPDATE events SET position = -1 WHERE position = :p", {"p": TARGET})
    raw("UPDATE events SET position = :p WHERE position = :o", {"p": TARGET, "o": other})
    raw("UPDATE events SET position = :o WHERE position = -1", {"o": other})


def forge_one_row(raw) -> None:
    _forge(raw, TARGET, {"amount": 1_000_000, "note": "forged"})


def forge_whole_tail(raw) -> None:
    previous = _forge(raw, TARGET, {"amount": 1_000_000, "note": "forged"})
    updates = []
    for row in _rows(raw, TARGET + 1, EVENTS):
        previous = _rehash(row, previous)
        updates.append({"h": previous, "p": row["position"]})
    raw("UPDATE events SET hash = :h WHERE position = :p", updates)
    raw("UPDATE chain_head SET hash = :h WHERE id = 1", {"h": previous})


def truncate_tail_and_head(raw) -> None:
    raw("DELETE FROM events WHERE position > :p", {"p": TARGET - 1})
    last = _row(raw, TARGET - 1)
    raw(
        "UPDATE chain_head SET position = :p, hash = :h WHERE id = 1",
        {"p": TARGET - 1, "h": last["hash"]},
    )


def truncate_tail_and_whole_head(raw) -> None:
    raw("DELETE FROM events WHERE position > :p", {"p": TARGET - 1})
    last = _row(raw, TARGET - 1)
    raw(
        "UPDATE chain_head SET position = :p, hash = :h, recorded_at = :r WHERE id = 1",
        {"p": TARGET - 1, "h": last["hash"], "r": last["recorded_at"]},
    )


def truncate_tail_only(raw) -> None:
    raw("DELETE FROM events WHERE position > :p", {"p": TARGET - 1})


@dataclass(frozen=True)
class Tamper:
    name: str
    apply: Callable
    first_bad: int
    caught_without_digest: bool = True
    caught_by_catalog: bool = False


TAMPERS = [
    Tamper("edit-payload-byte", edit_payload_byte, TARGET),
    Tamper("edit-metadata", edit_metadata, TARGET),
    Tamper("edit-recorded-at", edit_recorded_at, TARGET),
    Tamper("edit-hash", edit_hash, TARGET),
    Tamper("delete-row", delete_row, TARGET),
    Tamper("swap-rows", swap_rows, TARGET),
    Tamper("forge-one-row", forge_one_row, TARGET + 1),
    Tamper("truncate-tail", truncate_tail_only, TARGET),
    Tamper("forge-whole-tail", forge_whole_tail, EVENTS, caught_without_digest=False),
    # The head's position and hash rewritten, its time not: the head check names it.
    Tamper("truncate-tail-and-head", truncate_tail_and_head, TARGET),
    Tamper(
        "truncate-tail-and-whole-head",
        truncate_tail_and_whole_head,
        TARGET,
        caught_without_digest=False,
        caught_by_catalog=True,
    ),
]


def _source(store_factory) -> str:
    if store_factory.backend == "sqlite":
        return store_factory.location
    return f"{store_factory.location}?schema={store_factory.open_options['schema']}"


def _verify(source: str, *extra: str) -> tuple[int, dict]:
    result = CliRunner().invoke(main, ["verify", source, "--json", *extra])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, orjson.loads(result.stdout)


@pytest.fixture
def built(store_factory):
    store = store_factory()
    _build(store)
    assert store.head_position() == EVENTS
    digest = str(store.head_digest())
    store.close()
    return store_factory, digest


_detected: dict[str, list[str]] = {}


@pytest.mark.parametrize("tamper", TAMPERS, ids=[t.name for t in TAMPERS])
def test_raw_sql_tampering_is_detected_at_the_first_bad_position(built, tamper: Tamper) -> None:
    store_factory, digest = built
    source = _source(store_factory)
    status, report = _verify(source)
    assert (status, report["ok"], report["checked"]) == (0, True, EVENTS)

    tamper.apply(store_factory.raw_execute)

    status, report = _verify(source)
    if tamper.caught_without_digest:
        assert status == 1 and report["ok"] is False
        assert report["first_bad_position"] == tamper.first_bad, report
        assert report["bad_positions"][0]["position"] == tamper.first_bad
        assert report["bad_count"] == len(report["bad_positions"]) >= 1
    elif tamper.caught_by_catalog:  # the chain holds, the stream catalog remembers more
        assert status == 1 and report["first_bad_position"] is None, report
        assert report["catalog_problems"]
    else:  # a consistent rewrite: the chain alone cannot tell, which is why digests exist
        assert status == 0 and report["ok"] is True
    status, report = _verify(source, "--against", digest)
    assert status == 1 and report["ok"] is False
    assert report["first_bad_position"] == tamper.first_bad, report
    text = CliRunner().invoke(main, ["verify", source, "--against", digest])
    assert text.exit_code == 1
    assert text.stdout.startswith(f"BROKEN at position {tamper.first_bad}:")
    _detected.setdefault(store_factory.backend, []).append(tamper.name)
    if len(_detected[store_factory.backend]) == len(TAMPERS):
        figure(
            f"tampering/{store_factory.backend}",
            f"{len(TAMPERS)}/{len(TAMPERS)} raw-SQL tamperings on {EVENTS:,} events detected "
            "at the first bad position (9 by the chain and head record alone, 2 only --against "
            "the digest)",
        )
