"""The standalone verifier re-implements the store's definitions with the stdlib only;
these properties keep the two from drifting apart."""

from __future__ import annotations

import importlib.util
import re
from types import ModuleType
from typing import Any

from eventscope.domain.evidence.bundle import VERIFIER_PATH
from eventscope.domain.evidence.bundle_readme import bundle_readme
from eventscope.domain.fold import fold_generic
from eventscope.store.native.canonical import ENVELOPE_FIELDS, canonical_json, chain_hash
from hypothesis import given, settings
from hypothesis import strategies as st


def _verifier() -> ModuleType:
    spec = importlib.util.spec_from_file_location("standalone_verifier", VERIFIER_PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


VERIFIER = _verifier()
SAFE = 2**53
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-SAFE, SAFE)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)
objects = st.dictionaries(st.text(), json_values, max_size=5)


@settings(max_examples=150, deadline=None)
@given(json_values)
def test_canonical_json_agrees_with_the_store(value: Any) -> None:
    assert VERIFIER.canonical(value) == canonical_json(value)


@settings(max_examples=100, deadline=None)
@given(objects, st.text(min_size=1))
def test_chain_hash_agrees_with_the_store(data: dict[str, Any], stream_id: str) -> None:
    envelope = {
        "data": data,
        "event_id": "00000000-0000-0000-0000-000000000001",
        "event_type": "Changed",
        "metadata": {"actor": "ann"},
        "occurred_at": "2026-01-01T00:00:00.000000Z",
        "position": 7,
        "recorded_at": "2026-01-01T00:00:00.000000Z",
        "schema_version": 1,
        "stream_id": stream_id,
        "stream_type": "t",
        "version": 1,
    }
    previous = "ab" * 32
    assert VERIFIER.chain_hash(previous, envelope) == chain_hash(previous, canonical_json(envelope))


@settings(max_examples=100, deadline=None)
@given(st.lists(objects, max_size=6))
def test_generic_fold_agrees_with_the_engine(payloads: list[dict[str, Any]]) -> None:
    import copy

    expected = fold_generic(copy.deepcopy(payloads))
    state: dict[str, Any] = {}
    for data in copy.deepcopy(payloads):
        VERIFIER.merge(state, data)
    assert VERIFIER.canonical(state) == canonical_json(expected)


def test_readme_and_verifier_name_the_store_envelope_fields() -> None:
    assert tuple(VERIFIER.ENVELOPE_FIELDS) == ENVELOPE_FIELDS
    readme = bundle_readme(head="1:" + "0" * 64, links="full", verifier_sha256="0" * 64)
    listed = re.findall(r"^\| `([a-z_]+)` \| ", readme.split("## Canonical JSON")[0], re.M)
    assert tuple(name for name in listed if name in ENVELOPE_FIELDS) == ENVELOPE_FIELDS
