"""Semantic tokens: names from the def-use index (with declaration modifiers), T.* builtins,
dtypes (also inside strings), keywords, numbers, comments."""

from __future__ import annotations

import pytest
from lsprotocol import types as t
from pytest_lsp import LanguageClient

from tests.lsp.conftest import data, doc_id, open_doc, uri_of

pytestmark = pytest.mark.asyncio(loop_scope="module")


def _decode(data: list[int], legend: t.SemanticTokensLegend, lines: list[str]) -> list[tuple[int, str, str, list[str]]]:
    out = []
    line = col = 0
    for i in range(0, len(data), 5):
        dl, dc, length, ttype, mods = data[i:i + 5]
        line += dl
        col = dc if dl else col + dc
        names = [m for k, m in enumerate(legend.token_modifiers) if mods & (1 << k)]
        out.append((line, lines[line][col:col + length], legend.token_types[ttype], names))
    return out


async def test_semantic_tokens_of_signature_and_body(client: LanguageClient) -> None:
    uri = uri_of("scopes.tir")
    text = data("scopes.tir")
    await open_doc(client, uri, text)
    legend = client.init_result.capabilities.semantic_tokens_provider.legend  # type: ignore[attr-defined]
    res = await client.text_document_semantic_tokens_full_async(t.SemanticTokensParams(text_document=doc_id(uri)))
    toks = _decode(list(res.data), legend, text.split("\n"))
    assert toks[0] == (0, "# from tvm.script import tirx as T", "comment", [])
    assert [x[1:] for x in toks if x[0] == 3] == [
        ("def", "keyword", []), ("scopes", "function", ["declaration"]), ("A", "parameter", ["declaration"]),
        ("T", "namespace", []), ("Buffer", "type", ["defaultLibrary"]), ("4", "number", []), ("4", "number", []),
        ('"int32"', "type", []), ("n", "parameter", ["declaration"]), ("T", "namespace", []),
        ("int32", "type", ["defaultLibrary"]),
    ]
    # `x: T.let[T.int32] = i * 2` then `C[i] = A[i, 0] + x`.
    assert [x[1:] for x in toks if x[0] == 7] == [
        ("C", "variable", []), ("i", "variable", []), ("A", "parameter", []), ("i", "variable", []),
        ("0", "number", []), ("x", "variable", []),
    ]
    assert [x[1:] for x in toks if x[0] == 8] == [
        ("for", "keyword", []), ("k", "variable", ["declaration"]), ("in", "keyword", []), ("T", "namespace", []),
        ("parallel", "function", ["defaultLibrary"]), ("n", "parameter", []),
    ]
