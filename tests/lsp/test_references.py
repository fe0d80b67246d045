"""Find references: a buffer's uses in its function, a function's uses by string in calls."""

from __future__ import annotations

import pytest
from lsprotocol import types as t
from pytest_lsp import LanguageClient

from tests.lsp.conftest import data, doc_id, open_doc, pos, uri_of

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def _refs(client: LanguageClient, uri: str, line: int, col: int, decl: bool = True) -> list[tuple[int, int, int]]:
    res = await client.text_document_references_async(t.ReferenceParams(
        text_document=doc_id(uri), position=pos(line, col), context=t.ReferenceContext(include_declaration=decl)))
    return [(loc.range.start.line, loc.range.start.character, loc.range.end.character) for loc in res or []]


async def test_references_of_declared_buffer(client: LanguageClient) -> None:
    uri = uri_of("calls.tir")
    await open_doc(client, uri, data("calls.tir"))
    # A_1 = T.decl_buffer(...) on line 8, used twice on line 10.
    assert await _refs(client, uri, 7, 8) == [(7, 8, 11), (9, 12, 15), (9, 21, 24)]
    assert await _refs(client, uri, 9, 13, decl=False) == [(9, 12, 15), (9, 21, 24)]


async def test_references_of_function_include_call_names(client: LanguageClient) -> None:
    uri = uri_of("calls.tir")
    await open_doc(client, uri, data("calls.tir"))
    # def add_one (line 7) and the string "add_one" in T.call_extern (line 18).
    assert await _refs(client, uri, 6, 10) == [(6, 8, 15), (17, 31, 40)]


async def test_references_of_param_used_in_shape(client: LanguageClient) -> None:
    uri = uri_of("scopes.tir")
    await open_doc(client, uri, data("scopes.tir"))
    # n: T.int32 (line 4) used by T.parallel(n) (line 9).
    assert await _refs(client, uri, 3, 41) == [(3, 41, 42), (8, 24, 25)]
