"""Per-document state: the text, its functions as chunks with their parse/build results, and
incremental re-analysis. No LSP types here: positions are 1-based lines and code-point
columns, as in the compiler's spans.

A module is split into functions (``split_chunks``); each function is parsed and built on its
own and its result cached under the function's text. After an edit only the functions whose
lines changed are parsed again; a function that merely moved keeps its result and a line
``delta`` is applied when it is looked up. Everything outside the functions (imports, the
``@I.ir_module`` class line, ``I.module_attrs``, module-level size vars) forms a small
"skeleton" in which each function is one ``pass`` line; it is parsed again only when it changes.
"""

from __future__ import annotations

import bisect
import gc
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from compiler.analysis.symbols import Definition, Reference, SymbolIndex
from compiler.diagnostics import ERROR, Diagnostic, Related
from compiler.ir.function import IRModule, PrimFunc
from compiler.ir.relax import RelaxFunction
from compiler.ir.span import Span
from compiler.text import syntax as S
from compiler.text.builder import ModuleContext, build_function, build_module
from compiler.text.parser import Chunk, detect_dialect, parse_chunk, parse_module, split_chunks
from compiler.text.relax_builder import build_relax_function, is_relax_function

# Other files' modules, by path, for the names of functions called but not defined here.
Resolver = Callable[[set[str]], dict[str, IRModule]]

# The parser and builder are not re-entrant across threads for one document; one lock per
# process keeps the background indexer and the document worker from interleaving a parse.
_PARSE_LOCK = threading.Lock()


@dataclass(slots=True)
class ChunkResult:
    """One function parsed and built at ``base`` (0-based line of its first line)."""

    base: int
    functions: list[PrimFunc]
    index: SymbolIndex
    diagnostics: list[Diagnostic]
    # Names of the functions defined in this chunk, with their name spans (at ``base``).
    names: list[tuple[str, Span]]
    # Semantic and calling-convention diagnostics (at ``base``) and what they depended on:
    # the module's options and the callees' identities.
    checked: list[Diagnostic] | None = None
    checked_key: object = None
    relax_functions: list[RelaxFunction] = field(default_factory=list)


@dataclass(slots=True)
class ChunkView:
    """A chunk of the current text and the result it uses; ``delta`` = lines moved since built."""

    start: int
    end: int
    indent: int
    key: tuple[str, ...]
    result: ChunkResult

    @property
    def delta(self) -> int:
        return self.start - self.result.base


@dataclass(slots=True)
class Skeleton:
    """The module outside its functions: compact text (one ``pass`` per function) and what it
    defines. ``line_map[i]`` is the real 1-based line of compact line ``i + 1``."""

    key: tuple[str, ...]
    line_map: list[int]
    ctx: ModuleContext
    attrs: dict[str, object]
    name: str
    index: SymbolIndex
    diagnostics: list[Diagnostic]
    global_infos: str = ""


@dataclass(frozen=True, slots=True)
class Located:
    """A definition or reference found at a position, with spans in current lines."""

    entry: Definition | Reference
    span: Span
    symbol: object
    chunk: ChunkView | None


def _is_prim_func(fdef: S.FunctionDef) -> bool:
    for d in fdef.decorators:
        target = d.func if isinstance(d, S.Call) else d
        if isinstance(target, S.Attribute) and target.attr == "prim_func":
            return True
    return False


def _function_defs(stmts: tuple[Any, ...]) -> Iterator[S.FunctionDef]:
    for st in stmts:
        if isinstance(st, S.FunctionDef):
            yield st
        elif isinstance(st, S.Error):
            yield from _function_defs(st.body)


