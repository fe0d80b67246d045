"""TIR text -> syntax tree (``tir_lsp.compiler.text.syntax``), with positioned errors and recovery.

The grammar (``grammar/tir.lark``) is LALR: Lark compiles it into tables, which our own
driver (``lalr_driver``) runs over our lexer's tokens, calling ``_SyntaxBuilder``'s methods
as rules are reduced, so no parse tree is ever made (and valid text never imports Lark: the
tables are saved as JSON, see ``_plan``). A module is split at function
boundaries and each function is parsed on its own (``split_chunks``/``parse_chunk``): the
language server re-parses only the function an edit touched, and a broken function does not
hide the others. Inside a function, a statement that does not parse is reported and replaced
by a placeholder (an ``Error`` node keeping the body of a broken block header), and parsing
goes on.

Nothing here evaluates, executes or imports anything from the text.
"""

from __future__ import annotations

import functools
import gc
import hashlib
import json
import os
import re
import stat
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from tir_lsp.compiler.diagnostics import ERROR, Diagnostic
from tir_lsp.compiler.ir.span import Span
from tir_lsp.compiler.text import lalr_driver
from tir_lsp.compiler.text import syntax as S
from tir_lsp.compiler.text.lalr_driver import PLAN_FORMAT, LalrDriver, plan_from_lark
from tir_lsp.compiler.text.lexer import LexError, TirLexer, Tok, lark_lexer

# ---------------------------------------------------------------------------------------
# Grammar loading


def grammar_path() -> Path:
    """Where ``tir.lark`` is: inside the installed package, else the source checkout."""
    try:
        packaged = resources.files("tir_lsp.compiler") / "grammar" / "tir.lark"
        if packaged.is_file():
            return Path(str(packaged))
    except (ModuleNotFoundError, TypeError):  # pragma: no cover - unusual import setups
        pass
    return Path(__file__).resolve().parents[3] / "grammar" / "tir.lark"


ERROR_MARK = "__tir_error__"


# Spans are made for nearly every token and node, and a frozen dataclass's __init__ costs
# four object.__setattr__ calls: here the slots are filled directly (same object, half the time).
_new_span = object.__new__
_set_line, _set_column = Span.__dict__["line"].__set__, Span.__dict__["column"].__set__
_set_end_line, _set_end_column = Span.__dict__["end_line"].__set__, Span.__dict__["end_column"].__set__
assert Span.__slots__ == ("line", "column", "end_line", "end_column"), "update _span/_join"


def _span(tok: Tok) -> Span:
    sp = _new_span(Span)
    _set_line(sp, tok[3])
    _set_column(sp, tok[4])
    _set_end_line(sp, tok[5])
    _set_end_column(sp, tok[6])
    return sp


def _join(a: Span, b: Span) -> Span:
    sp = _new_span(Span)
    _set_line(sp, a.line)
    _set_column(sp, a.column)
    _set_end_line(sp, b.end_line)
    _set_end_column(sp, b.end_column)
    return sp


class _Suite(tuple):  # type: ignore[type-arg]
    """Statements of an indented block (distinguished from NamedTuples by type)."""


class _Items(list):  # type: ignore[type-arg]
    """A comma-separated list of arguments, subscripts, params or type params."""


class _Clause(tuple):  # type: ignore[type-arg]
    """An ``elif``/``else`` clause: (keyword token, test or None, suite)."""


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "0": "\0", "\\": "\\", "'": "'", '"': '"', "a": "\a",
            "b": "\b", "f": "\f", "v": "\v", "\n": ""}
_ESCAPE_RE = re.compile(r"\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-7]{1,3}|.)", re.DOTALL)


def _unescape_match(m: re.Match[str]) -> str:
    e = m.group(1)
    if e[0] in "xuU":
        return chr(int(e[1:], 16))
    if e[0] in "01234567" and (len(e) > 1 or e != "0"):
        return chr(int(e, 8))
    return _ESCAPES.get(e, "\\" + e)


def string_value(literal: str) -> str:
    """The value of a Python string literal, decoded by hand (no eval)."""
    i = 0
    while literal[i] not in "'\"":
        i += 1
    prefix = literal[:i].lower()
    body = literal[i:]
    q = 3 if body[:3] in ('"""', "'''") else 1
    inner = body[q:-q]
    if "r" in prefix or "\\" not in inner:
        return inner
    return _ESCAPE_RE.sub(_unescape_match, inner)


def number_value(text: str) -> int | float:
    """The value of a Python number literal."""
    if text.isdigit() and text.isascii() and (text[0] != "0" or text.count("0") == len(text)):
        return int(text)  # the common case: a plain decimal integer
    clean = text.replace("_", "")
    low = clean.lower()
    if low.startswith(("0x", "0o", "0b")):
        return int(clean, 0)
    if clean.endswith(("j", "J")):
        return float(clean[:-1])  # complex numbers are not TIR; the builder reports them
    if "." in clean or "e" in low:
        return float(clean)
    return int(clean, 10)


