"""The access log: who viewed or exported which stream, in a hash-chained JSON Lines file.

The audit tool is itself auditable. Each entry is one canonical JSON line

    {"action", "actor", "at", "hash", "positions", "prev_hash", "seq", "source", "stream"}

chained like the store's events: ``hash = SHA-256(bytes(prev_hash) || canonical(entry
without "hash"))`` with the genesis link 32 zero bytes, so editing, removing or
reordering an entry breaks every later link; `digest` gives ``seq:hash`` to keep outside
(a cut tail is caught with ``verify(against=...)``, exactly like the store).

The log lives in its own file, never in the inspected source (which eventscope opens
read-only): by default ``<user data dir>/access-log.jsonl`` (platformdirs), or the file
named by the ``EVENTSCOPE_ACCESS_LOG`` environment variable. Appends take an exclusive
`flock`, so two explorers on one machine cannot interleave, and are fsynced.

    from eventscope.domain.evidence.access_log import record_access
    record_access("alice", "view", source.describe().location, "acct-1", [120, 121])
"""

from __future__ import annotations

import getpass
import hashlib
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import orjson
from eventscope.domain.evidence.errors import EvidenceError
from eventscope.store.errors import InvalidEvent
from eventscope.store.native.canonical import GENESIS_HASH, canonical_json
from eventscope.store.records import JSONObject, format_timestamp

ENV_VARIABLE = "EVENTSCOPE_ACCESS_LOG"
FILE_NAME = "access-log.jsonl"
ENTRY_FIELDS = frozenset(
    ("action", "actor", "at", "hash", "positions", "prev_hash", "seq", "source", "stream")
)


def default_log_path() -> Path:
    """`EVENTSCOPE_ACCESS_LOG`, else the file in the user data folder."""
    configured = os.environ.get(ENV_VARIABLE, "").strip()
    if configured:
        return Path(configured).expanduser()
    import platformdirs

    return platformdirs.user_data_path("eventscope", appauthor=False) / FILE_NAME


