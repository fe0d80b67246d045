"""Per-document state for the language server: a ``ParsedFile`` (the one parse path of
``tir_lsp.compiler.text.parsed_file``: functions as chunks, reused across edits when their text is
unchanged) plus the semantic and calling-convention checks of its functions, re-run only for
the functions an edit touched. No LSP types here: positions are 1-based lines and code-point
columns, as in the compiler's spans.
"""

from __future__ import annotations

import dataclasses
import gc
from collections.abc import Callable, Iterator, Sequence
from typing import overload

from tir_lsp.compiler.analysis.calling_convention import SourceText
from tir_lsp.compiler.diagnostics import Diagnostic, Related
from tir_lsp.compiler.ir.function import IRModule, PrimFunc
from tir_lsp.compiler.ir.relax import RelaxFunction
from tir_lsp.compiler.ir.span import Span
from tir_lsp.compiler.text.parsed_file import (
    ChunkView,
    Located,
    ParsedFile,
    Skeleton,
    analyze_chunk,
    split_lines,
    unique_sorted,
)
from tir_lsp.compiler.text.symbols import Definition

__all__ = ["ChunkView", "Document", "Located", "Resolver"]

# Other files' modules, by path, for the names of functions called but not defined here.
Resolver = Callable[[set[str]], dict[str, IRModule]]


class _ShiftedLines(Sequence[str]):
    """The lines of a chunk placed at its ``base``: what ``SourceText`` needs to read the text at
    spans of a function built at ``base``, without copying the whole document."""

    def __init__(self, lines: list[str], start: int, base: int) -> None:
        self._lines, self._start, self._base = lines, start, base

    def __len__(self) -> int:
        return len(self._lines) - self._start + self._base

    def __iter__(self) -> Iterator[str]:  # (indexing past the end gives "", never IndexError)
        return (self[i] for i in range(len(self)))

    @overload
    def __getitem__(self, i: int) -> str: ...
    @overload
    def __getitem__(self, i: slice) -> list[str]: ...

    def __getitem__(self, i: int | slice) -> str | list[str]:
        if isinstance(i, slice):  # SourceText.slice reads the middle lines of a multi-line span
            return [self[k] for k in range(*i.indices(len(self)))]
        j = i - self._base + self._start
        return self._lines[j] if 0 <= j < len(self._lines) and i >= self._base else ""


# Diagnostics of a chunk's functions, each with whether its span and related spans lie in the
# chunk (they move with it) or elsewhere (they do not).
Checked = list[tuple[Diagnostic, tuple[bool, ...]]]


def _placed(d: Diagnostic, own: tuple[bool, ...], delta: int) -> Diagnostic:
    """``d`` with the spans that lie in its chunk moved by ``delta`` lines."""
    if not delta or not any(own):
        return d
    related = tuple(Related(r.span.shifted(delta), r.message, r.file) if o else r
                    for r, o in zip(d.related, own[1:]))
    return Diagnostic(d.code, d.message, d.span.shifted(delta) if own[0] else d.span, d.severity, related, d.file)


