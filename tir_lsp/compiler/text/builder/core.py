"""The state every layer of the function builder shares: diagnostics, the scope stack and the
def-use index, the block frames being filled, and the dispatch from a syntax node to the method
building it (``_expr_<Class>``, ``_stmt_<Class>``, defined by whichever layer knows the node).

The layers subclass one another in this order, each calling only itself and those before it:
core, literals, expressions, access, calls, attributes, buffers, blocks, statements, function.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from tir_lsp.compiler.diagnostics import ERROR, Diagnostic, Severity
from tir_lsp.compiler.ir.buffer import Buffer
from tir_lsp.compiler.ir.dtype import INT32, DataType
from tir_lsp.compiler.ir.expr import BufferRegion, Expr, IntImm, Var
from tir_lsp.compiler.ir.span import Span
from tir_lsp.compiler.ir.stmt import Evaluate, IterVar, MatchBufferRegion, Stmt, seq
from tir_lsp.compiler.text import syntax as S
from tir_lsp.compiler.text.symbols import Definition, DefinitionKind, SymbolIndex

# Deepest nesting of statements and expressions together that the builder accepts. What
# comes after it (analysis, printer, passes, C backend) walks the IR recursively, a few
# frames per level: this bound keeps all of them inside Python's limit of 1,000 frames with
# room for the caller's own (a test runner, the language server).
MAX_NESTING = 150


def seq_or_nop(stmts: list[Stmt]) -> Stmt:
    """The body of a function or block; one holding only frame statements (``T.reads``,
    ``T.func_attr``...) is ``T.evaluate(0)``, as TVM builds it and our printer prints it."""
    return seq(stmts) if stmts else Evaluate(IntImm(INT32, 0))


@dataclass
class ModuleContext:
    """What a function sees of its module: the file, the dialect, module-level size vars."""

    filename: str = "<input>"
    dialect: str | None = None
    type_vars: dict[str, Var] = field(default_factory=dict)


class Drop(Exception):
    """Internal: the statement being built is dropped (its diagnostic is already reported)."""


@dataclass
class Binding:
    obj: Any          # Var, Buffer
    kind: DefinitionKind  # the Definition kind
    mutable: bool = False  # a scalar buffer (``x: T.float32 = v``) may be assigned again


@dataclass
class BlockFrame:
    """What ``T.axis``, ``T.reads``... statements add to the enclosing block."""

    name: str
    iter_vars: list[IterVar] = field(default_factory=list)
    iter_values: list[Expr] = field(default_factory=list)
    reads: tuple[BufferRegion, ...] | None = None
    writes: tuple[BufferRegion, ...] | None = None
    init: Stmt | None = None
    predicate: Expr | None = None
    alloc_buffers: list[Buffer] = field(default_factory=list)
    match_buffers: list[MatchBufferRegion] = field(default_factory=list)
    annotations: dict[str, object] = field(default_factory=dict)
    attr_spans: dict[str, Span] = field(default_factory=dict)  # where each of ``annotations`` is written
    is_root: bool = False


# Syntax node class -> the FunctionBuilder method building it (``_expr_<Class>``,
# ``_stmt_<Class>``), found once instead of by name at every node.
_EXPR_METHODS: dict[type, Callable[..., Any]] = {}
_STMT_METHODS: dict[type, Callable[..., Any]] = {}


class BuilderCore:
    """The builder's state, diagnostics, scopes and dispatch; the layers add the rest."""

    def __init__(self, ctx: ModuleContext) -> None:
        self.ctx = ctx
        self.index = SymbolIndex()
        self.diags: list[Diagnostic] = []
        self.scopes: list[dict[str, Binding]] = []
        self.frames: list[BlockFrame] = []
        # Performance (parser helper): blocks made so far; with none, build() skips the
        # contains_block walk over the whole body (a fifth of the build time of lowered code).
        self.blocks_made = 0
        self.nesting = 0  # statements and expressions being built, outermost first
        self.suppress_undefined = 0
        self.placeholders: set[int] = set()  # ids of Vars standing for undefined names
        self.fname: str | None = None
        self.attrs: dict[str, object] = {}
        self.attr_spans: dict[str, Span] = {}  # where each of ``attrs`` is written
        self.buffer_map: list[tuple[Var, Buffer]] = []
        self.params: list[Var] = []
        self.handle_params: dict[int, Var] = {}
        self.env_threads: dict[int, str] = {}
        self.implied_buffers: dict[int, Buffer] = {}  # pointer var id -> its buffer (_allocated_buffer)
        # (min, extent) of the loops whose bodies are being built, for T.axis.remap.
        self.open_loops: dict[int, tuple[Expr, Expr]] = {}

    def error(self, code: str, message: str, span: Span, severity: Severity = ERROR) -> None:
        # Inside the body of an unreadable block header, names and forms the header would have
        # defined are missing: whatever goes wrong there is a consequence of the syntax error
        # already reported, so it is not reported again.
        if self.suppress_undefined:
            return
        self.diags.append(Diagnostic(code, message, span, severity, file=self.ctx.filename))

    def fail(self, code: str, message: str, span: Span) -> Drop:
        self.error(code, message, span)
        return Drop()

    @contextmanager
    def scope(self) -> Iterator[None]:
        self.scopes.append({})
        try:
            yield
        finally:
            self.scopes.pop()

    def lookup(self, name: str) -> Binding | None:
        for sc in reversed(self.scopes):
            b = sc.get(name)
            if b is not None:
                return b
        tv = self.ctx.type_vars.get(name)
        if tv is not None:
            return Binding(tv, "size_var")
        return None

    def define(self, name: str, span: Span, obj: Any, kind: DefinitionKind, node: object | None = None,
               mutable: bool = False, check: bool = True) -> Definition:
        """Bind ``name`` in the innermost scope and record its definition."""
        cur = self.scopes[-1]
        if check and name in cur:
            self.error("TIR011", f"'{name}' is already defined in this scope", span)
        cur[name] = Binding(obj, kind, mutable)
        d = Definition(obj, name, span, kind, node, self.fname)
        self.index.define(d)
        return d

    def refer(self, span: Span, obj: Any) -> None:
        self.index.refer(span, obj)

    def stmts(self, body: list[S.SStmt] | tuple[S.SStmt, ...]) -> list[Stmt]:
        out: list[Stmt] = []
        for st in body:
            try:
                out.extend(self.stmt(st))
            except Drop:
                pass
            except RecursionError:
                self.error("TIR005", "statement nested too deeply", st.span)
        return out

    def body(self, body: tuple[S.SStmt, ...]) -> Stmt:
        with self.scope():
            return seq(self.stmts(body))

    def stmt(self, st: S.SStmt) -> list[Stmt]:
        m = _STMT_METHODS.get(type(st))
        if m is None:
            m = getattr(type(self), "_stmt_" + type(st).__name__, None)
            if m is None:
                raise self.fail("TIR005", f"'{type(st).__name__}' is not a TIR statement", st.span)
            _STMT_METHODS[type(st)] = m
        # A statement counts twice: it sits in a SeqStmt, which the IR walks recurse through
        # too (so 75 statement levels; Python's own indentation limit is 100).
        self.nesting += 2
        try:
            if self.nesting > MAX_NESTING:
                raise self.fail("TIR005", f"nested more than {MAX_NESTING} levels deep", st.span)
            result: list[Stmt] = m(self, st)
        finally:
            self.nesting -= 2
        return result

    def retarget_definition(self, old: object, new: object) -> None:
        for d in reversed(self.index.definitions):
            if d.node is old:
                d.node = new
                break

    def block_frame(self, span: Span, what: str) -> BlockFrame:
        if not self.frames or self.frames[-1].is_root:
            raise self.fail("TIR019", f"{what} is only valid directly inside a T.sblock", span)
        return self.frames[-1]

    def in_current_scope(self, name: str) -> bool:
        return name in self.scopes[-1]

    def expr(self, e: S.SExpr | None, hint: DataType | None = None) -> Expr:
        """Build an expression; ``hint`` is the dtype a bare number literal takes."""
        if e is None:
            raise Drop()
        m = _EXPR_METHODS.get(type(e))
        if m is None:
            m = getattr(type(self), "_expr_" + type(e).__name__, None)
            if m is None:
                raise self.fail("TIR005", f"'{type(e).__name__}' is not a TIR expression", e.span)
            _EXPR_METHODS[type(e)] = m
        self.nesting += 1
        try:
            if self.nesting > MAX_NESTING:
                raise self.fail("TIR005", f"nested more than {MAX_NESTING} levels deep", e.span)
            result: Expr = m(self, e, hint)
        finally:
            self.nesting -= 1
        return result
