"""Go to definition: vars and buffers in their function, functions named by string in
T.call_extern, and functions defined in other files of the workspace (open or not)."""

from __future__ import annotations

import asyncio

import pytest
import pytest_lsp
from lsprotocol import types as t
from pytest_lsp import LanguageClient

from tests.lsp.conftest import CONFIG, DATA, data, doc_id, initialize, open_doc, pos, uri_of

pytestmark = pytest.mark.asyncio(loop_scope="module")
WS = DATA / "ws"


@pytest_lsp.fixture(config=CONFIG, scope="module")
async def client(lsp_client: LanguageClient):  # type: ignore[no-untyped-def]
    await initialize(lsp_client, root=WS)
    yield
    await lsp_client.shutdown_session()


async def _definition(client: LanguageClient, uri: str, line: int, col: int) -> list[tuple[str, int, int, int]]:
    res = await client.text_document_definition_async(t.DefinitionParams(text_document=doc_id(uri), position=pos(line, col)))
    locs = res if isinstance(res, list) else [res] if res else []
    return [(loc.uri, loc.range.start.line, loc.range.start.character, loc.range.end.character) for loc in locs]


async def test_definition_of_buffer_through_data(client: LanguageClient) -> None:
    uri = uri_of("calls.tir")
    await open_doc(client, uri, data("calls.tir"))
    # `X` of `X.data` (line 18) -> the parameter `X` of main (line 14).
    assert await _definition(client, uri, 17, 42) == [(uri, 13, 13, 14)]


async def test_definition_of_loop_var(client: LanguageClient) -> None:
    uri = uri_of("calls.tir")
    await open_doc(client, uri, data("calls.tir"))
    # `i` in `A_1[i] = A_1[i] + ...` -> `for i in range(n)`.
    assert await _definition(client, uri, 9, 16) == [(uri, 8, 12, 13)]


async def test_definition_of_function_named_in_call_extern(client: LanguageClient) -> None:
    uri = uri_of("calls.tir")
    await open_doc(client, uri, data("calls.tir"))
    assert await _definition(client, uri, 17, 35) == [(uri, 6, 8, 15)]


async def test_definition_in_another_open_document(client: LanguageClient) -> None:
    lib = uri_of("calls.tir")
    await open_doc(client, lib, data("calls.tir"))
    other = (DATA / "caller_of_add_one.tir").as_uri()
    text = '# from tvm.script import tirx as T\n\n@T.prim_func\ndef c(X: T.Buffer((4,), "float32")):\n    T.call_extern("int32", "add_one", X.data, 4)\n'
    await open_doc(client, other, text)
    assert await _definition(client, other, 4, 29) == [(lib, 6, 8, 15)]


async def test_definition_in_closed_workspace_file(client: LanguageClient) -> None:
    uri = (WS / "app.tir").as_uri()
    await open_doc(client, uri, (WS / "app.tir").read_text())
    lib = (WS / "src" / "tir-lib.txt").as_uri()
    for _ in range(100):  # the workspace is indexed in the background
        found = await _definition(client, uri, 4, 29)
        if found:
            break
        await asyncio.sleep(0.05)
    assert found == [(lib, 6, 8, 16)]
