"""pygls glue: one thin handler per LSP method. Analysis lives in ``tir_lsp.documents`` and
``tir_lsp.features``; here we only convert positions, pick the document and schedule work.

Threading: documents are analysed in one worker thread (edits are coalesced: the worker
always takes the newest text), queries run on the event loop against the newest finished
analysis, and commands that lower code run in the default thread pool. A document is an
immutable snapshot, so a query never sees a half-updated state.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import sys
import traceback
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path

from tir_lsp import cross_file, transport
from tir_lsp.compiler.diagnostics import Diagnostic
from tir_lsp.compiler.ir.function import PrimFunc
from tir_lsp.compiler.ir.span import Span
from tir_lsp.compiler.text.parsed_file import ParsedFile
from tir_lsp.documents import Document
from tir_lsp.features import code_actions as ca
from tir_lsp.features import commands as cmd
from tir_lsp.features import completion as comp
from tir_lsp.features import definition as defn
from tir_lsp.features import diagnostics as diag
from tir_lsp.features import folding, formatting, hover, references, rename, semantic_tokens, signature_help
from tir_lsp.features import pipeline_view as pview
from tir_lsp.features import symbols as syms
from tir_lsp.features.positions import from_lsp_position, to_lsp_range
from tir_lsp.workspace_index import WorkspaceIndex

VERSION = "0.1.0"
# VS Code reaches tir-lsp only through our extension, which registers the document commands
# itself and opens their result in an untitled editor; other clients get the C as a new file.
_VSCODE_CLIENTS = ("visual studio code", "code - oss", "vscodium", "code-server", "cursor")


class RequestFailed(JsonRpcException):
    """LSP ``RequestFailed``: the request was valid but could not be carried out."""

    CODE = -32803


# One analysis in this many lets the collector see everything again (see ``analysing``).
_COLLECT_EVERY = 32
_analyses = 0


@contextmanager
def analysing() -> Iterator[None]:
    """No garbage collection while a document is analysed, and what exists afterwards hidden
    from the collector (``gc.freeze``). The analysis makes hundreds of thousands of objects
    that live until the next edit and are freed by reference counting (the IR has no
    cycles): the first collection after a 10,000-line analysis walked them all for nothing,
    130-150 ms before its diagnostics could be published, and a full one (0.3-0.7 s) later at
    random. Every ``_COLLECT_EVERY``-th analysis unfreezes instead, so that the rare cycle
    frozen meanwhile (an exception's traceback) is still collected."""
    global _analyses
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        _analyses += 1
        if _analyses % _COLLECT_EVERY:
            gc.freeze()
        else:
            gc.unfreeze()
        if was_enabled:
            gc.enable()


class TirLanguageServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("tir-lsp", VERSION)
        self.docs: dict[str, Document] = {}
        self.pending: dict[str, asyncio.Future[Any]] = {}
        # The newest (text, version) of each open document, for the analysis worker.
        self.latest: dict[str, tuple[str, int | None]] = {}
        self.command_diagnostics: dict[str, list[Diagnostic]] = {}
        self.index = WorkspaceIndex()
        self.select: list[str] = []
        self.ignore: list[str] = []
        # "client": the client opens command results itself; "file": write them next to the file.
        self.command_results = "file"
        self.analysis_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tir-analysis")
        # Modules of closed workspace files that open documents call into (cross_file).
        self.modules = cross_file.ModuleCache()
        self.index.on_parsed = self._parsed_on_disk

    # ------------------------------------------------------------------ documents
    def path_of(self, uri: str) -> str:
        return to_fs_path(uri) or uri

    def uri_of(self, path: str) -> str:
        return from_fs_path(path) or path

    def _analyze_latest(self, uri: str) -> Document | None:
        """Worker thread: analyse the newest text of ``uri`` unless already done."""
        snapshot = self.latest.get(uri)
        if snapshot is None:
            return None  # closed meanwhile
        source, version = snapshot
        prev = self.docs.get(uri)
        if prev is not None and prev.version == version:
            return None
        base = prev if prev is not None else Document(uri, self.path_of(uri))
        self.index.idle.clear()
        try:
            with analysing():
                doc = base.updated(source, version, self.resolver_for(uri))
        finally:
            self.index.idle.set()
        if uri in self.workspace.text_documents:
            self.docs[uri] = doc
        return doc

    def _parsed_on_disk(self, path: str, stamp: tuple[int, int], parsed: ParsedFile) -> None:
        """The index has read ``path`` (its thread): the module is kept when open documents
        call into the file, which is then parsed once, not again when the calls are checked."""
        if not self.modules.has(path):
            called = set().union(*(d.external for d in list(self.docs.values())))
            if not called:
                return
            defined = {name for name, _span, _f in parsed.function_names()}
            defined |= {f.global_symbol for f in parsed.module.functions}
            if not called & defined:
                return
        self.modules.put(path, stamp, parsed.module)

    def resolver_for(self, uri: str) -> cross_file.Resolver:
        """Where the calls of ``uri`` to functions it does not define are resolved: the other
        open documents (as edited) and the closed files of the workspace (as on disk)."""
        own = self.path_of(uri)

        def resolve(names: set[str]) -> dict[str, Any]:
            open_modules = {d.filename: d.module for u, d in list(self.docs.items()) if u != uri}

            def defined_in(name: str) -> list[str]:
                paths = [p for p, m in open_modules.items()
                         if any(f.name == name or f.global_symbol == name for f in m.functions)]
                return paths + [s.path for s in self.index.functions_named(name) if s.path not in open_modules]

            def module_of(path: str) -> Any:
                return open_modules[path] if path in open_modules else self.modules.get(path)

            return cross_file.resolve(names, own, defined_in, module_of)

        return resolve

    def _recheck(self, uri: str) -> Document | None:
        """Worker thread: check ``uri`` again against the other files; the new document if
        its diagnostics changed."""
        doc = self.docs.get(uri)
        if doc is None or not doc.external:
            return None
        with analysing():
            new = doc.rechecked()
        if self.docs.get(uri) is not doc:
            return None  # a newer version was analysed meanwhile (and published)
        self.docs[uri] = new
        return new if new.diagnostics != doc.diagnostics else None

    async def refresh_dependents(self, changed: str | None = None) -> None:
        """Re-check the open documents that call functions of other files (after ``changed``,
        an open document or a file on disk, changed) and publish those whose diagnostics moved."""
        loop = asyncio.get_running_loop()
        for uri, doc in list(self.docs.items()):
            if uri == changed or not doc.external:
                continue
            new = await loop.run_in_executor(self.analysis_pool, self._recheck, uri)
            if new is not None:
                self.publish(new)

    async def schedule(self, uri: str) -> None:
        td = self.workspace.text_documents.get(uri)
        if td is None:
            return  # closed before its analysis was scheduled
        # Text and version read together on the loop: pygls applies an edit to the text, then
        # the version, so a worker reading both could pair an old text with a new version.
        self.latest[uri] = (td.source, td.version)
        version = td.version
        loop = asyncio.get_running_loop()
        fut = loop.run_in_executor(self.analysis_pool, self._analyze_latest, uri)
        self.pending[uri] = fut
        try:
            doc = await fut
        except Exception as exc:  # noqa: BLE001 - a bug in the analysis: shown, not swallowed
            self.report_crash(uri, version, exc)
            return
        if doc is not None:
            self.publish(doc)
            await self.refresh_dependents(uri)

    def report_crash(self, uri: str, version: int | None, exc: BaseException) -> None:
        """Make an analysis crash visible: a TIR900 diagnostic on the document (in place of
        diagnostics that could not be computed) and the traceback in the client's log."""
        where = f"{type(exc).__name__}: {exc}"
        trace = "".join(traceback.format_exception(exc))
        self.window_log_message(types.LogMessageParams(
            type=types.MessageType.Error, message=f"tir-lsp: internal error analysing {uri}: {where}\n{trace}"))
        crash = Diagnostic("TIR900", f"internal error while analysing this file ({where}); diagnostics may "
                           "be missing. This is a bug in tir-lsp: the traceback is in the language server's log.",
                           Span(1, 1, 1, 1))
        td = self.workspace.text_documents.get(uri)
        if td is None or td.version != version:
            return  # a newer version is being analysed
        item = diag.to_lsp(crash, uri, td.lines, td.position_codec)
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, version=version, diagnostics=[item]))

    def publish(self, doc: Document) -> None:
        td = self.workspace.text_documents.get(doc.uri)
        if td is None or td.version != doc.version:
            return  # never publish for a stale version
        found = diag.selected(doc.diagnostics + self.command_diagnostics.get(doc.uri, []), self.select, self.ignore)
        codec = td.position_codec
        items = [diag.to_lsp(d, doc.uri, doc.lines, codec, self.uri_of) for d in found]
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=doc.uri, version=doc.version, diagnostics=items))

    async def document(self, uri: str) -> Document | None:
        """The newest analysed document (waiting for an analysis still running)."""
        fut = self.pending.get(uri)
        if fut is not None and not fut.done():
            try:
                await asyncio.shield(fut)
            except Exception:  # noqa: BLE001, S110 - the analysis failure is logged by its own task
                pass
        return self.docs.get(uri)

    def codec(self, uri: str) -> Any:
        return self.workspace.get_text_document(uri).position_codec

    async def at(self, uri: str, position: types.Position) -> tuple[Document, int, int] | None:
        doc = await self.document(uri)
        if doc is None:
            return None
        line, col = from_lsp_position(self.codec(uri), doc.lines, position)
        return doc, line, col

    def location(self, uri: str, span: Span) -> types.Location:
        doc = self.docs.get(uri)
        lines = doc.lines if doc is not None else ()
        codec = self.codec(uri) if doc is not None else self.codec_default()
        return types.Location(uri=uri, range=to_lsp_range(codec, lines, span))

    def codec_default(self) -> Any:
        from pygls.workspace.position_codec import PositionCodec

        return PositionCodec(self.workspace.position_encoding)

    def rng(self, doc: Document, span: Span) -> types.Range:
        return to_lsp_range(self.codec(doc.uri), doc.lines, span)

    def external_function(self, name: str) -> str | None:
        """Hover text for a function defined in another file: an open document, else a file
        of the workspace as it is on disk."""
        roots = [str(r) for r in self.index.roots]
        for other in list(self.docs.values()):
            hit = other.function_named(name)
            if hit is not None and isinstance(hit[0], PrimFunc):
                return hover.external_function_hover(hit[0], other.filename, roots)
        for s in self.index.functions_named(name):
            module = self.modules.get(s.path)
            func = next((f for f in module.functions if name in (f.name, f.global_symbol)), None) if module else None
            if func is not None:
                return hover.external_function_hover(func, s.path, roots)
            return f"`{name}`: function defined in `{os.path.basename(s.path)}` line {s.span.line}"
        return None


