"""A pytest-lsp client talking JSON-RPC to a real `python -m tir_lsp serve` subprocess."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Union

import pytest_lsp
from lsprotocol import types as t
from pytest_lsp import ClientServerConfig, LanguageClient

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).resolve().parent / "data"
CORPUS = ROOT / "tests" / "fixtures" / "tvm" / "0.27.0.post1"


def make_client() -> LanguageClient:
    client = pytest_lsp.make_test_lsp_client()
    conv = client.protocol._converter

    # lsprotocol 2025.0.0: a CodeAction with a `command` object is otherwise structured as a
    # Command whose `command` is the str() of a dict (REFERENCE §3.6).
    def _cmd_or_action(obj, _):  # type: ignore[no-untyped-def]
        return conv.structure(obj, t.Command if isinstance(obj.get("command"), str) else t.CodeAction)

    conv.register_structure_hook(Union[t.Command, t.CodeAction], _cmd_or_action)  # noqa: UP007 - the exact typing.Union
    client.edits = []  # type: ignore[attr-defined]

    @client.feature(t.WORKSPACE_APPLY_EDIT)
    def apply_edit(params: t.ApplyWorkspaceEditParams) -> t.ApplyWorkspaceEditResult:
        client.edits.append(params.edit)  # type: ignore[attr-defined]
        return t.ApplyWorkspaceEditResult(applied=True)

    client.registrations = []  # type: ignore[attr-defined]

    # The server asks clients that can (VS Code) to watch the TIR files of the workspace.
    @client.feature(t.CLIENT_REGISTER_CAPABILITY)
    def register_capability(params: t.RegistrationParams) -> None:
        client.registrations.extend(params.registrations)  # type: ignore[attr-defined]

    return client


CONFIG = ClientServerConfig(server_command=[sys.executable, "-m", "tir_lsp", "serve"], client_factory=make_client,
                            server_env={"PYTHONPATH": str(ROOT)})


async def initialize(client: LanguageClient, capabilities: str = "visual-studio-code", root: Path | None = None,
                     client_name: str = "pytest-lsp", options: object = None) -> None:
    client.init_result = await client.initialize_session(t.InitializeParams(  # type: ignore[attr-defined]
        capabilities=pytest_lsp.client_capabilities(capabilities),
        client_info=t.ClientInfo(name=client_name),
        root_uri=root.as_uri() if root else None,
        workspace_folders=[t.WorkspaceFolder(uri=root.as_uri(), name=root.name)] if root else None,
        initialization_options=options))


# One server per test module (a start costs ~1 s); test modules declare
# `pytestmark = pytest.mark.asyncio(loop_scope="module")` to share its event loop.
@pytest_lsp.fixture(config=CONFIG, scope="module")
async def client(lsp_client: LanguageClient):  # type: ignore[no-untyped-def]
    await initialize(lsp_client)
    yield
    await lsp_client.shutdown_session()


async def open_doc(client: LanguageClient, uri: str, text: str, version: int = 1) -> list[t.Diagnostic]:
    """didOpen, then wait for the diagnostics of that version."""
    client.text_document_did_open(t.DidOpenTextDocumentParams(
        text_document=t.TextDocumentItem(uri=uri, language_id="tir", version=version, text=text)))
    return await wait_diagnostics(client, uri, version)


async def wait_diagnostics(client: LanguageClient, uri: str, version: int) -> list[t.Diagnostic]:
    while True:
        params = await client.wait_for_notification(t.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        if params.uri == uri and params.version == version:
            return list(params.diagnostics)


def data(name: str) -> str:
    return (DATA / name).read_text()


def uri_of(name: str) -> str:
    return (DATA / name).as_uri()


def pos(line: int, character: int) -> t.Position:
    """0-based, as LSP."""
    return t.Position(line=line, character=character)


def doc_id(uri: str) -> t.TextDocumentIdentifier:
    return t.TextDocumentIdentifier(uri=uri)
