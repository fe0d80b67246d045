"""Per-document state for the language server: a ``ParsedFile`` (the one parse path of
``compiler.text.parsed_file``: functions as chunks, reused across edits when their text is
unchanged) plus the semantic and calling-convention checks of its functions, re-run only for
the functions an edit touched. No LSP types here: positions are 1-based lines and code-point
columns, as in the compiler's spans.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator

from compiler.analysis.symbols import Definition
from compiler.diagnostics import Diagnostic
from compiler.ir.function import IRModule, PrimFunc
from compiler.ir.span import Span
from compiler.text.parsed_file import ChunkView, Located, ParsedFile, Skeleton, unique_sorted

__all__ = ["ChunkView", "Document", "Located", "Resolver"]

# Other files' modules, by path, for the names of functions called but not defined here.
Resolver = Callable[[set[str]], dict[str, IRModule]]


class _ShiftedLines:
    """The lines of a chunk placed at its ``base``: what ``SourceText`` needs to find attribute
    values of a function whose spans are at ``base``, without copying the whole document."""

    def __init__(self, lines: list[str], start: int, base: int) -> None:
        self._lines, self._start, self._base = lines, start, base

    def __len__(self) -> int:
        return len(self._lines) - self._start + self._base

    def __getitem__(self, i: int) -> str:
        j = i - self._base + self._start
        return self._lines[j] if 0 <= j < len(self._lines) and i >= self._base else ""


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
        from compiler.analysis.calling_convention import find_callee
        from compiler.analysis.run import external_call_names

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
        from compiler.analysis import calling_convention, run
        from compiler.analysis.calling_convention import SourceText as source_text

        out: list[Diagnostic] = []
        try:
            text = source_text(None)
            text.lines = self.lines
            out.extend(calling_convention.check_module_options(self.module, self.filename, text))
        except Exception:  # noqa: BLE001 - an analysis bug must not take the server down
            text = source_text(None)
        options_changed = "\0options" in changed
        try:
            outside = self._external_callees()
        except Exception:  # noqa: BLE001 - another file that cannot be read must not hide our own checks
            outside, self.files = {}, {}
        files = self.files or None
        for v in self.chunks:
            r = v.result
            callees = {n for n, _ in r.index.call_names}
            # The identities of the functions of other files this one calls: one changed,
            # and the calls to it are checked again.
            callee_key = tuple(sorted(((n, outside[n]) for n in callees if n in outside), key=lambda c: c[0]))
            stale = (r.checked is None or options_changed or bool(callees & changed)
                     or r.checked_key != callee_key)
            if stale:
                src = source_text(None)
                src.lines = _ShiftedLines(self.lines, v.start, r.base)
                checked: list[Diagnostic] = []
                for f in r.functions:
                    try:
                        checked += run.analyze_function(f, self.module, self.filename, files=files, text=src)
                    except Exception:  # noqa: BLE001, S112 - one failing check must not hide the rest
                        continue
                r.checked = checked
                r.checked_key = callee_key
            out.extend(d.shifted(v.delta) if v.delta else d for d in r.checked or ())
        seen: set[tuple[object, ...]] = set()
        unique = []
        for d in out:
            key = (d.span, d.code, d.message)
            if key not in seen:
                seen.add(key)
                unique.append(d)
        return unique

    # ------------------------------------------------------------------ lookups
    def chunk_at(self, line: int) -> ChunkView | None:
        """The function chunk holding the 1-based ``line``."""
        return self.parsed.chunk_at(line)

    def function_named(self, name: str) -> tuple[PrimFunc | None, Span] | None:
        """A function of this document by name or global symbol, with its name span."""
        return self.parsed.function_named(name)

    def function_names(self) -> list[tuple[str, Span, PrimFunc | None]]:
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