class ClientLog(logging.Handler):
    """Records logged by the compiler and the features (an internal error's traceback) in the
    client's log (window/logMessage), sent on the event loop whichever thread logged them."""

    def __init__(self, ls: TirLanguageServer, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(logging.INFO)
        self.ls, self.loop = ls, loop

    def emit(self, record: logging.LogRecord) -> None:
        kind = (types.MessageType.Error if record.levelno >= logging.ERROR
                else types.MessageType.Warning if record.levelno >= logging.WARNING else types.MessageType.Info)
        params = types.LogMessageParams(type=kind, message=f"tir-lsp: {self.format(record)}")
        try:
            self.loop.call_soon_threadsafe(self.ls.window_log_message, params)
        except RuntimeError:
            pass  # the loop has ended: the server is shutting down and nobody reads the log


def _log_to_client(ls: TirLanguageServer, loop: asyncio.AbstractEventLoop) -> None:
    logger = logging.getLogger("tir_lsp")
    for old in [h for h in logger.handlers if isinstance(h, ClientLog)]:
        logger.removeHandler(old)
    logger.addHandler(ClientLog(ls, loop))


server = TirLanguageServer()


# ---------------------------------------------------------------------- lifecycle
@server.feature(types.INITIALIZE)
def initialize(ls: TirLanguageServer, params: types.InitializeParams) -> None:
    _log_to_client(ls, asyncio.get_running_loop())
    opts = params.initialization_options if isinstance(params.initialization_options, dict) else {}
    check_opts = opts.get("check")
    check = check_opts if isinstance(check_opts, dict) else {}
    ls.select = [str(c) for c in check.get("select", []) or []]
    ls.ignore = [str(c) for c in check.get("ignore", []) or []]
    client = (params.client_info.name if params.client_info else "").lower()
    explicit = opts.get("commandResults")
    if explicit in ("client", "file"):
        ls.command_results = explicit
    else:
        ls.command_results = "client" if any(n in client for n in _VSCODE_CLIENTS) else "file"
    roots: list[Path] = []
    for folder in params.workspace_folders or []:
        p = to_fs_path(folder.uri)
        if p:
            roots.append(Path(p))
    if not roots and params.root_uri:
        p = to_fs_path(params.root_uri)
        if p:
            roots.append(Path(p))
    loop = asyncio.get_running_loop()

    def indexed() -> None:
        # Documents opened before the index was complete may call functions it has found.
        try:
            loop.call_soon_threadsafe(lambda: asyncio.ensure_future(ls.refresh_dependents()))
        except RuntimeError:
            pass  # the server is shutting down

    ls.index.start(roots, indexed if roots else None)


@server.feature(types.SHUTDOWN)
def shutdown(ls: TirLanguageServer, params: Any = None) -> None:
    ls.analysis_pool.shutdown(wait=False, cancel_futures=True)


# ---------------------------------------------------------------------- sync
@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
async def did_open(ls: TirLanguageServer, params: types.DidOpenTextDocumentParams) -> None:
    ls.docs.pop(params.text_document.uri, None)  # a re-open starts afresh, whatever its version
    await ls.schedule(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
async def did_change(ls: TirLanguageServer, params: types.DidChangeTextDocumentParams) -> None:
    ls.command_diagnostics.pop(params.text_document.uri, None)
    await ls.schedule(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_SAVE)
def did_save(ls: TirLanguageServer, params: types.DidSaveTextDocumentParams) -> None:
    doc = ls.docs.get(params.text_document.uri)
    if doc is not None:
        ls.index.set_file(doc.filename, doc.parsed)


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
async def did_close(ls: TirLanguageServer, params: types.DidCloseTextDocumentParams) -> None:
    uri = params.text_document.uri
    ls.docs.pop(uri, None)
    ls.pending.pop(uri, None)
    ls.latest.pop(uri, None)
    ls.command_diagnostics.pop(uri, None)
    ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))
    await ls.refresh_dependents(uri)  # its callers now see the file as it is on disk


