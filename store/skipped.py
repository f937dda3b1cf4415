"""What a source skipped while reading (malformed JSON Lines, records a foreign store
holds but eventscope cannot read), for one warning per command and the status bar.

Why: views skip such records so the rest of the history stays readable, and that must
never be silent -- an auditor has to know that what is shown is not all that is stored.
A source tells by having `malformed_count` (an int) and `problems()` ((line or record
number, reason) pairs); sources without them skip nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SHOWN_LINES = 5


@dataclass(frozen=True, slots=True)
class Skipped:
    """How many records were skipped and the numbers of the first few."""

    count: int
    first_lines: tuple[int, ...] = ()

    def sentence(self) -> str:
        """One sentence for stderr: the count and the first line numbers."""
        lines = ", ".join(str(number) for number in self.first_lines)
        more = ", …" if self.count > len(self.first_lines) else ""
        where = f" (line{'s' if self.count > 1 else ''} {lines}{more})" if lines else ""
        return (
            f"warning: {self.count:,} malformed line{'s' if self.count != 1 else ''} "
            f"skipped{where}; `eventscope verify` lists them"
        )

    def label(self) -> str:
        """The status bar's words."""
        return f"{self.count:,} malformed line{'s' if self.count != 1 else ''} skipped"


def skipped_by(source: Any) -> Skipped | None:
    """What `source` skipped, or None when it skipped nothing (or cannot tell)."""
    count = getattr(source, "malformed_count", 0)
    if not isinstance(count, int) or count <= 0:
        return None
    problems = getattr(source, "problems", None)
    found = problems() if callable(problems) else []
    first = tuple(int(number) for number, _reason in list(found)[:SHOWN_LINES])
    return Skipped(count, first)
