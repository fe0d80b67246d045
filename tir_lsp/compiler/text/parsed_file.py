"""The one way TIR text becomes a module: ``ParsedFile.parse``.

``read_tir``, ``tir-lsp check``, the language server's documents and the workspace index all
read text through here, so they agree on every diagnostic of the parse and the build.

A file is split into functions (``split_chunks``: a chunk starts at a decorator or ``def``
line); each function is parsed and built on its own and its result is kept under the
function's text. Given the previous ``ParsedFile`` of the same document, only the functions
whose lines changed are parsed again; a function that merely moved keeps its result and a
line ``delta`` is applied when it is looked up. Everything outside the functions (imports,
the ``@I.ir_module`` class line, ``I.module_attrs``, module-level size vars) forms a small
"skeleton" in which each function is one ``pass`` line; it is parsed again only when it
changes. The module-level rules (what may stand where, duplicate functions, what makes a
standalone function) are all in this file.
"""

from __future__ import annotations

import bisect
import gc
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from tir_lsp.compiler.diagnostics import ERROR, Diagnostic, Related
from tir_lsp.compiler.ir.dtype import INT32, INT64, DataType
from tir_lsp.compiler.ir.expr import Var
from tir_lsp.compiler.ir.function import IRModule, PrimFunc
from tir_lsp.compiler.ir.relax import RelaxFunction
from tir_lsp.compiler.ir.span import Span
from tir_lsp.compiler.text import syntax as S
from tir_lsp.compiler.text.builder import ModuleContext, build_function, build_module_attrs
from tir_lsp.compiler.text.parser import Chunk, detect_dialect, parse_chunk, split_chunks
from tir_lsp.compiler.text.relax_builder import build_relax_function, dotted, source_text
from tir_lsp.compiler.text.scopes import function_scopes, may_bind
from tir_lsp.compiler.text.symbols import Definition, Reference, SymbolIndex

# The builder of each kind of function, by its decorator (``@T.prim_func``): a chunk holds
# one function, built by the builder of its decorator. A new kind of function (Relax's
# ``@R.function``) is one entry here.
FunctionBuild = Callable[[S.FunctionDef, ModuleContext], tuple[Any, SymbolIndex, list[Diagnostic]]]


def _build_relax(fdef: S.FunctionDef, ctx: ModuleContext) -> tuple[Any, SymbolIndex, list[Diagnostic]]:
    return build_relax_function(fdef, ctx.type_vars, ctx.filename)


FUNCTION_KINDS: dict[tuple[str, str], FunctionBuild] = {("T", "prim_func"): build_function,
                                                        ("R", "function"): _build_relax}

# The parser and builder are not re-entrant across threads for one file; one lock per
# process keeps the background indexer and the document worker from interleaving a parse.
_PARSE_LOCK = threading.Lock()


def split_lines(text: str) -> list[str]:
    """The lines of ``text`` as Python (and LSP) count them: ``\\r\\n``, ``\\n`` and a lone
    ``\\r`` each end one line; a final line end does not start another line."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


@dataclass(slots=True)
class ChunkResult:
    """One function parsed and built at ``base`` (0-based line of its first line)."""

    base: int
    functions: list[PrimFunc]
    index: SymbolIndex
    diagnostics: list[Diagnostic]
    # Names of the functions defined in this chunk, with their name spans (at ``base``).
    names: list[tuple[str, Span]]
    # A slot for the analysis of the functions and what it depended on, kept with the result
    # so that an unchanged function is not analysed again (the server's ``Document``).
    checked: list[Any] | None = None
    checked_key: Any = None
    # The ``@R.function`` functions of the chunk (``functions`` holds its PrimFuncs).
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
    defines, with spans in compact lines. ``line_map[i]`` is the real 1-based line of compact
    line ``i + 1`` (the compact text, and so all but ``line_map``, outlives edits to functions)."""

    key: tuple[str, ...]
    line_map: list[int]
    ctx: ModuleContext
    attrs: dict[str, object]
    name: str
    index: SymbolIndex
    diagnostics: list[Diagnostic]
    standalone: bool = False
    heads: tuple[str, ...] = ()  # the first line of each function (messages may show them)
    global_infos: str = ""  # ``I.module_global_infos({...})`` as written (Relax modules)
    attr_spans: dict[str, Span] = field(default_factory=dict)  # where each of ``attrs`` is written
    name_span: Span | None = None  # the module class's name (``class Module:``)