@server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
async def did_change_watched_files(ls: TirLanguageServer, params: types.DidChangeWatchedFilesParams) -> None:
    changed = False
    loop = asyncio.get_running_loop()
    for event in params.changes:
        path = to_fs_path(event.uri)
        if path and ls.index.contains(path):
            # A file is read whole (the one parse path): not on the event loop.
            changed |= await loop.run_in_executor(None, ls.index.refresh, path)
    if changed:
        await ls.refresh_dependents()


def _warm_up() -> None:
    with analysing():
        Document("untitled:warm-up", "<warm-up>").updated(_WARM_UP_TEXT)


_WARM_UP_TEXT = """# from tvm.script import tirx as T
@T.prim_func
def f(A: T.Buffer((4,), "float32")) -> T.int32:
    T.func_attr({"calling_conv": 0})
    for i in range(4):
        A[i] = A[i] + T.float32(1)
    T.evaluate(T.call_extern("int32", "g", A.data))
    return 0
"""


# Files whose changes on disk matter: callees of open documents live in them.
_WATCHED = ("**/*.tir", "**/tir-*.txt")


@server.feature(types.INITIALIZED)
async def initialized(ls: TirLanguageServer, params: types.InitializedParams) -> None:
    # Load the parser tables and the analysis modules while the client is still opening its
    # first document, not when the first diagnostics are awaited.
    ls.analysis_pool.submit(_warm_up)
    ws = ls.client_capabilities.workspace
    watch = ws.did_change_watched_files if ws is not None else None
    if watch is None or not watch.dynamic_registration:
        return
    registration = types.Registration(
        id="tir-lsp-watched-files", method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
        register_options=types.DidChangeWatchedFilesRegistrationOptions(
            watchers=[types.FileSystemWatcher(glob_pattern=g) for g in _WATCHED]))
    try:
        await ls.client_register_capability_async(types.RegistrationParams(registrations=[registration]))
    except Exception:  # noqa: BLE001, S110 - without watchers, files changed on disk are seen when reopened
        pass