def analyze_chunk(lines: list[str], start: int, ctx: ModuleContext) -> ChunkResult:
    """Parse and build one function whose first line is the 0-based line ``start``."""
    stmts, diags = parse_chunk(lines, start + 1)
    functions: list[PrimFunc] = []
    index = SymbolIndex()
    names: list[tuple[str, Span]] = []
    diags = list(diags)
    relax: list[RelaxFunction] = []
    for fdef in _function_defs(stmts):
        func: PrimFunc | RelaxFunction | None
        if is_relax_function(fdef):
            func, idx, ds = build_relax_function(fdef, ctx.type_vars, ctx.filename)
        else:
            if not _is_prim_func(fdef):
                diags.append(Diagnostic("TIR005", f"function '{fdef.name.id}' is not decorated with @T.prim_func",
                                        fdef.name.span))
            func, idx, ds = build_function(fdef, ctx)
        diags.extend(ds)
        index.definitions.extend(idx.definitions)
        index.references.extend(idx.references)
        index.call_names.extend(idx.call_names)
        names.append((fdef.name.id, fdef.name.span))
        if isinstance(func, RelaxFunction):
            relax.append(func)
        elif func is not None:
            functions.append(func)
    return ChunkResult(start, functions, index, diags, names, relax_functions=relax)


def _shift(d: Diagnostic, delta: int) -> Diagnostic:
    return d if delta == 0 else d.shifted(delta)