class _SyntaxBuilder:
    """Callbacks of the grammar's rules: each builds one syntax node from the rule's kept
    children, passed as positional arguments (Lark's ``v_args(inline=True)`` convention)."""

    def __default__(self, data: Any, children: Any, meta: Any) -> Any:
        # A rule without a method would be a Lark Tree, as in Lark (none is reached today).
        from lark import Tree

        return Tree(data, children, meta)

    # --- module and statements ---------------------------------------------------------
    def start(self, *stmts: Any) -> tuple[Any, ...]:
        return stmts

    def expr_stmt(self, value: Any) -> Any:
        if type(value) is S.Call and type(value.func) is S.Name and value.func.id == ERROR_MARK:
            return S.Error((), _error_span(value))
        return S.ExprStmt(value, value.span)

    def assign(self, target: Any, value: Any) -> S.Assign:
        return S.Assign(target, value, _join(target.span, value.span))

    def ann_assign(self, target: Any, annotation: Any, value: Any = None) -> S.AnnAssign:
        end = (value or annotation).span
        return S.AnnAssign(target, annotation, value, _join(target.span, end))

    def aug_assign(self, target: Any, op: Tok, value: Any) -> S.AugAssign:
        return S.AugAssign(target, op[1][:-1], value, _join(target.span, value.span))

    def pass_stmt(self, tok: Tok) -> S.Pass:
        return S.Pass(_span(tok))

    def return_stmt(self, tok: Tok, value: Any = None) -> S.Return:
        sp = _span(tok)
        return S.Return(value, _join(sp, value.span) if value is not None else sp)

    def assert_stmt(self, tok: Tok, test: Any, msg: Any = None) -> S.Assert:
        return S.Assert(test, msg, _join(_span(tok), (msg or test).span))

    def dotted_name(self, *names: Tok) -> tuple[str, Span]:
        return ".".join(n[1] for n in names), _join(_span(names[0]), _span(names[-1]))

    def import_stmt(self, tok: Tok, dotted: tuple[str, Span], *rest: Tok) -> S.Import:
        alias = rest[1][1] if len(rest) == 2 else None
        end = _span(rest[1]) if rest else dotted[1]
        return S.Import(dotted[0], ((dotted[0], alias),), _join(_span(tok), end))

    def import_names(self, *toks: Tok) -> tuple[list[tuple[str, str | None]], Span]:
        names: list[tuple[str, str | None]] = []
        i = 0
        while i < len(toks):
            if i + 2 < len(toks) + 1 and i + 1 < len(toks) and toks[i + 1].type == "AS":
                names.append((toks[i][1], toks[i + 2][1]))
                i += 3
            else:
                names.append((toks[i][1], None))
                i += 1
        return names, _join(_span(toks[0]), _span(toks[-1]))

    def import_from(self, tok: Tok, dotted: tuple[str, Span], _imp: Tok,
                    names: tuple[list[tuple[str, str | None]], Span]) -> S.Import:
        return S.Import(dotted[0], tuple(names[0]), _join(_span(tok), names[1]))

    def decorator(self, at: Tok, expr: Any) -> tuple[Span, Any]:
        return _span(at), expr

    def decorated(self, *children: Any) -> Any:
        decs = children[:-1]
        node = children[-1]
        start = decs[0][0]
        return node._replace(decorators=tuple(d[1] for d in decs), span=_join(start, node.span))

    def funcdef(self, tok: Tok, name: Tok, *rest: Any) -> S.FunctionDef:
        type_params: tuple[S.Name, ...] = ()
        params: tuple[S.Param, ...] = ()
        returns = None
        body: tuple[Any, ...] = ()
        seen_rpar = False
        for c in rest:
            if type(c) is Tok:
                if c.type == "RPAR":
                    seen_rpar = True
            elif isinstance(c, _Suite):
                body = tuple(c)
            elif isinstance(c, _Items):
                if seen_rpar:
                    returns = c  # pragma: no cover - cannot happen with this grammar
                elif c and type(c[0]) is S.Name:
                    type_params = tuple(c)
                else:
                    params = tuple(c)
            elif seen_rpar:
                returns = c
        end = body[-1].span if body else _span(name)
        return S.FunctionDef(S.Name(name[1], _span(name)), type_params, params, returns, body, (),
                             _join(_span(tok), end))

    def type_params(self, _l: Tok, *names: Tok) -> _Items:
        return _Items(S.Name(n[1], _span(n)) for n in names if n.type == "NAME")

    def params(self, *ps: S.Param) -> _Items:
        return _Items(ps)

    def param_plain(self, name: Tok) -> S.Param:
        sp = _span(name)
        return S.Param(S.Name(name[1], sp), None, None, sp)

    def param_ann(self, name: Tok, ann: Any) -> S.Param:
        sp = _span(name)
        return S.Param(S.Name(name[1], sp), ann, None, _join(sp, ann.span))

    def param_ann_default(self, name: Tok, ann: Any, default: Any) -> S.Param:
        sp = _span(name)
        return S.Param(S.Name(name[1], sp), ann, default, _join(sp, default.span))

    def param_default(self, name: Tok, default: Any) -> S.Param:
        sp = _span(name)
        return S.Param(S.Name(name[1], sp), None, default, _join(sp, default.span))

    def classdef(self, tok: Tok, name: Tok, *rest: Any) -> S.ClassDef:
        body = tuple(rest[-1])
        end = body[-1].span if body else _span(name)
        return S.ClassDef(S.Name(name[1], _span(name)), body, (), _join(_span(tok), end))

    def suite(self, *stmts: Any) -> _Suite:
        return _Suite(stmts)

    def if_stmt(self, tok: Tok, test: Any, body: _Suite, *clauses: _Clause) -> S.If:
        orelse: tuple[Any, ...] = ()
        # Build from the last clause backwards: an elif is an If alone in the orelse.
        for kw, ctest, cbody in reversed(clauses):
            if ctest is None:
                orelse = tuple(cbody)
            else:
                end = (orelse[-1].span if orelse else (cbody[-1].span if cbody else _span(kw)))
                orelse = (S.If(ctest, tuple(cbody), orelse, _join(_span(kw), end)),)
        last = orelse[-1].span if orelse else (body[-1].span if body else test.span)
        return S.If(test, tuple(body), orelse, _join(_span(tok), last))

    def elif_clause(self, tok: Tok, test: Any, body: _Suite) -> _Clause:
        return _Clause((tok, test, body))

    def else_clause(self, tok: Tok, body: _Suite) -> _Clause:
        return _Clause((tok, None, body))

    def for_stmt(self, tok: Tok, target: Any, _in: Tok, it: Any, body: _Suite) -> S.For:
        end = body[-1].span if body else it.span
        return S.For(target, it, tuple(body), _join(_span(tok), end))

    def while_stmt(self, tok: Tok, test: Any, body: _Suite) -> S.While:
        end = body[-1].span if body else test.span
        return S.While(test, tuple(body), _join(_span(tok), end))

    def with_stmt(self, tok: Tok, *rest: Any) -> Any:
        body = tuple(rest[-1])
        items = tuple(rest[:-1])
        first = items[0].context
        if type(first) is S.Call and type(first.func) is S.Name and first.func.id == ERROR_MARK:
            return S.Error(body, _error_span(first))
        end = body[-1].span if body else first.span
        return S.With(items, body, _join(_span(tok), end))

    def with_item(self, context: Any, _as: Tok | None = None, target: Any = None) -> S.WithItem:
        return S.WithItem(context, target)

    # --- expressions ---------------------------------------------------------------------
    def name(self, tok: Tok) -> S.Name:
        return S.Name(tok[1], _span(tok))

    def paren(self, _l: Tok, inner: Any, _r: Tok) -> Any:
        return inner

    def target_tuple(self, *elts: Any) -> S.TupleExpr:
        return S.TupleExpr(elts, _join(elts[0].span, elts[-1].span))

    def tuple_bare(self, *elts: Any) -> S.TupleExpr:
        return S.TupleExpr(elts, _join(elts[0].span, elts[-1].span))

    def paren_tuple(self, lpar: Tok, *rest: Any) -> S.TupleExpr:
        return S.TupleExpr(rest[:-1], _join(_span(lpar), _span(rest[-1])))

    def empty_tuple(self, lpar: Tok, rpar: Tok) -> S.TupleExpr:
        return S.TupleExpr((), _join(_span(lpar), _span(rpar)))

    def list(self, lsqb: Tok, *rest: Any) -> S.ListExpr:
        return S.ListExpr(rest[:-1], _join(_span(lsqb), _span(rest[-1])))

    def dict(self, lbrace: Tok, *rest: Any) -> S.DictExpr:
        return S.DictExpr(rest[:-1], _join(_span(lbrace), _span(rest[-1])))

    def dict_item(self, key: Any, _c: Tok, value: Any) -> tuple[Any, Any]:
        return key, value

    def if_exp(self, body: Any, _if: Tok, test: Any, _else: Tok, orelse: Any) -> S.IfExp:
        return S.IfExp(test, body, orelse, _join(body.span, orelse.span))

    def lambdef(self, tok: Tok, *rest: Any) -> S.Lambda:
        params = tuple(S.Name(t[1], _span(t)) for t in rest[:-1])
        return S.Lambda(params, rest[-1], _join(_span(tok), rest[-1].span))

    def expr_seq(self, *items: Any) -> Any:
        return _climb(items)

    def getattr(self, value: Any, name: Tok) -> S.Attribute:
        sp = _span(name)
        return S.Attribute(value, name[1], _join(value.span, sp), sp)

    def call(self, func: Any, _l: Tok, *rest: Any) -> S.Call:
        args: list[Any] = []
        kws: list[S.Keyword] = []
        if len(rest) == 2:
            for a in rest[0]:
                (kws if type(a) is S.Keyword else args).append(a)
        return S.Call(func, tuple(args), tuple(kws), _join(func.span, _span(rest[-1])))

    def arguments(self, *args: Any) -> _Items:
        return _Items(args)

    def keyword(self, name: Tok, value: Any) -> S.Keyword:
        return S.Keyword(name[1], value, _join(_span(name), value.span))

    def starred(self, tok: Tok, value: Any) -> S.Starred:
        return S.Starred(value, _join(_span(tok), value.span))

    def subscript(self, value: Any, _l: Tok, items: _Items, rsqb: Tok) -> S.Subscript:
        return S.Subscript(value, tuple(items), _join(value.span, _span(rsqb)))

    def subscripts(self, *items: Any) -> _Items:
        return _Items(items)

    def slice(self, *children: Any) -> S.Slice:
        parts: list[Any] = [None]
        spans: list[Span] = []
        for c in children:
            if type(c) is Tok and c.type == "COLON":
                spans.append(_span(c))
                parts.append(None)
            else:
                parts[-1] = c
                spans.append(c.span)
        while len(parts) < 3:
            parts.append(None)
        return S.Slice(parts[0], parts[1], parts[2], _join(spans[0], spans[-1]))

    def number(self, tok: Tok) -> S.Constant:
        try:
            value = number_value(tok[1])
        except ValueError:  # "0x_", or more digits than int() converts (4,300)
            shown = tok[1] if len(tok[1]) <= 24 else tok[1][:20] + "..."
            raise LexError(tok[3], tok[4], f"invalid number literal {shown}", "TIR001", tok[6]) from None
        return S.Constant(value, _span(tok), tok[1])

    def string(self, tok: Tok) -> Tok:
        return tok

    def strings(self, *toks: Tok) -> S.Constant:
        if len(toks) == 1:  # nearly always: no implicit concatenation
            tok = toks[0]
            return S.Constant(string_value(tok[1]), _span(tok), tok[1])
        value = "".join(string_value(t[1]) for t in toks)
        return S.Constant(value, _join(_span(toks[0]), _span(toks[-1])), toks[0][1])

    def const_true(self, tok: Tok) -> S.Constant:
        return S.Constant(True, _span(tok), "True")

    def const_false(self, tok: Tok) -> S.Constant:
        return S.Constant(False, _span(tok), "False")

    def const_none(self, tok: Tok) -> S.Constant:
        return S.Constant(None, _span(tok), "None")

    def ellipsis(self, tok: Tok) -> S.Constant:
        return S.Constant(None, _span(tok), "...")