# ---------------------------------------------------------------------- navigation
@server.feature(types.TEXT_DOCUMENT_HOVER)
async def on_hover(ls: TirLanguageServer, params: types.HoverParams) -> types.Hover | None:
    found = await ls.at(params.text_document.uri, params.position)
    if found is None:
        return None
    doc, line, col = found
    result = hover.hover(doc, line, col, ls.external_function)
    if result is None:
        return None
    text, span = result
    return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=text),
                       range=ls.rng(doc, span))


@server.feature(types.TEXT_DOCUMENT_DEFINITION)
async def on_definition(ls: TirLanguageServer, params: types.DefinitionParams) -> list[types.Location] | None:
    found = await ls.at(params.text_document.uri, params.position)
    if found is None:
        return None
    doc, line, col = found
    targets = defn.definition(doc, line, col, ls.docs, ls.index, ls.uri_of)
    return [ls.location(uri, span) for uri, span in targets] or None


@server.feature(types.TEXT_DOCUMENT_REFERENCES)
async def on_references(ls: TirLanguageServer, params: types.ReferenceParams) -> list[types.Location] | None:
    found = await ls.at(params.text_document.uri, params.position)
    if found is None:
        return None
    doc, line, col = found
    targets = references.references(doc, line, col, ls.docs, params.context.include_declaration, ls.index,
                                    ls.uri_of)
    return [ls.location(uri, span) for uri, span in targets] or None


