"""VirtualTable: renders only what is on screen, pages through a callback, stays literal."""

from __future__ import annotations

import threading

from eventscope.explorer.widgets.virtual_table import Column, KeysetPager, VirtualRow, VirtualTable
from support.textual import screen_text, settle
from textual.app import App, ComposeResult

TOTAL = 1_000_000


class TableApp(App):
    def __init__(self, table: VirtualTable) -> None:
        super().__init__()
        self.table = table
        self.selected: list[object] = []
        self.highlighted: list[object] = []

    def compose(self) -> ComposeResult:
        yield self.table

    def on_virtual_table_row_selected(self, event: VirtualTable.RowSelected) -> None:
        self.selected.append(event.row.key)

    def on_virtual_table_row_highlighted(self, event: VirtualTable.RowHighlighted) -> None:
        self.highlighted.append(event.row.key)


async def test_a_million_rows_fetch_only_the_pages_shown() -> None:
    calls: list[tuple[int, int]] = []

    def fetch(start: int, limit: int) -> list[VirtualRow]:
        calls.append((start, limit))
        end = min(start + limit, TOTAL)
        return [VirtualRow(i, (str(i), f"row {i}")) for i in range(start, end)]

    table = VirtualTable([Column("n", 8, "right"), Column("text")], fetch, row_count=TOTAL)
    app = TableApp(table)
    async with app.run_test(size=(80, 20)) as pilot:
        await settle(app, pilot)
        assert "row 0" in screen_text(app)
        assert calls == [(0, 200)]
        await pilot.press("end")
        await settle(app, pilot)
        text = screen_text(app)
        assert "row 999999" in text and "row 0 " not in text
        assert table.cursor_row == TOTAL - 1
        assert calls[-1] == (999_800, 200) and len(calls) == 2
        await pilot.press("enter")
        assert app.selected == [TOTAL - 1]
        assert app.highlighted[0] == 0 and app.highlighted[-1] == TOTAL - 1


async def test_unknown_count_grows_until_a_short_page() -> None:
    def fetch(start: int, limit: int) -> list[VirtualRow]:
        return [VirtualRow(i, (f"r{i}",)) for i in range(start, min(start + limit, 25))]

    table = VirtualTable([Column("r")], fetch, row_count=None, page_size=10)
    app = TableApp(table)
    async with app.run_test(size=(40, 40)) as pilot:
        await settle(app, pilot)
        assert table.row_count == 25
        assert "r24" in screen_text(app)
        await pilot.press("end")
        await settle(app, pilot)
        assert table.cursor_row == 24


async def test_keyset_pager_remembers_boundaries_and_cells_stay_literal() -> None:
    keys = [f"s-{i:05d}" for i in range(5000)]
    queries: list[tuple[str | None, int]] = []

    def after(key: str | None, limit: int) -> list[str]:
        queries.append((key, limit))
        start = 0 if key is None else keys.index(key) + 1
        return keys[start : start + limit]

    pager = KeysetPager(
        after, key=lambda k: k, to_row=lambda k: VirtualRow(k, (k, "[@click=app.quit]\x1b[2J"))
    )
    table = VirtualTable(
        [Column("id", 10), Column("note")], pager, row_count=len(keys), page_size=100
    )
    app = TableApp(table)
    async with app.run_test(size=(60, 12)) as pilot:
        await settle(app, pilot)
        text = screen_text(app)
        assert "[@click=app.quit]\\x1b[2J" in text  # markup literal, ESC visible
        await pilot.press("end")
        await settle(app, pilot)
        assert "s-04999" in screen_text(app)
        walked = len(queries)
        await pilot.press("home")
        await settle(app, pilot)
        await pilot.press("end")
        await settle(app, pilot)
        # Page 0 was evicted? No: it is cached. Either way, the far page needs no new walk.
        assert all(key is not None for key, _ in queries[walked:])
        assert app.is_running
        assert pager(4900, 100)[0].key == "s-04900"


async def test_click_moves_cursor_and_click_again_selects() -> None:
    table = VirtualTable(
        [Column("n")],
        lambda s, n: [VirtualRow(i, (f"n{i}",)) for i in range(s, min(s + n, 50))],
        row_count=50,
    )
    app = TableApp(table)
    async with app.run_test(size=(40, 12)) as pilot:
        await settle(app, pilot)
        await pilot.click(VirtualTable, offset=(3, 4))  # header is line 0 -> row 3
        assert table.cursor_row == 3
        await pilot.click(VirtualTable, offset=(3, 4))
        assert app.selected == [3]
        table.reset(lambda s, n: [VirtualRow("x", ("only",))][s : s + n], row_count=1)
        await settle(app, pilot)
        assert "only" in screen_text(app) and "n3" not in screen_text(app)


async def test_enter_before_the_rows_arrive_opens_the_row_when_it_comes() -> None:
    gate = threading.Event()

    def slow_fetch(start: int, limit: int) -> list[VirtualRow]:
        gate.wait(10)  # the store is slow: the page arrives only when the test says so
        return [VirtualRow(f"k{i}", (f"n{i}",)) for i in range(start, min(start + limit, 5))]

    table = VirtualTable([Column("n")], slow_fetch, row_count=5)
    app = TableApp(table)
    async with app.run_test(size=(40, 12)) as pilot:
        await pilot.press("enter")  # nothing loaded yet: remembered, not lost
        assert app.selected == [] and table.cursor_value is None
        gate.set()
        await settle(app, pilot)
        assert app.selected == ["k0"]
        await pilot.press("down", "enter")
        assert app.selected == ["k0", "k1"]
