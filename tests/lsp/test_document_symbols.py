"""Document symbols (module > functions > buffers and loops) and workspace symbols."""

from __future__ import annotations

import pytest
from lsprotocol import types as t
from pytest_lsp import LanguageClient

from tests.lsp.conftest import CORPUS, data, doc_id, open_doc, uri_of

pytestmark = pytest.mark.asyncio(loop_scope="module")
K = t.SymbolKind


def _tree(symbols: list[t.DocumentSymbol]) -> list[object]:
    return [(s.name, s.kind, s.selection_range.start.line, _tree(list(s.children or []))) for s in symbols]


async def test_document_symbols_hierarchy(client: LanguageClient) -> None:
    uri = uri_of("calls.tir")
    await open_doc(client, uri, data("calls.tir"))
    res = await client.text_document_document_symbol_async(t.DocumentSymbolParams(text_document=doc_id(uri)))
    assert _tree(res) == [("Module", K.Module, 4, [
        ("add_one", K.Function, 6, [("A_1", K.Array, 7, []), ("i", K.Variable, 8, [])]),
        ("main", K.Function, 13, [("X", K.Array, 13, []), ("j", K.Variable, 15, [])]),
    ])]


async def test_document_symbols_nest_loops(client: LanguageClient) -> None:
    path = CORPUS / "matmul_f32" / "04_LowerInitBlock.tir"
    await open_doc(client, path.as_uri(), path.read_text())
    res = await client.text_document_document_symbol_async(t.DocumentSymbolParams(text_document=doc_id(path.as_uri())))
    main = res[0].children[0]
    assert main.name == "main"
    # `for i, j, k in T.grid(...)` is three nested loops: i > j > k.
    assert _tree(list(main.children)) == [
        ("A", K.Array, 7, []), ("B", K.Array, 7, []), ("C", K.Array, 7, []),
        ("i", K.Variable, 10, [("j", K.Variable, 10, [("k", K.Variable, 10, [])])]),
    ]


async def test_workspace_symbols(client: LanguageClient) -> None:
    uri = uri_of("calls.tir")
    await open_doc(client, uri, data("calls.tir"))
    res = await client.workspace_symbol_async(t.WorkspaceSymbolParams(query="add"))
    assert [(s.name, s.kind, s.location.range.start.line) for s in res if s.location.uri == uri] == [
        ("add_one", K.Function, 6)]
    res = await client.workspace_symbol_async(t.WorkspaceSymbolParams(query="A_1"))
    assert [(s.name, s.kind, s.container_name) for s in res if s.location.uri == uri] == [
        ("A_1", K.Array, "add_one")]


async def test_module_symbol_selects_the_class_name_where_the_parser_read_it(client: LanguageClient) -> None:
    # The name's own span: a search for "class " + 7 columns landed on the second space.
    text = data("calls.tir").replace("class Module:", "class  Kernels:")
    uri = uri_of("calls.tir").replace("calls.tir", "two_spaces.tir")
    await open_doc(client, uri, text)
    res = await client.text_document_document_symbol_async(t.DocumentSymbolParams(text_document=doc_id(uri)))
    sel = res[0].selection_range
    assert res[0].name == "Kernels"
    assert (sel.start.line, sel.start.character, sel.end.character) == (4, 7, 14)
    assert text.splitlines()[4][sel.start.character:sel.end.character] == "Kernels"
