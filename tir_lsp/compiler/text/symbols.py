"""The def-use index: where each var, buffer and function is defined and every place its
name is used, built by the builder while it resolves names.

The language server answers hover, definition, references and rename from this index only.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from tir_lsp.compiler.ir.span import Span


@dataclass(slots=True)
class Definition:
    """One defined name.

    ``symbol`` is the IR object itself (Var, Buffer, PrimFunc); ``span`` the name token at the
    definition site; ``kind`` says how it was defined (``param``, ``buffer_param``, ``loop``,
    ``let``, ``block_iter``, ``thread``, ``alloc_buffer``, ``sblock_alloc_buffer``,
    ``decl_buffer``, ``match_buffer``, ``view``, ``buffer``, ``allocate``, ``allocate_const``,
    ``scalar``, ``function``, ``type_param``, ``size_var``, ``with_var``).
    """

    symbol: object
    name: str
    span: Span
    kind: str
    node: object | None = None
    function: str | None = None


@dataclass(slots=True)
class Reference:
    """A use of ``symbol``'s name at ``span``."""

    span: Span
    symbol: object


def _start(span: Span) -> tuple[int, int]:
    return (span.line, span.column)


def _size(span: Span) -> tuple[int, int]:
    return (span.end_line - span.line, span.end_column - span.column if span.end_line == span.line else 10**6)


@dataclass(slots=True)
class SymbolIndex:
    definitions: list[Definition] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)
    # Function names written as strings in calls (``T.call_extern("int32", "f", ...)``), with
    # the span of the string literal; ``link_functions`` turns them into references.
    call_names: list[tuple[str, Span]] = field(default_factory=list)
    _by_symbol: dict[int, Definition] | None = field(default=None, repr=False)
    _refs_by_symbol: dict[int, list[Reference]] | None = field(default=None, repr=False)
    _sorted: list[tuple[tuple[int, int], Definition | Reference]] | None = field(default=None, repr=False)
    _starts: list[tuple[int, int]] | None = field(default=None, repr=False)
    _max_lines: int = field(default=0, repr=False)

    # -------------------------------------------------------------- building
    def define(self, d: Definition) -> None:
        self.definitions.append(d)
        self._invalidate()

    def refer(self, span: Span, symbol: object) -> None:
        self.references.append(Reference(span, symbol))
        self._invalidate()

    def _invalidate(self) -> None:
        self._by_symbol = None
        self._refs_by_symbol = None
        self._sorted = None
        self._starts = None

    # -------------------------------------------------------------- queries
    def definition_of(self, symbol: object) -> Definition | None:
        """The definition of ``symbol`` (the first, if a symbol was defined twice)."""
        if self._by_symbol is None:
            self._by_symbol = {}
            for d in self.definitions:
                self._by_symbol.setdefault(id(d.symbol), d)
        return self._by_symbol.get(id(symbol))

    def references_to(self, symbol: object) -> list[Reference]:
        """Every use of ``symbol``'s name, in source order."""
        if self._refs_by_symbol is None:
            self._refs_by_symbol = {}
            for r in sorted(self.references, key=lambda r: _start(r.span)):
                self._refs_by_symbol.setdefault(id(r.symbol), []).append(r)
        return list(self._refs_by_symbol.get(id(symbol), []))

    def at(self, line: int, column: int) -> Definition | Reference | None:
        """The innermost definition or reference whose span contains the 1-based position."""
        if self._sorted is None:
            entries: list[tuple[tuple[int, int], Definition | Reference]] = [
                (_start(d.span), d) for d in self.definitions
            ]
            entries += [(_start(r.span), r) for r in self.references]
            entries.sort(key=lambda e: e[0])
            self._sorted = entries
            self._starts = [e[0] for e in entries]
            self._max_lines = max((e[1].span.end_line - e[1].span.line for e in entries), default=0)
        assert self._starts is not None
        hi = bisect.bisect_right(self._starts, (line, column))
        best: Definition | Reference | None = None
        # Names are short and rarely span lines, so only entries starting on the lines just
        # above can contain the position; walk back until past them.
        i = hi - 1
        while i >= 0:
            start, entry = self._sorted[i]
            if start[0] < line - self._max_lines:
                break
            if entry.span.contains(line, column) and (best is None or _size(entry.span) < _size(best.span)):
                best = entry
            i -= 1
        return best

    # -------------------------------------------------------------- combining
    def shifted(self, lines: int) -> SymbolIndex:
        """A copy with every span moved down by ``lines`` lines (same symbols)."""
        return SymbolIndex(
            [Definition(d.symbol, d.name, d.span.shifted(lines), d.kind, d.node, d.function) for d in self.definitions],
            [Reference(r.span.shifted(lines), r.symbol) for r in self.references],
            [(n, sp.shifted(lines)) for n, sp in self.call_names],
        )

    def merge(self, other: SymbolIndex) -> SymbolIndex:
        """A new index holding the entries of both."""
        return SymbolIndex(self.definitions + other.definitions, self.references + other.references,
                           self.call_names + other.call_names)

    def without_lines(self, first: int, last: int) -> SymbolIndex:
        """A copy without the entries starting in lines ``first..last`` (to splice a rebuilt function)."""
        return SymbolIndex(
            [d for d in self.definitions if not first <= d.span.line <= last],
            [r for r in self.references if not first <= r.span.line <= last],
            [(n, sp) for n, sp in self.call_names if not first <= sp.line <= last],
        )

    def link_functions(self, functions: Iterable[Any]) -> None:
        """Add a Reference for each recorded call name that names one of ``functions``
        (by its name or its ``global_symbol``)."""
        by_name: dict[str, Any] = {}
        for f in functions:
            by_name.setdefault(f.name, f)
            by_name.setdefault(f.global_symbol, f)
        have = {(id(r.symbol), r.span) for r in self.references}
        for name, span in self.call_names:
            f = by_name.get(name)
            if f is not None and (id(f), span) not in have:
                self.references.append(Reference(span, f))
        self._invalidate()

    def symbols_named(self, name: str) -> list[Definition]:
        return [d for d in self.definitions if d.name == name]
