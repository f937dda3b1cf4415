"""Issue 12 §2: a source without a hash chain never reads as "ok" from `verify`.

Parametrised over every source kind of the read contract (`contract_sources.BUILDERS`),
so each foreign store added there is covered without a line here: `--json` says
`"chain": false` and names what was checked instead; the text says integrity cannot be
proven. The structural checks themselves run on a hand-made source (any damage shape).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner
from contract_sources import Built, build, builder_params
from eventscope.explorer.cli import main
from eventscope.store import open_source
from eventscope.store.records import RecordedEvent, SourceInfo, StreamInfo, VerifyReport
from eventscope.store.structural_check import CHECKS, structural_check, verify_source

T = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture(scope="module", params=builder_params())
def built(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Built]:
    yield from build(request.param, request, tmp_path_factory.mktemp(request.param))


def test_verify_says_what_it_proved(built: Built) -> None:
    with open_source(built.location) as source:
        has_chain = source.describe().has_hash_chain
    result = CliRunner().invoke(main, ["verify", built.location, "--json"])
    report = json.loads(result.stdout)
    assert report["chain"] is has_chain
    text = CliRunner().invoke(main, ["verify", built.location]).stdout
    if has_chain:
        assert report["ok"] and text.startswith("ok: ")
        return
    assert report["checks"] == list(CHECKS)
    assert report["ok"] is True and result.exit_code == 0  # the shape holds...
    assert not text.startswith("ok")  # ...but nothing was proven, and it says so
    assert "integrity cannot be proven" in text
    assert "positions strictly increasing" in text and "payloads decodable" in text


def _event(position: int, stream: str, version: int, **extra: object) -> RecordedEvent:
    return RecordedEvent(
        position=position,
        stream_id=stream,
        stream_type="t",
        version=version,
        event_id=f"e{position}",
        event_type="E",
        schema_version=1,
        data={},
        metadata={},
        occurred_at=T,
        recorded_at=T,
        hash="",
        **extra,  # type: ignore[arg-type]
    )


class FakeSource:
    """Just the part of `EventSource` the structural checks read."""

    def __init__(self, events: list[RecordedEvent], catalog: list[StreamInfo]) -> None:
        self._events, self._catalog = events, catalog

    def describe(self) -> SourceInfo:
        return SourceInfo("fake", "fake", True, False)

    def event_count(self) -> int:
        return len(self._events)

    def read_all(self) -> Iterator[RecordedEvent]:
        return iter(self._events)

    def streams(self, after: str | None = None, limit: int = 100, **_: object) -> list[StreamInfo]:
        rows = [info for info in self._catalog if after is None or info.stream_id > after]
        return rows[:limit]

    def verify(self, against: object = None, progress: object = None) -> VerifyReport:
        return VerifyReport(ok=True, checked=len(self._events))


def _info(stream: str, version: int, count: int) -> StreamInfo:
    return StreamInfo(stream, "t", version, count, T, T)


def test_digest_on_a_source_without_a_chain_says_there_is_none(built: Built) -> None:
    """Issue 12 §2: a chain-less source has no digest; it is not "broken" either."""
    with open_source(built.location) as source:
        has_chain = source.describe().has_hash_chain
    for extra in ([], ["--unverified"]):
        result = CliRunner().invoke(main, ["digest", built.location, *extra])
        if has_chain:
            assert result.exit_code == 0 and ":" in result.stdout
            continue
        assert result.exit_code != 0 and result.stdout == ""
        message = result.stderr.strip()
        assert message.count("\n") == 0 and "Traceback" not in message
        assert "keeps no hash chain" in message and "no digest to give" in message
        assert "broken" not in message


def test_a_sound_history_passes_the_structural_checks() -> None:
    source = FakeSource(
        [_event(1, "a", 1), _event(2, "a", 2), _event(5, "b", 1)],
        [_info("a", 2, 2), _info("b", 1, 1)],
    )
    report = verify_source(source)  # type: ignore[arg-type]
    assert (report.ok, report.chain, report.checked, report.bad_count) == (True, False, 3, 0)


def test_each_kind_of_damage_is_named() -> None:
    events = [
        _event(1, "a", 1),
        _event(3, "a", 3),  # version 2 missing
        _event(2, "b", 1),  # position goes back
        dataclasses.replace(_event(4, "b", 2), decode_error="not JSON"),
    ]
    catalog = [_info("a", 3, 3), _info("c", 1, 1)]  # a's count wrong, c has no events, b none
    seen: list[tuple[int, int]] = []
    report = structural_check(FakeSource(events, catalog), lambda *p: seen.append(p))  # type: ignore[arg-type]
    assert not report.ok and not report.chain
    assert [(bad.position, bad.kind) for bad in report.bad_positions] == [
        (2, "order"),
        (3, "version"),
        (4, "malformed"),
    ]
    assert report.catalog_problems == (
        "stream 'a': the catalog records event count 3 (the events say 2)",
        "stream 'c' is in the catalog but has no events",
        "stream 'b' has events but no catalog row",
    )
    assert seen[-1] == (4, 4)


def test_versions_are_judged_per_stream_whatever_the_global_interleaving() -> None:
    """Axon's block-allocated `global_index` interleaves a stream's versions out of
    order: 1..N per stream as a set is sound; a repeat or a real gap is still named."""
    shuffled = [_event(1, "a", 2), _event(2, "b", 1), _event(3, "a", 1), _event(4, "a", 3)]
    catalog = [_info("a", 3, 3), _info("b", 1, 1)]
    assert structural_check(FakeSource(shuffled, catalog)).bad_count == 0  # type: ignore[arg-type]
    damaged = [_event(1, "a", 3), _event(2, "a", 1), _event(3, "a", 1), _event(4, "a", 4)]
    report = structural_check(FakeSource(damaged, [_info("a", 4, 4)]))  # type: ignore[arg-type]
    assert [(bad.position, bad.kind) for bad in report.bad_positions] == [
        (1, "version"),  # version 3 seen, version 2 never
        (3, "version"),  # version 1 again
    ]
    assert "version 2 is missing" in report.bad_positions[0].reason
    assert "repeats version 1" in report.bad_positions[1].reason