# Python's binary operator precedence, loosest first; ** is right-associative.
_BINARY_PRECEDENCE = {
    "or": 1, "and": 2,
    "==": 4, "!=": 4, "<": 4, "<=": 4, ">": 4, ">=": 4,
    "|": 5, "^": 6, "&": 7, "<<": 8, ">>": 8, "+": 9, "-": 9,
    "*": 10, "/": 10, "//": 10, "%": 10, "@": 10, "**": 12,
}
# Prefix operators bind their operand up to this precedence: `not a == b` is `not (a == b)`,
# `-x ** 2` is `-(x ** 2)`.
_PREFIX_PRECEDENCE = {"not": 3, "-": 11, "+": 11, "~": 11}


def _climb(items: tuple[Any, ...]) -> Any:
    """Operands and operator tokens in source order -> a tree with Python's precedence.

    Operator precedence with explicit stacks rather than recursion: ``- - - x`` and
    ``a ** b ** c`` chains thousands long must give a tree, not a RecursionError."""
    operands: list[Any] = []
    pending: list[tuple[Tok, int, bool]] = []  # (operator, precedence, is prefix)

    def reduce() -> None:
        tok, _, prefix = pending.pop()
        right = operands.pop()
        if prefix:
            operands.append(S.UnaryOp(tok[1], right, _join(_span(tok), right.span)))
        else:
            left = operands.pop()
            operands.append(S.BinaryOp(tok[1], left, right, _join(left.span, right.span)))

    want_operand = True
    for item in items:
        if want_operand:
            if type(item) is Tok:
                # A prefix operator binds what follows up to its precedence: `-x ** 2` is -(x ** 2).
                pending.append((item, _PREFIX_PRECEDENCE[item[1]], True))
            else:
                operands.append(item)
                want_operand = False
            continue
        op = item[1]
        prec = _BINARY_PRECEDENCE[op]
        # Finish what binds tighter: a prefix operator whose operand this operator cannot
        # extend, a binary operator at least as tight (except ** on **: right-associative).
        while pending:
            _, top, prefix = pending[-1]
            if prec < top if prefix else (top > prec or (top == prec and op != "**")):
                reduce()
            else:
                break
        pending.append((item, prec, False))
        want_operand = True
    while pending:
        reduce()
    return operands[0]


