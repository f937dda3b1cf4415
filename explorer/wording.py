"""The explorer's name for the counting and error-sentence rules: they live in
`eventscope.domain.wording` (the report renderers and the teaching session need them
too), so there is one rule; `screen_sentence` is how a screen shows an error."""

from __future__ import annotations

from eventscope.domain.wording import error_sentence, figure, noun_for, plural, signed
from eventscope.explorer.safe_text import shorten, visible_text

__all__ = ["error_sentence", "figure", "noun_for", "plural", "screen_sentence", "signed"]


def screen_sentence(exc: BaseException) -> str:
    """`error_sentence` as a screen shows it: at most 200 characters, every control and
    invisible character a visible escape (a message may quote stored data)."""
    return visible_text(shorten(error_sentence(exc), 200))
