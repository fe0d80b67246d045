"""Signature help for T.* builtins, with the active parameter from the commas typed so far."""

from __future__ import annotations

import pytest
from lsprotocol import types as t
from pytest_lsp import LanguageClient

from tests.lsp.conftest import data, doc_id, open_doc, pos

pytestmark = pytest.mark.asyncio(loop_scope="module")
URI = "file:///tmp/tir-lsp-tests/signature.tir"


async def _help(client: LanguageClient, line: int, col: int) -> t.SignatureHelp | None:
    return await client.text_document_signature_help_async(t.SignatureHelpParams(text_document=doc_id(URI),
                                                                                 position=pos(line, col)))


async def test_signature_help_active_parameter(client: LanguageClient) -> None:
    text = data("scopes.tir")
    await open_doc(client, URI, text)
    # `    C = T.alloc_buffer((4,), "int32")`: inside the shape tuple, then after the comma.
    h = await _help(client, 4, 25)
    assert h is not None
    sig = h.signatures[0]
    assert sig.label.startswith('T.alloc_buffer(shape, dtype="float32"')
    assert sig.documentation == "Allocates a buffer for the rest of the enclosing scope."
    assert h.active_parameter == 0
    h = await _help(client, 4, 31)
    assert h is not None and h.active_parameter == 1
    assert h.signatures[0].parameters[1].label == 'dtype="float32"'


async def test_signature_help_multiline_and_outside(client: LanguageClient) -> None:
    text = data("scopes.tir") + "    T.call_extern(\"int32\",\n        \"f\", \n"
    await open_doc(client, URI, text, version=2)
    h = await _help(client, 11, 13)
    assert h is not None and h.signatures[0].label.startswith("T.call_extern(") and h.active_parameter == 2
    assert await _help(client, 5, 4) is None  # `for i in range(4):` has no T.* call open
