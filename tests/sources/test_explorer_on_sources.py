"""The issue's "done when": `eventscope open history.jsonl` and `eventscope open app.sqlite`
(written by the eventsourcing library) show their histories in the explorer -- slider,
state, blame -- and the files do not change. Real key presses, real files."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from eventscope.explorer.app import make_app
from eventscope.explorer.screens.timeline import TimelineScreen
from eventscope.explorer.widgets.state_tree import StateTree
from sources_helpers import (
    es_sqlite_env,
    reference_history,
    sha256_of,
    write_dogs,
    write_jsonl_by_hand,
)
from support.textual import screen_text, settle

SIZE = (160, 48)


async def test_a_jsonl_file_in_the_explorer(tmp_path: Path) -> None:
    path = tmp_path / "history.jsonl"
    history = [
        replace(h, data={k: v for k, v in h.data.items() if k not in ("nested", "tags")})
        for h in reference_history(40)
    ]
    write_jsonl_by_hand(path, history)
    before = sha256_of(path)

    app = make_app(str(path))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        home = screen_text(app)
        assert "history.jsonl" in home and "READ-ONLY" in home
        assert "acct-1" in home and "order-1" in home and "40 events" in home

    stream = "order-2"
    events = [h for h in history if h.stream_id == stream]
    app = make_app(str(path), stream=stream, version=1)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, TimelineScreen) and screen.shown.version == 1
        assert f"v 1 / {len(events)}" in screen_text(app)
        await pilot.press("right")
        await settle(app, pilot)
        assert screen.shown.version == 2
        tree = "\n".join(app.screen.query_one(StateTree).plain_lines())
        assert f"n: {events[1].data['n']}" in tree  # the generic fold of versions 1..2
        assert f"plain {events[1].data['n']}" in tree or "zürich" in tree
    assert sha256_of(path) == before


async def test_an_eventsourcing_sqlite_store_in_the_explorer(tmp_path: Path) -> None:
    path = tmp_path / "app.sqlite"
    dogs = write_dogs(es_sqlite_env(path), 8)
    before = sha256_of(path)
    dog = dogs[3]  # Registered + 3 tricks

    app = make_app(str(path))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        home = screen_text(app)
        assert "app.sqlite" in home and "Dog" in home and str(dog.id)[:8] in home

    app = make_app(str(path), stream=str(dog.id), version=dog.version)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, TimelineScreen)
        assert screen.shown.version == dog.version == 4
        tree = "\n".join(app.screen.query_one(StateTree).plain_lines())
        assert "dog 3" in tree and "trick 2" in tree and "3.25" in tree
        await pilot.press("home")
        await settle(app, pilot)
        tree = "\n".join(app.screen.query_one(StateTree).plain_lines())
        assert screen.shown.version == 1 and "trick" not in tree and "dog 3" in tree
    assert sha256_of(path) == before


async def test_nested_changes_in_a_jsonl_file_in_the_explorer(tmp_path: Path) -> None:
    path = tmp_path / "history.jsonl"
    write_jsonl_by_hand(path, reference_history(40))
    app = make_app(str(path), stream="order-2", version=1)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("right")
        await settle(app, pilot)
        tree = "\n".join(app.screen.query_one(StateTree).plain_lines())
        assert "nested" in tree and "level" in tree


@pytest.mark.postgres
async def test_a_message_db_in_the_explorer(messagedb_url: str) -> None:
    """A Message DB opened by its plain URL: categories on the home screen, a stream's
    versions from 1, and the tables unchanged afterwards."""
    from contract_sources import schema_fingerprint

    from tests.fixtures.foreign.committed import manifest

    fingerprint = schema_fingerprint(messagedb_url, "message_store")
    before = fingerprint()
    longest = manifest("messagedb")["interesting"]["longest_account_stream"]
    app = make_app(messagedb_url)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        home = screen_text(app)
        assert "READ-ONLY" in home and "account:command" in home

    app = make_app(messagedb_url, stream=longest["stream_name"], version=1)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, TimelineScreen) and screen.shown.version == 1
        assert f"v 1 / {longest['messages']}" in screen_text(app)
        await pilot.press("right")
        await settle(app, pilot)
        assert screen.shown.version == 2
        tree = "\n".join(app.screen.query_one(StateTree).plain_lines())
        assert "accountId" in tree
    assert fingerprint() == before


async def test_an_emmett_sqlite_store_in_the_explorer(emmett_sqlite_path: Path) -> None:
    """Written by emmett-sqlite 0.38.5; the stream whose catalog ran ahead opens at its
    last real event, never at the catalog's phantom version."""
    from tests.fixtures.foreign.committed import manifest

    (ahead,) = manifest("emmett-sqlite")["catalog_ahead_of_events"]
    before = sha256_of(emmett_sqlite_path)
    app = make_app(str(emmett_sqlite_path))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        home = screen_text(app)
        assert "emmett-sqlite" in home and "READ-ONLY" in home and "bank_account" in home

    app = make_app(str(emmett_sqlite_path), stream=ahead["stream_id"])
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, TimelineScreen)
        assert screen.shown.version == ahead["last_event_position"]
        assert f"/ {ahead['catalog_position']}" not in screen_text(app)
        await pilot.press("home")
        await settle(app, pilot)
        tree = "\n".join(app.screen.query_one(StateTree).plain_lines())
        assert screen.shown.version == 1 and "holder" in tree
    assert sha256_of(emmett_sqlite_path) == before


