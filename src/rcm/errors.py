"""One exception hierarchy for the whole project.

Every error a user can cause derives from :class:`RcmError`. Adapters (CLI, web) turn it into one
clear line (CLI) or a JSON/HTML error body with ``status`` as the HTTP status.
"""

from __future__ import annotations

from dataclasses import dataclass


class RcmError(Exception):
    """An error the user can act on. ``status`` is the HTTP status an adapter should use."""

    status = 400
    exit_code = 1

    def __init__(self, message: str, **values: object) -> None:
        # ``message`` may hold %(name)s placeholders filled from ``values``: the template is the
        # key of its translations (the web shows it in the reader's language), ``message`` is the
        # English with the values in.
        self.template = message
        self.values = {k: str(v) for k, v in values.items()}
        if values:
            message = message % self.values
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class NotFound(RcmError):
    status = 404
    exit_code = 2


class BadInput(RcmError):
    """A value that no field can hold: text with a NUL character, a number beyond the database's
    integer range. Raised where values reach the database (``rcm.store``), whoever sent them."""

    status = 400


class ConflictError(RcmError):
    """Someone else changed the thing since it was read, or the round is closed."""

    status = 409
    exit_code = 5


class StoreError(RcmError):
    """The database cannot be opened, is not migrated, or refused a write."""

    status = 503
    exit_code = 3


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input document, with where it is (1-based line; 0 = whole file).

    ``message`` is the English; a message with values (:meth:`of`) also keeps its ``template``
    (%(name)s placeholders: the catalogues' key) and its ``values``, so that an adapter can say it
    in the reader's language."""

    line: int
    message: str
    template: str = ""
    values: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, line: int, template: str, **values: object) -> Problem:
        filled = {k: str(v) for k, v in values.items()}
        if not filled:
            return cls(line, template)
        return cls(line, template % filled, template, tuple(filled.items()))

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


class DocumentError(RcmError):
    """An input document cannot be read faithfully. Nothing has been written."""

    status = 422
    exit_code = 4

    def __init__(self, source: str, problems: list[Problem]) -> None:
        if not problems:
            raise ValueError("DocumentError needs at least one problem")
        self.source = source
        self.problems = problems
        first = problems[0]
        more = len(problems) - 1
        tail = f" (and {more} more problem{'s' if more != 1 else ''})" if more else ""
        super().__init__(f"{source}: {first}{tail}")