def _error_span(call: S.Call) -> Span:
    """The original extent of a statement replaced by ``__tir_error__(end_line, end_col)``."""
    sp = call.span
    end_line, end_col = sp.end_line, sp.end_column
    if len(call.args) == 2 and all(type(a) is S.Constant for a in call.args):
        end_line, end_col = int(call.args[0].value), int(call.args[1].value)
    return Span(sp.line, sp.column, end_line, end_col)


_LOCK = threading.Lock()
_LARK: Any = None
_PLAN: dict[str, Any] | None = None
_PARSER: tuple[LalrDriver, TirLexer] | None = None


def _lark() -> Any:
    """The grammar compiled by Lark (tables from Lark's cache); parsing uses ``_parser()``."""
    global _LARK
    with _LOCK:
        if _LARK is None:
            from lark import Lark

            text = grammar_path().read_text(encoding="utf-8")
            # No cache=True: Lark's cache is a pickle in the shared temp dir under a predictable
            # name, which another local user could plant; Lark runs only when our plan is missing.
            _LARK = Lark(text, parser="lalr", lexer=lark_lexer(), maybe_placeholders=False)
        return _LARK


def _plan_path(grammar: str) -> Path:
    # Keyed by the grammar and by the code that shapes the plan, so neither can go stale.
    driver_code = Path(lalr_driver.__file__).read_bytes()
    key = hashlib.sha256(grammar.encode() + b"\0" + driver_code).hexdigest()[:20]
    return _private_cache_dir() / f"tir_lsp_lalr_{key}.json"