@dataclass(frozen=True, slots=True)
class Located:
    """A definition or reference found at a position, with spans in current lines."""

    entry: Definition | Reference
    span: Span
    symbol: object
    chunk: ChunkView | None


# ------------------------------------------------------------------------------ functions
def _decorator_name(d: S.SExpr) -> tuple[str, str] | None:
    target = d.func if isinstance(d, S.Call) else d
    if isinstance(target, S.Attribute) and isinstance(target.value, S.Name):
        return target.value.id, target.attr
    return None


def function_kind(fdef: S.FunctionDef) -> FunctionBuild | None:
    """The builder for ``fdef`` by its decorator, None when no decorator makes it a function."""
    for d in fdef.decorators:
        build = FUNCTION_KINDS.get(_decorator_name(d) or ("", ""))
        if build is not None:
            return build
    return None


def _function_defs(stmts: tuple[Any, ...]) -> Iterator[S.FunctionDef]:
    for st in stmts:
        if isinstance(st, S.FunctionDef):
            yield st
        elif isinstance(st, S.Error):
            yield from _function_defs(st.body)


def _build_functions(fdefs: Iterator[S.FunctionDef], ctx: ModuleContext, base: int,
                     diags: list[Diagnostic], binders: bool = True) -> ChunkResult:
    functions: list[PrimFunc] = []
    relax: list[RelaxFunction] = []
    index = SymbolIndex()
    names: list[tuple[str, Span]] = []
    for fdef in fdefs:
        build = function_kind(fdef)
        if build is None:
            diags.append(Diagnostic("TIR005", f"function '{fdef.name.id}' is not decorated with @T.prim_func",
                                    fdef.name.span, file=ctx.filename))
            build = build_function
        func, idx, ds = build(fdef, ctx)
        diags.extend(ds)
        index.definitions.extend(idx.definitions)
        index.references.extend(idx.references)
        index.call_names.extend(idx.call_names)
        index.scopes.extend(function_scopes(fdef, nested=build is build_function, binders=binders))
        names.append((fdef.name.id, fdef.name.span))
        if isinstance(func, RelaxFunction):
            relax.append(func)
        elif func is not None:
            functions.append(func)
    return ChunkResult(base, functions, index, diags, names, relax_functions=relax)


def analyze_chunk(lines: list[str], start: int, ctx: ModuleContext) -> ChunkResult:
    """Parse and build one function whose first line is the 0-based line ``start``."""
    stmts, diags = parse_chunk(lines, start + 1)
    diags = [d if d.file else Diagnostic(d.code, d.message, d.span, d.severity, d.related, ctx.filename)
             for d in diags]
    return _build_functions(_function_defs(stmts), ctx, start, diags, may_bind(lines))


# ------------------------------------------------------------------------------ module level
def _size_var_assign(st: Any) -> tuple[str, Span, DataType] | None:
    """``n = T.int32()`` (or ``TypeVar``, ``T.Var``, ``T.SizeVar``...) at module level, with
    the dtype of the size it declares (a ``TypeVar`` is an int64 size in TVM)."""
    if type(st) is S.Assign and type(st.target) is S.Name and type(st.value) is S.Call:
        f = st.value.func
        if type(f) is S.Name and f.id == "TypeVar":
            return st.target.id, st.target.span, INT64
        if type(f) is S.Name and f.id in ("Var", "SizeVar"):
            return st.target.id, st.target.span, INT32
        if type(f) is S.Attribute and type(f.value) is S.Name and f.value.id == "T" \
                and f.attr in ("int32", "int64", "Var", "SizeVar"):
            return st.target.id, st.target.span, INT64 if f.attr == "int64" else INT32
    return None


def _extern_func_assign(st: Any) -> bool:
    """``name = R.ExternFunc("name")`` in a module class (Relax)."""
    return (type(st) is S.Assign and type(st.target) is S.Name and type(st.value) is S.Call
            and dotted(st.value.func) == "R.ExternFunc")


def _module_global_infos_call(st: Any) -> S.Call | None:
    if type(st) is S.ExprStmt and type(st.value) is S.Call and dotted(st.value.func) == "I.module_global_infos":
        return st.value
    return None


