"""The test client never waits forever: a publication of diagnostics that reaches the client in
the same read as another one is seen (pytest-lsp's ``wait_for_notification`` dropped it, and
``open_doc`` hung on a loaded machine), and a wait for one that never comes fails in bounded
time. Log messages forwarded from the analysis thread while requests run are all delivered."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
import pytest_lsp
from lsprotocol import types as t
from pygls.protocol import JsonRPCProtocol
from pytest_lsp import LanguageClient

from tests.lsp.conftest import (
    _bounded,
    doc_id,
    initialize,
    make_client,
    open_doc,
    pos,
    script_server,
    wait_diagnostics,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

GOOD = '''# from tvm.script import tirx as T

@T.prim_func
def f(A: T.Buffer((4,), "float32")):
    for i in range(4):
        A[i] = T.float32(0)
'''


def _publication(uri: str, version: int) -> bytes:
    return json.dumps({"jsonrpc": "2.0", "method": t.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS,
                       "params": {"uri": uri, "version": version, "diagnostics": []}}).encode()


async def test_two_publications_handled_in_one_read_are_both_seen() -> None:
    client = make_client()  # no server: the messages are handed to it as its reader does
    waiting = asyncio.ensure_future(wait_diagnostics(client, "file:///b.tir", 1, timeout=5))
    await asyncio.sleep(0.05)  # the test is waiting
    # pygls' reader handles every message already buffered before the test runs again.
    for body in (_publication("file:///a.tir", 1), _publication("file:///b.tir", 1)):
        client.protocol.handle_message(json.loads(body, object_hook=client.protocol.structure_message))
    assert await waiting == []


async def test_a_wait_for_diagnostics_never_published_fails_in_bounded_time() -> None:
    client = make_client()
    with pytest.raises(AssertionError, match=r"no diagnostics for file:///never\.tir version 1 within 0\.2 s"):
        await wait_diagnostics(client, "file:///never.tir", 1, timeout=0.2)


async def test_a_test_that_hangs_fails_with_a_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("tests.lsp.conftest.TEST_TIMEOUT", 0.2)

    async def hangs() -> None:
        await asyncio.Event().wait()

    with pytest.raises(pytest.fail.Exception, match=r"hangs did not finish within 0\.2 s"):
        await _bounded(hangs)()


# A server that never ends after ``exit``: a thread that is not a daemon keeps it alive.
STUCK_SERVER = """
import sys, threading, time
from tir_lsp import server
threading.Thread(target=time.sleep, args=(3600,)).start()
sys.exit(server.start_io())
"""


async def test_a_server_that_does_not_exit_fails_the_teardown_and_is_killed(monkeypatch: pytest.MonkeyPatch) -> None:
    config = script_server(STUCK_SERVER)
    client = await config.start()
    try:
        await initialize(client)
        monkeypatch.setattr("tests.lsp.conftest.WAIT_TIMEOUT", 2.0)
        with pytest.raises(pytest.fail.Exception, match=r"did not shut down and exit within 2 s \(killed\)"):
            await client.shutdown_session()
        assert await asyncio.wait_for(client._server.wait(), 10) != 0  # type: ignore[union-attr]
    finally:
        await client.stop()


# The analysis thread logs through the "tir_lsp" logger (forwarded as window/logMessage by
# the server's ClientLog handler) many times per analysis, while the client sends requests.
CHATTY_SERVER = """
import logging, sys
from tir_lsp import server
from tir_lsp.documents import Document

log = logging.getLogger("tir_lsp.compiler.chatty")
log.setLevel(logging.INFO)
real = Document.updated

def updated(self, text, *args, **kwargs):
    for i in range(200):
        log.info("chatty %d", i)
    return real(self, text, *args, **kwargs)

Document.updated = updated
sys.exit(server.start_io())
"""


@pytest_lsp.fixture(config=script_server(CHATTY_SERVER), scope="module")
async def chatty(lsp_client: LanguageClient):  # type: ignore[no-untyped-def]
    await initialize(lsp_client)
    yield
    await lsp_client.shutdown_session()


async def test_logging_from_the_analysis_thread_while_requests_run(chatty: LanguageClient) -> None:
    client = chatty
    uri = "file:///tmp/tir-lsp-tests/chatty.tir"
    await open_doc(client, uri, GOOD)
    since = len(client.published)  # type: ignore[attr-defined]
    hovers = []
    for version in range(2, 12):
        client.text_document_did_change(t.DidChangeTextDocumentParams(
            text_document=t.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[t.TextDocumentContentChangeWholeDocument(text=GOOD + "#" * version + "\n")]))
        # Sent now, in order with the edits (pytest-lsp's hover_async would send it when awaited).
        hovers.append(asyncio.wrap_future(JsonRPCProtocol.send_request(
            client.protocol, t.TEXT_DOCUMENT_HOVER, t.HoverParams(text_document=doc_id(uri), position=pos(4, 8)))))
    # The client busy for a while: the server's messages pile up and are read together.
    time.sleep(0.5)  # noqa: ASYNC251 - blocking on purpose
    answers = await asyncio.gather(*hovers)
    assert [h.contents.value.split("\n")[1] if h else None for h in answers] == ["i: T.int32"] * 10
    assert await wait_diagnostics(client, uri, 11, since) == []
    chat = [m.message for m in client.log_messages if "chatty" in m.message]
    # Every record of every analysis arrived, each analysis's records in order.
    assert len(chat) % 200 == 0 and len(chat) >= 400
    for start in range(0, len(chat), 200):
        assert [int(m.split()[-1]) for m in chat[start:start + 200]] == list(range(200))