def _private_cache_dir() -> Path:
    """A directory in the temp dir that only this user can write: the plan steers the lexer,
    so a plan planted by another user in the shared temp dir must never be read."""
    uid = os.getuid() if hasattr(os, "getuid") else None
    if uid is None:
        return Path(tempfile.gettempdir())  # Windows: the temp dir is already per user
    path = Path(tempfile.gettempdir()) / f"tir-lsp-{uid}"
    try:
        path.mkdir(mode=0o700, exist_ok=True)
        st = path.lstat()
    except OSError:
        return Path(os.devnull)  # reading fails, writing fails: no cache
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != uid or st.st_mode & 0o022:
        return Path(os.devnull)
    return path


def _plan() -> dict[str, Any]:
    """Lark's tables for the grammar, our lexer's tables and the terminals' descriptions, as
    plain data saved next to Lark's own cache: loading it (a few ms) spares a process that
    parses valid text from importing Lark and loading Lark's cache (~80 ms)."""
    global _PLAN
    if _PLAN is None:
        path = _plan_path(grammar_path().read_text(encoding="utf-8"))
        try:
            plan = json.loads(path.read_text(encoding="utf-8"))
            if plan.get("format") != PLAN_FORMAT:
                raise ValueError(path)
        except (OSError, ValueError):
            plan = _make_plan()
            try:  # atomically, so a concurrent reader never sees half a file
                tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
                tmp.write_text(json.dumps(plan), encoding="utf-8")
                os.replace(tmp, path)
            except OSError:
                pass  # no cache: the next process builds the plan again
        _PLAN = plan
    return _PLAN


def _make_plan() -> dict[str, Any]:
    lark = _lark()
    plan = plan_from_lark(lark)
    plan["terminals"] = [(t.name, t.pattern.type, t.pattern.value) for t in lark.terminals]
    return plan


def _parser() -> tuple[LalrDriver, TirLexer]:
    """Our LALR driver over Lark's tables, and the lexer feeding it. Both keep no state
    between parses (the stacks are local), so threads may share them without a lock."""
    global _PARSER
    if _PARSER is None:
        plan = _plan()
        with _LOCK:
            if _PARSER is None:
                _PARSER = (LalrDriver(plan, _SyntaxBuilder()), TirLexer.from_terminals(plan["terminals"]))
    return _PARSER


def tir_lexer() -> TirLexer:
    """The lexer the parser reads with (shared: it keeps no state between texts)."""
    return _parser()[1]


def load_grammar() -> None:
    """Load (or build and cache) the parser now rather than on the first parse."""
    _parser()


# ---------------------------------------------------------------------------------------
# Error messages


_WORDS = {
    "NAME": "a name", "NUMBER": "a number", "STRING": "a string", "_NL": "end of line",
    "_INDENT": "an indented block", "_DEDENT": "end of block", "$END": "end of file",
    "LPAR": "'('", "RPAR": "')'", "LSQB": "'['", "RSQB": "']'", "LBRACE": "'{'", "RBRACE": "'}'",
    "COLON": "':'", "COMMA": "','", "EQUAL": "'='", "DOT": "'.'", "AT": "'@'",
    "COMP_OP": "a comparison", "ADD_OP": "'+' or '-'", "MUL_OP": "'*' or '/'",
    "AUGOP": "an augmented assignment",
}
_EXPR_STARTS = {"NAME", "NUMBER", "STRING", "LPAR", "LSQB"}


def _describe_terminal(name: str) -> str:
    if name in _WORDS:
        return _WORDS[name]
    for tname, kind, value in _plan()["terminals"]:
        if tname == name:
            return f"'{value}'" if kind == "str" else name.lower()
    return name.lower()


def _expected_words(expected: set[str]) -> str:
    names = set(expected)
    words: list[str] = []
    if len(names & _EXPR_STARTS) >= 3:
        words.append("an expression")
        names -= _EXPR_STARTS | {"ADD_OP", "TILDE", "NOT", "TRUE", "FALSE", "NONE", "LBRACE",
                                 "LAMBDA", "ELLIPSIS"}
    order = ["COLON", "RPAR", "RSQB", "RBRACE", "COMMA", "EQUAL", "_NL", "_INDENT", "NAME"]
    ranked = sorted(names, key=lambda n: (order.index(n) if n in order else len(order), n))
    words.extend(_describe_terminal(n) for n in ranked)
    if len(words) > 4:
        words = words[:4] + ["..."]
    if not words:
        return ""
    if len(words) == 1:
        return words[0]
    return ", ".join(words[:-1]) + " or " + words[-1]


def _unexpected_words(tok: Any) -> str:
    if tok.type == "$END":
        return "end of file"
    if tok.type == "_NL":
        return "end of line"
    if tok.type == "_INDENT":
        return "indent"
    if tok.type == "_DEDENT":
        return "dedent"
    return f"'{tok}'"


# ---------------------------------------------------------------------------------------
# Lines, brackets and chunks


def _brackets(line: str) -> Iterator[tuple[int, str]]:
    """(0-based column, bracket) of each bracket in ``line`` outside strings and comments."""
    quote = ""
    i = 0
    n = len(line)
    while i < n:
        c = line[i]
        if quote:
            if c == "\\":
                i += 1
            elif line.startswith(quote, i):
                i += len(quote) - 1
                quote = ""
        elif c in "'\"":
            quote = line[i:i + 3] if line[i:i + 3] in ('"""', "'''") else c
            i += len(quote) - 1
        elif c == "#":
            return
        elif c in "([{)]}":
            yield i, c
        i += 1


