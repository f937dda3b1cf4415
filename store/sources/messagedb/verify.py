"""What `verify` can check on a Message DB store, which keeps no hash chain.

Why these checks: without a chain nothing proves a message unaltered, so the report says
so (`reason`), and checks what the store's own rules promise instead -- every stream's
positions run 0, 1, 2, ... in global order (`write_message` assigns them under a lock;
a gap or repeat means rows were deleted or written around it) -- and that eventscope's
cached stream catalog agrees with the messages (count and version of every stream).
"""

from __future__ import annotations

from eventscope.store.paging import keyset_chunks
from eventscope.store.records import VerifyReport
from eventscope.store.source import ProgressCallback
from eventscope.store.sql.reader import SqlReader
from eventscope.store.sql.stream_catalog import StreamCatalog

_CHUNK = 20_000
NO_CHAIN = "Message DB keeps no hash chain, so nothing proves the messages unaltered"


def walk_positions(
    reader: SqlReader, table: str, catalog: StreamCatalog, progress: ProgressCallback | None
) -> VerifyReport:
    """One pass in global order over (global_position, stream_name, position)."""
    sql = (
        f"SELECT global_position, stream_name, position FROM {table}"  # noqa: S608
        f" WHERE global_position > ? ORDER BY global_position LIMIT {_CHUNK}"
    )
    total = catalog.event_count()
    next_position: dict[str, int] = {}
    checked = 0
    bad = 0
    first_bad: int | None = None
    first_reason = ""
    last_seen = 0

    def fetch(cursor: int) -> list[tuple[int, str, int]]:
        return reader.fetchall(sql, (cursor,))

    for rows in keyset_chunks(fetch, 0, _CHUNK, lambda row, _cursor: int(row[0])):
        for global_position, stream_name, position in rows:
            checked += 1
            expected = next_position.get(stream_name, 0)
            if position != expected:
                bad += 1
                if first_bad is None:
                    first_bad = global_position
                    first_reason = (
                        f"stream {stream_name!r} has position {position} where {expected} "
                        "was due (a message is missing or repeated)"
                    )
            next_position[stream_name] = max(expected, position + 1)
            last_seen = global_position
        if progress is not None:
            progress(checked, max(total, checked))
    if progress is not None:
        progress(checked, checked)
    disagree = _catalog_disagreements(catalog, next_position, last_seen)
    if bad or disagree:
        reasons = []
        if bad:
            reasons.append(f"{bad} message(s) out of position; the first: {first_reason}")
        if disagree:
            reasons.append(f"the cached stream catalog disagrees on {disagree} stream(s)")
        return VerifyReport(
            ok=False,
            checked=checked,
            first_bad_position=first_bad,
            reason=f"{NO_CHAIN}; " + "; ".join(reasons),
            malformed=bad,
        )
    return VerifyReport(
        ok=True,
        checked=checked,
        reason=f"{NO_CHAIN}; checked instead: every stream's positions run 0, 1, 2, ... "
        "without a gap or repeat, and the cached stream catalog agrees",
    )


def _catalog_disagreements(catalog: StreamCatalog, versions: dict[str, int], last_seen: int) -> int:
    """Streams whose catalog version differs from the walk (only when the catalog has
    seen exactly as far as the walk: a store still being written moves on)."""
    if catalog.last_position != last_seen:
        return 0
    count = 0
    after: str | None = None
    seen = 0
    while True:
        page = catalog.streams(after=after, limit=1000)
        if not page:
            break
        for stream in page:
            seen += 1
            if versions.get(stream.stream_id) != stream.version:
                count += 1
        after = page[-1].stream_id
    return count + max(len(versions) - seen, 0)
