"""Folding ranges: module class, functions, loops, with/if bodies, multi-line brackets, comments."""

from __future__ import annotations

import pytest
from lsprotocol import types as t
from pytest_lsp import LanguageClient

from tests.lsp.conftest import CORPUS, data, doc_id, open_doc, uri_of

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def _folds(client: LanguageClient, uri: str) -> list[tuple[int, int, str | None]]:
    res = await client.text_document_folding_range_async(t.FoldingRangeParams(text_document=doc_id(uri)))
    return sorted((f.start_line, f.end_line, getattr(f.kind, "value", f.kind)) for f in res)


async def test_folding_functions_and_loops(client: LanguageClient) -> None:
    uri = uri_of("calls.tir")
    await open_doc(client, uri, data("calls.tir"))
    assert await _folds(client, uri) == [
        (0, 1, "comment"),  # the import header
        (4, 17, None),      # class Module
        (6, 10, None),      # def add_one
        (8, 9, None),       # for i
        (13, 17, None),     # def main
        (15, 16, None),     # for j
    ]


async def test_folding_blocks_ifs_and_multiline_call(client: LanguageClient) -> None:
    path = CORPUS / "matmul_f32" / "04_LowerInitBlock.tir"
    text = path.read_text().replace('T.reads(A[v_i, v_k], B[v_k, v_j])', 'T.reads(A[v_i, v_k],\n                        B[v_k, v_j])')
    await open_doc(client, path.as_uri(), text)
    folds = await _folds(client, path.as_uri())
    assert (0, 2, "comment") in folds
    assert (10, 18, None) in folds   # for i, j, k
    assert (11, 18, None) in folds   # with T.sblock("C")
    assert (13, 14, None) in folds   # T.reads( ... ) over two lines
    assert (16, 17, None) in folds   # if v_k == 0
