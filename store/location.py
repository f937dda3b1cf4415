"""Where a history is: a SOURCE argument (a file path or a SQLAlchemy URL) parsed once.

Every source kind opens a `Location`, never the raw text, so the rules are written once:
* text without ``://`` is a file path (``~`` expanded); ``?`` and ``#`` in it are part of
  the file name, never URI syntax;
* ``sqlite:///PATH`` is that file; ``postgresql://`` (any driver; plain ``postgresql``
  becomes psycopg) is a database, and ``?schema=NAME`` on it selects one schema (taken
  off the URL before connecting: it is not a libpq key); an explicit `schema` argument
  wins over the URL's; the schema defaults to ``public`` and must be a plain identifier;
* a URL may end in ``#NAME`` (the `fragment`), which a source may use to pick one of
  several histories in a database (an `eventsourcing` application's table);
* the URL options in `SOURCE_OPTIONS` (e.g. Message DB's ``?actor=properties.userId``)
  are eventscope's, not libpq's: they are taken off the URL into `options`.
Anything else is one sentence (`SourceNotFound`). SQLAlchemy is imported only for URLs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from eventscope.store.errors import SourceNotFound

if TYPE_CHECKING:
    from sqlalchemy import URL

# Query options a source reads itself (never passed to the driver).
SOURCE_OPTIONS = ("actor",)


@dataclass(frozen=True, slots=True)
class Location:
    """A parsed SOURCE: exactly one of `path` (a file) and `url` (PostgreSQL) is set."""

    text: str  # as given (without a `kind:` prefix)
    path: Path | None = None
    url: URL | None = None
    schema: str | None = None  # PostgreSQL only, validated, "public" by default
    fragment: str | None = None  # after '#' in a URL
    options: tuple[tuple[str, str], ...] = ()  # SOURCE_OPTIONS given on a URL

    def option(self, name: str) -> str | None:
        """The value of one of `SOURCE_OPTIONS` given on the URL, or None."""
        return dict(self.options).get(name)

    @property
    def is_url(self) -> bool:
        """Whether the text was a URL (a `sqlite:///` URL is one, though it names a file)."""
        return "://" in self.text

    def display(self, *, with_schema: bool = False) -> str:
        """For messages and `describe()`: the path, or the URL without its password and
        with the schema when it is not ``public`` (or always, `with_schema`)."""
        if self.url is None:
            return str(self.path)
        from eventscope.store.sql.postgres import safe_location

        shown = safe_location(self.url)
        if self.schema == "public" and not with_schema:
            return shown
        return f"{shown} (schema {self.schema})"


def parse_location(text: str | Path, schema: str | None = None) -> Location:
    """Parse a SOURCE (see the module docstring); raises SourceNotFound in one sentence."""
    raw = str(text)
    if "://" not in raw:
        return Location(raw, path=Path(raw).expanduser())  # a schema means nothing here
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    body, _, fragment = raw.partition("#")
    try:
        url = make_url(body)
    except ArgumentError:
        raise SourceNotFound(f"{raw!r} is not a valid database URL") from None
    backend = url.get_backend_name()
    if backend == "sqlite":
        if not url.database or url.database == ":memory:":
            raise SourceNotFound("a SQLite source needs a file path")
        return Location(raw, path=Path(url.database), fragment=fragment or None)
    if backend != "postgresql":
        raise SourceNotFound(
            f"eventscope reads SQLite or PostgreSQL databases, not {backend!r} databases"
        )
    url_schema = url.query.get("schema")
    if isinstance(url_schema, tuple):
        url_schema = url_schema[-1]
    options = tuple(
        (name, value[-1] if isinstance(value, tuple) else value)
        for name, value in url.query.items()
        if name in SOURCE_OPTIONS
    )
    url = url.difference_update_query(["schema", *SOURCE_OPTIONS])
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    chosen = _schema_name(schema or url_schema or "public")
    return Location(raw, url=url, schema=chosen, fragment=fragment or None, options=options)


def _schema_name(schema: str) -> str:
    from eventscope.store.sql.postgres import validate_schema

    return validate_schema(schema)