def _module_attrs_call(st: Any) -> S.Call | None:
    if type(st) is S.ExprStmt and type(st.value) is S.Call:
        f = st.value.func
        if type(f) is S.Attribute and f.attr == "module_attrs" and type(f.value) is S.Name and f.value.id == "I":
            return st.value
    return None


def _map_span(span: Span, line_map: list[int]) -> Span:
    def real(line: int) -> int:
        return line_map[line - 1] if 0 < line <= len(line_map) else line
    return Span(real(span.line), span.column, real(span.end_line), span.end_column)


def _map_diagnostic(d: Diagnostic, line_map: list[int]) -> Diagnostic:
    related = tuple(Related(_map_span(r.span, line_map), r.message, r.file) for r in d.related)
    return Diagnostic(d.code, d.message, _map_span(d.span, line_map), d.severity, related, d.file)


def build_skeleton(lines: list[str], chunks: list[Chunk], filename: str, dialect: str | None,
                   prev: Skeleton | None = None) -> Skeleton:
    """The module around its functions: an ``@I.ir_module`` class (its name, ``I.module_attrs``)
    or standalone functions, module-level size vars, imports. ``prev``'s size vars are kept
    (the same objects) when the new skeleton defines the same names, so that functions built
    against them stay valid."""
    compact: list[str] = []
    line_map: list[int] = []
    placeholders: set[int] = set()  # compact lines of the functions' ``pass``
    pos = 0
    for c in chunks:
        compact.extend(lines[pos:c.start])
        line_map.extend(range(pos + 1, c.start + 1))
        placeholders.add(len(compact) + 1)
        compact.append(" " * c.indent + "pass")
        line_map.append(c.start + 1)
        pos = c.end
    compact.extend(lines[pos:])
    line_map.extend(range(pos + 1, len(lines) + 1))
    key = (dialect or "", *compact)
    # Messages about a function's place speak of its first line, not of the ``pass``.
    heads = tuple(lines[c.start] for c in chunks)
    if prev is not None and prev.key == key and (not prev.diagnostics or prev.heads == heads):
        return Skeleton(key, line_map, prev.ctx, prev.attrs, prev.name, prev.index, prev.diagnostics,
                        prev.standalone, heads, prev.global_infos, prev.attr_spans, prev.name_span)
    shown = [lines[line_map[k - 1] - 1] if k in placeholders else ln for k, ln in enumerate(compact, 1)]
    body, diags = parse_chunk(compact, 1, shown) if compact else ((), [])
    ctx = ModuleContext(filename, dialect)
    index = SymbolIndex()
    diags = list(diags)
    attrs: dict[str, object] = {}
    attr_spans: dict[str, Span] = {}
    global_infos = ""
    name = "Module"
    name_span: Span | None = None
    standalone = False
    inline: list[S.FunctionDef] = []  # a ``def`` the chunk splitter could not see (never, today)

    def err(message: str, span: Span) -> None:
        diags.append(Diagnostic("TIR005", message, span, ERROR, file=filename))

    def size_var(st: Any) -> bool:
        tv = _size_var_assign(st)
        if tv is None:
            return False
        if tv[0] not in ctx.type_vars:
            ctx.type_vars[tv[0]] = Var(tv[0], tv[2], span=tv[1])
        index.definitions.append(Definition(ctx.type_vars[tv[0]], tv[0], tv[1], "size_var", None, None))
        return True

    def is_function(st: Any) -> bool:
        if type(st) is S.Pass and st.span.line in placeholders:
            return True
        if type(st) is S.FunctionDef:
            inline.append(st)
            return True
        if type(st) is S.Error:
            for inner in st.body:
                if type(inner) is S.FunctionDef:
                    inline.append(inner)
            return True
        return False

    # Size vars first: functions anywhere in the file may use them.
    for st in body:
        if type(st) is S.ClassDef:
            for inner in st.body:
                size_var(inner)
        else:
            size_var(st)
    for st in body:
        if type(st) in (S.Import, S.Pass) and not (type(st) is S.Pass and st.span.line in placeholders):
            continue
        if _size_var_assign(st) is not None:
            continue
        if type(st) is S.ClassDef:
            name, name_span = st.name.id, st.name.span
            for inner in st.body:
                if is_function(inner) or type(inner) in (S.Pass, S.Import) or _size_var_assign(inner) is not None:
                    continue
                infos = _module_global_infos_call(inner)
                if infos is not None:
                    global_infos = "\n".join(filter(None, (global_infos, source_text(infos))))
                    continue
                if _extern_func_assign(inner):
                    # `f = R.ExternFunc("f")`: a function of the module defined outside it.
                    extern = f"{source_text(inner.target)} = {source_text(inner.value)}"
                    global_infos = "\n".join(filter(None, (global_infos, extern)))
                    continue
                call = _module_attrs_call(inner)
                if call is not None:
                    found, spans, ds = build_module_attrs(call, ctx)
                    attrs.update(found)
                    attr_spans.update(spans)
                    diags.extend(ds)
                else:
                    err("only @T.prim_func functions and I.module_attrs belong in a module class", inner.span)
        elif is_function(st):
            standalone = standalone or type(st) is not S.Error
        else:
            err("only an @I.ir_module class or @T.prim_func functions may appear at top level", st.span)
    if prev is not None and set(prev.ctx.type_vars) == set(ctx.type_vars) and prev.ctx.dialect == dialect:
        # Same size vars: keep their identity so that cached functions stay valid.
        old = prev.ctx
        index = SymbolIndex([Definition(old.type_vars[d.name], d.name, d.span, d.kind, d.node, d.function)
                             if d.kind == "size_var" else d for d in index.definitions],
                            index.references, index.call_names)
        ctx = old
    if inline:
        extra = _build_functions(iter(inline), ctx, 0, [])
        diags.extend(extra.diagnostics)
        index.definitions.extend(extra.index.definitions)
    diags = [d if d.file else Diagnostic(d.code, d.message, d.span, d.severity, d.related, filename)
             for d in diags]
    return Skeleton(key, line_map, ctx, attrs, name, index, diags, standalone, heads, global_infos, attr_spans,
                    name_span)


