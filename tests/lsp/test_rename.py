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


async def test_rename_one_of_two_loop_vars_of_sibling_loops(client: LanguageClient) -> None:
    uri = uri_of("shadowing.tir")
    await open_doc(client, uri, data("shadowing.tir"))
    # The second `for i` (line 7) and its two uses; the first loop's `i` stays.
    assert await _rename(client, uri, 6, 8, "t") == [(6, 8, 9, "t"), (7, 10, 11, "t"), (7, 19, 20, "t")]
    # `k` is bound only in the sblock's loop, where the first `i` is not visible.
    assert await _rename(client, uri, 4, 8, "k") == [(4, 8, 9, "k"), (5, 10, 11, "k")]


async def test_rename_of_a_shadowing_let_leaves_the_param(client: LanguageClient) -> None:
    uri = uri_of("shadowing.tir")
    await open_doc(client, uri, data("shadowing.tir"))
    # The let `n` (line 9) and its uses in the sblock and after it, not the param `n` (used on line 6).
    assert await _rename(client, uri, 8, 4, "q") == [(8, 4, 5, "q"), (12, 28, 29, "q"), (16, 11, 12, "q")]
    assert await _rename(client, uri, 5, 15, "size") == [(3, 39, 40, "size"), (5, 15, 16, "size")]
    # `j` is bound inside the scope of `m`: renaming `m` to it would capture its uses.
    with pytest.raises(JsonRpcException) as err:
        await _rename(client, uri, 12, 8, "j")
    assert err.value.message == ("cannot rename 'm' to 'j': a variable named 'j' is already visible there "
                                 "(defined at line 14)")
