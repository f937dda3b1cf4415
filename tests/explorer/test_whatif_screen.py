"""What-if on the stream timeline, driven end to end with Pilot at 160×48 and 80×24:
skip an event, see the labelled what-if state and its diff, insert and edit events through
the form (checked by the demo's pydantic classes), export a report with the hypothetical
section, go back to the evidence -- and the store is byte-identical afterwards."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from eventscope.explorer.screens.whatif import WhatIfBanner, WhatIfDiffScreen, WhatIfEventForm
from eventscope.explorer.screens.whatif_compare import WhatIfCompare
from support.textual import wait_until
from support.timeline_stores import open_app, screen_text, settle
from textual.widgets import TextArea

SIZES = [(160, 48), (80, 24)]
STREAM = "account-000001"  # opened, a 1,484.00 EUR deposit at v2, then 18 more events
DEPOSIT = '{"amount": "10.00", "currency": "EUR", "channel": "atm"}'


@pytest.fixture(scope="module")
def demo_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from eventscope.demo_data import build_fixture_store

    folder = tmp_path_factory.mktemp("evidence")
    build_fixture_store(folder / "demo.db")
    return folder


def _tree_digest(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.iterdir())
        if p.is_file()
    }


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_a_what_if_edit_end_to_end(demo_folder: Path, tmp_path: Path, size) -> None:
    path = demo_folder / "demo.db"
    before = _tree_digest(demo_folder)
    app = open_app(path, stream=STREAM, version=2)
    async with app.run_test(size=size) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert screen.what_if is None and not screen.has_class("-what-if")
        actual_balance = screen.timeline.state_at(2).state["balance_cents"]
        assert actual_balance == 148400

        await pilot.press("x")  # what if the deposit at v2 had not happened?
        await settle(app, pilot)
        assert screen.has_class("-what-if")
        banner = screen.query_one(WhatIfBanner)
        assert banner.display and "WHAT-IF" in str(banner.render())
        text = screen_text(app)
        assert "HYPOTHETICAL, NOT EVIDENCE" in text and "skip v2" in text
        assert "WHAT-IF" in str(screen.state_tree.border_title)
        assert screen.timeline.state_at(2).state["balance_cents"] == 0
        assert "left out" in text  # the tombstone row in the list (or the detail)
        assert screen.slider.length == 20  # a skip keeps the rows aligned
        # What-if against actual in one row, at both sizes (the chart is off screen at
        # 80x24): the charted field's two values, the difference, the diff's size.
        await wait_until(pilot, lambda: "actual 1,484.00 EUR" in screen_text(app))
        compare = str(screen.query_one(WhatIfCompare).render())
        assert "balance_cents: what-if 0.00" in compare and "(−1,484.00)" in compare
        assert "1 field differs" in compare
        assert "1 event applied" in text
        assert not re.search(r"(?<![\d,.])1 (events|rows|differences)\b", text)
        if size == (160, 48):  # labelled once, as words (not markup), however often drawn
            await pilot.press("right", "left")
            await settle(app, pilot)
            title = next(line for line in screen_text(app).splitlines() if "over versions" in line)
            assert title.count("WHAT-IF") == 1 and "[" not in title

        await pilot.press("D")  # the diff against the actual state, one key away
        await settle(app, pilot)
        assert isinstance(app.screen, WhatIfDiffScreen)
        text = screen_text(app)
        assert "balance_cents: 148400 → 0" in text and "NOT EVIDENCE" in text
        await pilot.press("escape")
        await settle(app, pilot)

        await pilot.press("i")  # insert a deposit after v2, through the form
        await settle(app, pilot)
        form = app.screen
        assert isinstance(form, WhatIfEventForm)
        form.query_one(TextArea).load_text('{"amount": 10}')
        await pilot.press("ctrl+s")  # the demo's MoneyDeposited refuses an integer amount
        await pilot.pause()
        assert isinstance(app.screen, WhatIfEventForm)
        assert "not a valid MoneyDeposited" in screen_text(app)
        form.query_one(TextArea).load_text(DEPOSIT)
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert app.screen is screen
        assert "insert MoneyDeposited after v2" in ", ".join(screen.what_if.edits.describe())
        assert screen.slider.length == 21
        assert screen.timeline.state_at(3).state["balance_cents"] == 1000

        await pilot.press("end")
        await settle(app, pilot)
        latest = screen.what_if.result().what_if.state["balance_cents"]
        assert latest == 216203 - 148400 + 1000

        # Export a report of the what-if: written outside the evidence folder, with the
        # hypothetical section last.
        report = tmp_path / "whatif-report.md"
        screen._export_report(report, 20)
        await settle(app, pilot)
        content = report.read_text()
        assert "## Hypothetical (what-if) -- NOT EVIDENCE" in content
        assert "skip v2" in content

        await pilot.press("u")  # back to the evidence
        await settle(app, pilot)
        assert screen.what_if is None and not screen.has_class("-what-if")
        assert screen.slider.length == 20
        assert screen.timeline.state_at(2).state["balance_cents"] == 148400
        assert "WHAT-IF" not in str(screen.state_tree.border_title)
    after = _tree_digest(demo_folder)
    assert after["demo.db"] == before["demo.db"], "a what-if session changed the store"
    extra = set(after) - set(before)
    assert extra <= {"demo.db-wal", "demo.db-shm"}, extra
    if "demo.db-wal" in extra:
        assert (demo_folder / "demo.db-wal").stat().st_size == 0


async def test_edit_replaces_data_and_the_domain_refuses_what_follows(demo_folder: Path) -> None:
    app = open_app(demo_folder / "demo.db", stream=STREAM, version=1)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        await pilot.press("r")  # open the account in another currency
        await settle(app, pilot)
        form = app.screen
        assert isinstance(form, WhatIfEventForm)
        text = form.query_one(TextArea).text.replace('"EUR"', '"USD"')
        form.query_one(TextArea).load_text(text)
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        what_if = screen.what_if
        assert what_if is not None and what_if.rejected
        first = what_if.rejected[0]
        assert first.version == 2 and "holds USD, not EUR" in first.reason
        assert "refused" in screen_text(app)
        assert what_if.entry(2).kind == "refused"


async def test_the_read_models_over_the_changed_history(demo_folder: Path) -> None:
    app = open_app(demo_folder / "demo.db", stream=STREAM, version=2)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(app, pilot)
        await pilot.press("W")  # nothing to show without a what-if: a sentence, no screen
        await settle(app, pilot)
        assert type(app.screen).__name__ == "TimelineScreen"
        await pilot.press("x", "W")
        await settle(app, pilot)
        world = app.screen
        assert type(world).__name__ == "WhatIfWorldScreen"
        for _ in range(100):
            world.flush()  # the world screen settles moves after a delay; now, please
            await settle(app, pilot)
            if STREAM in world._documents:
                break
        assert world.projection == "account_balances"
        assert world._documents[STREAM]["balance_cents"] == 0  # the deposit never happened
        real = app.engine.projection_as_of("account_balances", world.position)[STREAM]
        assert real["balance_cents"] == 148400
        assert "HYPOTHETICAL, NOT EVIDENCE" in screen_text(app)


def test_the_compare_line_leaves_the_count_out_whole_when_it_does_not_fit() -> None:
    from eventscope.domain.units import MONEY_CENTS
    from eventscope.explorer.screens.whatif_compare import Comparison, compare_text

    tight = Comparison(54, 54, ("balance_cents",), -196, 403304, 1, MONEY_CENTS, "EUR")
    text = compare_text(tight, narrow=True, width=78).plain
    assert text == "balance_cents: what-if -1.96, actual 4,033.04 EUR (−4,035.00)"
    roomy = Comparison(2, 2, ("balance_cents",), 0, 148400, 3, MONEY_CENTS, "EUR")
    text = compare_text(roomy, narrow=False, width=156).plain
    assert "WHAT-IF vs ACTUAL" in text and "row 2" in text and "3 fields differ" in text
    same = Comparison(5, 4, (), None, None, 0)
    assert "the same state as the actual" in compare_text(same, width=156).plain