def _map_span(span: Span, line_map: list[int]) -> Span:
    def real(line: int) -> int:
        return line_map[line - 1] if 0 < line <= len(line_map) else line
    return Span(real(span.line), span.column, real(span.end_line), span.end_column)


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
    """The analysis state of one TIR text; ``update`` re-analyses only what changed."""

    def __init__(self, uri: str, filename: str = "<input>") -> None:
        self.uri = uri
        self.filename = filename
        self.version: int | None = None
        self.lines: list[str] = []
        self.chunks: list[ChunkView] = []
        self.skeleton: Skeleton | None = None
        self.module: IRModule = IRModule(())
        self.diagnostics: list[Diagnostic] = []
        self.dialect: str | None = None
        self._starts: list[int] = []
        self._functions: dict[str, tuple[PrimFunc | RelaxFunction | None, Span, ChunkView]] = {}
        self.reparsed = 0  # chunks parsed by the last update (for tests and benchmarks)
        # Per-version results of features (semantic tokens...), filled lazily by them.
        self.cache: dict[str, object] = {}
        # Functions called by name but not defined here, and the other files' modules where
        # they were resolved (``cross_file``): a change to one of those files re-checks us.
        self.external: set[str] = set()
        self.files: dict[str, IRModule] = {}
        self.resolve: Resolver | None = None

    # ------------------------------------------------------------------ updating
    def updated(self, text: str, version: int | None = None, resolve: Resolver | None = None) -> Document:
        """A new Document for ``text``, reusing this one's results for unchanged functions.
        ``resolve`` gives the modules of other files where calls to functions this document
        does not define are resolved (by default this document's own resolver, if any).

        Documents are never mutated once built, so a reader (hover on the event loop) always
        sees one consistent state while the next one is being made in a worker thread.
        """
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        if "\r" in text:
            lines = [ln.removesuffix("\r") for ln in lines]
        new = Document(self.uri, self.filename)
        new.resolve = resolve if resolve is not None else self.resolve
        gc_was_enabled = gc.isenabled()
        gc.disable()  # parsing makes many small live objects: collecting them is wasted work
        try:
            with _PARSE_LOCK:
                new._update(self, lines)
        finally:
            if gc_was_enabled:
                gc.enable()
        new.version = version
        return new

    @staticmethod
    def _common_prefix(a: list[str], b: list[str], limit: int) -> int:
        """Number of equal leading lines; compares blocks of lines at C speed first."""
        n = 0
        block = 256
        while n + block <= limit and a[n:n + block] == b[n:n + block]:
            n += block
        while n < limit and a[n] == b[n]:
            n += 1
        return n

    @staticmethod
    def _split(prev: Document, lines: list[str]) -> list[tuple[Chunk, ChunkView | None]]:
        """The chunks of ``lines``, each with the chunk of ``prev`` it is known to equal (moved
        by the edit's line delta) or None; only the region that changed is split again."""
        old = prev.lines
        if not prev.chunks:
            return [(c, None) for c in split_chunks(lines)]
        n_old, n_new = len(old), len(lines)
        limit = min(n_old, n_new)
        prefix = Document._common_prefix(old, lines, limit)
        if prefix == n_old == n_new:
            return [(Chunk(v.start, v.end, v.indent), v) for v in prev.chunks]
        suffix = Document._common_prefix(old[::-1], lines[::-1], limit - prefix)
        first_changed, last_changed_old = prefix, n_old - 1 - suffix
        delta = n_new - n_old
        starts = prev._starts
        # The window runs from the start of the function holding the first changed line to the
        # start of the first function after the last changed line: split_chunks always begins
        # a function at a decorator or ``def`` line, so chunks outside the window are unchanged.
        i = bisect.bisect_right(starts, first_changed) - 1
        ws = prev.chunks[i].start if i >= 0 else 0
        j = bisect.bisect_right(starts, last_changed_old)
        we = prev.chunks[j].start + delta if j < len(prev.chunks) else n_new
        if we < ws:
            return [(c, None) for c in split_chunks(lines)]
        before = [(Chunk(v.start, v.end, v.indent), v) for v in prev.chunks[:max(i, 0)]]
        middle = [(Chunk(c.start + ws, c.end + ws, c.indent), None) for c in split_chunks(lines[ws:we])]
        after = [(Chunk(v.start + delta, v.end + delta, v.indent), v) for v in prev.chunks[j:]]
        return before + middle + after

    def _update(self, prev: Document, lines: list[str]) -> None:
        dialect = detect_dialect(lines)
        same_dialect = dialect == prev.dialect
        split = self._split(prev, lines) if same_dialect else [(c, None) for c in split_chunks(lines)]
        chunks = [c for c, _ in split]
        skeleton = self._skeleton(prev, lines, chunks, dialect)
        reuse = same_dialect and prev.skeleton is not None and skeleton.ctx is prev.skeleton.ctx
        # Chunks the edit may have touched are looked up by their text (a function that moved
        # inside the window, or was cut and pasted, keeps its result).
        by_key: dict[tuple[str, ...], list[ChunkResult]] = {}
        if reuse and any(v is None for _, v in split):
            kept = {id(v) for _, v in split if v is not None}
            for v in prev.chunks:
                if id(v) not in kept:
                    by_key.setdefault(v.key, []).append(v.result)
        views: list[ChunkView] = []
        reparsed = 0
        for c, old_view in split:
            if reuse and old_view is not None:
                views.append(ChunkView(c.start, c.end, c.indent, old_view.key, old_view.result))
                continue
            key = tuple(lines[c.start:c.end])
            cached = by_key.get(key)
            if cached:
                result = cached.pop()
            else:
                result = analyze_chunk(lines[c.start:c.end], c.start, skeleton.ctx)
                reparsed += 1
            views.append(ChunkView(c.start, c.end, c.indent, key, result))
        self.lines = lines
        self.dialect = dialect
        self.chunks = views
        self.skeleton = skeleton
        self._starts = [v.start for v in views]
        self.reparsed = reparsed
        changed = {name for v in views if v.result.checked is None for name, _ in v.result.names}
        changed |= set(prev._functions) - {n for v in views for n, _ in v.result.names}
        if skeleton.key != (prev.skeleton.key if prev.skeleton else None):
            changed.add("\0options")
        self._assemble({n: f for n, (f, _s, _v) in prev._functions.items()}, changed)

    def _skeleton(self, prev: Document, lines: list[str], chunks: list[Chunk], dialect: str | None) -> Skeleton:
        compact: list[str] = []
        line_map: list[int] = []
        pos = 0
        for c in chunks:
            for k in range(pos, c.start):
                compact.append(lines[k])
                line_map.append(k + 1)
            compact.append(" " * c.indent + "pass")
            line_map.append(c.start + 1)
            pos = c.end
        for k in range(pos, len(lines)):
            compact.append(lines[k])
            line_map.append(k + 1)
        key = tuple(compact)
        old = prev.skeleton
        if old is not None and old.key == key and dialect == prev.dialect:
            return Skeleton(key, line_map, old.ctx, old.attrs, old.name, old.index, old.diagnostics, old.global_infos)
        tree, syntax = parse_module("\n".join(compact) + "\n")
        built = build_module(tree, self.filename)
        type_vars = {d.name: d.symbol for d in built.index.definitions if d.kind == "size_var"}
        ctx = ModuleContext(self.filename, dialect, type_vars)  # type: ignore[arg-type]
        if old is not None and dialect == prev.dialect and set(old.ctx.type_vars) == set(type_vars):
            ctx = old.ctx  # same size vars: keep their identity so cached functions stay valid
            index = SymbolIndex([Definition(ctx.type_vars[d.name], d.name, d.span, d.kind, d.node, d.function)
                                 if d.kind == "size_var" else d for d in built.index.definitions],
                                built.index.references, built.index.call_names)
        else:
            index = built.index
        diags = [Diagnostic(d.code, d.message, _map_span(d.span, line_map), d.severity, d.related, d.file)
                 for d in list(syntax) + built.diagnostics]
        return Skeleton(key, line_map, ctx, dict(built.module.attrs), built.module.name, index, diags,
                        built.module.global_infos)

    def _assemble(self, prev_functions: dict[str, object], changed: set[str]) -> None:
        assert self.skeleton is not None
        functions: list[PrimFunc] = []
        relax: list[RelaxFunction] = []
        diags: list[Diagnostic] = list(self.skeleton.diagnostics)
        seen: dict[str, tuple[PrimFunc | RelaxFunction | None, Span, ChunkView]] = {}
        for v in self.chunks:
            r = v.result
            delta = v.start - r.base
            if r.diagnostics:
                diags.extend(_shift(d, delta) for d in r.diagnostics)
            names = r.names
            if len(names) == 1 and len(r.functions) == 1 and names[0][0] not in seen:
                # The common case, kept cheap: an edit re-assembles every function.
                name, span = names[0]
                seen[name] = (r.functions[0], span.shifted(delta) if delta else span, v)
                functions.append(r.functions[0])
                continue
            by_name: dict[str, PrimFunc | RelaxFunction] = {f.name: f for f in (*r.functions, *r.relax_functions)}
            for name, span in r.names:
                span = span.shifted(delta)
                if name in seen:
                    first = Related(seen[name][1], f"first definition of '{name}'")
                    diags.append(Diagnostic("TIR018", f"function '{name}' is defined twice in the module", span,
                                            ERROR, (first,)))
                    continue
                seen[name] = (by_name.get(name), span, v)
                f = by_name.get(name)
                if isinstance(f, RelaxFunction):
                    relax.append(f)
                elif f is not None:
                    functions.append(f)
        standalone = any(v.indent == 0 for v in self.chunks)
        self.module = IRModule(tuple(functions), self.skeleton.attrs, self.skeleton.name, standalone,
                               tuple(self.skeleton.ctx.type_vars), tuple(relax), self.skeleton.global_infos)
        self._functions = seen
        diags.extend(self._checks(prev_functions, changed))
        diags.sort(key=lambda d: (d.span.line, d.span.column, d.code, d.message))
        reported: set[tuple[object, ...]] = set()
        self.diagnostics = []
        for d in diags:
            key = (d.span, d.code, d.message, d.severity)
            if key not in reported:
                reported.add(key)
                self.diagnostics.append(d)

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

    def _checks(self, prev_functions: dict[str, object], changed: set[str]) -> list[Diagnostic]:
        """Semantic and calling-convention diagnostics; a function is checked again only when
        it was re-parsed, a function it calls changed (here or in another file), or the
        module's options changed."""
        from compiler.analysis import calling_convention, relax_calls, run
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
                for rf in r.relax_functions:
                    try:
                        checked += relax_calls.check_relax_function(rf, self.module, self.filename)
                    except Exception:  # noqa: BLE001, S112 - one failing check must not hide the rest
                        continue
                r.checked = checked
                r.checked_key = callee_key
            out.extend(_shift(d, v.delta) for d in r.checked or ())
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
        i = bisect.bisect_right(self._starts, line - 1) - 1
        if i >= 0 and self.chunks[i].start <= line - 1 < self.chunks[i].end:
            return self.chunks[i]
        return None

    def function_named(self, name: str) -> tuple[PrimFunc | RelaxFunction | None, Span] | None:
        """A function of this document by name or global symbol, with its name span."""
        hit = self._functions.get(name)
        if hit is not None:
            return hit[0], hit[1]
        for f, span, _ in self._functions.values():
            if f is not None and f.global_symbol == name:
                return f, span
        return None

    def function_names(self) -> list[tuple[str, Span, PrimFunc | RelaxFunction | None]]:
        return [(name, span, f) for name, (f, span, _) in self._functions.items()]

    def at(self, line: int, column: int) -> Located | None:
        """The definition or reference at a 1-based position; call-name strings that name a
        function of this document count as references to it."""
        view = self.chunk_at(line)
        if view is None:
            sk = self.skeleton
            if sk is None:
                return None
            # Skeleton entries are in compact lines; map the position there.
            try:
                cline = sk.line_map.index(line) + 1
            except ValueError:
                return None
            e = sk.index.at(cline, column)
            if e is None:
                return None
            return Located(e, _map_span(e.span, sk.line_map), e.symbol, None)
        delta = view.delta
        local = line - delta
        e = view.result.index.at(local, column)
        if e is not None:
            return Located(e, e.span.shifted(delta), e.symbol, view)
        for name, span in view.result.index.call_names:
            if span.contains(local, column):
                hit = self.function_named(name)
                if hit is not None and hit[0] is not None:
                    return Located(Reference(span, hit[0]), span.shifted(delta), hit[0], view)
                return Located(Reference(span, name), span.shifted(delta), name, view)
        return None

    def definition_of(self, symbol: object, near: ChunkView | None = None) -> tuple[Definition, Span] | None:
        """The definition of ``symbol`` with its span in current lines."""
        if near is not None:
            d = near.result.index.definition_of(symbol)
            if d is not None:
                return d, d.span.shifted(near.delta)
        if isinstance(symbol, (PrimFunc, RelaxFunction)):
            for f, _span, v in self._functions.values():
                if f is symbol:
                    d = v.result.index.definition_of(symbol)
                    if d is not None:
                        return d, d.span.shifted(v.delta)
        sk = self.skeleton
        if sk is not None:
            d = sk.index.definition_of(symbol)
            if d is not None:
                return d, _map_span(d.span, sk.line_map)
        for v in self.chunks:
            d = v.result.index.definition_of(symbol)
            if d is not None:
                return d, d.span.shifted(v.delta)
        return None

    def references_to(self, symbol: object, near: ChunkView | None = None) -> list[Span]:
        """Every use of ``symbol`` in this document (spans in current lines), in order."""
        out: list[Span] = []
        if isinstance(symbol, (PrimFunc, RelaxFunction, str)):
            names = {symbol} if isinstance(symbol, str) else {symbol.name, symbol.global_symbol}
            for v in self.chunks:
                out.extend(r.span.shifted(v.delta) for r in v.result.index.references_to(symbol))
                out.extend(sp.shifted(v.delta) for n, sp in v.result.index.call_names if n in names)
        elif near is not None and near.result.index.definition_of(symbol) is not None \
                and not self._is_module_level(symbol):
            out.extend(r.span.shifted(near.delta) for r in near.result.index.references_to(symbol))
        else:
            for v in self.chunks:
                out.extend(r.span.shifted(v.delta) for r in v.result.index.references_to(symbol))
            sk = self.skeleton
            if sk is not None:
                out.extend(_map_span(r.span, sk.line_map) for r in sk.index.references_to(symbol))
        return sorted(set(out), key=lambda s: (s.line, s.column))

    def _is_module_level(self, symbol: object) -> bool:
        sk = self.skeleton
        return sk is not None and sk.index.definition_of(symbol) is not None

    def definitions(self) -> Iterator[tuple[Definition, Span, ChunkView | None]]:
        """Every definition in the document with its current span."""
        sk = self.skeleton
        if sk is not None:
            for d in sk.index.definitions:
                yield d, _map_span(d.span, sk.line_map), None
        for v in self.chunks:
            for d in v.result.index.definitions:
                yield d, d.span.shifted(v.delta), v


