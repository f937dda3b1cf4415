"""Built-in lessons: scripted walkthroughs whose steps check that the class saw it.

Each step says what to press and what to look for, and has a check over `Facts` -- what
the session and the explorer can see right now (the last command's outcome, the read
models' lag, which screen is open and on what). The explorer collects the facts on a
timer; a step is done when its check holds, then the next one is shown. Checks read
facts only, never the screen's pixels, so a lesson is testable headless.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["LESSONS", "Facts", "Lesson", "LessonRun", "Step"]


@dataclass
class Facts:
    """What can be observed now (filled by the explorer's teaching screen)."""

    last: Any = None  # the session's last Outcome
    history: list[Any] = field(default_factory=list)
    read_models: list[Any] = field(default_factory=list)
    screen: str = ""  # class name of the screen on top
    timeline_stream: str | None = None
    timeline_axis: str | None = None
    correlation: str | None = None
    consistency_findings: int = 0
    consistency_done: bool = False
    diff_open: bool = False
    upcast_shown: bool = False
    command_log_rejections: int = 0
    backdated_stream: str | None = None  # a stream with a backdated correction


@dataclass(frozen=True, slots=True)
class Step:
    do: str  # what to press
    look: str  # what to look for
    check: Callable[[Facts], bool]


@dataclass(frozen=True, slots=True)
class Lesson:
    key: str
    title: str
    steps: tuple[Step, ...]


class LessonRun:
    """Progress through one lesson: `advance(facts)` moves on while checks hold."""

    def __init__(self, lesson: Lesson) -> None:
        self.lesson = lesson
        self.index = 0

    @property
    def done(self) -> bool:
        return self.index >= len(self.lesson.steps)

    @property
    def step(self) -> Step | None:
        return None if self.done else self.lesson.steps[self.index]

    def advance(self, facts: Facts) -> list[Step]:
        """Steps completed by these facts (usually none or one)."""
        completed = []
        while not self.done:
            step = self.lesson.steps[self.index]
            try:
                ok = bool(step.check(facts))
            except Exception:  # a check that cannot read the facts is simply not done
                ok = False
            if not ok:
                break
            completed.append(step)
            self.index += 1
        return completed


# --- the checks ---------------------------------------------------------------------------
def _last(facts: Facts, command: str, status: str = "accepted") -> bool:
    last = facts.last
    return last is not None and last.command == command and last.status == status


def _opened(facts: Facts) -> bool:
    return _last(facts, "open") and [e.event_type for e in facts.last.events] == ["AccountOpened"]


def _deposited(facts: Facts) -> bool:
    return (
        _last(facts, "deposit")
        and facts.last.events[0].event_type == "MoneyDeposited"
        and any(o.command == "open" and o.stream_id == facts.last.stream_id for o in facts.history)
    )


def _balances_caught_up(facts: Facts) -> bool:
    last = facts.last
    if last is None or not last.events:
        return False
    position = last.events[-1].position
    return any(m.name == "account_balances" and m.checkpoint >= position for m in facts.read_models)


def _saga(facts: Facts) -> bool:
    last = facts.last
    if last is None or last.command != "transfer (saga)" or last.status != "accepted":
        return False
    return len({e.stream_id for e in last.events}) >= 2


def _traced(facts: Facts) -> bool:
    last = next((o for o in reversed(facts.history) if o.command == "transfer (saga)"), None)
    return (
        last is not None
        and facts.screen == "CorrelationScreen"
        and facts.correlation == last.correlation_id
    )


def _rejected(facts: Facts) -> bool:
    last = facts.last
    return last is not None and last.status == "rejected" and not last.events


def _log_shows_rejections(facts: Facts) -> bool:
    return facts.command_log_rejections >= 2  # the class's own and the demo's


def _consistency(facts: Facts) -> bool:
    return facts.screen == "ConsistencyScreen" and facts.consistency_findings > 0


def _diff(facts: Facts) -> bool:
    return facts.diff_open


def _backdated_timeline(facts: Facts) -> bool:
    return facts.screen == "TimelineScreen" and facts.timeline_stream == facts.backdated_stream


def _occurred_axis(facts: Facts) -> bool:
    return _backdated_timeline(facts) and facts.timeline_axis == "occurred"


def _upcast(facts: Facts) -> bool:
    return facts.upcast_shown


LESSONS: tuple[Lesson, ...] = (
    Lesson(
        "open-and-deposit",
        "Open an account and deposit",
        (
            Step(
                "Aggregate 'account', command 'open' (the form is filled in); press ctrl+s.",
                "The command is validated, one AccountOpened is appended, version 0 → 1.",
                _opened,
            ),
            Step(
                "Same stream, command 'deposit', amount 100.00, currency EUR; press ctrl+s.",
                "MoneyDeposited appended; the balance field changed; version 1 → 2.",
                _deposited,
            ),
            Step(
                "Watch 'read models': account_balances lags, then catches up after the delay "
                "(ctrl+t changes the delay).",
                "Lag in events and seconds goes to 0: the projection caught up.",
                _balances_caught_up,
            ),
        ),
    ),
    Lesson(
        "transfer-saga",
        "A transfer saga across streams",
        (
            Step(
                "Aggregate 'saga: transfer money' (two demo accounts are filled in); ctrl+s.",
                "Events on three streams: the transfer, the debited and the credited account.",
                _saga,
            ),
            Step(
                "Press ctrl+o to open the transfer's correlation trace.",
                "One correlation id, each event under the event that caused it.",
                _traced,
            ),
        ),
    ),
    Lesson(
        "rejected-command",
        "A rejected command",
        (
            Step(
                "Account command 'withdraw', amount 999999.00 EUR; press ctrl+s.",
                "REJECTED with the aggregate's reason; nothing appended, the version is unchanged.",
                _rejected,
            ),
            Step(
                "Read the command log: your rejection and the demo's own rejected commands.",
                "Rejections are commands, not events: only the command log remembers them.",
                _log_shows_rejections,
            ),
        ),
    ),
    Lesson(
        "stale-snapshot",
        "A stale snapshot and how the consistency check catches it",
        (
            Step(
                "Press ctrl+k: every stored snapshot and read-model row checked against a replay.",
                "The snapshots written by older code (bank-2.1) are listed as differing.",
                _consistency,
            ),
            Step(
                "Select a snapshot row and press enter to open its diff.",
                "The stored claim on the left, what the events prove on the right.",
                _diff,
            ),
        ),
    ),
    Lesson(
        "backdated-correction",
        "A backdated correction on the business-time axis",
        (
            Step(
                "Press ctrl+b: the timeline of an account with a backdated correction.",
                "The correction is marked «: it occurred days before it was recorded.",
                _backdated_timeline,
            ),
            Step(
                "Press a twice to switch the slider to the occurred (business) time axis.",
                "On the occurred axis the correction sits where it belongs in business time.",
                _occurred_axis,
            ),
        ),
    ),
    Lesson(
        "upcasting",
        "Upcasting: an old-schema event in today's shape",
        (
            Step(
                "Press ctrl+g: an event stored in schema 1 and the upcaster chain.",
                "The stored payload, each upcaster's output, and today's validated shape.",
                _upcast,
            ),
        ),
    ),
)
