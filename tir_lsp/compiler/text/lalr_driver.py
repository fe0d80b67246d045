"""A tight LALR(1) driver over the tables Lark generates for ``grammar/tir.lark``.

Lark stays the grammar compiler (rules, LALR tables); only its parse loop is replaced.
Lark's loop costs a method call per token, a ``(action, arg)`` tuple unpack per step and a
chain of wrapper objects per reduction (child filter, single-child expansion, ``v_args``,
Transformer dispatch, a ``Tree`` for every inlined ``_rule``); together they were more than
half the parse time. Here each state is one dict ``terminal or rule name -> int`` (a shift
or goto is the new state, a reduction is ``~rule_index``) and each rule has one generated
callback that filters, inlines and calls the builder's method directly, with exactly the
semantics of Lark's ``ParseTreeBuilder`` for ``parser="lalr"``, ``maybe_placeholders=False``
and no position propagation (checked against Lark's own parser in ``tests/test_lalr_driver.py``).

The tables and rule shapes are plain data (``plan_from_lark``), saved as JSON by the parser
so that a process that only parses valid text never imports Lark.

Errors are Lark's: an unexpected token raises ``lark.exceptions.UnexpectedToken`` with
``.token`` (a ``lark.Token``) and ``.expected`` (the terminals the state accepts), so callers
classify and recover exactly as they would with ``Lark.parse``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, NoReturn

Callback = Callable[[list[Any]], Any]
# A rule's shape: (size, origin, callback name, kept children as [index, inlined], expand1).
RuleShape = tuple[int, str, str, list[list[Any]], bool]
PLAN_FORMAT = 1


def plan_from_lark(lark_obj: Any, start: str = "start") -> dict[str, Any]:
    """The tables and rule shapes of a ``Lark(parser="lalr")`` object, as JSON-able data."""
    from lark.parsers.lalr_analysis import Shift

    table = lark_obj.parser.parser.parser.parse_table
    rules: list[Any] = []
    rule_index: dict[Any, int] = {}
    states: dict[str, dict[str, int]] = {}
    for state, actions in table.states.items():
        row: dict[str, int] = {}
        for sym, (action, arg) in actions.items():
            if action is Shift:
                row[sym] = arg
            else:
                if arg not in rule_index:
                    rule_index[arg] = len(rules)
                    rules.append(arg)
                row[sym] = ~rule_index[arg]
        states[str(state)] = row
    return {"format": PLAN_FORMAT, "states": states, "rules": [_shape(r) for r in rules],
            "start_state": table.start_states[start], "end_state": table.end_states[start]}


def _shape(rule: Any) -> RuleShape:
    opts = rule.options
    # Lark drops anonymous tokens (filter_out) and splices the children of "_rule"s into
    # their parent (parse_tree_builder.maybe_create_child_filter / _should_expand).
    kept = [[i, not sym.is_term and sym.name.startswith("_")] for i, sym in enumerate(rule.expansion)
            if opts.keep_all_tokens or not (sym.is_term and sym.filter_out)]
    expand1 = bool(opts.expand1) and not rule.alias
    name = rule.alias or opts.template_source or rule.origin.name
    return len(rule.expansion), rule.origin.name, name, kept, expand1


def _grow(items: list[Any], more: list[Any]) -> list[Any]:
    items.extend(more)
    return items


def _rule_callback(shape: RuleShape, builder: Any) -> Callback | None:
    """One function doing what Lark's wrapper chain does for a rule's reductions.

    It takes the list of the rule's children, except for one-symbol rules (most of the
    reductions: ``test -> expr_seq -> _operand -> primary -> atom`` chains), whose callback
    takes the single child itself; ``None`` means the child is the rule's value unchanged.
    ``builder``'s methods take the kept children as positional arguments.
    """
    size, origin, name, kept_lists, expand1 = shape
    kept = [(int(i), bool(x)) for i, x in kept_lists]
    any_inlined = any(x for _, x in kept)
    # The children as call arguments (inlined ones spliced), in the list or unary form.
    if size == 1:
        args = ", ".join("*v" if x else "v" for _, x in kept)
        head = "lambda v: "
    else:
        args = ", ".join(f"*s[{i}]" if x else f"s[{i}]" for i, x in kept)
        head = "lambda s: "
    identity = len(kept) == size and not any_inlined

    if origin.startswith("_"):
        # The parent splices this value's items: a list is all it needs (Lark makes a Tree
        # and reads its .children). A builder method for an inlined rule is not supported.
        if getattr(builder, name, None) is not None:
            raise ValueError(f"builder method for inlined rule {name!r} is not supported")
        if size == 1 and kept == [(0, True)]:
            return None  # already the list of the inner inlined rule
        if identity and size != 1:
            return _identity  # the fresh slice of the value stack is the list
        if size != 1 and kept[0] == (0, True):
            # A left-recursive list (``_args: _args "," arg``) grows in place: the list is
            # made by these callbacks and has no other owner. Copying it per item made a
            # 150,000-argument call quadratic (minutes for a 1 MB line).
            rest = ", ".join(f"*s[{i}]" if x else f"s[{i}]" for i, x in kept[1:])
            return _compile(f"lambda s: grow(s[0], [{rest}])", {"grow": _grow})
        wrap = _compile(f"{head}[{args}]", {})
        if size == 1 and kept == [(0, False)]:
            wrap.wraps_one = True  # type: ignore[attr-defined]
        return wrap

    method = getattr(builder, name, None)
    if method is None:
        default = builder.__default__
        fn: Callable[..., Any] = lambda *children: default(name, list(children), None)
    else:
        fn = method
    env: dict[str, Any] = {"fn": fn}
    if expand1:
        if not any_inlined:
            # The number of children is fixed: a single kept child is passed through as is.
            if len(kept) == 1:
                return None if size == 1 else _compile(f"lambda s: s[{kept[0][0]}]", env)
            return _compile(f"{head}fn({args})", env)
        if len(kept) == 1:
            one = "v" if size == 1 else f"s[{kept[0][0]}]"
            unwrap = _compile(f"{head}{one}[0] if len({one}) == 1 else fn(*{one})", env)
            if size == 1:
                # Cancels a preceding ``wraps_one`` callback: ``[v]`` has one item.
                unwrap.unwraps_one = True  # type: ignore[attr-defined]
            return unwrap
        env["one_or_call"] = _one_or_call
        return _compile(f"{head}one_or_call(fn, [{args}])", env)
    if size == 1 and kept == [(0, False)]:
        return fn
    if identity and size != 1:
        return _compile("lambda s: fn(*s)", env)
    return _compile(f"{head}fn({args})", env)


def _one_or_call(fn: Callable[..., Any], children: list[Any]) -> Any:
    return children[0] if len(children) == 1 else fn(*children)


def _identity(s: list[Any]) -> list[Any]:
    return s


def _compile(source: str, env: dict[str, Any]) -> Callback:
    # A generated lambda per rule: the children's positions are constants in its code.
    return eval(source, env)  # type: ignore[no-any-return]


class LalrDriver:
    """Parses a token stream with a plan's tables and the methods of ``builder``."""

    def __init__(self, plan: dict[str, Any], builder: Any) -> None:
        if plan.get("format") != PLAN_FORMAT:
            raise ValueError("parse plan of another format")
        self.states: dict[int, dict[str, int]] = {int(k): v for k, v in plan["states"].items()}
        self.rules: list[tuple[int, str, Callback | None]] = [
            (shape[0], shape[1], _rule_callback(shape, builder)) for shape in plan["rules"]]
        self.start_state: int = plan["start_state"]
        self.end_state: int = plan["end_state"]
        # (state below the top, top state, lookahead) -> _unit_chain(...); a few hundred
        # entries for a whole corpus, shared by every parse (entries never change).
        self._chains: dict[tuple[int, int, str], tuple[int, int | None, tuple[Callback, ...]]] = {}

    def parse(self, tokens: Iterable[Any]) -> Any:
        """The start rule's value for ``tokens``: tuples (or ``lexer.Tok``s) of
        ``(type, value, start_pos, line, column, end_line, end_column)``."""
        states = self.states
        rules = self.rules
        chains = self._chains
        state = self.start_state
        state_stack = [state]
        value_stack: list[Any] = []
        push_state = state_stack.append
        push_value = value_stack.append
        tok = None
        for tok in tokens:
            ttype = tok[0]
            act = states[state].get(ttype)
            while True:
                if act is None:
                    self._fail(tok, state)
                if act >= 0:
                    state = act
                    push_state(act)
                    push_value(tok)
                    break
                size, origin, callback = rules[~act]
                if size == 1:
                    # A run of one-symbol reductions (``NAME -> atom -> primary -> ... ->
                    # test``): one lookup replaces them all (see ``_unit_chain``).
                    key = (state_stack[-2], state, ttype)
                    chain = chains.get(key)
                    if chain is None:
                        chain = chains[key] = self._unit_chain(*key)
                    state, act, calls = chain
                    if calls:
                        v = value_stack[-1]
                        for call in calls:
                            v = call(v)
                        value_stack[-1] = v
                    state_stack[-1] = state
                    continue
                if size:
                    s = value_stack[-size:]
                    del value_stack[-size:]
                    del state_stack[-size:]
                else:
                    s = []
                push_value(callback(s))  # type: ignore[misc]
                state = states[state_stack[-1]][origin]
                push_state(state)
                act = states[state].get(ttype)
        # End of input: reduce until the start rule is complete.
        end_state = self.end_state
        while True:
            act = states[state].get("$END")
            if act is None:
                self._fail(_end_token(tok), state)
            assert act < 0, "the end of input is never shifted"
            size, origin, callback = rules[~act]
            if size == 1:
                if callback is not None:
                    value_stack[-1] = callback(value_stack[-1])
                state = states[state_stack[-2]][origin]
                state_stack[-1] = state
            else:
                if size:
                    s = value_stack[-size:]
                    del value_stack[-size:]
                    del state_stack[-size:]
                else:
                    s = []
                push_value(callback(s))  # type: ignore[misc]
                state = states[state_stack[-1]][origin]
                push_state(state)
            if state == end_state:
                return value_stack[-1]

    def _unit_chain(self, below: int, state: int, ttype: str) -> tuple[int, int | None, tuple[Callback, ...]]:
        """The one-symbol reductions made from ``state`` (above ``below``) on lookahead
        ``ttype``: they replace the top of the stack one after the other and never look
        beneath it, so which ones run depends only on these three. Returns the state they
        end in, its action on ``ttype`` (a shift, a longer reduction or None: an error) and
        the callbacks to apply to the top value, in order (pass-through rules dropped, and a
        ``[v]`` wrap followed by its unwrap cancelled)."""
        states, rules = self.states, self.rules
        calls: list[Callback] = []
        act = states[state].get(ttype)
        while act is not None and act < 0 and rules[~act][0] == 1:
            _size, origin, callback = rules[~act]
            if callback is not None:
                if calls and getattr(callback, "unwraps_one", False) and getattr(calls[-1], "wraps_one", False):
                    calls.pop()
                else:
                    calls.append(callback)
            state = states[below][origin]
            act = states[state].get(ttype)
        return state, act, tuple(calls)

    def _fail(self, tok: Any, state: int) -> NoReturn:
        from lark.exceptions import UnexpectedToken

        expected = {s for s in self.states[state] if s.isupper()}
        raise UnexpectedToken(_lark_token(tok), expected)  # type: ignore[no-untyped-call]


def _lark_token(tok: Any) -> Any:
    from lark import Token

    if isinstance(tok, Token):
        return tok
    ttype, value, pos, line, col, end_line, end_col = tok
    return Token(ttype, value, pos, line, col, end_line, end_col, pos + len(value))


def _end_token(last: Any) -> Any:
    # Lark's end token borrows the last token's position (Token.new_borrow_pos).
    from lark import Token

    if last is None:
        return Token("$END", "", 0, 1, 1)
    t = _lark_token(last)
    return Token.new_borrow_pos("$END", "", t)
