"""The scopes of a function, read off its syntax tree for the symbol index.

They are the builder's scopes (``FunctionBuilder.scope``): the function's parameters, its
body, and the body of every statement that has one (``for``, ``while``, each branch of an
``if``, ``with``), plus the expressions that bind names (``lambda``, ``T.Let``). A name bound
by a statement's header (a loop variable, ``with ... as x``) lives in that statement's body;
a name bound by a plain statement lives from there to the end of the body holding it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from tir_lsp.compiler.ir.span import Span
from tir_lsp.compiler.text import syntax as S
from tir_lsp.compiler.text.symbols import Scope

# A scope inside an expression is never continued by a line being typed.
_NO_CONTINUATION = 10**9


def function_scopes(fdef: S.FunctionDef, nested: bool = True, binders: bool = True) -> list[Scope]:
    """The scopes of ``fdef``, outermost first; with ``nested`` False, only the function's
    own (a Relax function is one scope). ``binders`` False says that the function's text
    has neither ``lambda`` nor ``Let``: its expressions are not searched for scopes (the
    search visits every node of every expression, a tenth of the time a file takes to read)."""
    name = fdef.name.span
    out = [Scope(Span(name.end_line, name.end_column, fdef.span.end_line, fdef.span.end_column),
                 indent=_NO_CONTINUATION)]
    if not nested:
        return out
    out.extend(_body(fdef.body, fdef.span, header=False, binders=binders))
    if binders:
        for p in fdef.params:
            out.extend(_expr_scopes(p))
    return out


def may_bind(lines: list[str]) -> bool:
    """Whether ``lines`` may hold an expression that binds names (``lambda``, ``T.Let``)."""
    return any("lambda" in ln or "Let" in ln for ln in lines)


def _body(body: tuple[S.SStmt, ...], owner: Span, header: bool = True, binders: bool = True) -> Iterator[Scope]:
    """The scope of ``body`` (the body of the statement at ``owner``), then those inside it,
    in the order a recursive walk would give, with an explicit stack: a file nested
    thousands of levels deep (which the builder rejects) must not exhaust Python's stack."""
    work: list[_Pending | S.SStmt] = [_Pending(body, owner, header)]
    while work:
        item = work.pop()
        if isinstance(item, _Pending):
            scope = _body_scope(item.body, item.owner, item.header)
            if scope is not None:
                yield scope
                work.extend(reversed(item.body))
        elif binders:
            yield from _stmt_scopes(item, work)
        else:
            _push_bodies(item, work)


@dataclass(frozen=True, slots=True)
class _Pending:
    """A body still to walk (the statement at ``owner`` has it; ``header``: it has a header)."""

    body: tuple[S.SStmt, ...]
    owner: Span
    header: bool


def _body_scope(body: tuple[S.SStmt, ...], owner: Span, header: bool) -> Scope | None:
    if not body:
        return None
    first, last = body[0].span, body[-1].span
    # The region starts with the body's first line (the line after a header, usually), so a
    # blank line being typed at the top of the body is in it; a body on the header's own line
    # starts where it does.
    start = (first.line, first.column) if first.line == owner.line else (first.line, 1)
    region = Span(start[0], start[1], last.end_line, last.end_column)
    head = Span(owner.line, owner.column, start[0], start[1]) if header else None
    return Scope(region, head, first.column)


def _stmt_scopes(st: S.SStmt, work: list[_Pending | S.SStmt]) -> Iterator[Scope]:
    """The scopes in ``st``'s own expressions; its bodies go on ``work`` (popped last first)."""
    if isinstance(st, S.If):
        yield from _expr_scopes(st.test)
        work.append(_Pending(st.orelse, st.orelse[0].span if st.orelse else st.span, False))
        work.append(_Pending(st.body, st.span, True))
    elif isinstance(st, (S.For, S.While, S.With, S.Error)):
        for f in st._fields:
            if f not in ("body", "span"):
                yield from _expr_scopes(getattr(st, f))
        work.append(_Pending(st.body, st.span, True))
    elif not isinstance(st, (S.FunctionDef, S.ClassDef)):  # nested functions are errors, not scopes
        yield from _expr_scopes(st)


def _push_bodies(st: S.SStmt, work: list[_Pending | S.SStmt]) -> None:
    """What ``_stmt_scopes`` puts on ``work`` for ``st``, for a function without binders."""
    if isinstance(st, S.If):
        work.append(_Pending(st.orelse, st.orelse[0].span if st.orelse else st.span, False))
        work.append(_Pending(st.body, st.span, True))
    elif isinstance(st, (S.For, S.While, S.With, S.Error)):
        work.append(_Pending(st.body, st.span, True))


def _expr_scopes(node: object) -> Iterator[Scope]:
    """The scopes of the ``lambda`` and ``T.Let`` expressions in ``node`` (any syntax value)."""
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, S.Lambda) or (isinstance(n, S.Call) and _is_let(n)):
            yield Scope(n.span, None, _NO_CONTINUATION)
        if isinstance(n, tuple):  # syntax nodes are NamedTuples; tuples of them too
            stack.extend(x for x in n if isinstance(x, tuple))


def _is_let(call: S.Call) -> bool:
    f = call.func
    return isinstance(f, S.Attribute) and f.attr == "Let" and isinstance(f.value, S.Name) and f.value.id == "T"
