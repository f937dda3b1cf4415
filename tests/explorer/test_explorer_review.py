"""The explorer as an analyst and a reviewer use it: nothing important cut off, live
follow mode, usable at 80×24, help that teaches, and the investigator's screens.

Every test drives the real app on a real SQLite store with real key presses and waits
for states (workers done, conditions met), never for time.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from eventscope.demo_data import build_fixture_store
from eventscope.explorer.app import Integrity, make_app
from eventscope.explorer.cli import main
from eventscope.explorer.screens.browser import BrowserScreen
from eventscope.explorer.screens.consistency import ConsistencyScreen
from eventscope.explorer.screens.diff import DiffScreen, Side
from eventscope.explorer.screens.export_report import ExportReportScreen
from eventscope.explorer.screens.field_history import FieldHistoryScreen
from eventscope.explorer.screens.help import HelpScreen
from eventscope.explorer.screens.time_jump import TimeJumpScreen
from eventscope.explorer.screens.timeline import TimelineScreen
from eventscope.explorer.widgets.event_detail import EventDetail
from eventscope.explorer.widgets.field_chart import FieldChart
from eventscope.explorer.widgets.key_footer import KeyFooter
from eventscope.explorer.widgets.state_tree import StateTree
from eventscope.explorer.widgets.virtual_table import VirtualTable
from eventscope.store import EventStore, NewEvent
from support.shell_store import build_store as build_shell_store
from support.textual import notifications, screen_text, settle, wait_until
from support.timeline_stores import ACCOUNT, STALE, build_store
from textual.binding import Binding
from textual.widgets import Button, ProgressBar

BIG, SMALL = (160, 48), (80, 24)
LONG_ACTOR = "service:payments-saga-eu-west"


@pytest.fixture
def store_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return build_store(Path("store.db"))


@pytest.fixture
def shell_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return build_shell_store(Path("shell.db"))


@pytest.fixture
def demo_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    path = Path("demo.db")
    build_fixture_store(path)
    return path


def long_actor_store(path: Path) -> Path:
    """One account whose events are written by an actor with a long name."""
    store = EventStore.open(path)
    try:
        events = [
            NewEvent("Opened", {"balance": 0, "owner": "ann"}, {"actor": LONG_ACTOR}),
            NewEvent("Deposited", {"balance": 250}, {"actor": LONG_ACTOR}),
        ]
        store.append("acct-long-actor", events, stream_type="Account")
    finally:
        store.close()
    return path


# --- who and which hash must always be readable -------------------------------------


@pytest.mark.parametrize("size", [BIG, SMALL], ids=["160x48", "80x24"])
async def test_blame_event_list_and_filter_list_show_the_whole_actor(tmp_path: Path, size) -> None:
    path = long_actor_store(tmp_path / "actors.db")
    app = make_app(str(path), stream="acct-long-actor", version=2)
    async with app.run_test(size=size) as pilot:
        await settle(app, pilot)
        text = screen_text(app)
        state_line = next(line for line in text.splitlines() if "balance: 250" in line)
        assert LONG_ACTOR in state_line  # today: "v2 Deposited · 2026-… · service:p…"
        rows = [line for line in text.splitlines() if "Deposited" in line and "│" in line]
        assert any(LONG_ACTOR in line for line in rows)  # today: cut to ten characters
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, BrowserScreen))
        await pilot.press("slash", *"actor:" + LONG_ACTOR, "enter")
        await settle(app, pilot)
        table = app.screen.query_one("#streams", VirtualTable)
        widths = dict(zip([c.label for c in table.columns], table.column_widths(), strict=True))
        assert widths["actor"] >= len(LONG_ACTOR) and widths["stream id"] < 30
        assert f"{LONG_ACTOR} " in screen_text(app) or LONG_ACTOR in screen_text(app)


async def test_detail_shows_the_full_hash_and_the_copy_key_copies_it(store_path: Path) -> None:
    app = make_app(str(store_path), stream=ACCOUNT, version=3)
    async with app.run_test(size=BIG) as pilot:
        await settle(app, pilot)
        record = app.source.event_at(app.engine.timeline(ACCOUNT).position_of(3))
        assert len(record.hash) == 64
        detail = app.screen.query_one(EventDetail)
        rows = [detail.render_line(y).text for y in range(detail.size.height)]
        start = next(i for i, row in enumerate(rows) if row.startswith("hash"))
        shown = rows[start][14:].rstrip() + rows[start + 1].strip()
        assert shown == record.hash  # wrapped, but whole (today: 54 of 64 characters)
        detail.focus()
        assert detail.move_cursor_to(lambda line: line.copy and line.copy[0] == "hash")
        await pilot.press("y")
        assert app.clipboard == record.hash
        assert any(record.hash in message for message in notifications(app))


async def test_field_history_lists_every_change_with_who_and_when(store_path: Path) -> None:
    app = make_app(str(store_path), stream=ACCOUNT, version=12)
    async with app.run_test(size=BIG) as pilot:
        await settle(app, pilot)
        tree = app.screen.query_one(StateTree)
        tree.focus()
        assert tree.move_cursor_to(lambda line: line.data == ("balance",))
        await pilot.press("h")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, FieldHistoryScreen)
        changes = screen.changes
        # Every version that moved the balance (v4 only added an address: not listed).
        assert [c.version for c in changes] == [1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12]
        assert (changes[1].before, changes[1].after) == (0, 20)
        text = screen_text(app)
        assert "0 → 20" in text and "+20" in text and "alice" in text
        await pilot.press("up", "up", "enter")  # v10, back on the timeline
        await settle(app, pilot)
        assert isinstance(app.screen, TimelineScreen) and app.screen.version == 10


# --- 80×24 must really work -----------------------------------------------------------


async def test_browser_at_80x24_fits_and_the_footer_is_not_cut(demo_path: Path) -> None:
    app = make_app(str(demo_path))
    async with app.run_test(size=SMALL) as pilot:
        await settle(app, pilot)
        table = app.screen.query_one("#streams", VirtualTable)
        used = 1 + sum(w + 1 for w in table.column_widths() if w > 0)
        assert used <= table.scrollable_content_region.width  # no horizontal scrollbar
        assert table.virtual_size.width <= table.scrollable_content_region.width
        footer = app.screen.query_one(KeyFooter)
        keys = footer.shown_keys()
        assert keys[0] == "? Help" and not any(key.endswith(" e") for key in keys)
        assert "esc Back" not in keys  # nothing to go back to on the home screen


async def test_timeline_at_80x24_is_a_deliberate_layout(store_path: Path) -> None:
    app = make_app(str(store_path), stream=ACCOUNT, version=7)
    async with app.run_test(size=SMALL) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert screen.narrow and not screen.query_one(FieldChart).display
        text = screen_text(app)
        assert "rec 2026-03-01 16:00" in text and "occ 2026-02-19 16:00" in text
        assert "« 7 FeeCorrected" in text  # the list keeps the selected event in view
        await pilot.press("p")
        assert screen.query_one(EventDetail).display and not screen.query_one("#tl-right").display
        await pilot.press("p")
        await settle(app, pilot)
        assert screen.query_one(FieldChart).display


# --- live stores --------------------------------------------------------------------------


async def test_follow_mode_shows_new_events_everywhere_with_one_head(store_path: Path) -> None:
    app = make_app(str(store_path), stream=ACCOUNT)
    async with app.run_test(size=BIG) as pilot:
        await settle(app, pilot)
        assert app.following and "● following" in screen_text(app)
        assert 0 < app.FOLLOW_INTERVAL <= 1.0
        timeline = app.screen
        head = app.summary.head_position
        writer = EventStore.open(store_path)
        try:
            writer.append(ACCOUNT, [NewEvent("Deposited", {"balance": 999}, {"actor": "zoe"})])
            writer.append("acct-new", [NewEvent("Opened", {"balance": 1})], stream_type="A")
        finally:
            writer.close()
        app.check_head()  # what the follow timer does every second
        await wait_until(pilot, lambda: timeline.version == 13)
        await settle(app, pilot)
        assert app.summary.head_position == head + 2
        text = screen_text(app)
        assert f"{head + 2:,} events  head {head + 2:,}" in text and "v 13 / 13" in text
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, BrowserScreen))
        await settle(app, pilot)
        assert "acct-new" in screen_text(app) and f"{head + 2:,} events" in screen_text(app)
        await pilot.press("w")
        await settle(app, pilot)
        assert f"/ {head + 2:,}" in screen_text(app)  # the world's head is the app's
        await pilot.press("l")
        assert not app.following and "paused" in screen_text(app)


async def test_refresh_key_reloads_the_list_and_the_status_bar_together(
    store_path: Path,
) -> None:
    app = make_app(str(store_path))
    async with app.run_test(size=BIG) as pilot:
        await settle(app, pilot)
        await pilot.press("l")  # paused: only the refresh key reads the head
        writer = EventStore.open(store_path)
        try:
            writer.append("acct-late", [NewEvent("Opened", {"balance": 1})], stream_type="A")
        finally:
            writer.close()
        count = app.source.event_count()
        await pilot.press("ctrl+r")
        await settle(app, pilot)
        text = screen_text(app)
        streams = app.source.count_streams()
        assert f"{count:,} events" in text and f"{streams} streams" in text


# --- keys, help and palette --------------------------------------------------------------


async def test_help_is_a_guide_built_from_the_live_bindings(shell_path: Path) -> None:
    class Extra(BrowserScreen):
        BINDINGS = [Binding("x", "bell", "Ring the bell (added by another part)")]

    app = make_app(str(shell_path))
    async with app.run_test(size=BIG) as pilot:
        await settle(app, pilot)
        app.push_screen(Extra())
        await settle(app, pilot)
        await pilot.press("question_mark")
        await settle(app, pilot)
        assert isinstance(app.screen, HelpScreen)
        guide = app.screen.plain_text()
        for heading in ("Look closer", "Investigate", "Live data", "The app"):
            assert heading in guide
        assert "More on this screen" in guide and "Ring the bell" in guide
        assert "event:MoneyWithdrawn,FeeCharged" in guide and "since:2026-03-01" in guide
        for mark in ("«", "✗", "●", "+  −", "dimmed"):
            assert mark in guide
        for noise in ("super+c", "in VirtualTable", "Page Left", "Focus Next", "Keys —"):
            assert noise not in guide


async def test_footer_offers_only_keys_that_do_something(store_path: Path) -> None:
    app = make_app(str(store_path), stream=ACCOUNT, version=2)
    async with app.run_test(size=BIG) as pilot:
        await settle(app, pilot)
        keys = app.screen.query_one(KeyFooter).shown_keys()
        assert "⏎ Open" not in keys and "p Pane" not in keys  # wide layout: no pane key
        await pilot.press("v")
        await settle(app, pilot)
        assert app.integrity.state == "verified"
        assert "⏎ Open broken event" not in app.screen.query_one(KeyFooter).shown_keys()


async def test_letters_do_not_fire_while_a_form_control_has_focus(store_path: Path) -> None:
    app = make_app(str(store_path), stream=STALE, version=6)
    async with app.run_test(size=BIG) as pilot:
        await settle(app, pilot)
        await pilot.press("d")
        await settle(app, pilot)
        diff = app.screen
        assert isinstance(diff, DiffScreen)
        diff.query_one("#compare", Button).focus()
        before = (diff.left, diff.right)
        await pilot.press(*"account_balances")
        await settle(app, pilot)
        assert app.screen is diff and (diff.left, diff.right) == before  # no c, no s


@pytest.mark.parametrize("size", [BIG, SMALL], ids=["160x48", "80x24"])
async def test_palette_lists_each_action_once_and_textual_apart(shell_path: Path, size) -> None:
    app = make_app(str(shell_path))
    async with app.run_test(size=size) as pilot:
        await settle(app, pilot)
        from eventscope.explorer.commands import EventscopeCommands

        provider = EventscopeCommands(app.screen)
        names = [name for name, _help, _run in provider._commands()]
        assert len(names) == len(set(names))
        assert "Verify integrity" in names and "Verify" not in names
        system = [command.title for command in app.get_system_commands(app.screen)]
        assert system and all(title.startswith("Textual: ") for title in system)
        assert "Textual: Quit" not in system  # ours is the one quit
        # Textual's own keys (tab, ctrl+q, ctrl+c) are not listed among ours as if they
        # were eventscope's: the real palette showed "Focus Next", "Quit · key: ^q".
        assert "Focus Next" not in names and "Copy selected text" not in names
        helps = dict((name, help_line) for name, help_line, _run in provider._commands())
        assert helps["Quit"].endswith("key: q")


async def test_filter_applies_as_you_type_with_the_count(shell_path: Path) -> None:
    app = make_app(str(shell_path))
    async with app.run_test(size=BIG) as pilot:
        await settle(app, pilot)
        screen = app.screen
        screen.filter_delay = 0.01
        await pilot.press("slash", *"type:order")  # no enter
        await wait_until(pilot, lambda: screen.browser_filter.stream_type == "order")
        await settle(app, pilot)
        assert "12 streams" in screen_text(app) and "account-0000" not in screen_text(app)


async def test_dialogs_overlay_the_screen_and_export_shows_its_folder(
    store_path: Path, tmp_path: Path
) -> None:
    app = make_app(str(store_path), stream=ACCOUNT, version=3)
    async with app.run_test(size=BIG) as pilot:
        await settle(app, pilot)
        await pilot.press("t")
        await wait_until(pilot, lambda: isinstance(app.screen, TimeJumpScreen))
        assert "timeline acct-001" in screen_text(app)  # the timeline is still visible
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, TimelineScreen))
        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(app.screen, ExportReportScreen))
        where = str(app.screen.query_one("#export-where").render())
        assert f"writes into {tmp_path.absolute()}/" in where


# --- the screens an investigator reads -----------------------------------------------


async def test_diff_sides_are_aligned_and_can_be_times_or_other_streams(
    store_path: Path,
) -> None:
    app = make_app(str(store_path))
    async with app.run_test(size=BIG) as pilot:
        await settle(app, pilot)
        app.push_screen(
            DiffScreen(ACCOUNT, left=Side("version", 2), right=Side("version", 5, stream=STALE))
        )
        await settle(app, pilot)
        screen = app.screen
        assert screen.error is None, screen.error
        left = screen.query_one("#left-state").lines
        right = screen.query_one("#right-state").lines
        assert len(left) == len(right) and [a.data for a in left] == [b.data for b in right]
        assert "acct-002 state at v5" in screen_text(app)
        # A moment on the recorded axis: v5 was recorded at 14:00, so 14:30 is v5.
        screen.query_one("#right-kind").value = "recorded"
        screen.query_one("#right-stream").value = ACCOUNT
        await pilot.pause()
        screen.query_one("#right-value").value = "2026-03-01T14:30:00Z"
        screen.query_one("#right-value").focus()
        await pilot.press("enter")
        await settle(app, pilot)
        assert screen.right.kind == "recorded" and screen.error is None
        assert "~ balance: 20 → 49  (+29)" in screen.query_one("#diff-view").plain_lines()


async def test_consistency_shows_what_the_claim_says_and_what_the_events_prove(
    store_path: Path,
) -> None:
    app = make_app(str(store_path))
    async with app.run_test(size=BIG) as pilot:
        await settle(app, pilot)
        app.push_screen(ConsistencyScreen())
        await settle(app, pilot)
        assert "balance: 1007 → 7 (−1,000)" in screen_text(app)


async def test_world_shows_fields_as_columns_and_a_progress_bar_while_replaying(
    demo_path: Path,
) -> None:
    app = make_app(str(demo_path))
    async with app.run_test(size=BIG) as pilot:
        await settle(app, pilot)
        engine = app.engine
        release = threading.Event()
        real = engine.projection_as_of

        def slow(name: str, position: Any = None, progress: Any = None) -> Any:
            progress(500, 1000)
            release.wait(30)
            return real(name, position, progress)

        engine.projection_as_of = slow
        await pilot.press("w")
        screen = app.screen
        await wait_until(pilot, lambda: screen.query_one(ProgressBar).display)
        assert screen.query_one(ProgressBar).percentage == 0.5
        release.set()
        await settle(app, pilot)
        engine.projection_as_of = real
        assert not screen.query_one(ProgressBar).display
        table = screen.query_one("#world-rows", VirtualTable)
        labels = [column.label for column in table.columns]
        assert labels[0] == "key" and "balance_cents (money)" in labels
        cells = table.visible_rows()[0].cells
        assert not any(str(cell).startswith("{") for cell in cells)  # not raw JSON


async def test_correlation_columns_line_up_across_depths(shell_path: Path) -> None:
    app = make_app(str(shell_path))
    async with app.run_test(size=BIG) as pilot:
        await settle(app, pilot)
        app.open_correlation("corr-transfer-1")
        await settle(app, pilot)
        lines = [line for line in screen_text(app).splitlines() if "saga" in line]
        assert len(lines) == 3
        starts = {line.index("saga") for line in lines}
        assert len(starts) == 1  # the actor column starts at the same x at every depth


async def test_chart_follows_the_axis_and_shows_money(demo_path: Path) -> None:
    source = make_app(str(demo_path)).source
    stream = next(i.stream_id for i in source.streams("account", None, None, 5) if i.version > 3)
    source.close()
    app = make_app(str(demo_path), stream=stream)
    async with app.run_test(size=BIG) as pilot:
        await settle(app, pilot)
        chart = app.screen.query_one(FieldChart)
        assert chart.series is not None and not chart.series.x_is_time
        assert chart.series.unit is not None and chart.series.y_label(454246, 1000) == "4,542.46"
        await pilot.press("a")
        await settle(app, pilot)
        assert chart.series.x_is_time and "over recorded time" in str(chart.border_title)
        assert chart.series.xs == sorted(chart.series.xs) and chart.series.xs[0] > 1e9


# --- messages ----------------------------------------------------------------------------


def test_no_python_none_and_no_one_events() -> None:
    label = Integrity("broken", 10, 10, None, "digest mismatch").label()
    assert "None" not in label and "BROKEN" in label
    assert Integrity("verified", 1, 1).label() == "verified (1 event)"


async def test_one_event_is_one_event(shell_path: Path) -> None:
    app = make_app(str(shell_path), stream="transfer-0001")
    async with app.run_test(size=BIG) as pilot:
        await settle(app, pilot)
        text = screen_text(app)
        assert "1 event" in text and "1 events" not in text


def test_demo_into_a_database_url_explains_how(tmp_path: Path) -> None:
    url = "postgresql+psycopg://auditor:secret@db.example/ledger"
    result = CliRunner().invoke(main, ["demo", "--db", url])
    assert result.exit_code != 0 and "Traceback" not in result.output
    message = result.output
    assert "demos are built as SQLite files" in message
    assert (
        "eventscope import demo.db --db postgresql+psycopg://auditor:***@db.example/ledger"
        in message
    )
    assert "secret" not in message


@pytest.mark.parametrize("size", [BIG, SMALL], ids=["160x48", "80x24"])
async def test_help_never_glues_a_long_key_list_to_its_meaning(shell_path: Path, size) -> None:
    """A key list wider than the key column (``↑ ↓ home end ^home ^end``) gets its own row;
    today it ran into its description (``^endMove in the focused list``)."""
    from eventscope.explorer.screens.help import help_keys

    app = make_app(str(shell_path))
    async with app.run_test(size=size) as pilot:
        await settle(app, pilot)
        keys = help_keys(app.screen)
        await pilot.press("question_mark")
        await settle(app, pilot)
        guide = app.screen.plain_text().splitlines()
        for item in keys:
            row = next(i for i, line in enumerate(guide) if line.startswith(f"  {item.keys}"))
            rest = guide[row][len(item.keys) + 2 :]
            assert rest == "" or rest.startswith(" "), guide[row]
            if rest == "":
                assert guide[row + 1].strip().startswith(item.does.split()[0])
        assert "^endMove" not in screen_text(app)


@pytest.mark.parametrize("size", [BIG, SMALL], ids=["160x48", "80x24"])
async def test_field_history_keeps_who_when_and_the_values_at_both_sizes(
    demo_path: Path, size
) -> None:
    """At 80 columns the delta and then the event type give way; the time, the whole actor
    and both values stay (the time was the first column dropped before)."""
    app = make_app(str(demo_path), stream="account-000001", version=20)
    async with app.run_test(size=size) as pilot:
        await settle(app, pilot)
        tree = app.screen.query_one(StateTree)
        tree.focus()
        assert tree.move_cursor_to(lambda line: line.data == ("balance_cents",))
        await pilot.press("h")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, FieldHistoryScreen)
        await wait_until(pilot, lambda: bool(screen.changes))
        await settle(app, pilot)
        table = screen.query_one(VirtualTable)
        labels = [c.label for c, w in zip(table.columns, table.column_widths(), strict=True) if w]
        for needed in ("v", "recorded (UTC)", "actor", "before → after"):
            assert needed in labels, labels
        text = screen_text(app)
        first = screen.changes[-1]  # the newest: in view at both sizes
        starts = re.compile(rf"│\s*{first.version} 20\d\d-\d\d-\d\d ")
        row = next(line for line in text.splitlines() if starts.search(line))
        assert (first.actor or "—") in row and " → " in row
        assert "…" not in row.split(" → ")[0]  # version, time and actor are whole


@pytest.mark.parametrize("size", [BIG, SMALL], ids=["160x48", "80x24"])
async def test_the_business_time_question_is_whole_in_the_header(store_path: Path, size) -> None:
    """On the occurred axis the header says as of which business time and as known when;
    at 80 columns the phrase was cut after "as known a"."""
    app = make_app(str(store_path), stream=ACCOUNT, version=7)
    async with app.run_test(size=size) as pilot:
        await settle(app, pilot)
        screen = app.screen
        await pilot.press("a")
        await settle(app, pilot)
        await pilot.press("a")
        await wait_until(
            pilot, lambda: screen.shown is not None and screen.shown.applied is not None
        )
        await settle(app, pilot)
        header = next(line for line in screen_text(app).splitlines() if ACCOUNT in line)
        assert "…" not in header, header
        assert "2026-02-19 16:00" in header and "known" in header
        assert "everything recorded" in header


async def test_follow_mode_at_80x24_one_head_and_a_visible_indicator(store_path: Path) -> None:
    """The narrow status bar keeps the follow indicator and the one head; new events reach
    the timeline's list and slider too."""
    app = make_app(str(store_path), stream=ACCOUNT)
    async with app.run_test(size=SMALL) as pilot:
        await settle(app, pilot)
        assert "● live" in screen_text(app)
        timeline = app.screen
        count = app.summary.event_count
        writer = EventStore.open(store_path)
        try:
            writer.append(ACCOUNT, [NewEvent("Deposited", {"balance": 999}, {"actor": "zoe"})])
        finally:
            writer.close()
        app.check_head()  # what the follow timer does every second
        await wait_until(pilot, lambda: timeline.version == 13)
        await settle(app, pilot)
        text = screen_text(app)
        assert f"{count + 1:,} ev" in text and "v 13 / 13" in text and "13 events" in text
        await pilot.press("l")
        await wait_until(pilot, lambda: "‖ paused" in screen_text(app))
        assert not app.following


async def test_at_80x24_the_event_pane_shows_and_copies_the_whole_hash(store_path: Path) -> None:
    app = make_app(str(store_path), stream=ACCOUNT, version=3)
    async with app.run_test(size=SMALL) as pilot:
        await settle(app, pilot)
        record = app.source.event_at(app.engine.timeline(ACCOUNT).position_of(3))
        await pilot.press("p")  # the narrow layout's event pane
        await settle(app, pilot)
        detail = app.screen.query_one(EventDetail)
        assert detail.display
        detail.focus()
        assert detail.move_cursor_to(lambda line: line.copy and line.copy[0] == "hash")
        await pilot.pause()
        lines = screen_text(app).splitlines()
        start = next(i for i, line in enumerate(lines) if "│ hash" in line)
        first = lines[start].split("hash", 1)[1].strip(" │▁▂▃▄▅▆▇█")
        second = lines[start + 1].strip(" │▁▂▃▄▅▆▇█")
        assert first + second == record.hash, (first, second)  # wrapped, whole, no "…"
        await pilot.press("y")
        assert app.clipboard == record.hash
        assert any("hash" in message for message in notifications(app))
