"""Source positions carried by every node the parser makes."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Span:
    """A region of source text.

    Lines are 1-based; columns are 1-based code-point offsets; the end is exclusive
    (``end_column`` is the column just past the last character).
    """

    line: int
    column: int
    end_line: int
    end_column: int

    def contains(self, line: int, column: int) -> bool:
        """Whether the 1-based position (line, column) lies inside this span (end inclusive)."""
        if line < self.line or line > self.end_line:
            return False
        if line == self.line and column < self.column:
            return False
        if line == self.end_line and column > self.end_column:
            return False
        return True

    def shifted(self, lines: int) -> Span:
        """The same span moved down by ``lines`` lines."""
        return Span(self.line + lines, self.column, self.end_line + lines, self.end_column)

    def merge(self, other: Span | None) -> Span:
        """The smallest span covering both."""
        if other is None:
            return self
        start = min((self.line, self.column), (other.line, other.column))
        end = max((self.end_line, self.end_column), (other.end_line, other.end_column))
        return Span(start[0], start[1], end[0], end[1])

    def __str__(self) -> str:
        return f"{self.line}:{self.column}"
