"""Rename of vars and buffers, refused for non-identifiers and names visible in the same scope."""

from __future__ import annotations

import pytest
from lsprotocol import types as t
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient

from tests.lsp.conftest import data, doc_id, open_doc, pos, uri_of

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def _rename(client: LanguageClient, uri: str, line: int, col: int, name: str) -> list[tuple[int, int, int, str]]:
    res = await client.text_document_rename_async(t.RenameParams(text_document=doc_id(uri), position=pos(line, col),
                                                                 new_name=name))
    assert res is not None and res.changes is not None
    return sorted((e.range.start.line, e.range.start.character, e.range.end.character, e.new_text)
                  for e in res.changes[uri])


async def test_rename_let_var(client: LanguageClient) -> None:
    uri = uri_of("scopes.tir")
    await open_doc(client, uri, data("scopes.tir"))
    # x: T.let[T.int32] = i * 2 (line 7), used on line 8.
    assert await _rename(client, uri, 6, 8, "twice") == [(6, 8, 9, "twice"), (7, 25, 26, "twice")]


async def test_rename_to_name_of_other_scope_is_allowed(client: LanguageClient) -> None:
    uri = uri_of("scopes.tir")
    await open_doc(client, uri, data("scopes.tir"))
    # `k` only exists in the second loop, where `x` is not visible.
    assert await _rename(client, uri, 6, 8, "k") == [(6, 8, 9, "k"), (7, 25, 26, "k")]


async def test_rename_buffer_param_renames_its_uses(client: LanguageClient) -> None:
    uri = uri_of("scopes.tir")
    await open_doc(client, uri, data("scopes.tir"))
    assert await _rename(client, uri, 3, 11, "Inp") == [(3, 11, 12, "Inp"), (7, 15, 16, "Inp"), (9, 8, 9, "Inp")]


async def test_rename_refuses_collision_and_bad_names(client: LanguageClient) -> None:
    uri = uri_of("scopes.tir")
    await open_doc(client, uri, data("scopes.tir"))
    with pytest.raises(JsonRpcException) as err:
        await _rename(client, uri, 6, 8, "i")
    assert err.value.message == ("cannot rename 'x' to 'i': a variable named 'i' is already visible there "
                                 "(defined at line 6)")
    with pytest.raises(JsonRpcException) as err:
        await _rename(client, uri, 6, 8, "C")
    assert "a buffer named 'C'" in err.value.message
    with pytest.raises(JsonRpcException) as err:
        await _rename(client, uri, 6, 8, "2x")
    assert err.value.message == "'2x' is not a valid identifier"


async def test_prepare_rename(client: LanguageClient) -> None:
    uri = uri_of("scopes.tir")
    await open_doc(client, uri, data("scopes.tir"))
    res = await client.text_document_prepare_rename_async(t.PrepareRenameParams(text_document=doc_id(uri),
                                                                                position=pos(7, 25)))
    assert isinstance(res, t.PrepareRenamePlaceholder)
    assert (res.placeholder, res.range.start.line, res.range.start.character) == ("x", 7, 25)
    # A keyword is not renamable.
    assert await client.text_document_prepare_rename_async(t.PrepareRenameParams(
        text_document=doc_id(uri), position=pos(5, 5))) is None