# ------------------------------------------------------------------------------ the file
class ParsedFile:
    """A TIR text parsed and built, function by function; ``parse`` reuses a previous
    ``ParsedFile``'s results for the functions whose text did not change. Never mutated once
    made (but for ``ChunkResult.checked``, a cache), so readers always see one state."""

    def __init__(self, filename: str = "<input>") -> None:
        self.filename = filename
        self.lines: list[str] = []
        self.dialect: str | None = None
        self.chunks: list[ChunkView] = []
        self.skeleton: Skeleton | None = None
        self.module: IRModule = IRModule(())
        # Parse and build diagnostics, sorted by position, without duplicates.
        self.diagnostics: list[Diagnostic] = []
        self.reparsed = 0  # chunks parsed by this parse (for tests and benchmarks)
        # Names of the functions that are new or gone since the previous file (and
        # "\0options" when the module around them changed): what analysis must redo.
        self.changed: set[str] = set()
        self._starts: list[int] = []
        self._functions: dict[str, tuple[PrimFunc | RelaxFunction | None, Span, ChunkView]] = {}

    @classmethod
    def parse(cls, text: str, filename: str = "<input>", prev: ParsedFile | None = None) -> ParsedFile:
        """``text`` parsed and built, reusing ``prev``'s functions whose text is unchanged
        (``prev`` must be a parse of the same file). Never raises for any text."""
        # A byte order mark is not part of the text: files are read as utf-8-sig
        # (``decode_tir_bytes``) and editors send text without it; a client that does send one
        # gets the same diagnostics, not a TIR003 at 1:1.
        text = text.removeprefix("\ufeff")
        return cls.parse_lines(split_lines(text), filename, prev)

    @classmethod
    def parse_lines(cls, lines: list[str], filename: str = "<input>", prev: ParsedFile | None = None) -> ParsedFile:
        new = cls(filename)
        gc_was_enabled = gc.isenabled()
        gc.disable()  # parsing makes many small live objects: collecting them is wasted work
        try:
            with _PARSE_LOCK:
                new._update(prev if prev is not None and prev.filename == filename else cls(filename), lines)
        finally:
            if gc_was_enabled:
                gc.enable()
        return new

    # ------------------------------------------------------------------ updating
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
    def _split(prev: ParsedFile, lines: list[str]) -> list[tuple[Chunk, ChunkView | None]]:
        """The chunks of ``lines``, each with the chunk of ``prev`` it is known to equal (moved
        by the edit's line delta) or None; only the region that changed is split again."""
        old = prev.lines
        if not prev.chunks:
            return [(c, None) for c in split_chunks(lines)]
        n_old, n_new = len(old), len(lines)
        limit = min(n_old, n_new)
        prefix = ParsedFile._common_prefix(old, lines, limit)
        if prefix == n_old == n_new:
            return [(Chunk(v.start, v.end, v.indent), v) for v in prev.chunks]
        suffix = ParsedFile._common_prefix(old[::-1], lines[::-1], limit - prefix)
        first_changed, last_changed_old = prefix, n_old - 1 - suffix
        delta = n_new - n_old
        starts = prev._starts
        # The window runs from the start of the function holding the first changed line to the
        # start of the first function after the last changed line: split_chunks always begins
        # a function at a decorator or ``def`` line, so chunks outside the window are unchanged.
        # The scanner's state where a chunk starts depends on that line alone, so a window of
        # lines is split again from the start of an unchanged chunk up to a chunk of the old
        # split that the new split also starts (from there on the two splits agree). The
        # window begins at the chunk before the first changed line (at the one before that
        # when the changed line is a chunk's first line: what precedes may now run on).
        i = bisect.bisect_right(starts, first_changed) - 1
        if i >= 0 and starts[i] == first_changed:
            i -= 1
        ws = prev.chunks[i].start if i >= 0 else 0
        j = bisect.bisect_right(starts, last_changed_old)
        while True:
            if j >= len(prev.chunks):
                middle = split_chunks(lines[ws:])
                break
            we = prev.chunks[j].start + delta
            if we < ws:
                return [(c, None) for c in split_chunks(lines)]
            middle = split_chunks(lines[ws:prev.chunks[j].end + delta])
            if any(c.start + ws == we for c in middle):
                middle = [c for c in middle if c.start + ws < we]
                break
            j += 1
        before = [(Chunk(v.start, v.end, v.indent), v) for v in prev.chunks[:max(i, 0)]]
        window: list[tuple[Chunk, ChunkView | None]] = [(Chunk(c.start + ws, c.end + ws, c.indent), None)
                                                     for c in middle]
        after = [(Chunk(v.start + delta, v.end + delta, v.indent), v) for v in prev.chunks[j:]]
        return before + window + after

    def _update(self, prev: ParsedFile, lines: list[str]) -> None:
        dialect = detect_dialect(lines)
        same_dialect = dialect == prev.dialect
        split = self._split(prev, lines) if same_dialect else [(c, None) for c in split_chunks(lines)]
        chunks = [c for c, _ in split]
        skeleton = build_skeleton(lines, chunks, self.filename, dialect, prev.skeleton)
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
        self.changed = changed
        self._assemble()

    def _assemble(self) -> None:
        sk = self.skeleton
        assert sk is not None
        functions: list[PrimFunc] = []
        relax: list[RelaxFunction] = []
        diags = [_map_diagnostic(d, sk.line_map) for d in sk.diagnostics]
        seen: dict[str, tuple[PrimFunc | RelaxFunction | None, Span, ChunkView]] = {}
        for v in self.chunks:
            r = v.result
            delta = v.start - r.base
            if r.diagnostics:
                diags.extend(d.shifted(delta) if delta else d for d in r.diagnostics)
            names = r.names
            if len(names) == 1 and len(r.functions) == 1 and names[0][0] not in seen:
                # The common case, kept cheap: an edit re-assembles every function.
                name, span = names[0]
                seen[name] = (r.functions[0], span.shifted(delta) if delta else span, v)
                functions.append(r.functions[0])
                continue
            by_name: dict[str, PrimFunc | RelaxFunction] = {f.name: f for f in r.functions}
            by_name.update((f.name, f) for f in r.relax_functions)
            for name, span in r.names:
                span = span.shifted(delta)
                if name in seen:
                    first = Related(seen[name][1], f"first definition of '{name}'")
                    diags.append(Diagnostic("TIR018", f"function '{name}' is defined twice in the module", span,
                                            ERROR, (first,), self.filename))
                    continue
                seen[name] = (by_name.get(name), span, v)
                f = by_name.get(name)
                if isinstance(f, RelaxFunction):
                    relax.append(f)
                elif f is not None:
                    functions.append(f)
        n = len(self.lines)
        end = len(self.lines[-1]) + 1 if self.lines else 1
        self.module = IRModule(tuple(functions), sk.attrs, sk.name, sk.standalone and len(functions) + len(relax) <= 1,
                               tuple(sk.ctx.type_vars), tuple(relax), sk.global_infos, span=Span(1, 1, n or 1, end),
                               attr_spans={k: _map_span(s, sk.line_map) for k, s in sk.attr_spans.items()},
                               name_span=_map_span(sk.name_span, sk.line_map) if sk.name_span else None)
        self._functions = seen
        self.diagnostics = unique_sorted(diags)

    # ------------------------------------------------------------------ whole-file views
    def index(self) -> SymbolIndex:
        """One index of the whole file in current lines, with calls by name linked to the
        functions they name (what ``read_tir`` returns)."""
        out = SymbolIndex()
        sk = self.skeleton
        if sk is not None:
            out.definitions.extend(Definition(d.symbol, d.name, _map_span(d.span, sk.line_map), d.kind, d.node,
                                              d.function) for d in sk.index.definitions)
            out.references.extend(Reference(_map_span(r.span, sk.line_map), r.symbol) for r in sk.index.references)
        for v in self.chunks:
            idx = v.result.index
            delta = v.delta
            if delta == 0:
                out.definitions.extend(idx.definitions)
                out.references.extend(idx.references)
                out.call_names.extend(idx.call_names)
                out.scopes.extend(idx.scopes)
            else:
                out.definitions.extend(Definition(d.symbol, d.name, d.span.shifted(delta), d.kind, d.node, d.function)
                                       for d in idx.definitions)
                out.references.extend(Reference(r.span.shifted(delta), r.symbol) for r in idx.references)
                out.call_names.extend((n, sp.shifted(delta)) for n, sp in idx.call_names)
                out.scopes.extend(s.shifted(delta) for s in idx.scopes)
        out.link_functions(self.module.functions)
        return out

    # ------------------------------------------------------------------ lookups
    def chunk_at(self, line: int) -> ChunkView | None:
        """The function chunk holding the 1-based ``line``."""
        i = bisect.bisect_right(self._starts, line - 1) - 1
        if i >= 0 and self.chunks[i].start <= line - 1 < self.chunks[i].end:
            return self.chunks[i]
        return None

    def function_named(self, name: str) -> tuple[PrimFunc | RelaxFunction | None, Span] | None:
        """A function of this file by name or global symbol, with its name span."""
        hit = self._functions.get(name)
        if hit is not None:
            return hit[0], hit[1]
        for f, span, _ in self._functions.values():
            if f is not None and f.global_symbol == name:
                return f, span
        return None

    def function_names(self) -> list[tuple[str, Span, PrimFunc | RelaxFunction | None]]:
        return [(name, span, f) for name, (f, span, _) in self._functions.items()]

    def view_of(self, name: str) -> ChunkView | None:
        """The chunk defining the function ``name`` (its Python name)."""
        hit = self._functions.get(name)
        return hit[2] if hit is not None else None

    def call_names(self) -> Iterator[tuple[str, Span]]:
        """Every function named in a call by string (``T.call_extern("int32", "f")``), in
        current lines."""
        for v in self.chunks:
            delta = v.delta
            for name, span in v.result.index.call_names:
                yield name, span.shifted(delta) if delta else span

    def at(self, line: int, column: int) -> Located | None:
        """The definition or reference at a 1-based position; call-name strings that name a
        function of this file count as references to it."""
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
        """Every use of ``symbol`` in this file (spans in current lines), in order; a
        function's name (a string) finds the calls that name it."""
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
        """Every definition in the file with its current span."""
        sk = self.skeleton
        if sk is not None:
            for d in sk.index.definitions:
                yield d, _map_span(d.span, sk.line_map), None
        for v in self.chunks:
            for d in v.result.index.definitions:
                yield d, d.span.shifted(v.delta), v


def unique_sorted(diags: list[Diagnostic]) -> list[Diagnostic]:
    """``diags`` by position, code and message, each (span, code, message, severity) once."""
    diags = sorted(diags, key=lambda d: (d.span.line, d.span.column, d.code, d.message))
    reported: set[tuple[object, ...]] = set()
    out: list[Diagnostic] = []
    for d in diags:
        key = (d.span, d.code, d.message, d.severity)
        if key not in reported:
            reported.add(key)
            out.append(d)
    return out