@pytest.mark.postgres
async def test_an_axon_store_in_the_explorer(axon_oid_database: str) -> None:
    """Axon's JPA tables with large objects and XStream XML (the fixture follows the
    published schema; Axon did not write it): the home screen lists aggregates and the
    group of events without one; the timeline folds the decoded XML."""
    app = make_app(axon_oid_database)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        home = screen_text(app)
        assert "READ-ONLY" in home and "BankAccount" in home and "acct-0000" in home
        assert "(no aggregate)" in home

    app = make_app(axon_oid_database, stream="acct-0007", version=1)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, TimelineScreen) and screen.shown.version == 1
        tree = "\n".join(app.screen.query_one(StateTree).plain_lines())
        assert "acct-0007" in tree and "Owner 7" in tree
        await pilot.press("right")
        await settle(app, pilot)
        assert screen.shown.version == 2


@pytest.mark.postgres
async def test_a_marten_store_in_the_explorer(marten_database: str) -> None:
    """A Marten store opened by its plain URL (tables follow Marten's published schema;
    Marten itself cannot run here): the home screen lists tenant-qualified streams, and
    the slider replays an order's generic fold."""
    from contract_sources import schema_fingerprint

    from tests.fixtures.foreign.marten import facts

    fingerprint = schema_fingerprint(marten_database, facts.V9_SCHEMA)
    before = fingerprint()
    app = make_app(marten_database)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        home = screen_text(app)
        assert "READ-ONLY" in home and "tenant-a/" in home and "order" in home

    stream = f"{facts.STALE_SNAPSHOT_TENANT}/{facts.STALE_SNAPSHOT_ID}"
    app = make_app(marten_database, stream=stream, version=1)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, TimelineScreen) and screen.shown.version == 1
        tree = "\n".join(app.screen.query_one(StateTree).plain_lines())
        assert "Currency" in tree and "EUR" in tree
        await pilot.press("right")
        await settle(app, pilot)
        assert screen.shown.version == 2
        tree = "\n".join(app.screen.query_one(StateTree).plain_lines())
        assert "SKU-" in tree  # the first line item merged into the order
    assert fingerprint() == before


@pytest.mark.postgres
async def test_an_eventuous_store_in_the_explorer(eventuous_database: str) -> None:
    """Tables from Eventuous's published DDL (not written by Eventuous): the home screen
    lists its streams, a truncated stream's timeline says where its history starts, and
    an empty stream (version -1) opens with no events rather than an error."""
    from tests.fixtures.foreign.eventuous import facts

    app = make_app(eventuous_database)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        home = screen_text(app)
        assert "READ-ONLY" in home and "Booking-" in home

    app = make_app(eventuous_database, stream=facts.TRUNCATED_STREAM, version=1)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, TimelineScreen) and screen.shown.version == 1
        text = screen_text(app)
        assert f"history before position {facts.TRUNCATED_BEFORE} was truncated" in text
        await pilot.press("end")
        await settle(app, pilot)
        assert screen.shown.version == screen.overview.length == 8

    app = make_app(eventuous_database, stream=facts.HOLE_STREAM)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, TimelineScreen) and screen.error is None
        assert screen.shown.version == 4 and "no message" in screen_text(app)

    app = make_app(eventuous_database, stream=facts.EMPTY_STREAM)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, TimelineScreen) and screen.error is None
        assert "0 events" in screen_text(app)