_SYMBOL_KINDS = {"module": types.SymbolKind.Module, "function": types.SymbolKind.Function,
                 "buffer": types.SymbolKind.Array, "loop": types.SymbolKind.Variable}


@server.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
async def on_document_symbol(ls: TirLanguageServer, params: types.DocumentSymbolParams) -> list[types.DocumentSymbol]:
    doc = await ls.document(params.text_document.uri)
    if doc is None:
        return []

    def conv(s: syms.Sym) -> types.DocumentSymbol:
        return types.DocumentSymbol(name=s.name, kind=_SYMBOL_KINDS[s.kind], range=ls.rng(doc, s.range),
                                    selection_range=ls.rng(doc, s.selection), detail=s.detail or None,
                                    children=[conv(c) for c in s.children])

    return [conv(s) for s in syms.document_symbols(doc)]


@server.feature(types.WORKSPACE_SYMBOL)
def on_workspace_symbol(ls: TirLanguageServer, params: types.WorkspaceSymbolParams) -> list[types.SymbolInformation]:
    found = syms.workspace_symbols(params.query, ls.docs, ls.index, ls.uri_of)
    return [types.SymbolInformation(name=s.name, kind=_SYMBOL_KINDS[s.kind], location=ls.location(s.uri, s.span),
                                    container_name=s.container) for s in found]


@server.feature(types.TEXT_DOCUMENT_PREPARE_RENAME)
async def on_prepare_rename(ls: TirLanguageServer, params: types.PrepareRenameParams) -> Any:
    found = await ls.at(params.text_document.uri, params.position)
    if found is None:
        return None
    doc, line, col = found
    hit = rename.prepare_rename(doc, line, col)
    if hit is None:
        return None
    return types.PrepareRenamePlaceholder(range=ls.rng(doc, hit[0]), placeholder=hit[1])


@server.feature(types.TEXT_DOCUMENT_RENAME)
async def on_rename(ls: TirLanguageServer, params: types.RenameParams) -> types.WorkspaceEdit | None:
    found = await ls.at(params.text_document.uri, params.position)
    if found is None:
        return None
    doc, line, col = found
    try:
        spans = rename.rename(doc, line, col, params.new_name)
    except rename.RenameError as exc:
        raise RequestFailed(str(exc)) from None
    edits = [types.TextEdit(range=ls.rng(doc, sp), new_text=params.new_name) for sp in spans]
    return types.WorkspaceEdit(changes={doc.uri: edits})


