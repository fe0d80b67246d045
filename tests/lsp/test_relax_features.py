"""Relax + TIR modules over real JSON-RPC: no diagnostics on what TVM prints, hover on a Relax
var shows its struct info, `cls.f` in `R.call_tir` goes to the PrimFunc and back, and a call
that no longer fits its PrimFunc after an edit is reported (TIR020)."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types as t
from pytest_lsp import LanguageClient

from tests.lsp.conftest import doc_id, open_doc, pos, wait_diagnostics

pytestmark = pytest.mark.asyncio(loop_scope="module")

RELAX = Path(__file__).resolve().parents[1] / "data" / "relax"
FEATURES = RELAX / "features.tir"
# 0-based lines of tests/data/relax/features.tir
ADD_ONE_DEF = 10    # `    def add_one(A: T.Buffer((n, 4), "float32"), B: ...):`
CALL_TIR = 40       # `            lv = R.call_tir(cls.add_one, (x,), out_ty=...)`
HELPER_CALL = 43    # `        t: R.Tuple(...) = cls.helper(v)`


def _range(r: t.Range) -> tuple[int, int, int, int]:
    return (r.start.line, r.start.character, r.end.line, r.end.character)


async def test_tvm_printed_relax_modules_have_no_diagnostics(client: LanguageClient) -> None:
    for name in ("features.tir", "mlp_fused.tir", "convnet_fused.tir", "tvm_tvmscript_parser_2_TestModule.tir"):
        path = RELAX / name
        diags = await open_doc(client, path.as_uri(), path.read_text())
        assert [(d.code, d.message) for d in diags] == [], name


async def test_hover_on_a_relax_var_shows_its_struct_info(client: LanguageClient) -> None:
    uri = FEATURES.as_uri()
    lines = FEATURES.read_text().splitlines()
    assert lines[CALL_TIR].lstrip().startswith("lv = R.call_tir(cls.add_one")
    await open_doc(client, uri, FEATURES.read_text())
    h = await client.text_document_hover_async(t.HoverParams(text_document=doc_id(uri), position=pos(CALL_TIR, 12)))
    assert h is not None
    assert h.contents.value == '```python\nlv: R.Tensor((n, 4), dtype="float32")\n```\n\nRelax binding of `main`'
    assert h.range is not None and _range(h.range) == (CALL_TIR, 12, CALL_TIR, 14)
    # `t` bound to a Relax function's result carries its annotation.
    col = lines[HELPER_CALL].index("t:")
    h = await client.text_document_hover_async(t.HoverParams(text_document=doc_id(uri), position=pos(HELPER_CALL, col)))
    assert h is not None and h.contents.value.startswith(
        '```python\nt: R.Tuple(R.Tensor((8,), dtype="float32"), R.Shape([8]))\n```')


async def test_definition_from_call_tir_goes_to_the_prim_func(client: LanguageClient) -> None:
    uri = FEATURES.as_uri()
    await open_doc(client, uri, FEATURES.read_text())
    col = FEATURES.read_text().splitlines()[CALL_TIR].index("add_one") + 2
    res = await client.text_document_definition_async(t.DefinitionParams(text_document=doc_id(uri),
                                                                         position=pos(CALL_TIR, col)))
    assert isinstance(res, list) and [(r.uri, _range(r.range)) for r in res] == [(uri, (ADD_ONE_DEF, 8, ADD_ONE_DEF, 15))]
    # `cls.helper(v)` goes to the Relax function.
    col = FEATURES.read_text().splitlines()[HELPER_CALL].index("helper")
    res = await client.text_document_definition_async(t.DefinitionParams(text_document=doc_id(uri),
                                                                         position=pos(HELPER_CALL, col)))
    assert isinstance(res, list) and [_range(r.range) for r in res] == [(30, 8, 30, 14)]


async def test_references_of_a_prim_func_include_its_relax_call_sites(client: LanguageClient) -> None:
    uri = FEATURES.as_uri()
    await open_doc(client, uri, FEATURES.read_text())
    res = await client.text_document_references_async(t.ReferenceParams(
        text_document=doc_id(uri), position=pos(ADD_ONE_DEF, 10), context=t.ReferenceContext(include_declaration=True)))
    assert res is not None
    assert sorted(_range(r.range) for r in res) == [(ADD_ONE_DEF, 8, ADD_ONE_DEF, 15), (CALL_TIR, 32, CALL_TIR, 39)]


async def test_document_symbols_list_relax_functions(client: LanguageClient) -> None:
    uri = FEATURES.as_uri()
    await open_doc(client, uri, FEATURES.read_text())
    res = await client.text_document_document_symbol_async(t.DocumentSymbolParams(text_document=doc_id(uri)))
    assert res is not None and len(res) == 1
    module = res[0]
    assert isinstance(module, t.DocumentSymbol) and module.children is not None
    assert [(c.name, c.kind) for c in module.children] == [
        ("add_one", t.SymbolKind.Function), ("scale_inplace", t.SymbolKind.Function),
        ("helper", t.SymbolKind.Function), ("main", t.SymbolKind.Function)]


async def test_editing_a_prim_func_reports_the_relax_call_it_breaks(client: LanguageClient) -> None:
    uri = "file:///relax_edit.tir"
    text = FEATURES.read_text()
    assert await open_doc(client, uri, text) == []
    line = text.splitlines()[ADD_ONE_DEF]
    col = line.index('B: T.Buffer((n, 4), "float32")') + len('B: T.Buffer((n, 4), "')
    # B's dtype float32 -> float16: the call in `main` (another chunk) no longer fits.
    client.text_document_did_change(t.DidChangeTextDocumentParams(
        text_document=t.VersionedTextDocumentIdentifier(uri=uri, version=2),
        content_changes=[t.TextDocumentContentChangePartial(
            range=t.Range(start=pos(ADD_ONE_DEF, col + 5), end=pos(ADD_ONE_DEF, col + 7)), text="16")]))
    diags = await wait_diagnostics(client, uri, 2)
    out_col = text.splitlines()[CALL_TIR].index("R.Tensor((n, 4)")
    assert [d.code for d in diags] == ["TIR013", "TIR020"]  # TIR013: add_one's own store, now mixed dtypes
    assert [(d.code, d.range.start.line, d.range.start.character, d.message) for d in diags[1:]] == [
        ("TIR020", CALL_TIR, out_col, "output 1 of R.call_tir has dtype float32, but buffer 'B' of 'add_one' is float16")]


async def test_rename_a_relax_var_renames_its_uses(client: LanguageClient) -> None:
    uri = FEATURES.as_uri()
    await open_doc(client, uri, FEATURES.read_text())
    res = await client.text_document_rename_async(t.RenameParams(text_document=doc_id(uri), position=pos(CALL_TIR, 12),
                                                                 new_name="added"))
    assert res is not None and res.changes is not None
    use = FEATURES.read_text().splitlines()[CALL_TIR + 1].index("(lv,)") + 1
    assert sorted((e.range.start.line, e.range.start.character, e.new_text) for e in res.changes[uri]) == [
        (CALL_TIR, 12, "added"), (CALL_TIR + 1, use, "added")]


async def test_hover_on_r_call_tir_explains_it(client: LanguageClient) -> None:
    uri = FEATURES.as_uri()
    await open_doc(client, uri, FEATURES.read_text())
    col = FEATURES.read_text().splitlines()[CALL_TIR].index("R.call_tir") + 4
    h = await client.text_document_hover_async(t.HoverParams(text_document=doc_id(uri), position=pos(CALL_TIR, col)))
    assert h is not None
    assert h.contents.value.startswith("```python\nR.call_tir(cls.f, (x, ...), out_ty=R.Tensor(...), tir_vars=None)\n```")
    assert h.range is not None and _range(h.range) == (CALL_TIR, col - 4, CALL_TIR, col + 6)


async def test_semantic_tokens_of_a_call_tir_line(client: LanguageClient) -> None:
    uri = FEATURES.as_uri()
    text = FEATURES.read_text()
    await open_doc(client, uri, text)
    legend = client.init_result.capabilities.semantic_tokens_provider.legend  # type: ignore[attr-defined]
    res = await client.text_document_semantic_tokens_full_async(t.SemanticTokensParams(text_document=doc_id(uri)))
    assert res is not None
    lines = text.split("\n")
    toks = []
    line = col = 0
    data = list(res.data)
    for i in range(0, len(data), 5):
        dl, dc, length, ttype, mods = data[i:i + 5]
        line += dl
        col = dc if dl else col + dc
        if line == CALL_TIR:
            names = [m for k, m in enumerate(legend.token_modifiers) if mods & (1 << k)]
            toks.append((lines[line][col:col + length], legend.token_types[ttype], names))
    # `lv = R.call_tir(cls.add_one, (x,), out_ty=R.Tensor((n, 4), dtype="float32"))`
    assert toks == [("lv", "variable", ["declaration"]), ("R", "namespace", []),
                    ("call_tir", "function", ["defaultLibrary"]), ("add_one", "function", []), ("x", "parameter", []),
                    ("R", "namespace", []), ("Tensor", "type", ["defaultLibrary"]), ("n", "variable", []),
                    ("4", "number", []), ('"float32"', "type", [])]
