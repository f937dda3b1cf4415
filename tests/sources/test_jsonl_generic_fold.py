"""`state`, `diff` and `blame` on a JSON Lines file agree with the documented generic fold
(and with the same history held by a native store), for Hypothesis-generated histories."""

from __future__ import annotations

import copy
import tempfile
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from click.testing import CliRunner
from eventscope.domain.diff import diff
from eventscope.domain.engine import Engine
from eventscope.domain.fold import fold_generic
from eventscope.explorer.cli import main
from eventscope.store import EventStore, NewEvent
from eventscope.store.sources.jsonl.source import JsonlSource
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

T0 = datetime(2026, 1, 1, tzinfo=UTC)
KEYS = st.sampled_from(["a", "b", "c", "d"])
# Integers, text and booleans: the JSON a foreign system writes (floats that are whole
# numbers would be canonicalised to integers by the native store, a separate matter).
SCALARS = st.one_of(st.integers(-1000, 1000), st.text(max_size=4), st.booleans())
VALUES = st.recursive(
    st.one_of(SCALARS, st.none()),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(KEYS, inner, max_size=3)),
    max_leaves=8,
)
PAYLOADS = st.dictionaries(KEYS, VALUES, max_size=4)
HISTORIES = st.lists(st.tuples(st.sampled_from(["s-1", "s-2"]), PAYLOADS), min_size=1, max_size=10)


def write_both(folder: Path, history: list[tuple[str, dict[str, Any]]]) -> tuple[Path, Path]:
    """The same history as a JSON Lines file and as a native store."""
    lines = []
    store = EventStore.open(str(folder / "native.db"))
    for i, (stream_id, data) in enumerate(history):
        moment = T0 + timedelta(seconds=i)
        event_id = uuid.uuid5(uuid.NAMESPACE_URL, f"fold/{i}")
        metadata = {"actor": f"actor-{i % 3}"}
        lines.append(
            orjson.dumps(
                {
                    "stream_id": stream_id,
                    "event_type": "Changed",
                    "data": data,
                    "metadata": metadata,
                    "event_id": str(event_id),
                    "recorded_at": moment.isoformat(),
                }
            )
        )
        store.append(
            stream_id,
            [NewEvent("Changed", data, metadata, event_id, occurred_at=moment, recorded_at=moment)],
            stream_type="s",
        )
    store.close()
    path = folder / "history.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path, folder / "native.db"


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(history=HISTORIES)
def test_state_diff_and_blame_on_jsonl_follow_the_generic_fold(
    history: list[tuple[str, dict[str, Any]]],
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path, native_path = write_both(Path(folder), history)
        jsonl = JsonlSource.open(path)
        native = EventStore.open(str(native_path), read_only=True)
        try:
            on_file, on_store = Engine(jsonl), Engine(native)
            for stream_id in sorted({s for s, _d in history}):
                payloads = [copy.deepcopy(d) for s, d in history if s == stream_id]
                folds = [
                    fold_generic(copy.deepcopy(payloads[:v])) for v in range(len(payloads) + 1)
                ]
                for version, expected in enumerate(folds):
                    assert on_file.state(stream_id, version=version).state == expected
                    # Same blame as the native store (whose canonical JSON sorts keys, so
                    # compare in path order).
                    blame = sorted(
                        (b.to_json() for b in on_file.timeline(stream_id).blame_at(version)),
                        key=lambda entry: repr(entry["path"]),
                    )
                    assert blame == sorted(
                        (b.to_json() for b in on_store.timeline(stream_id).blame_at(version)),
                        key=lambda entry: repr(entry["path"]),
                    )
                    for entry in blame:
                        assert entry["version"] <= version
                last = len(payloads)
                for a, b in ((0, last), (last // 2, last), (last, 0)):
                    assert on_file.diff_versions(stream_id, a, b) == diff(folds[a], folds[b])
        finally:
            jsonl.close()
            native.close()


def test_state_command_on_a_jsonl_file(tmp_path: Path) -> None:
    history = [("s-1", {"a": 1, "b": {"c": 2}}), ("s-1", {"b": {"c": None, "d": [1]}, "a": 3})]
    path, _native = write_both(tmp_path, history)
    result = CliRunner().invoke(main, ["state", str(path), "s-1", "--json"])
    assert result.exit_code == 0, result.output
    shown = orjson.loads(result.stdout)
    assert shown["version"] == 2 and shown["state"] == {"a": 3, "b": {"d": [1]}}