# ---------------------------------------------------------------------- presentation
@server.feature(types.TEXT_DOCUMENT_SEMANTIC_TOKENS_FULL,
                types.SemanticTokensLegend(token_types=semantic_tokens.TOKEN_TYPES,
                                           token_modifiers=semantic_tokens.TOKEN_MODIFIERS))
async def on_semantic_tokens(ls: TirLanguageServer, params: types.SemanticTokensParams) -> types.SemanticTokens:
    doc = await ls.document(params.text_document.uri)
    if doc is None:
        return types.SemanticTokens(data=[])
    return types.SemanticTokens(data=semantic_tokens.semantic_tokens(doc, ls.codec(doc.uri)))


@server.feature(types.TEXT_DOCUMENT_FOLDING_RANGE)
async def on_folding(ls: TirLanguageServer, params: types.FoldingRangeParams) -> list[types.FoldingRange]:
    doc = await ls.document(params.text_document.uri)
    if doc is None:
        return []
    return [types.FoldingRange(start_line=a, end_line=b,
                               kind=types.FoldingRangeKind.Comment if k == "comment" else None)
            for a, b, k in folding.folding_ranges(doc.lines)]


_COMPLETION_KINDS = {"function": types.CompletionItemKind.Function, "variable": types.CompletionItemKind.Variable,
                     "buffer": types.CompletionItemKind.Variable, "type": types.CompletionItemKind.TypeParameter,
                     "keyword": types.CompletionItemKind.Keyword, "module": types.CompletionItemKind.Module}


@server.feature(types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions(trigger_characters=[".", '"']))
async def on_completion(ls: TirLanguageServer, params: types.CompletionParams) -> types.CompletionList:
    found = await ls.at(params.text_document.uri, params.position)
    if found is None:
        return types.CompletionList(is_incomplete=False, items=[])
    doc, line, col = found
    items = [types.CompletionItem(label=i.label, kind=_COMPLETION_KINDS.get(i.kind), detail=i.detail or None,
                                  documentation=i.documentation or None)
             for i in comp.completion(doc, line, col)]
    return types.CompletionList(is_incomplete=False, items=items)


@server.feature(types.TEXT_DOCUMENT_SIGNATURE_HELP,
                types.SignatureHelpOptions(trigger_characters=["(", ","], retrigger_characters=[","]))
async def on_signature_help(ls: TirLanguageServer, params: types.SignatureHelpParams) -> types.SignatureHelp | None:
    found = await ls.at(params.text_document.uri, params.position)
    if found is None:
        return None
    doc, line, col = found
    sig = signature_help.signature_help(doc, line, col)
    if sig is None:
        return None
    info = types.SignatureInformation(label=sig.label, documentation=sig.documentation,
                                      parameters=[types.ParameterInformation(label=p) for p in sig.parameters])
    return types.SignatureHelp(signatures=[info], active_signature=0, active_parameter=sig.active)


@server.feature(types.TEXT_DOCUMENT_FORMATTING)
async def on_formatting(ls: TirLanguageServer, params: types.DocumentFormattingParams) -> list[types.TextEdit]:
    return await _formatting_edits(ls, params.text_document.uri, formatting.formatting_edits)


@server.feature(types.TEXT_DOCUMENT_RANGE_FORMATTING)
async def on_range_formatting(ls: TirLanguageServer,
                              params: types.DocumentRangeFormattingParams) -> list[types.TextEdit]:
    return await _formatting_edits(ls, params.text_document.uri, formatting.range_formatting_edits, params.range)


async def _formatting_edits(ls: TirLanguageServer, uri: str, fn: Any, *args: Any) -> list[types.TextEdit]:
    """``fn(text, *args, codec)`` on the document's current text; a refusal is logged."""
    td = ls.workspace.text_documents.get(uri)
    if td is None:
        return []
    # Formatting reads the text twice or more (to check its result): off the event loop, in
    # turn with the analysis.
    loop = asyncio.get_running_loop()
    edits, refused = await loop.run_in_executor(ls.analysis_pool, fn, td.source, *args, td.position_codec)
    if refused is not None:
        ls.window_log_message(types.LogMessageParams(type=types.MessageType.Warning, message=f"TIR: {refused}"))
    return list(edits)