# One-line string literals without escapes: removed before counting brackets (the common
# ``T.Buffer((16,), "float32")`` line) instead of scanning the line character by character.
_PLAIN_STRING = re.compile(r""""[^"\\\n]*"|'[^'\\\n]*'""")


def _bracket_delta(line: str) -> int:
    """Net change of bracket depth over one line, skipping strings and comments."""
    if "'" not in line and '"' not in line and "#" not in line:
        return (line.count("(") + line.count("[") + line.count("{")
                - line.count(")") - line.count("]") - line.count("}"))
    if "\\" not in line and '""' not in line and "''" not in line:
        code = _PLAIN_STRING.sub("", line)
        if "'" not in code and '"' not in code:  # every string was closed on this line
            code = code.split("#", 1)[0]
            return (code.count("(") + code.count("[") + code.count("{")
                    - code.count(")") - code.count("]") - code.count("}"))
    return sum(1 if c in "([{" else -1 for _, c in _brackets(line))


def _indent_of(line: str) -> int:
    if "\t" not in line:
        return len(line) - len(line.lstrip())
    return len(line.expandtabs(8)) - len(line.expandtabs(8).lstrip())


def _is_code(line: str) -> bool:
    s = line.strip()
    return bool(s) and not s.startswith("#")


@dataclass(frozen=True, slots=True)
class Chunk:
    """A function's lines: ``start`` (0-based, its first decorator) to ``end`` (exclusive)."""

    start: int
    end: int
    indent: int


_FUNC_START = re.compile(r"[ \t]*(?:@|def[ \t])")
_DEF_START = re.compile(r"[ \t]*def[ \t]")


def split_chunks(lines: list[str]) -> list[Chunk]:
    """Find the functions (with their decorators) in a module's lines.

    A function starts at a decorator or ``def`` line and ends before the next code line at
    its indentation or less once its ``def`` header is complete; lines inside brackets
    never end it.
    """
    chunks: list[Chunk] = []
    depth = 0
    start = -1
    indent = 0
    in_header = False
    last_code = -1
    for i, line in enumerate(lines):
        if depth > 0 and start >= 0 and not in_header and _FUNC_START.match(line) \
                and _indent_of(line) <= indent:
            depth = 0  # an unclosed bracket must not swallow the next function
        if depth <= 0 and _is_code(line):
            ind = _indent_of(line)
            if start >= 0 and not in_header and ind <= indent:
                chunks.append(Chunk(start, last_code + 1, indent))
                start = -1
            if start < 0 and _FUNC_START.match(line):
                start, indent, in_header = i, ind, True
            if start >= 0 and in_header and _DEF_START.match(line):
                in_header = False
            elif start >= 0 and in_header and line.lstrip().startswith("class"):
                start = -1  # a decorated class (`@I.ir_module`) is module structure, not a function
            last_code = i
        elif depth > 0 and _is_code(line):
            last_code = i
        depth = max(depth + _bracket_delta(line), 0)
    if start >= 0:
        chunks.append(Chunk(start, max(last_code + 1, start + 1), indent))
    return chunks


# ---------------------------------------------------------------------------------------
# Parsing with recovery


_MAX_RECOVERIES = 64
_HEADER_WORDS = ("for ", "if ", "elif ", "else", "while ", "with ", "def ", "class ")


@dataclass(slots=True)
class _Failure:
    line: int  # 1-based absolute
    column: int
    message: str
    code: str
    indent_error: bool = False


def _syntax_errors() -> tuple[type[Exception], ...]:
    # Evaluated only when an exception is raised: valid text never imports Lark.
    from lark.exceptions import UnexpectedInput

    return (UnexpectedInput, LexError)


_USER_TOKEN = re.compile(r"[A-Za-z_]\w*|\d[\w.]*|\S")


def _user_words(tok: Any, original: list[str], first_line: int) -> str:
    """What the user wrote where the parser met ``tok``: a placeholder (recovery's
    ``ERROR_MARK``, the ``pass`` standing for a function around the module) stands for the
    statement it replaced, shown by that statement's first token."""
    if tok.type in ("$END", "_NL", "_INDENT", "_DEDENT"):
        return _unexpected_words(tok)
    idx = tok.line - first_line
    line = original[idx] if 0 <= idx < len(original) else ""
    if line.startswith(str(tok), tok.column - 1):
        return _unexpected_words(tok)
    m = _USER_TOKEN.match(line, max(tok.column - 1, 0)) or _USER_TOKEN.search(line)
    return f"'{m.group(0)}'" if m else "statement"


