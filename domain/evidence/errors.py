"""Errors of the evidence package: user mistakes shown as one sentence by the CLI."""

from __future__ import annotations

from eventscope.domain.errors import DomainError


class EvidenceError(DomainError):
    """A report or bundle cannot be produced as asked (nothing selected, no hash chain,
    a broken chain...); the message is one sentence a user can act on."""
