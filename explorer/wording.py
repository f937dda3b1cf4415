"""The explorer's name for the counting rule: it lives in `eventscope.domain.wording`
(the report renderers and the teaching session need it too), so there is one rule."""

from __future__ import annotations

from eventscope.domain.wording import figure, noun_for, plural, signed

__all__ = ["figure", "noun_for", "plural", "signed"]
