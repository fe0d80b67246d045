"""A pytest-lsp client talking JSON-RPC to a real `python -m tir_lsp serve` subprocess.

Nothing here waits without a bound: a test that waits for a message the server never sends
fails with a timeout (``TIR_LSP_TEST_TIMEOUT`` seconds, per test) instead of hanging the run."""

from __future__ import annotations

import asyncio
import functools
import inspect
import os
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, Union

import pytest
import pytest_lsp
from lsprotocol import types as t
from pygls.protocol import default_converter
from pytest_lsp import ClientServerConfig, LanguageClient
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).resolve().parent / "data"
CORPUS = ROOT / "tests" / "fixtures" / "tvm" / "0.27.0.post1"
# Seconds a test may take; its slowest wait under a loaded machine is a few seconds.
TEST_TIMEOUT = float(os.environ.get("TIR_LSP_TEST_TIMEOUT", "300"))
# Seconds to wait for one publication of diagnostics.
WAIT_TIMEOUT = min(120.0, TEST_TIMEOUT)


def _record_diagnostics(client: LanguageClient, params: t.PublishDiagnosticsParams) -> None:
    client.diagnostics[params.uri] = params.diagnostics
    client.published.append(params)  # type: ignore[attr-defined]


class _BoundedClient(LanguageClient):
    """pytest-lsp's client whose session start and end fail after WAIT_TIMEOUT seconds
    instead of waiting forever; a server that does not exit is killed (pytest-lsp waits for
    the process to end, without a limit)."""

    async def initialize_session(self, params: t.InitializeParams) -> t.InitializeResult:
        return await self._bounded(super().initialize_session(params), "answer initialize")

    async def shutdown_session(self) -> None:
        await self._bounded(super().shutdown_session(), "shut down and exit")

    async def _bounded(self, step: Coroutine[Any, Any, Any], what: str) -> Any:
        try:
            return await asyncio.wait_for(step, WAIT_TIMEOUT)
        except TimeoutError:
            server = self._server
            if server is not None and server.returncode is None:
                server.kill()
            pytest.fail(f"the language server did not {what} within {WAIT_TIMEOUT:g} s (killed)")


def script_server(script: str) -> ClientServerConfig:
    """A session whose server is ``python -c script`` (a server patched for a test) run with
    this checkout on its path."""
    return ClientServerConfig(server_command=[sys.executable, "-c", script], client_factory=make_client,
                              server_env={"PYTHONPATH": str(ROOT)})


def make_client() -> LanguageClient:
    # pytest-lsp's client, with every publishDiagnostics also recorded in order (see
    # ``wait_diagnostics``).
    client = _BoundedClient(converter_factory=default_converter)
    register_lsp_features(client, {**DEFAULT_CLIENT_FEATURES, t.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS: _record_diagnostics})
    client.published = []  # type: ignore[attr-defined]
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
    since = len(client.published)  # type: ignore[attr-defined]
    client.text_document_did_open(t.DidOpenTextDocumentParams(
        text_document=t.TextDocumentItem(uri=uri, language_id="tir", version=version, text=text)))
    return await wait_diagnostics(client, uri, version, since)


async def wait_diagnostics(client: LanguageClient, uri: str, version: int, since: int | None = None,
                           timeout: float = WAIT_TIMEOUT) -> list[t.Diagnostic]:
    """The diagnostics of ``uri`` at ``version`` published after the ``since``-th publication
    (default: from now on); an AssertionError after ``timeout`` seconds.

    The publications recorded by the client are searched: pytest-lsp's
    ``wait_for_notification`` resolves one waiter with the first matching notification and
    drops the others its reader handles before the test awaits again, so a publication that
    arrived in the same read as another one (the client behind on a loaded machine) was lost,
    and the test waited forever."""
    published: list[t.PublishDiagnosticsParams] = client.published  # type: ignore[attr-defined]
    seen = len(published) if since is None else since
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        for params in published[seen:]:
            if params.uri == uri and params.version == version:
                return list(params.diagnostics)
        seen = len(published)
        if loop.time() >= deadline:
            got = [(p.uri, p.version) for p in published if p.uri == uri]
            raise AssertionError(f"no diagnostics for {uri} version {version} within {timeout:g} s; "
                                 f"published for it so far (uri, version): {got}")
        await asyncio.sleep(0.01)


def data(name: str) -> str:
    return (DATA / name).read_text()


def uri_of(name: str) -> str:
    return (DATA / name).as_uri()


def pos(line: int, character: int) -> t.Position:
    """0-based, as LSP."""
    return t.Position(line=line, character=character)


def doc_id(uri: str) -> t.TextDocumentIdentifier:
    return t.TextDocumentIdentifier(uri=uri)


def _bounded(test: Callable[..., Coroutine[Any, Any, Any]]) -> Callable[..., Coroutine[Any, Any, Any]]:
    """``test`` cancelled and failed after TEST_TIMEOUT seconds (a TimeoutError of its own
    is its own failure)."""

    @functools.wraps(test)
    async def run(*args: Any, **kwargs: Any) -> Any:
        task = asyncio.current_task()
        assert task is not None
        expired = False

        def expire() -> None:
            nonlocal expired
            expired = True
            task.cancel()

        timer = asyncio.get_running_loop().call_later(TEST_TIMEOUT, expire)
        try:
            return await test(*args, **kwargs)
        except asyncio.CancelledError:
            if not expired:
                raise
            pytest.fail(f"{test.__name__} did not finish within {TEST_TIMEOUT:g} s (TIR_LSP_TEST_TIMEOUT); "
                        "the traceback above shows where it waited")
        finally:
            timer.cancel()
    return run


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Each language-server test runs under a time limit (CI must fail, not hang)."""
    here = Path(__file__).resolve().parent
    for item in items:
        fn = getattr(item, "obj", None)
        if (isinstance(item, pytest.Function) and inspect.iscoroutinefunction(fn)
                and here in Path(str(item.path)).resolve().parents):
            item.obj = _bounded(fn)