def current_actor() -> str:
    """The operating-system user, the best identity a local tool has."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # pragma: no cover - no passwd entry
        return "unknown"


@dataclass(frozen=True, slots=True)
class AccessCheck:
    """The result of walking the access log."""

    ok: bool
    checked: int
    head: str | None  # "seq:hash" of the last entry
    first_bad_seq: int | None = None
    reason: str | None = None

    def to_json(self) -> JSONObject:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "head": self.head,
            "first_bad_seq": self.first_bad_seq,
            "reason": self.reason,
        }


def link_hash(previous_hex: str, body: JSONObject) -> str:
    """``SHA-256(bytes(previous) || canonical(body))`` as lowercase hex."""
    return hashlib.sha256(bytes.fromhex(previous_hex) + canonical_json(body)).hexdigest()


def record_access(
    actor: str | None,
    action: str,
    source: str,
    stream: str | None = None,
    positions: Sequence[int] | None = None,
    *,
    path: Path | None = None,
    at: datetime | None = None,
) -> JSONObject:
    """Append one entry (actor None = the OS user) and return it.

    `action` is a short verb ("view", "report", "bundle", ...); `source` a location with
    no secrets (`EventSource.describe().location`); `positions` the global positions
    seen or exported (pass a [first, last] pair for a range). Raises EvidenceError if
    the log cannot be written or its last line is damaged (it is never rewritten).
    """
    target = path or default_log_path()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with _locked(target) as handle:
            seq, previous = _tail(handle, target)
            body: JSONObject = {
                "action": action,
                "actor": actor or current_actor(),
                "at": format_timestamp(at or datetime.now(UTC)),
                "positions": [int(p) for p in positions] if positions is not None else None,
                "prev_hash": previous,
                "seq": seq + 1,
                "source": source,
                "stream": stream,
            }
            entry = {**body, "hash": link_hash(previous, body)}
            handle.seek(0, os.SEEK_END)
            handle.write(canonical_json(entry) + b"\n")
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as exc:
        raise EvidenceError(f"cannot write the access log {target}: {exc.strerror}") from None
    except InvalidEvent as exc:
        raise EvidenceError(f"cannot record this access: {exc}") from None
    return entry


def read_entries(path: Path | None = None) -> Iterator[JSONObject]:
    """Entries as stored (no checks; use `verify_access_log` for that)."""
    target = path or default_log_path()
    if not target.exists():
        return
    with target.open("rb") as handle:
        for line in handle:
            if line.strip():
                yield orjson.loads(line)


def verify_access_log(path: Path | None = None, against: str | None = None) -> AccessCheck:
    """Walk the log; name the first entry that is not what was written. With `against`
    (a ``seq:hash`` kept outside), also prove nothing up to it changed or was cut away."""
    target = path or default_log_path()
    want_seq, want_hash = _parse_digest(against) if against else (None, None)
    previous = GENESIS_HASH.hex()
    seq = 0
    if target.exists():
        with target.open("rb") as handle:
            for raw in handle:
                expected = seq + 1
                problem = _check_line(raw, expected, previous)
                if isinstance(problem, str):
                    return AccessCheck(False, seq, None, expected, problem)
                previous = problem["hash"]
                seq = expected
                if want_seq == seq and previous != want_hash:
                    return AccessCheck(
                        False,
                        seq - 1,
                        None,
                        seq,
                        f"entry {seq} differs from the digest kept outside",
                    )
    if want_seq is not None and want_seq > seq:
        return AccessCheck(
            False,
            seq,
            None,
            seq + 1,
            f"the log ends at entry {seq} but the digest names entry {want_seq}: "
            "entries were removed from the end",
        )
    return AccessCheck(True, seq, f"{seq}:{previous}")


def _check_line(raw: bytes, expected: int, previous: str) -> JSONObject | str:
    """The entry, or why line `expected` is not the entry that was written."""
    line = raw.rstrip(b"\n")
    try:
        entry = orjson.loads(line)
    except orjson.JSONDecodeError:
        return f"entry {expected} is not valid JSON"
    if not isinstance(entry, dict) or set(entry) != ENTRY_FIELDS:
        return f"entry {expected} does not have the fields of an access-log entry"
    try:
        canonical = canonical_json(entry)
    except InvalidEvent:
        return f"entry {expected} is not canonical JSON"
    if canonical != line or not raw.endswith(b"\n"):
        return f"entry {expected} was edited (its bytes are not in canonical form)"
    if entry["seq"] != expected:
        return f"entry {expected} is missing or out of order (found entry {entry['seq']})"
    if entry["prev_hash"] != previous:
        return f"entry {expected} does not follow the entry before it"
    body = {k: v for k, v in entry.items() if k != "hash"}
    if link_hash(previous, body) != entry["hash"]:
        return f"entry {expected} was altered: it does not match its hash"
    return entry


def _parse_digest(text: str) -> tuple[int, str]:
    seq_text, sep, hash_text = text.strip().partition(":")
    if not sep or not seq_text.isdigit() or len(hash_text) != 64:
        raise EvidenceError(f"an access-log digest looks like SEQ:HASH, not {text!r}")
    return int(seq_text), hash_text.lower()


@contextmanager
def _locked(target: Path) -> Iterator[IO[bytes]]:
    handle = target.open("a+b")
    try:
        try:
            import fcntl

            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        except ImportError:  # pragma: no cover - Windows: single-writer assumption
            pass
        yield handle
    finally:
        handle.close()  # closing releases the lock


def _tail(handle: IO[bytes], target: Path) -> tuple[int, str]:
    """(seq, hash) of the last entry, reading only the end of the file."""
    handle.seek(0, os.SEEK_END)
    size = handle.tell()
    if size == 0:
        return 0, GENESIS_HASH.hex()
    chunk = min(size, 64 * 1024)
    handle.seek(size - chunk)
    data = handle.read(chunk)
    if not data.endswith(b"\n"):
        raise EvidenceError(
            f"the access log {target} ends with a damaged line; "
            "run eventscope access-log verify (nothing was appended)"
        )
    last = data.rstrip(b"\n").rsplit(b"\n", 1)[-1]
    try:
        entry: Any = orjson.loads(last)
        return int(entry["seq"]), str(entry["hash"])
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        raise EvidenceError(
            f"the access log {target} ends with a damaged line; "
            "run eventscope access-log verify (nothing was appended)"
        ) from None