class Document:
    """The analysis state of one TIR text; ``updated`` re-analyses only what changed."""

    def __init__(self, uri: str, filename: str = "<input>") -> None:
        self.uri = uri
        self.filename = filename
        self.version: int | None = None
        self.parsed = ParsedFile(filename)
        self.diagnostics: list[Diagnostic] = []
        # Per-version results of features (semantic tokens...), filled lazily by them.
        self.cache: dict[str, object] = {}
        # Functions called by name but not defined here, and the other files' modules where
        # they were resolved (``cross_file``): a change to one of those files re-checks us.
        self.external: set[str] = set()
        self.files: dict[str, IRModule] = {}
        self.resolve: Resolver | None = None

    # ------------------------------------------------------------------ the parsed file
    @property
    def lines(self) -> list[str]:
        return self.parsed.lines

    @property
    def chunks(self) -> list[ChunkView]:
        return self.parsed.chunks

    @property
    def skeleton(self) -> Skeleton | None:
        return self.parsed.skeleton

    @property
    def module(self) -> IRModule:
        return self.parsed.module

    @property
    def dialect(self) -> str | None:
        return self.parsed.dialect

    @property
    def reparsed(self) -> int:
        """Chunks parsed by the last update (for tests and benchmarks)."""
        return self.parsed.reparsed

    # ------------------------------------------------------------------ updating
    def updated(self, text: str, version: int | None = None, resolve: Resolver | None = None) -> Document:
        """A new Document for ``text``, reusing this one's results for unchanged functions.
        ``resolve`` gives the modules of other files where calls to functions this document
        does not define are resolved (by default this document's own resolver, if any).

        Documents are never mutated once built, so a reader (hover on the event loop) always
        sees one consistent state while the next one is being made in a worker thread.
        """
        new = Document(self.uri, self.filename)
        new.resolve = resolve if resolve is not None else self.resolve
        if "\x00" in text:
            # As `tir-lsp check` reads a file: text holding a NUL byte is not TIR at all.
            from tir_lsp.compiler.text.reader import decode_tir_bytes

            _text, bad = decode_tir_bytes(text.encode("utf-8", "surrogatepass"), self.filename)
            if bad is not None:
                new.parsed.lines = split_lines(text)
                new.diagnostics = [bad]
                new.version = version
                return new
        gc_was_enabled = gc.isenabled()
        gc.disable()  # analysis makes many small live objects: collecting them is wasted work
        try:
            new.parsed = ParsedFile.parse(text, self.filename, self.parsed)
            new.diagnostics = unique_sorted(new.parsed.diagnostics + new._checks(new.parsed.changed))
        finally:
            if gc_was_enabled:
                gc.enable()
        new.version = version
        return new

    def rechecked(self) -> Document:
        """The same text checked again against the current state of the other files (after
        one of them changed); only functions whose external callees changed are re-checked."""
        return self.updated("\n".join(self.lines), self.version)

    def _external_callees(self) -> dict[str, PrimFunc | None]:
        """The function each external name resolves to (as ``find_callee`` resolves it)."""
        from tir_lsp.compiler.analysis.calling_convention import find_callee
        from tir_lsp.compiler.analysis.run import external_call_names

        self.external = external_call_names(self.module, (c for v in self.chunks for c in v.result.index.call_names))
        self.files = self.resolve(set(self.external)) if self.resolve is not None and self.external else {}
        found: dict[str, PrimFunc | None] = {}
        for n in self.external:
            hit = find_callee(n, self.module, self.files, self.filename)
            found[n] = hit.func if hit is not None else None
        return found

    def _checks(self, changed: set[str]) -> list[Diagnostic]:
        """Semantic and calling-convention diagnostics; a function is checked again only when
        it was re-parsed, a function it calls changed (here or in another file), or the
        module's options changed."""
        from tir_lsp.compiler.analysis import run

        # The checks run through the analysis layer's boundary (analysis.run), as `tir-lsp
        # check` runs them: a check that raises is a TIR900 at its function, never a gap.
        out = run.analyze_module_options(self.module, self.filename)
        options_changed = "\0options" in changed
        try:
            outside = self._external_callees()
        except Exception as exc:  # noqa: BLE001 - the boundary of resolving: TIR900 (logged), our own checks go on
            outside, self.files = {}, {}
            out.append(run.resolve_crash(exc, self.filename))
        files = self.files or None
        for v in self.chunks:
            r = v.result
            callees = {n for n, _ in r.index.call_names}
            # The identities of the functions of other files this one calls: one changed, and
            # the calls to it are checked again. Diagnostics that quote the place of a function
            # of this file (a related span, "line N") also depend on where it now is.
            outside_key = tuple(sorted(((n, outside[n]) for n in callees if n in outside), key=lambda c: c[0]))
            # A second function of the same name is not in the module (TIR018) and is not
            # checked, as `tir-lsp check` checks the module's functions; it is once the first goes.
            functions = r.functions if len(r.functions) == 1 and self.parsed.view_of(r.functions[0].name) is v \
                else [f for f in r.functions if any(f is g for g in self.module.functions)]
            places = r.checked_key[1] if isinstance(r.checked_key, tuple) else None
            stale = (r.checked is None or options_changed or bool(callees & changed)
                     or r.checked_key[0] != outside_key or r.checked_key[2] != len(functions)
                     or (places is not None and places != self._places(callees)))
            if stale:
                r.checked = self._check_chunk(v, functions, callees, files)
                quotes_places = any(not all(own) or "(line " in d.message for d, own in r.checked)
                r.checked_key = (outside_key, self._places(callees) if quotes_places else None, len(functions))
            out.extend(_placed(d, own, v.delta) for d, own in r.checked or ())
        seen: set[tuple[object, ...]] = set()
        unique = []
        for d in out:
            key = (d.span, d.code, d.message)
            if key not in seen:
                seen.add(key)
                unique.append(d)
        return unique

    def _places(self, names: set[str]) -> tuple[tuple[str, int], ...]:
        """The current line of each function of this document among ``names``."""
        found = ((n, self.parsed.function_named(n)) for n in names)
        return tuple(sorted((n, hit[1].line) for n, hit in found if hit is not None))

    def _current(self, v: ChunkView) -> list[PrimFunc]:
        """The functions of ``v`` with spans at their current lines (built again if they moved)."""
        if v.delta == 0:
            return v.result.functions
        assert self.skeleton is not None
        return analyze_chunk(self.lines[v.start:v.end], v.start, self.skeleton.ctx).functions

    def _check_chunk(self, v: ChunkView, functions: list[PrimFunc], callees: set[str],
                     files: dict[str, IRModule] | None) -> Checked:
        """Semantic and calling-convention diagnostics of the functions of ``v`` (at its
        ``base``), each with which of its spans lie in ``v`` (they move with it; the others
        quote other functions). A diagnostic that quotes another function of this file must
        see both where they now are: when one of them moved, the two are built again at
        their places first (rare: a call diagnostic in a function that must be re-checked)."""
        r = v.result
        relax = self._check_relax(v)
        if not functions:
            return relax
        views = [self.parsed.view_of(n) for n in callees]
        moved = {id(w): w for w in views if w is not None and w.delta != 0}
        src = SourceText(None)
        src.lines = _ShiftedLines(self.lines, v.start, r.base)
        checked = self._analyze(functions, self.module, files, src)
        if v.delta == 0 and not moved or not any(d.related or "(line " in d.message for d in checked):
            return relax + self._at_base(v, checked)
        if v.delta != 0:
            moved[id(v)] = v
        current: dict[int, PrimFunc] = {}  # by id of the function as built at its base
        for w in moved.values():
            current.update(zip(map(id, w.result.functions), self._current(w)))
        mine = [current.get(id(f), f) for f in functions]
        module = dataclasses.replace(self.module, functions=tuple(current.get(id(f), f) for f in self.module.functions))
        src = SourceText(None)
        src.lines = self.lines
        checked = self._analyze(mine, module, files, src)

        def own(span: Span, file: str | None) -> bool:
            return file in (None, self.filename) and v.start < span.line <= v.end

        out: Checked = list(relax)
        for d in checked:
            flags = (own(d.span, d.file), *(own(x.span, x.file) for x in d.related))
            out.append((_placed(d, flags, -v.delta), flags))  # stored at the chunk's base
        return out

    def _check_relax(self, v: ChunkView) -> Checked:
        """TIR020/TIR010 of the chunk's ``@R.function`` functions against the module's PrimFuncs
        (at the chunk's base; their spans all lie in the chunk)."""
        from tir_lsp.compiler.analysis import run

        out: Checked = []
        for rf in v.result.relax_functions:
            out += self._at_base(v, run.analyze_relax_function(rf, self.module, self.filename))
        return out

    def _at_base(self, v: ChunkView, diags: list[Diagnostic]) -> Checked:
        """``diags`` computed at the chunk's base, each with which of its spans lie in the chunk."""
        base, last = v.result.base, v.result.base + (v.end - v.start)
        mine_file = (None, self.filename)
        return [(d, (base < d.span.line <= last,
                     *(x.file in mine_file and base < x.span.line <= last for x in d.related)))
                for d in diags]

    def _analyze(self, functions: list[PrimFunc], module: IRModule, files: dict[str, IRModule] | None,
                 src: SourceText) -> list[Diagnostic]:
        from tir_lsp.compiler.analysis import run

        checked: list[Diagnostic] = []
        for f in functions:
            checked += run.analyze_function(f, module, self.filename, files=files, text=src)
        return checked

    # ------------------------------------------------------------------ lookups
    def chunk_at(self, line: int) -> ChunkView | None:
        """The function chunk holding the 1-based ``line``."""
        return self.parsed.chunk_at(line)

    def function_named(self, name: str) -> tuple[PrimFunc | RelaxFunction | None, Span] | None:
        """A function of this document by name or global symbol, with its name span."""
        return self.parsed.function_named(name)

    def function_names(self) -> list[tuple[str, Span, PrimFunc | RelaxFunction | None]]:
        return self.parsed.function_names()

    def at(self, line: int, column: int) -> Located | None:
        """The definition or reference at a 1-based position (``ParsedFile.at``)."""
        return self.parsed.at(line, column)

    def definition_of(self, symbol: object, near: ChunkView | None = None) -> tuple[Definition, Span] | None:
        """The definition of ``symbol`` with its span in current lines."""
        return self.parsed.definition_of(symbol, near)

    def references_to(self, symbol: object, near: ChunkView | None = None) -> list[Span]:
        """Every use of ``symbol`` in this document (spans in current lines), in order."""
        return self.parsed.references_to(symbol, near)

    def definitions(self) -> Iterator[tuple[Definition, Span, ChunkView | None]]:
        """Every definition in the document with its current span."""
        return self.parsed.definitions()