# ---------------------------------------------------------------------- actions and commands
@server.feature(types.TEXT_DOCUMENT_CODE_ACTION,
                types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix,
                                                           types.CodeActionKind.Source]))
async def on_code_action(ls: TirLanguageServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    doc = await ls.document(params.text_document.uri)
    if doc is None:
        return []
    line = params.range.start.line + 1
    end_line = params.range.end.line + 1
    near = [d for d in doc.diagnostics if d.span.line <= end_line and d.span.end_line >= line]
    create = ls.command_results == "file" and _can_create_files(ls)
    actions = ca.code_actions(doc, line, end_line, near, create)
    only = params.context.only
    out: list[types.CodeAction] = []
    for a in actions:
        kind = types.CodeActionKind.QuickFix if a.kind == "quickfix" else types.CodeActionKind.Source
        if only and not any(kind == k or str(kind.value).startswith(str(getattr(k, "value", k)) + ".") for k in only):
            continue
        action = types.CodeAction(title=a.title, kind=kind, is_preferred=a.preferred or None)
        if a.command:
            action.command = types.Command(title=a.title, command=a.command, arguments=a.arguments)
        if a.edits:
            action.edit = types.WorkspaceEdit(changes={doc.uri: [
                types.TextEdit(range=ls.rng(doc, sp), new_text=t) for sp, t in a.edits]})
        if a.diagnostic is not None:
            action.diagnostics = [diag.to_lsp(a.diagnostic, doc.uri, doc.lines, ls.codec(doc.uri))]
        out.append(action)
    return out


def _can_create_files(ls: TirLanguageServer) -> bool:
    ws = ls.client_capabilities.workspace
    edit = ws.workspace_edit if ws is not None else None
    ops = (edit.resource_operations or []) if edit is not None else []
    return bool(ws and ws.apply_edit and edit and edit.document_changes
                and any(str(getattr(o, "value", o)) == "create" for o in ops))


async def _document_for_command(ls: TirLanguageServer, uri: Any) -> Document:
    if not isinstance(uri, str):
        raise RequestFailed(f"expected a document URI as the first argument, got {uri!r}")
    doc = await ls.document(uri)
    if doc is not None:
        return doc
    path = ls.path_of(uri)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise RequestFailed(f"{path}: cannot read: {exc.strerror}") from None
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(None, Document(uri, path).updated, text, None)


async def _run_command(ls: TirLanguageServer, doc: Document, title: str, fn: Any, *args: Any) -> Any:
    """Run ``fn`` in a thread with work-done progress; a CommandError becomes an error
    response and its diagnostics are published on the document."""
    token = None
    window = ls.client_capabilities.window
    if window is not None and window.work_done_progress:
        token = str(uuid.uuid4())
        try:
            await ls.work_done_progress.create_async(token)
            ls.work_done_progress.begin(token, types.WorkDoneProgressBegin(title=title, cancellable=False))
        except Exception:  # noqa: BLE001 - progress is a nicety
            token = None
    loop = asyncio.get_running_loop()
    try:
        return await loop.run_in_executor(None, fn, *args)
    except cmd.CommandError as exc:
        if exc.diagnostics and doc.uri in ls.docs:
            ls.command_diagnostics[doc.uri] = exc.diagnostics
            ls.publish(ls.docs[doc.uri])
        raise RequestFailed(exc.message) from None
    finally:
        if token is not None:
            ls.work_done_progress.end(token, types.WorkDoneProgressEnd(message="done"))


@server.command(cmd.LOWER_TO_C)
async def lower_to_c(ls: TirLanguageServer, *args: Any) -> dict[str, str]:
    if not args:
        raise RequestFailed("tir.lowerToC expects [uri, functionName?]")
    doc = await _document_for_command(ls, args[0])
    function = args[1] if len(args) > 1 and isinstance(args[1], str) and args[1] else None
    create = any(isinstance(a, dict) and a.get("createFile") for a in args[1:])
    result: dict[str, str] = await _run_command(ls, doc, "Lower to C", cmd.lower_to_c, doc, function)
    if ls.command_diagnostics.pop(doc.uri, None) is not None and doc.uri in ls.docs:
        ls.publish(ls.docs[doc.uri])
    if create:
        await _create_c_file(ls, doc, result)
    else:
        # A free name next to the TIR file, for clients that save the C themselves (the
        # Neovim config: 0.7 cannot create files through a workspace edit).
        path = cmd.c_file_path(doc.filename, result["title"], [str(r) for r in ls.index.roots])
        if path is not None:
            result = {**result, "path": path}
    return result


async def _create_c_file(ls: TirLanguageServer, doc: Document, result: dict[str, str]) -> None:
    """Write the C into a new file next to the TIR file (never over an existing one) and show it."""
    if not _can_create_files(ls):
        return
    path = cmd.c_file_path(doc.filename, result["title"], [str(r) for r in ls.index.roots])
    if path is None:
        ls.window_show_message(types.ShowMessageParams(
            type=types.MessageType.Warning, message=f"TIR: not creating {result['title']}: "
            f"{doc.filename} is not a file inside the workspace folders"))
        return
    target = ls.uri_of(path)
    edit = types.WorkspaceEdit(document_changes=[
        types.CreateFile(uri=target, options=types.CreateFileOptions(ignore_if_exists=True)),
        types.TextDocumentEdit(
            text_document=types.OptionalVersionedTextDocumentIdentifier(uri=target, version=None),
            edits=[types.TextEdit(range=types.Range(start=types.Position(line=0, character=0),
                                                    end=types.Position(line=0, character=0)),
                                  new_text=result["content"])]),
    ])
    applied = await ls.workspace_apply_edit_async(types.ApplyWorkspaceEditParams(edit=edit, label="Lower to C"))
    if not applied.applied:
        ls.window_show_message(types.ShowMessageParams(
            type=types.MessageType.Warning, message=f"TIR: could not create {path}: {applied.failure_reason or 'refused'}"))
        return
    window = ls.client_capabilities.window
    if window is not None and window.show_document is not None and window.show_document.support:
        try:
            await ls.window_show_document_async(types.ShowDocumentParams(uri=target, take_focus=True))
        except Exception:  # noqa: BLE001, S110 - Neovim 0.7 answers MethodNotFound; the file exists anyway
            pass


@server.command(cmd.SHOW_TIR_AFTER_PASS)
async def show_tir_after_pass(ls: TirLanguageServer, *args: Any) -> dict[str, str]:
    if len(args) < 2 or not isinstance(args[1], str):
        raise RequestFailed("tir.showTirAfterPass expects [uri, passName]")
    doc = await _document_for_command(ls, args[0])
    result: dict[str, str] = await _run_command(ls, doc, f"TIR after {args[1]}", cmd.show_tir_after_pass, doc, args[1])
    return result


@server.command(cmd.LIST_PASSES)
def list_passes(ls: TirLanguageServer, *args: Any) -> list[str]:
    return cmd.list_passes()


@server.command(cmd.EXPORT_JSON)
async def export_json(ls: TirLanguageServer, *args: Any) -> dict[str, str]:
    if not args:
        raise RequestFailed("tir.exportJson expects [uri]")
    doc = await _document_for_command(ls, args[0])
    result: dict[str, str] = await _run_command(ls, doc, "Export JSON", cmd.export_json, doc)
    return result


@server.command(pview.PASS_PIPELINE)
async def pass_pipeline(ls: TirLanguageServer, *args: Any) -> dict[str, Any]:
    if not args:
        raise RequestFailed("tir.passPipeline expects [uri, options?]")
    doc = await _document_for_command(ls, args[0])
    options = args[1] if len(args) > 1 and isinstance(args[1], dict) else None
    result: dict[str, Any] = await _run_command(ls, doc, "Pass pipeline", pview.pass_pipeline, doc, options)
    return result


def start_io() -> int:
    """Serve over stdio; returns the exit code (0 after shutdown + exit, else 1)."""
    # Short switch interval: a hover on the event loop is not held up for long by an analysis
    # running in the worker thread (REFERENCE §9).
    sys.setswitchinterval(5e-4)
    return transport.serve_stdio(server)


def start_tcp(host: str, port: int) -> int:
    sys.setswitchinterval(5e-4)
    return transport.serve_tcp(server, host, port)
