"""Errors the domain engine raises for user mistakes; the CLI prints them as one sentence."""

from __future__ import annotations


class DomainError(Exception):
    """Base class for domain-level errors worth showing to a user as they are."""


class CommandRejected(DomainError):
    """A command was refused by an aggregate's rules; nothing was recorded."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class VersionOutOfRange(DomainError):
    """A version outside 0..current of a stream was asked for."""


class PluginError(DomainError):
    """A `--domain` module could not be loaded or does not expose what it should."""
