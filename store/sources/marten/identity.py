"""Marten's stream keys as eventscope's stream ids, and keyset paging over them.

A Marten stream is identified by its id (uuid or text) and, under conjoined tenancy, its
tenant: the same id may exist once per tenant with different histories. eventscope shows
`TENANT/ID` when a store holds more than one tenant and the plain id otherwise, so a
single-tenant store reads exactly as Marten's users know it, and a prefix filter
``tenant-a/`` selects one tenant.

Paging must follow the order of the ids *as shown* (Python's code-point order) while
using the streams table's primary key, so the streams are split into *blocks*, one per
tenant (or one for the whole store): inside a block the shown order is the key order,
and the blocks are visited in the order of their shown prefixes (``T/``), which is where
their ids fall among all shown ids. A prefix or an `after` key becomes, per block, a
condition on the stored id: a text range, or for uuid ids the range of uuid values
whose canonical text lies in it (`uuid_ceiling`), so the index is used either way.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from eventscope.store.sql.fragments import successor

TENANT_SEPARATOR = "/"
_HEX = "0123456789abcdef"
_DASHES = frozenset({8, 13, 18, 23})
_UUID_LENGTH = 36


@dataclass(frozen=True, slots=True)
class Block:
    """The streams of one tenant (`tenant` None: no tenant condition is needed)."""

    tenant: str | None
    prefix: str  # what every shown id of the block starts with ("" or "T/")


@dataclass(frozen=True, slots=True)
class Slice:
    """Which ids of a block a listing wants: after `after` and starting with `prefix`
    (both stored-id text, None for no bound)."""

    block: Block
    after: str | None
    prefix: str | None


class Identity:
    """Shown stream ids <-> (tenant, stored id) for one store."""

    def __init__(self, *, uuid_ids: bool, conjoined: bool, tenants: tuple[str, ...]) -> None:
        self.uuid_ids = uuid_ids
        self.with_tenant = conjoined and len(tenants) > 1
        if self.with_tenant:
            blocks = [Block(t, t + TENANT_SEPARATOR) for t in tenants]
            self.blocks = tuple(sorted(blocks, key=lambda b: b.prefix))
        elif conjoined and tenants:
            self.blocks = (Block(tenants[0], ""),)
        else:
            self.blocks = (Block(None, ""),)

    def present(self, tenant: str | None, stored: str) -> str:
        """The shown id of a stream (`stored` is the id as text)."""
        if self.with_tenant:
            return f"{tenant}{TENANT_SEPARATOR}{stored}"
        return stored

    def parse(self, shown: str) -> Iterator[tuple[Block, str]]:
        """The (block, stored id) pairs a shown id can name (usually one; several only
        when one tenant's name plus separator starts another's)."""
        for block in self.blocks:
            if shown.startswith(block.prefix):
                stored = shown[len(block.prefix) :]
                if not self.uuid_ids or is_canonical_uuid(stored):
                    yield block, stored

    def slices(self, prefix: str | None, after: str | None) -> Iterator[Slice]:
        """Per block, in shown order, the stored-id bounds of "starts with `prefix` and
        sorts after `after`"; blocks that cannot hold such an id are left out."""
        for block in self.blocks:
            head = block.prefix
            id_prefix: str | None = None
            if prefix:
                if not head.startswith(prefix):
                    if not prefix.startswith(head):
                        continue
                    id_prefix = prefix[len(head) :] or None
            id_after: str | None = None
            if after is not None:
                if after.startswith(head):
                    id_after = after[len(head) :]
                elif after > head:
                    continue  # every id of this block sorts before `after`
            yield Slice(block, id_after, id_prefix)


def is_canonical_uuid(text: str) -> bool:
    """Whether `text` is a uuid as PostgreSQL prints it (lowercase, with dashes)."""
    if len(text) != _UUID_LENGTH:
        return False
    return all((c == "-") if i in _DASHES else (c in _HEX) for i, c in enumerate(text))


def _allowed(index: int) -> str:
    return "-" if index in _DASHES else _HEX


def _fill(start: int) -> str:
    return "".join("-" if i in _DASHES else "0" for i in range(start, _UUID_LENGTH))


def uuid_ceiling(text: str) -> str | None:
    """The smallest canonical uuid text that is >= `text`, or None when there is none.

    uuid values compare like their canonical text, so ``id >= uuid_ceiling(x)`` selects
    exactly the uuids whose text is >= x, through the index."""
    length = min(len(text), _UUID_LENGTH)
    for i in range(length):
        if text[i] not in _allowed(i):
            return _bump(text, i)
    if len(text) <= _UUID_LENGTH:
        return text + _fill(len(text))
    return _bump(text, _UUID_LENGTH - 1)


def _bump(text: str, start: int) -> str | None:
    """The smallest canonical text greater than `text` at some position <= `start`
    (keeping the characters before it)."""
    for j in range(start, -1, -1):
        bigger = [c for c in _allowed(j) if c > text[j]]
        if bigger:
            return text[:j] + bigger[0] + _fill(j + 1)
    return None


def id_bounds(
    column: str, uuid_ids: bool, after: str | None, prefix: str | None, collate: str
) -> tuple[list[str], list[Any]] | None:
    """SQL conditions (with ``?`` parameters) on a stored-id column for a `Slice`'s
    bounds, or None when no id can satisfy them. `collate` is appended to text
    comparisons (``COLLATE "C"`` when the column's own collation is not code-point
    order)."""
    conditions: list[str] = []
    params: list[Any] = []
    if uuid_ids:
        if after is not None:
            low = uuid_ceiling(after)
            if low is None:
                return None
            conditions.append(f"{column} {'>' if low == after else '>='} ?::uuid")
            params.append(low)
        if prefix:
            low = uuid_ceiling(prefix)
            if low is None or not low.startswith(prefix):
                return None
            conditions.append(f"{column} >= ?::uuid")
            params.append(low)
            upper = successor(prefix)
            high = uuid_ceiling(upper) if upper is not None else None
            if high is not None:
                conditions.append(f"{column} < ?::uuid")
                params.append(high)
        return conditions, params
    if after is not None:
        conditions.append(f"{column}{collate} > ?")
        params.append(after)
    if prefix:
        conditions.append(f"{column}{collate} >= ?")
        params.append(prefix)
        upper = successor(prefix)
        if upper is not None:
            conditions.append(f"{column}{collate} < ?")
            params.append(upper)
    return conditions, params