def _classify(exc: Exception, lines: list[str], first_line: int, original: list[str] | None = None) -> _Failure:
    from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedToken

    if isinstance(exc, LexError):
        return _Failure(exc.line, exc.column, exc.message, exc.code, exc.code == "TIR002")
    if isinstance(exc, UnexpectedToken):
        tok = exc.token
        words = _expected_words(set(exc.expected))
        if tok.type == "_INDENT":
            return _Failure(tok.line, tok.column, "unexpected indent", "TIR002", True)
        open_at = _unclosed_brackets(lines)
        if tok.type == "$END" and open_at[-1] is None:
            last = first_line + len(lines) - 1
            msg = "unexpected end of file" + (f"; expected {words}" if words else "")
            return _Failure(last, len(lines[-1]) + 1 if lines else 1, msg, "TIR001")
        unclosed = open_at[min(max(tok.line - first_line, 0), len(lines))]
        tok_idx = tok.line - first_line
        at_line_start = (0 <= tok_idx < len(lines)
                         and _indent_of(lines[tok_idx]) + 1 >= tok.column
                         and unclosed is not None
                         and _indent_of(lines[tok_idx]) <= _indent_of(lines[unclosed[0]]))
        if tok.type in ("_DEDENT", "$END"):
            unclosed = open_at[-1]
            at_line_start = unclosed is not None
        if at_line_start and unclosed is not None and tok.type != "_NL":
            line_idx, col, ch = unclosed
            return _Failure(first_line + line_idx, col, f"'{ch}' was never closed", "TIR001")
        msg = f"unexpected {_user_words(tok, original or lines, first_line)}" + (f"; expected {words}" if words else "")
        return _Failure(tok.line, tok.column, msg, "TIR001")
    if isinstance(exc, UnexpectedCharacters):
        ch = exc.char
        if ch in "'\"":
            return _Failure(exc.line, exc.column, "unterminated string", "TIR003")
        shown = repr(ch) if ch.isprintable() else f"U+{ord(ch):04X}"
        return _Failure(exc.line, exc.column, f"invalid character {shown}", "TIR003")
    if isinstance(exc, UnexpectedEOF):
        last = first_line + len(lines) - 1
        words = _expected_words(set(exc.expected))
        msg = "unexpected end of file" + (f"; expected {words}" if words else "")
        return _Failure(last, len(lines[-1]) + 1 if lines else 1, msg, "TIR001")
    return _Failure(first_line, 1, f"cannot parse: {exc}", "TIR001")


@functools.lru_cache(maxsize=8192)
def _line_brackets(line: str) -> tuple[tuple[int, str], ...]:
    """``_brackets(line)``, remembered: error recovery re-reads the same lines after each
    patch (up to _MAX_RECOVERIES times per chunk)."""
    return tuple(_brackets(line))


def _unclosed_brackets(lines: list[str]) -> list[tuple[int, int, str] | None]:
    """For each line index k (and ``len(lines)``): the innermost bracket of an earlier line
    still open at the start of line k, in one pass (error classification asks for several)."""
    stack: list[tuple[int, int, str]] = []
    out: list[tuple[int, int, str] | None] = [None]
    for i, line in enumerate(lines):
        for col, c in _line_brackets(line):
            if c in "([{":
                stack.append((i, col + 1, c))
            elif stack:
                stack.pop()
        out.append(stack[-1] if stack else None)
    return out


def _statement_range(lines: list[str], idx: int) -> tuple[int, int]:
    """The lines [start, end] of the logical statement around line ``idx`` (0-based)."""
    depth_at = [0] * (len(lines) + 1)
    depth = 0
    for i, line in enumerate(lines):
        depth_at[i] = depth
        depth = max(depth + _bracket_delta(line), 0)
    depth_at[len(lines)] = depth
    idx = min(max(idx, 0), len(lines) - 1)
    start = idx
    while start > 0 and (depth_at[start] > 0 or not _is_code(lines[start])):
        start -= 1
    while start > 0 and lines[start].lstrip().startswith(("def ", "class ", "@")):
        prev = start - 1
        while prev > 0 and not _is_code(lines[prev]):
            prev -= 1
        if lines[prev].lstrip().startswith("@") and _indent_of(lines[prev]) == _indent_of(lines[start]):
            start = prev
        else:
            break
    end = start
    while end < len(lines) - 1 and depth_at[end + 1] > 0:
        end += 1
    if end < idx and depth_at[end + 1] == 0:
        end = max(end, idx) if idx < len(lines) and not _is_code(lines[idx]) else end
    if depth_at[end + 1] > 0 or end > idx:
        # Brackets never closed: stop before the error line if it looks like a new statement.
        end = min(end, idx)
        if idx > start and _indent_of(lines[idx]) <= _indent_of(lines[start]):
            end = idx - 1
    return start, max(end, start)


def _next_code(lines: list[str], after: int) -> int:
    for j in range(after + 1, len(lines)):
        if _is_code(lines[j]):
            return j
    return -1


def _patch(lines: list[str], fail: _Failure, first_line: int, patched: set[int]) -> bool:
    """Replace the statement at the failure with a placeholder; False if no progress."""
    idx = fail.line - first_line
    if not lines:
        return False
    idx = min(max(idx, 0), len(lines) - 1)
    if fail.indent_error:
        # An over-indented or badly dedented line: re-indent it to its block, unless the line
        # before is a block header that lost its colon.
        prev = idx - 1
        while prev >= 0 and not _is_code(lines[prev]):
            prev -= 1
        if (fail.message == "unexpected indent" and prev >= 0
                and lines[prev].strip().startswith(_HEADER_WORDS)
                and not lines[prev].split("#", 1)[0].rstrip().endswith(":")):
            return _replace_statement(lines, prev, first_line, patched, header=True)
        if idx in patched:
            return _replace_statement(lines, idx, first_line, patched, header=False)
        patched.add(idx)
        lines[idx] = " " * _previous_indent(lines, idx) + lines[idx].lstrip()
        return True
    return _replace_statement(lines, idx, first_line, patched, header=None)


def _previous_indent(lines: list[str], idx: int) -> int:
    me = _indent_of(lines[idx])
    best = 0
    for j in range(idx - 1, -1, -1):
        if _is_code(lines[j]):
            ind = _indent_of(lines[j])
            if ind <= me:
                return ind
            best = ind
    return min(best, me)


