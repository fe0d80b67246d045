"""The syntax tree: what the grammar recognises, before any TIR meaning is given to it.

The Lark parser builds these directly (an inline transformer, no parse tree); the builder
(``tir_lsp.compiler.text.builder``) then resolves names and turns them into IR. NamedTuples keep
construction cheap on the parser's hot path.
"""

from __future__ import annotations

from typing import NamedTuple

from tir_lsp.compiler.ir.span import Span


class Name(NamedTuple):
    id: str
    span: Span


class Attribute(NamedTuple):
    """``value.attr`` (``T.float32``, ``A.data``, ``T.axis.remap``)."""

    value: SExpr
    attr: str
    span: Span
    attr_span: Span


class Constant(NamedTuple):
    """A number, string, True/False/None. ``text`` is the literal as written."""

    value: int | float | str | bool | None
    span: Span
    text: str = ""


class BinaryOp(NamedTuple):
    """``left op right`` with op one of + - * / // % ** << >> & | ^ == != < <= > >= and or."""

    op: str
    left: SExpr
    right: SExpr
    span: Span


class UnaryOp(NamedTuple):
    """``op operand`` with op one of - + ~ not."""

    op: str
    operand: SExpr
    span: Span


class Keyword(NamedTuple):
    name: str
    value: SExpr
    span: Span


class Call(NamedTuple):
    func: SExpr
    args: tuple[SExpr, ...]
    keywords: tuple[Keyword, ...]
    span: Span


class Slice(NamedTuple):
    """``start:stop:step`` inside a subscript; missing parts are None."""

    start: SExpr | None
    stop: SExpr | None
    step: SExpr | None
    span: Span


class Subscript(NamedTuple):
    """``value[i, j]``; ``indices`` has one entry per comma-separated item."""

    value: SExpr
    indices: tuple[SExpr, ...]
    span: Span


class TupleExpr(NamedTuple):
    elts: tuple[SExpr, ...]
    span: Span


class ListExpr(NamedTuple):
    elts: tuple[SExpr, ...]
    span: Span


class DictExpr(NamedTuple):
    items: tuple[tuple[SExpr, SExpr], ...]
    span: Span


class IfExp(NamedTuple):
    """``body if test else orelse``."""

    test: SExpr
    body: SExpr
    orelse: SExpr
    span: Span


class Lambda(NamedTuple):
    params: tuple[Name, ...]
    body: SExpr
    span: Span


class Starred(NamedTuple):
    value: SExpr
    span: Span


SExpr = (
    Name | Attribute | Constant | BinaryOp | UnaryOp | Call | Slice | Subscript | TupleExpr |
    ListExpr | DictExpr | IfExp | Lambda | Starred
)


class ExprStmt(NamedTuple):
    value: SExpr
    span: Span


class Assign(NamedTuple):
    """``target = value`` (``a, b = ...`` has a TupleExpr target)."""

    target: SExpr
    value: SExpr
    span: Span


class AnnAssign(NamedTuple):
    """``target: annotation = value`` (value may be None)."""

    target: SExpr
    annotation: SExpr
    value: SExpr | None
    span: Span


class AugAssign(NamedTuple):
    """``target op= value``."""

    target: SExpr
    op: str
    value: SExpr
    span: Span


class For(NamedTuple):
    target: SExpr
    iter: SExpr
    body: tuple[SStmt, ...]
    span: Span


class While(NamedTuple):
    test: SExpr
    body: tuple[SStmt, ...]
    span: Span


class If(NamedTuple):
    """``if``; an ``elif`` is an If alone in ``orelse``."""

    test: SExpr
    body: tuple[SStmt, ...]
    orelse: tuple[SStmt, ...]
    span: Span


class WithItem(NamedTuple):
    context: SExpr
    target: SExpr | None


class With(NamedTuple):
    items: tuple[WithItem, ...]
    body: tuple[SStmt, ...]
    span: Span


class Assert(NamedTuple):
    test: SExpr
    msg: SExpr | None
    span: Span


class Return(NamedTuple):
    value: SExpr | None
    span: Span


class Pass(NamedTuple):
    span: Span


class Param(NamedTuple):
    name: Name
    annotation: SExpr | None
    default: SExpr | None
    span: Span


class FunctionDef(NamedTuple):
    name: Name
    type_params: tuple[Name, ...]
    params: tuple[Param, ...]
    returns: SExpr | None
    body: tuple[SStmt, ...]
    decorators: tuple[SExpr, ...]
    span: Span


class ClassDef(NamedTuple):
    name: Name
    body: tuple[SStmt, ...]
    decorators: tuple[SExpr, ...]
    span: Span


class Error(NamedTuple):
    """A statement the parser could not read; its diagnostic is already reported.

    ``body`` keeps the statements of a block whose header was unreadable, so that names
    and errors inside it are still found.
    """

    body: tuple[SStmt, ...]
    span: Span


class Import(NamedTuple):
    """``from tvm.script import tir as T`` / ``import tvm`` (never executed; only recorded)."""

    module: str
    names: tuple[tuple[str, str | None], ...]
    span: Span


SStmt = (
    ExprStmt | Assign | AnnAssign | AugAssign | For | While | If | With | Assert | Return | Pass |
    FunctionDef | ClassDef | Error | Import
)


class Module(NamedTuple):
    body: tuple[SStmt, ...]
    span: Span
    dialect: str | None = None  # "tir" or "tirx", from the `# from tvm.script import ...` header
