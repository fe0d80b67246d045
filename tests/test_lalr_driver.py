"""Our LALR driver (tir_lsp/compiler/text/lalr_driver.py) against Lark's own parse loop on the same
tables, lexer and callbacks: the same syntax trees on every fixture, the same errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedToken

from tir_lsp.compiler.text import parser as P
from tir_lsp.compiler.text.lalr_driver import LalrDriver, plan_from_lark
from tir_lsp.compiler.text.lexer import LexInput, Tok, lark_lexer
from tir_lsp.compiler.text.printer import print_module
from tir_lsp.compiler.text.reader import read_tir

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = sorted((ROOT / "tests" / "fixtures" / "tvm").glob("*/*/*.tir"))


@pytest.fixture(scope="module")
def lark_reference() -> Lark:
    """Lark parsing by itself: its own loop and wrapper chain, our lexer and callbacks (the
    builder's methods in a Lark Transformer)."""
    methods = {k: v for k, v in vars(P._SyntaxBuilder).items() if not k.startswith("__")}
    transformer = v_args(inline=True)(type("LarkSyntaxBuilder", (Transformer,), methods))
    return Lark(P.grammar_path().read_text(encoding="utf-8"), parser="lalr", lexer=lark_lexer(),
                transformer=transformer(), maybe_placeholders=False)


def ours(text: str, first_line: int = 1) -> object:
    driver, lexer = P._parser()
    return driver.parse(lexer.tokenize(text, first_line))


def theirs(lark: Lark, text: str, first_line: int = 1) -> object:
    return lark.parse(LexInput(text, first_line))  # type: ignore[arg-type]


def test_corpus_is_there() -> None:
    assert len(FIXTURES) > 100


def test_same_syntax_tree_as_lark_on_the_corpus(lark_reference: Lark) -> None:
    # Every fourth fixture (all kernels, stages spread out): Lark's own loop is slow, and
    # the whole corpus is checked through the parser's fixture tests anyway.
    seen: set[str] = set()
    for path in FIXTURES[::4]:
        text = path.read_text(encoding="utf-8")
        if text in seen:
            continue
        seen.add(text)
        assert ours(text) == theirs(lark_reference, text), path


SNIPPETS = [
    "x = 1\n",
    "",
    "\n\n# only a comment\n",
    "a, b = c\n(d, e) = f\nfor i, j in T.grid(2, 3):\n    pass\n",
    "x = -a ** 2 + ~b * c // d % e - (not f)\ny = a if b else c\nz = lambda p, q: p + q\n",
    "A[0:4, ::2, 1:] = B[i, j:, :k:2]\nc = {'a': 1, 'b': [1, 2,], 'c': ()}\nd = (1,)\ne = 1,\n",
    ("@T.prim_func(private=True)\ndef f(a: T.int32, b=3, c: T.handle = None) -> T.int32:\n"
     "    assert a > 0, 'msg' 'concat'\n    x: T.int32 = a\n    x += 1\n    return x\n"),
    ("import tvm\nfrom tvm.script import tir as T, ir\nif a:\n    pass\nelif b:\n    pass\nelse:\n    pass\n"
     "while c:\n    pass\nwith T.block('b') as blk, T.x():\n    pass\nclass M(B):\n    pass\n"),
    "f(a, *b, k=1, **d)\nx.y.z(...)\nT.Buffer((8,), 'float32')[0]\n",
]


@pytest.mark.parametrize("text", SNIPPETS)
def test_same_syntax_tree_on_constructs(lark_reference: Lark, text: str) -> None:
    assert ours(text, 7) == theirs(lark_reference, text, 7)


BROKEN = [
    "x = \n",
    "def f(:\n    pass\n",
    "x = (1, 2\ny = 3\n",
    "if a\n    pass\n",
    "x = 1\n    y = 2\n",
    "for i in range(3):\npass\n",
    "x = [1, 2)\n",
    "f(a b)\n",
    "def f():\n",
    "x = 1 +\n",
]


def _error(fn: object) -> tuple[str, int, int, frozenset[str]]:
    with pytest.raises(UnexpectedToken) as info:
        fn()  # type: ignore[operator]
    tok = info.value.token
    return tok.type, tok.line, tok.column, frozenset(info.value.expected)


@pytest.mark.parametrize("text", BROKEN)
def test_same_error_as_lark(lark_reference: Lark, text: str) -> None:
    mine = _error(lambda: ours(text, 3))
    assert mine == _error(lambda: theirs(lark_reference, text, 3))


def test_error_token_is_a_lark_token() -> None:
    with pytest.raises(UnexpectedToken) as info:
        ours("x = (1 2)\n")
    tok = info.value.token
    assert isinstance(tok, Token)
    assert (tok.type, str(tok), tok.line, tok.column, tok.end_column) == ("NUMBER", "2", 1, 8, 9)
    assert "RPAR" in info.value.expected and "COMMA" in info.value.expected


def test_error_at_end_borrows_the_last_position() -> None:
    with pytest.raises(UnexpectedToken) as info:
        ours("def f():\n")
    assert info.value.token.type == "$END"


def test_tok_reads_like_a_lark_token() -> None:
    t = Tok(("NAME", "abc", 10, 2, 5, 2, 8))
    assert (t.type, t.value, t.start_pos, t.line, t.column, t.end_line, t.end_column, t.end_pos) == \
        ("NAME", "abc", 10, 2, 5, 2, 8, 13)
    assert str(t) == "abc"


def test_recovery_messages_are_unchanged() -> None:
    _, diags = P.parse_module("x = (1, 2\ny = 3\ndef f(:\n    pass\n")
    assert [f"{d.span.line}:{d.span.column}: {d.message}" for d in diags] == [
        "1:5: '(' was never closed",
        "3:7: unexpected ':'; expected ')' or a name",
    ]


def test_tirc_print_process_writes_everything(tmp_path: Path) -> None:
    # `tirc print` ends its process without tearing the IR down; the output must be complete.
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        from make_module import make_module
    finally:
        sys.path.remove(str(ROOT / "bench"))
    src = tmp_path / "big.tir"
    src.write_text(make_module(2000))
    proc = subprocess.run([sys.executable, "-m", "tir_lsp.compiler.cli", "print", str(src)], capture_output=True,
                          text=True, check=False, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == print_module(read_tir(src.read_text(), str(src)).module)


def test_saved_plan_parses_like_a_fresh_one(lark_reference: Lark) -> None:
    # The parser loads its tables from a JSON file; they must do what Lark's tables do now
    # (Lark numbers its states differently from one build to the next: compare behaviour).
    import json

    fresh = json.loads(json.dumps(plan_from_lark(lark_reference)))
    saved = P._plan()
    assert (len(saved["states"]), len(saved["rules"])) == (len(fresh["states"]), len(fresh["rules"]))
    # (Helper rules such as __expr_seq_star_10 may be numbered differently too.)
    assert sorted(r[0] for r in saved["rules"]) == sorted(r[0] for r in fresh["rules"])
    driver = LalrDriver(fresh, P._SyntaxBuilder())
    for path in FIXTURES[::40]:
        text = path.read_text(encoding="utf-8")
        assert driver.parse(P._parser()[1].tokenize(text, 1)) == ours(text), path


def test_parsing_valid_text_does_not_import_lark() -> None:
    code = ("import sys; from tir_lsp.compiler.text.parser import parse_module; "
            "m, d = parse_module('@T.prim_func\\ndef f(a: T.int32):\\n    T.evaluate(a + 1)\\n'); "
            "assert not d and len(m.body) == 1; print('lark' in sys.modules)")
    P.load_grammar()  # the saved plan exists
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "False"


def test_builder_methods_cover_every_rule() -> None:
    # Rules without a method would become Lark Trees in the syntax tree.
    names = {shape[2] for shape in P._plan()["rules"] if not shape[1].startswith("_")}
    expand1_only = {shape[2] for shape in P._plan()["rules"] if shape[4] and len(shape[3]) == 1}
    missing = {n for n in names if getattr(P._SyntaxBuilder, n, None) is None} - expand1_only
    assert missing == set()