def _replace_statement(lines: list[str], idx: int, first_line: int, patched: set[int],
                       header: bool | None) -> bool:
    start, end = _statement_range(lines, idx)
    if all(i in patched for i in range(start, end + 1)) and end == start:
        # Already a placeholder and still failing: blank it to force progress.
        if lines[start].strip() == "":
            return False
        lines[start] = ""
        return True
    ind = _indent_of(lines[start])
    nxt = _next_code(lines, end)
    is_header = header if header is not None else (nxt >= 0 and _indent_of(lines[nxt]) > ind)
    end_col = len(lines[end]) + 1
    call = f"{ERROR_MARK}({first_line + end}, {end_col})"
    lines[start] = " " * ind + (f"with {call}:" if is_header else call)
    for i in range(start + 1, end + 1):
        lines[i] = ""
    patched.update(range(start, end + 1))
    return True


def _parse_lines(lines: list[str], first_line: int,
                 shown: list[str] | None = None) -> tuple[tuple[Any, ...], list[Diagnostic]]:
    """Parse lines that start at ``first_line`` (1-based), recovering from errors; messages
    speak of ``shown`` (the lines as the user wrote them, when ``lines`` stand in for them)."""
    driver, lexer = _parser()
    work = list(lines)
    diags: list[Diagnostic] = []
    patched: set[int] = set()
    for _ in range(_MAX_RECOVERIES):
        try:
            text = "\n".join(work) + "\n"
            try:
                # Lexing first and parsing the list is faster than interleaving the two...
                tokens: Any = list(lexer.tokenize(text, first_line))
            except LexError:
                # ...but a syntax error before the lexer's must still be the one reported.
                tokens = lexer.tokenize(text, first_line)
            result = driver.parse(tokens)
            return tuple(result), diags
        except _syntax_errors() as exc:
            fail = _classify(exc, work, first_line, shown or lines)
            if not diags or (diags[-1].span.line, diags[-1].message) != (fail.line, fail.message):
                line_text = work[fail.line - first_line] if 0 <= fail.line - first_line < len(work) else ""
                end_col = max(fail.column + 1, len(line_text) + 1) if fail.indent_error else fail.column + 1
                diags.append(Diagnostic(fail.code, fail.message,
                                        Span(fail.line, fail.column, fail.line, end_col), ERROR))
            if not _patch(work, fail, first_line, patched):
                break
    span = Span(first_line, 1, first_line + max(len(lines) - 1, 0), len(lines[-1]) + 1 if lines else 1)
    return (S.Error((), span),), diags


def parse_chunk(lines: list[str], first_line: int,
                shown: list[str] | None = None) -> tuple[tuple[Any, ...], list[Diagnostic]]:
    """Parse one function's lines (as found by ``split_chunks``) on their own; ``shown``, the
    lines the user wrote where ``lines`` has placeholders, for the messages."""
    return _parse_lines(lines, first_line, shown)


def detect_dialect(lines: list[str]) -> str | None:
    """``tir`` or ``tirx`` from a ``# from tvm.script import ... as T`` header comment."""
    for line in lines[:40]:
        m = re.match(r"\s*#\s*from tvm\.script import (tirx?) as T", line)
        if m:
            return m.group(1)
    return None


def parse_module(text: str) -> tuple[S.Module, list[Diagnostic]]:
    """Parse a whole file into one syntax tree: functions one by one, then the module around
    them (text becomes a module through ``tir_lsp.compiler.text.parsed_file``, not through this)."""
    if "\r" in text:  # CRLF and old Mac CR line ends count as one line end each, as in Python
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    lines = [ln.removesuffix("\r") for ln in lines]
    gc_was_enabled = gc.isenabled()
    gc.disable()  # the parse allocates many small objects that are all live: GC is wasted work
    try:
        chunks = split_chunks(lines)
        diags: list[Diagnostic] = []
        functions: dict[int, tuple[Any, ...]] = {}
        skeleton = list(lines)
        for ch in chunks:
            stmts, d = _parse_lines(lines[ch.start:ch.end], ch.start + 1)
            diags.extend(d)
            functions[ch.start + 1] = stmts
            skeleton[ch.start] = " " * ch.indent + "pass"
            for i in range(ch.start + 1, ch.end):
                skeleton[i] = ""
        body, d = _parse_lines(skeleton, 1) if skeleton else ((), [])
        diags.extend(d)
        body = _splice(body, functions)
    finally:
        if gc_was_enabled:
            gc.enable()
    end = Span(len(lines) or 1, len(lines[-1]) + 1 if lines else 1, len(lines) or 1,
               len(lines[-1]) + 1 if lines else 1)
    return S.Module(tuple(body), Span(1, 1, end.line, end.column), detect_dialect(lines)), diags


def _splice(stmts: tuple[Any, ...], functions: dict[int, tuple[Any, ...]]) -> tuple[Any, ...]:
    """Put the separately parsed functions where the skeleton has their placeholders."""
    out: list[Any] = []
    for st in stmts:
        t = type(st)
        if t is S.Pass and st.span.line in functions:
            out.extend(functions[st.span.line])
        elif t is S.ClassDef or t is S.Error and st.body:
            out.append(st._replace(body=_splice(st.body, functions)))
        else:
            out.append(st)
    return tuple(out)
