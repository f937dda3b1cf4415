"""Money as the demo stores it: decimal text with two places plus an ISO currency code.

Why text and not floats: canonical JSON (RFC 8785) sends floats down a slow, lossy path,
and an auditor must see the exact amount that was booked. States and projections keep
integer cents (exact, cheap to add, and numeric so the explorer can chart a balance).
"""

from __future__ import annotations

CURRENCIES = ("EUR", "USD", "GBP")
AMOUNT_PATTERN = r"^-?[0-9]+\.[0-9]{2}$"


def cents_to_text(cents: int) -> str:
    """1250 -> "12.50", -5 -> "-0.05"."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{whole}.{part:02d}"


def text_to_cents(text: str) -> int:
    """ "12.50" -> 1250; raises ValueError for anything but two-place decimal text.

    No regex: this runs for every money event of every replay."""
    whole, dot, part = text.partition(".")
    digits = whole[1:] if whole[:1] == "-" else whole
    if (
        dot
        and len(part) == 2
        and part.isascii()
        and part.isdigit()
        and digits.isascii()
        and digits.isdigit()
    ):
        return int(whole + part)
    raise ValueError(f"{text!r} is not an amount with two decimal places")
