"""A bug in the analysis is shown, not swallowed: the document gets a TIR900 diagnostic and the
client's log (window/logMessage) gets the traceback; the next good edit recovers.

The crash is forced from outside the product: this server process replaces the document
analysis with one that raises on a marker text, then runs the real server."""

from __future__ import annotations

import asyncio

import pytest
import pytest_lsp
from lsprotocol import types as t
from pytest_lsp import LanguageClient

from tests.lsp.conftest import ROOT, initialize, open_doc, script_server, wait_diagnostics

pytestmark = pytest.mark.asyncio(loop_scope="module")

CRASHING_SERVER = """
import sys
from tir_lsp import server
from tir_lsp.documents import Document

real = Document.updated

def updated(self, text, *args, **kwargs):
    if "CRASH HERE" in text:
        raise KeyError("forced by the test")
    return real(self, text, *args, **kwargs)

Document.updated = updated
sys.exit(server.start_io())
"""

CONFIG = script_server(CRASHING_SERVER)

GOOD = '''# from tvm.script import tirx as T

@T.prim_func
def f(A: T.Buffer((4,), "float32")):
    for i in range(4):
        A[i] = T.float32(0)
'''


@pytest_lsp.fixture(config=CONFIG, scope="module")
async def crashing(lsp_client: LanguageClient):  # type: ignore[no-untyped-def]
    await initialize(lsp_client)
    yield
    await lsp_client.shutdown_session()


async def test_an_analysis_crash_is_a_diagnostic_and_a_log_message(crashing: LanguageClient) -> None:
    lsp_client = crashing
    uri = "file:///tmp/tir-lsp-tests/crash.tir"
    # Before the fix nothing was ever published for this document: wait a bounded time.
    diags = await asyncio.wait_for(open_doc(lsp_client, uri, GOOD + "# CRASH HERE\n"), 30)
    assert [(d.code, d.severity, d.range.start.line, d.source) for d in diags] == [
        ("TIR900", t.DiagnosticSeverity.Error, 0, "tir-lsp")]
    assert diags[0].message.startswith(
        "internal error while analysing this file (KeyError: 'forced by the test'); diagnostics may be missing.")
    logged = [m for m in lsp_client.log_messages if m.type == t.MessageType.Error]
    assert len(logged) == 1
    assert logged[0].message.startswith(f"tir-lsp: internal error analysing {uri}: KeyError: 'forced by the test'")
    assert "Traceback (most recent call last)" in logged[0].message and "forced by the test" in logged[0].message

    # The next text that analyses cleanly replaces the crash report.
    lsp_client.text_document_did_change(t.DidChangeTextDocumentParams(
        text_document=t.VersionedTextDocumentIdentifier(uri=uri, version=2),
        content_changes=[t.TextDocumentContentChangeWholeDocument(text=GOOD)]))
    assert await wait_diagnostics(lsp_client, uri, 2) == []


# One function's checks crash: that function gets a TIR900 at its name, the others keep theirs.
CRASHING_CHECK = """
import sys
from tir_lsp import server
from tir_lsp.compiler.analysis import semantic

real = semantic.check_function

def check_function(func, *args, **kwargs):
    if func.name == "boom":
        raise KeyError("forced by the test")
    return real(func, *args, **kwargs)

semantic.check_function = check_function
sys.exit(server.start_io())
"""

TWO_FUNCTIONS = (ROOT / "tests" / "data" / "two_functions.tir").read_text()


@pytest_lsp.fixture(config=script_server(CRASHING_CHECK), scope="module")
async def crashing_check(lsp_client: LanguageClient):  # type: ignore[no-untyped-def]
    await initialize(lsp_client)
    yield
    await lsp_client.shutdown_session()


async def test_a_function_whose_check_crashes_gets_a_diagnostic_at_its_name(crashing_check: LanguageClient) -> None:
    lsp_client = crashing_check
    uri = "file:///tmp/tir-lsp-tests/crash-one.tir"
    diags = await asyncio.wait_for(open_doc(lsp_client, uri, TWO_FUNCTIONS), 30)
    found = sorted((d.code, d.severity, d.range.start.line, d.range.start.character, d.range.end.character)
                   for d in diags)
    # f's own check still runs (TIR013 on line 6); boom's name is at line 10, columns 5-8.
    assert found == [("TIR013", t.DiagnosticSeverity.Warning, 5, 8, 19),
                     ("TIR900", t.DiagnosticSeverity.Error, 9, 4, 8)]
    crash = next(d for d in diags if d.code == "TIR900")
    assert crash.message.startswith("internal error while checking function 'boom' (KeyError: 'forced by the test')")
    logged = [m.message for m in lsp_client.log_messages if m.type == t.MessageType.Error]
    assert len(logged) == 1
    assert logged[0].startswith("tir-lsp: internal error while checking function 'boom' in /tmp/tir-lsp-tests/")
    assert "Traceback (most recent call last)" in logged[0] and "forced by the test" in logged[0]

    # An edit above boom moves its diagnostic with it.
    lsp_client.text_document_did_change(t.DidChangeTextDocumentParams(
        text_document=t.VersionedTextDocumentIdentifier(uri=uri, version=2),
        content_changes=[t.TextDocumentContentChangeWholeDocument(text="\n" + TWO_FUNCTIONS)]))
    moved = await wait_diagnostics(lsp_client, uri, 2)
    assert sorted((d.code, d.range.start.line) for d in moved) == [("TIR013", 6), ("TIR900", 10)]
