"""The server over real JSON-RPC under abuse: malformed messages, unknown methods, documents
never opened or already closed, positions out of range, a storm of edits with cancellations,
a client that goes away, and the shutdown/exit handshake. The server answers every request
(a result or an error), never dies, never shows results for a stale version, and exits with
the code LSP asks for."""

from __future__ import annotations

import asyncio
import json
import os
import queue
import socket
import subprocess
import sys
import threading
import time
from typing import Any

import pytest
from lsprotocol import types as t
from pygls.exceptions import JsonRpcException
from pygls.protocol import JsonRPCProtocol
from pytest_lsp import LanguageClient

from tests.lsp.conftest import ROOT, doc_id, open_doc, pos

# Only the pytest-lsp tests share the module's server and loop; the raw tests are plain.
on_module_loop = pytest.mark.asyncio(loop_scope="module")

# Raw JSON-RPC: what a well-behaved client library never sends.


class RawServer:
    """`tir-lsp serve` as a subprocess, spoken to in bytes."""

    def __init__(self) -> None:
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        self.proc = subprocess.Popen([sys.executable, "-m", "tir_lsp", "serve"], cwd=ROOT, env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.messages: queue.Queue[dict[str, Any] | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.stderr = b""
        self.next_id = 1000

    def _read(self) -> None:
        out = self.proc.stdout
        assert out is not None
        while True:
            length = None
            while True:
                line = out.readline()
                if not line:
                    self.messages.put(None)
                    return
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
                if line in (b"\r\n", b"\n") and length is not None:
                    break
            self.messages.put(json.loads(out.read(length)))

    def send_bytes(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def send_body(self, body: bytes) -> None:
        self.send_bytes(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    def send(self, message: dict[str, Any]) -> None:
        self.send_body(json.dumps(message).encode())

    def request(self, method: str, params: Any = None) -> int:
        self.next_id += 1
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": self.next_id, "method": method}
        if params is not None:
            message["params"] = params
        self.send(message)
        return self.next_id

    def response(self, msg_id: Any, timeout: float = 20.0) -> dict[str, Any]:
        """The next response with ``msg_id`` (notifications from the server are skipped)."""
        end = time.monotonic() + timeout
        while True:
            msg = self.messages.get(timeout=max(end - time.monotonic(), 0.01))
            assert msg is not None, "the server closed its output"
            if "method" not in msg and msg.get("id") == msg_id:
                return msg

    def initialize(self) -> None:
        got = self.response(self.request("initialize", {"processId": None, "rootUri": None, "capabilities": {}}))
        assert "capabilities" in got["result"]
        self.send({"jsonrpc": "2.0", "method": "initialized", "params": {}})

    def alive(self) -> None:
        """A valid request still gets its answer."""
        got = self.response(self.request("workspace/symbol", {"query": "zzz"}))
        assert got["result"] == []

    def wait(self, timeout: float = 10.0) -> int:
        code = self.proc.wait(timeout)
        assert self.proc.stderr is not None
        self.stderr = self.proc.stderr.read()
        return code

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for f in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if f is not None:
                f.close()


@pytest.fixture
def raw():  # type: ignore[no-untyped-def]
    server = RawServer()
    server.initialize()
    yield server
    server.close()


@pytest.fixture(scope="module")
def shared():  # type: ignore[no-untyped-def]
    """One server for the malformed-message tests: each ends by checking it still serves."""
    server = RawServer()
    server.initialize()
    yield server
    server.close()


def _error(response: dict[str, Any]) -> int:
    assert "result" not in response, response
    return int(response["error"]["code"])


def test_invalid_json_is_a_parse_error(shared: RawServer) -> None:
    shared.send_body(b'{"jsonrpc": "2.0", "id": 1, "method": ')
    assert _error(shared.response(None)) == -32700
    shared.send_body(b"\xff\xfe not utf-8")
    assert _error(shared.response(None)) == -32700
    shared.alive()


def test_request_without_method_is_invalid(shared: RawServer) -> None:
    shared.send({"jsonrpc": "2.0", "id": 7})
    assert _error(shared.response(7)) == -32600
    shared.send({"jsonrpc": "2.0", "id": 8, "method": 42})
    assert _error(shared.response(8)) == -32600
    shared.send({"id": 9, "method": "workspace/symbol", "params": {"query": ""}})  # no "jsonrpc"
    assert _error(shared.response(9)) == -32600
    shared.send_body(b'[{"jsonrpc": "2.0", "id": 10, "method": "shutdown"}]')  # a batch: not LSP
    assert _error(shared.response(None)) == -32600
    shared.send_body(b'"just a string"')
    assert _error(shared.response(None)) == -32600
    shared.alive()


def test_unknown_method(shared: RawServer) -> None:
    msg_id = shared.request("tir/noSuchMethod", {})
    assert _error(shared.response(msg_id)) == -32601
    # An unknown notification has no answer, and nothing breaks.
    shared.send({"jsonrpc": "2.0", "method": "tir/noSuchNotification", "params": {}})
    shared.alive()


def test_wrong_param_types(shared: RawServer) -> None:
    hover = "textDocument/hover"
    assert _error(shared.response(shared.request(hover, {"textDocument": {"uri": "file:///a.tir"},
                                                  "position": "here"}))) == -32602
    assert _error(shared.response(shared.request(hover))) == -32602
    got = shared.response(shared.request(hover, {"textDocument": {"uri": "file:///a.tir"},
                                           "position": {"line": -1, "character": 0}}))
    assert _error(got) == -32602 and "position" in got["error"]["message"]
    assert _error(shared.response(shared.request("textDocument/definition", {
        "textDocument": "file:///a.tir", "position": {"line": 0, "character": 0}}))) == -32602
    # A notification with bad params cannot be answered: it is dropped.
    shared.send({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": 3}})
    shared.alive()


def test_bad_content_length_does_not_desynchronise(shared: RawServer) -> None:
    # A header without a number, then a body shorter than announced: the server finds the
    # next message's header again and answers it.
    shared.send_bytes(b'Content-Length: many\r\n\r\n{"jsonrpc": "2.0", "id": 1, "method": "shutdown"}')
    shared.alive()
    shared.send_bytes(b'Content-Length: 5\r\n\r\n{"jsonrpc": "2.0", "id": 2, "method": "shutdown"}')
    assert _error(shared.response(None)) == -32700  # the 5 bytes read as the body
    shared.alive()
    shared.send_bytes(b"garbage without a header\r\n\r\n")
    shared.alive()


def test_shutdown_then_exit_exits_0(raw: RawServer) -> None:
    assert raw.response(raw.request("shutdown"))["result"] is None
    # LSP: a request after shutdown is an InvalidRequest error.
    assert _error(raw.response(raw.request("workspace/symbol", {"query": ""}))) == -32600
    raw.send({"jsonrpc": "2.0", "method": "exit"})
    assert raw.wait() == 0
    assert b"Traceback" not in raw.stderr


def test_exit_without_shutdown_exits_1(raw: RawServer) -> None:
    raw.send({"jsonrpc": "2.0", "method": "exit"})
    assert raw.wait() == 1
    assert b"Traceback" not in raw.stderr


def test_client_disconnect_ends_the_server(raw: RawServer) -> None:
    # The client goes away in the middle of work: an open document being analysed, a request
    # in flight. The server exits on its own, quickly and without a traceback.
    text = _storm_text(0)
    raw.send({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {
        "uri": "file:///tmp/tir-lsp-tests/gone.tir", "languageId": "tir", "version": 1, "text": text}}})
    raw.request("textDocument/hover", {"textDocument": {"uri": "file:///tmp/tir-lsp-tests/gone.tir"},
                                       "position": {"line": 4, "character": 8}})
    assert raw.proc.stdin is not None
    raw.proc.stdin.close()
    start = time.monotonic()
    assert raw.wait(timeout=10) == 1  # gone without shutdown
    assert time.monotonic() - start < 5
    assert b"Traceback" not in raw.stderr and b"Fatal" not in raw.stderr


def test_tcp_has_the_same_checks_and_exit_codes() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "tir_lsp", "serve", "--tcp", "--port", str(port)], cwd=ROOT,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        for _ in range(300):
            try:
                conn = socket.create_connection(("127.0.0.1", port))
                break
            except OSError:
                time.sleep(0.1)
        with conn, conn.makefile("rb") as replies:
            def send(body: bytes) -> None:
                conn.sendall(b"Content-Length: %d\r\n\r\n" % len(body) + body)

            send(b'{"jsonrpc": "2.0", "id": 1, "method": "shutdown"')
            length = int(replies.readline().split(b":")[1])
            while replies.readline().strip():
                pass  # Content-Type, then the blank line
            got = json.loads(replies.read(length))
            assert got["id"] is None and got["error"]["code"] == -32700
            send(b'{"jsonrpc": "2.0", "method": "exit"}')
            assert proc.wait(20) == 1
        assert proc.stderr is not None and b"Traceback" not in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        for f in (proc.stdout, proc.stderr):
            if f is not None:
                f.close()


# Over pytest-lsp: requests a client library can send, on documents in odd states.

UNOPENED = "file:///tmp/tir-lsp-tests/never-opened.tir"


async def _every_request(client: LanguageClient, uri: str, position: t.Position) -> dict[str, Any]:
    """Each position-based and document request on ``uri`` at ``position``."""
    d = doc_id(uri)
    return {
        "hover": await client.text_document_hover_async(t.HoverParams(text_document=d, position=position)),
        "definition": await client.text_document_definition_async(
            t.DefinitionParams(text_document=d, position=position)),
        "references": await client.text_document_references_async(t.ReferenceParams(
            text_document=d, position=position, context=t.ReferenceContext(include_declaration=True))),
        "completion": await client.text_document_completion_async(
            t.CompletionParams(text_document=d, position=position)),
        "signature": await client.text_document_signature_help_async(
            t.SignatureHelpParams(text_document=d, position=position)),
        "prepare_rename": await client.text_document_prepare_rename_async(
            t.PrepareRenameParams(text_document=d, position=position)),
        "symbols": await client.text_document_document_symbol_async(t.DocumentSymbolParams(text_document=d)),
        "folding": await client.text_document_folding_range_async(t.FoldingRangeParams(text_document=d)),
        "tokens": await client.text_document_semantic_tokens_full_async(t.SemanticTokensParams(text_document=d)),
        "formatting": await client.text_document_formatting_async(t.DocumentFormattingParams(
            text_document=d, options=t.FormattingOptions(tab_size=4, insert_spaces=True))),
        "code_action": await client.text_document_code_action_async(t.CodeActionParams(
            text_document=d, range=t.Range(start=position, end=position),
            context=t.CodeActionContext(diagnostics=[]))),
    }


_NOTHING = {"hover": None, "definition": None, "references": None, "signature": None, "prepare_rename": None,
            "symbols": [], "folding": [], "formatting": [], "code_action": []}


def _assert_nothing(got: dict[str, Any]) -> None:
    # Lists arrive as tuples.
    assert {k: list(v) if isinstance(v, tuple) else v for k, v in got.items() if k in _NOTHING} == _NOTHING
    assert len(got["completion"].items) == 0 and len(got["tokens"].data) == 0


@on_module_loop
async def test_requests_on_a_document_never_opened(client: LanguageClient) -> None:
    _assert_nothing(await _every_request(client, UNOPENED, pos(3, 4)))
    # Renaming in a document the server does not have: nothing to rename (no edit, no crash).
    edit = await client.text_document_rename_async(t.RenameParams(
        text_document=doc_id(UNOPENED), position=pos(3, 4), new_name="y"))
    assert edit is None
    # A command on a file that does not exist: an error answer naming the file.
    with pytest.raises(JsonRpcException) as err:
        await client.workspace_execute_command_async(t.ExecuteCommandParams(
            command="tir.lowerToC", arguments=[UNOPENED]))
    assert "never-opened.tir" in str(err.value)


@on_module_loop
async def test_requests_on_a_closed_document(client: LanguageClient) -> None:
    uri = "file:///tmp/tir-lsp-tests/closed.tir"
    await open_doc(client, uri, _storm_text(0))
    client.text_document_did_close(t.DidCloseTextDocumentParams(text_document=doc_id(uri)))
    _assert_nothing(await _every_request(client, uri, pos(4, 8)))
    # Closed while its analysis may still run: the answers are empty, and a later re-open works.
    client.text_document_did_open(t.DidOpenTextDocumentParams(text_document=t.TextDocumentItem(
        uri=uri, language_id="tir", version=2, text=_storm_text(2))))
    client.text_document_did_close(t.DidCloseTextDocumentParams(text_document=doc_id(uri)))
    _assert_nothing(await _every_request(client, uri, pos(4, 8)))
    diags = await open_doc(client, uri, _storm_text(3), version=3)
    assert [d.message for d in diags] == ["undefined name 'u0003'"]
    assert not [m for m in client.messages if m.type == t.MessageType.Error]


@on_module_loop
async def test_positions_out_of_range(client: LanguageClient) -> None:
    uri = "file:///tmp/tir-lsp-tests/ranges.tir"
    assert await open_doc(client, uri, _storm_text(0).replace("u0000", "X[1]")) == []
    for line, character in [(10**6, 0), (4, 10**6), (10**6, 10**6), (2**31 - 1, 2**31 - 1), (7, 0)]:
        got = await _every_request(client, uri, pos(line, character))
        assert got["hover"] is None and got["definition"] is None and got["signature"] is None, (line, character)
        assert got["references"] is None and got["prepare_rename"] is None
        assert isinstance(got["completion"], t.CompletionList)
    # Past the end of a line that exists: the line's last token, as editors send at end of line.
    h = await client.text_document_hover_async(t.HoverParams(text_document=doc_id(uri), position=pos(4, 10**6)))
    assert h is None
    assert not [m for m in client.messages if m.type == t.MessageType.Error]


# The storm: many edits, interleaved queries, many of them cancelled.

EDITS = 500


def _storm_text(version: int) -> str:
    """Version ``v`` loops ``1vvvv`` times and reads the undefined name ``uvvvv``: both the
    hover and the diagnostic say which version they were computed from."""
    return ("# from tvm.script import tirx as T\n\n"
            "@T.prim_func\n"
            'def main(X: T.Buffer((16,), "float32")):\n'
            f"    for j in T.serial(1{version:04d}):\n"
            f"        X[0] = X[0] + u{version:04d}\n")


@on_module_loop
async def test_storm_of_edits_with_cancellations(client: LanguageClient) -> None:
    uri = "file:///tmp/tir-lsp-tests/storm.tir"
    await open_doc(client, uri, _storm_text(0), version=0)
    published: list[tuple[int, list[str]]] = []
    features = client.protocol.fm.features
    recorder = features[t.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS]

    def record(params: t.PublishDiagnosticsParams) -> None:
        if params.uri == uri:
            published.append((params.version or -1, [d.message for d in params.diagnostics]))
        recorder(params)

    features[t.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = record
    try:
        await _storm(client, uri, published)
    finally:
        features[t.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = recorder


async def _storm(client: LanguageClient, uri: str, published: list[tuple[int, list[str]]]) -> None:

    def change(rng: tuple[int, int, int], text: str) -> t.TextDocumentContentChangePartial:
        line, a, b = rng
        return t.TextDocumentContentChangePartial(
            range=t.Range(start=pos(line, a), end=pos(line, b)), text=text)

    requests: list[tuple[int, str, asyncio.Future[Any]]] = []
    cancelled = 0
    start = time.perf_counter()
    for v in range(1, EDITS + 1):
        client.text_document_did_change(t.DidChangeTextDocumentParams(
            text_document=t.VersionedTextDocumentIdentifier(uri=uri, version=v),
            content_changes=[change((4, 23, 27), f"{v:04d}"), change((5, 23, 27), f"{v:04d}")]))
        if v % 2 == 0:
            for method, params in (
                (t.TEXT_DOCUMENT_HOVER, t.HoverParams(text_document=doc_id(uri), position=pos(4, 8))),
                (t.TEXT_DOCUMENT_COMPLETION, t.CompletionParams(text_document=doc_id(uri), position=pos(5, 22))),
            ):
                msg_id = f"storm-{v}-{method}"
                # pygls' own send_request: sent now, in order with the edits (pytest-lsp's
                # send_request_async is a coroutine that would send it later).
                sent = JsonRPCProtocol.send_request(client.protocol, method, params, msg_id=msg_id)
                requests.append((v, method, asyncio.wrap_future(sent)))
                if v % 4 == 0:  # cancel half of them, most before the server has started them
                    client.protocol.notify(t.CANCEL_REQUEST, t.CancelParams(id=msg_id))
                    cancelled += 1
        if v % 10 == 0:
            # Typing pauses: analyses run and publish while later edits arrive.
            await asyncio.sleep(0.005)
    results = await asyncio.wait_for(asyncio.gather(*(f for _, _, f in requests), return_exceptions=True), 120)
    for _ in range(6000):  # the last publication may have come while we awaited the answers
        if published and published[-1][0] == EDITS:
            break
        await asyncio.sleep(0.01)
    elapsed = time.perf_counter() - start

    answered = stale = cancelled_answers = 0
    for (v, method, _), result in zip(requests, results, strict=True):
        if isinstance(result, JsonRpcException):
            assert result.code == -32800, result  # RequestCancelled, nothing else
            cancelled_answers += 1
            continue
        assert not isinstance(result, BaseException), result
        answered += 1
        if method == t.TEXT_DOCUMENT_HOVER:
            # Answered from the text as of the request or newer, never older.
            assert result is not None
            seen = int(result.contents.value.split("[0, ")[1].split(")")[0]) - 10000
            stale += seen < v
        else:
            assert any(item.label == "X" for item in result.items)
    assert stale == 0
    assert answered + cancelled_answers == len(requests) == EDITS
    # Diagnostics: versions only grow, each list matches its version, the last is the last edit.
    versions = [v for v, _ in published]
    assert versions == sorted(versions) and versions[-1] == EDITS
    for v, messages in published:
        assert messages == [f"undefined name 'u{v:04d}'"], (v, messages)
    # The figure for the README (printed with -s).
    print(f"\nstorm: {EDITS} edits, {len(requests)} requests ({cancelled} cancel notifications): "
          f"{answered} results + {cancelled_answers} RequestCancelled = {answered + cancelled_answers} answered, "
          f"0 lost, 0 stale; {len(published)} diagnostics publications, last = version {versions[-1]}; "
          f"{elapsed:.2f} s wall")
    # After the storm the server still answers with the newest text at once.
    h = await client.text_document_hover_async(t.HoverParams(text_document=doc_id(uri), position=pos(4, 8)))
    assert h is not None and f"[0, 1{EDITS:04d})" in h.contents.value
