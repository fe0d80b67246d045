"""Functions, buffers and calls by name of the workspace's TIR files that are not open, for
definition, references, workspace symbols and cross-file calling-convention checks.

Closed files are read through the one parse path (``tir_lsp.compiler.text.parsed_file``), exactly as
an open document or ``tir-lsp check`` reads them; what is kept of each is small: its
functions (name, ``global_symbol``, span), the buffers they declare, and the functions its
calls name by string (``T.call_extern("int32", "f", ...)``), which find references reports
for a function of another file. The result is cached per file by (mtime, size). Open
documents are always asked instead.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tir_lsp.compiler.ir.span import Span

if TYPE_CHECKING:
    from tir_lsp.compiler.text.parsed_file import ParsedFile

MAX_FILES = 5000
# What a buffer is declared by (parameters and statements of a function body).
_BUFFER_KINDS = ("buffer_param", "buffer", "alloc_buffer", "sblock_alloc_buffer", "decl_buffer", "match_buffer")


@dataclass(frozen=True, slots=True)
class Symbol:
    name: str
    kind: str  # "function", "buffer", or "call" (a call naming function ``name`` by string)
    path: str
    span: Span
    container: str | None = None
    # A function's "global_symbol" attribute when it differs from its name (calls use it).
    global_symbol: str | None = None


def scan_text(text: str, path: str) -> list[Symbol]:
    """The functions, the buffers they declare and the calls by name in ``text``, in order."""
    from tir_lsp.compiler.text.parsed_file import ParsedFile

    return symbols_of(ParsedFile.parse(text, path), path)


def symbols_of(parsed: ParsedFile, path: str) -> list[Symbol]:
    """The functions, the buffers they declare and the calls by name of a parsed file."""
    from tir_lsp.compiler.ir.buffer import Buffer

    out: list[Symbol] = []
    for v in parsed.chunks:
        r = v.result
        functions = {f.name: f for f in r.functions}
        for name, span in r.names:
            f = functions.get(name)
            gsym = f.global_symbol if f is not None and f.global_symbol != name else None
            out.append(Symbol(name, "function", path, span.shifted(v.delta), None, gsym))
        seen: set[Span] = set()
        for d in r.index.definitions:
            if d.kind in _BUFFER_KINDS and isinstance(d.symbol, Buffer) and d.span not in seen:
                seen.add(d.span)
                out.append(Symbol(d.name, "buffer", path, d.span.shifted(v.delta), d.function))
        out.extend(Symbol(name, "call", path, span.shifted(v.delta)) for name, span in r.index.call_names)
    return out


def tir_files(root: Path) -> list[Path]:
    """``*.tir`` and ``src/tir-*.txt`` (Model Library Format) under ``root``."""
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not d.startswith(".") and d not in ("node_modules", "__pycache__")]
        in_src = os.path.basename(dirpath) == "src"
        for f in filenames:
            if f.endswith(".tir") or (in_src and f.startswith("tir-") and f.endswith(".txt")):
                found.append(Path(dirpath) / f)
                if len(found) >= MAX_FILES:
                    return found
    return found


def file_stamp(path: str) -> tuple[int, int] | None:
    """(mtime in ns, size) of ``path``, None when it cannot be read."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size


class WorkspaceIndex:
    """Symbols of the workspace files by path; filled in a background thread, each file
    scanned again only when its (mtime, size) changed."""

    def __init__(self) -> None:
        # Called with (path, stamp, parsed file) for each file read from disk: the server keeps
        # the module of a file that open documents call into, so it is not parsed again.
        self.on_parsed: Callable[[str, tuple[int, int], ParsedFile], None] | None = None
        self._by_path: dict[str, tuple[tuple[int, int] | None, list[Symbol]]] = {}
        # Functions by name and by global symbol, rebuilt on the first lookup after a change
        # (an edit re-resolves the document's external calls: no scan of every symbol).
        self._functions: dict[str, list[Symbol]] | None = None
        self._lock = threading.Lock()
        self.ready = threading.Event()
        self.roots: list[Path] = []
        # Set while no document is being analysed: the indexer waits for it before each file,
        # so that scanning a large workspace never slows down the diagnostics of an open one.
        self.idle = threading.Event()
        self.idle.set()

    def index_roots(self, roots: list[Path], on_ready: Callable[[], None] | None = None) -> None:
        for root in roots:
            for p in tir_files(root):
                self.idle.wait()
                self.refresh(str(p))
        self.ready.set()
        if on_ready is not None:
            on_ready()

    def start(self, roots: list[Path], on_ready: Callable[[], None] | None = None) -> threading.Thread:
        """Index ``roots`` in a background thread, then call ``on_ready`` (in that thread)."""
        self.roots = list(roots)
        t = threading.Thread(target=self.index_roots, args=(roots, on_ready), name="tir-workspace-index",
                             daemon=True)
        t.start()
        return t

    def contains(self, path: str) -> bool:
        """Whether ``path`` lies in a workspace root (and so belongs in the index)."""
        p = os.path.abspath(path)
        return any(p.startswith(str(r).rstrip(os.sep) + os.sep) for r in self.roots)

    def refresh(self, path: str) -> bool:
        """Scan ``path`` again if it changed on disk (or drop it when it is gone); True when
        its entry changed."""
        stamp = file_stamp(path)
        with self._lock:
            old = self._by_path.get(path)
        if stamp is None:
            with self._lock:
                self._functions = None
                return self._by_path.pop(path, None) is not None
        if old is not None and old[0] == stamp:
            return False
        try:
            data = Path(path).read_bytes()
        except OSError:
            return False
        from tir_lsp.compiler.text.reader import decode_tir_bytes

        text, bad = decode_tir_bytes(data, path)
        syms: list[Symbol] = []
        if text is not None and bad is None:
            from tir_lsp.compiler.text.parsed_file import ParsedFile

            parsed = ParsedFile.parse(text, path)
            syms = symbols_of(parsed, path)
            if self.on_parsed is not None:
                self.on_parsed(path, stamp, parsed)
        with self._lock:
            self._by_path[path] = (stamp, syms)
            self._functions = None
        return True

    def set_file(self, path: str, parsed: ParsedFile) -> None:
        """``path`` as an open document has it (just saved)."""
        syms = symbols_of(parsed, path)
        with self._lock:
            self._by_path[path] = (file_stamp(path), syms)
            self._functions = None

    def paths(self) -> list[str]:
        with self._lock:
            return list(self._by_path)

    def symbols(self) -> list[Symbol]:
        with self._lock:
            return [s for _stamp, syms in self._by_path.values() for s in syms]

    def calls_to(self, names: set[str]) -> list[Symbol]:
        """The calls by string to any of ``names`` in the indexed files, ordered by path."""
        with self._lock:
            found = [s for _stamp, syms in self._by_path.values() for s in syms
                     if s.kind == "call" and s.name in names]
        return sorted(found, key=lambda s: (s.path, s.span.line, s.span.column))

    def functions_named(self, name: str) -> list[Symbol]:
        """Functions called ``name`` (by name or by global symbol), ordered by path."""
        with self._lock:
            if self._functions is None:
                by_name: dict[str, list[Symbol]] = {}
                for _stamp, syms in self._by_path.values():
                    for s in syms:
                        if s.kind == "function":
                            by_name.setdefault(s.name, []).append(s)
                            if s.global_symbol:
                                by_name.setdefault(s.global_symbol, []).append(s)
                self._functions = by_name
            found = self._functions.get(name, [])
        return sorted(found, key=lambda s: (s.path, s.span.line))
