"""Money as the demo stores it: decimal text with two places plus an ISO currency code.

Why text and not floats: canonical JSON (RFC 8785) sends floats down a slow, lossy path,
and an auditor must see the exact amount that was booked. States and projections keep
integer cents (exact, cheap to add, and numeric so the explorer can chart a balance).
"""

from __future__ import annotations

import re
from functools import lru_cache

CURRENCIES = ("EUR", "USD", "GBP")
AMOUNT_PATTERN = r"^-?\d+\.\d{2}$"
_AMOUNT_RE = re.compile(AMOUNT_PATTERN)


def cents_to_text(cents: int) -> str:
    """1250 -> "12.50", -5 -> "-0.05"."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{whole}.{part:02d}"


def text_to_cents(text: str) -> int:
    """ "12.50" -> 1250; raises ValueError for anything but two-place decimal text."""
    if not _AMOUNT_RE.match(text):
        raise ValueError(f"{text!r} is not an amount with two decimal places")
    negative = text.startswith("-")
    whole, _, part = text.lstrip("-").partition(".")
    cents = int(whole) * 100 + int(part)
    return -cents if negative else cents
