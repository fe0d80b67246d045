"""Functions and buffers of the workspace's TIR files that are not open, for definition,
references-by-name, workspace symbols and cross-file calling-convention checks.

Closed files are read with the real parser, but only their function headers: a Model
Library Format ``src/`` folder or a fixture tree may hold hundreds of files, and all the
index needs is each function's name, its ``global_symbol`` attribute and its parameters.
For every function (``split_chunks``) the decorators, the ``def`` lines and the leading
``T.func_attr(...)`` statements are parsed, the rest of the body is not: a few lines per
function instead of all of them. The result is cached per file by (mtime, size). Buffers
declared inside bodies (``T.alloc_buffer`` ...) are found by a regular expression on the
body lines the header parse skips. Open documents are always asked instead.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from compiler.ir.span import Span

_BUFFER_DECL = re.compile(r"^[ \t]*(\w+)\s*=\s*T\.(alloc_buffer|decl_buffer|match_buffer|Buffer|sblock_alloc_buffer)\(")
_FUNC_ATTR = re.compile(r"[ \t]*T\.func_attr\(")
MAX_FILES = 5000


@dataclass(frozen=True, slots=True)
class Symbol:
    name: str
    kind: str  # "function" or "buffer"
    path: str
    span: Span
    container: str | None = None
    # A function's "global_symbol" attribute when it differs from its name (calls use it).
    global_symbol: str | None = None


def _header_end(lines: list[str], start: int, end: int) -> int | None:
    """The index after the last line of the function header starting at ``start`` (its
    decorators and ``def`` line(s), then any leading ``T.func_attr(...)`` statements), or
    None when the header does not end with ``:`` at the end of a line."""
    from compiler.text.parser import _bracket_delta, _is_code

    i, depth, seen_def = start, 0, False
    while i < end:
        line = lines[i]
        if depth <= 0 and line.lstrip().startswith("def "):
            seen_def = True
        depth += _bracket_delta(line)
        i += 1
        if seen_def and depth <= 0:
            code = line.rstrip()
            if not code.endswith(":") and "#" in code:
                code = code[:code.index("#")].rstrip()
            if not code.endswith(":"):
                return None  # a one-line function (``def f(): pass``): parse all of it
            break
    else:
        return None
    last = i
    # Leading attribute statements: the global symbol a call may name the function by.
    while i < end:
        line = lines[i]
        if not _is_code(line):
            i += 1
            continue
        if not _FUNC_ATTR.match(line):
            break
        depth = 0
        while i < end:
            depth += _bracket_delta(lines[i])
            i += 1
            if depth <= 0:
                break
        last = i
    return last


def _global_symbol(body: tuple[Any, ...]) -> str | None:
    from compiler.text import syntax as S

    for st in body:
        if type(st) is not S.ExprStmt or type(st.value) is not S.Call:
            continue
        call = st.value
        func = call.func
        if not (type(func) is S.Attribute and func.attr == "func_attr" and call.args):
            continue
        attrs = call.args[0]
        if type(attrs) is S.DictExpr:
            for k, v in attrs.items:
                if type(k) is S.Constant and k.value == "global_symbol" and type(v) is S.Constant \
                        and isinstance(v.value, str):
                    return v.value
    return None


def _function_defs(stmts: Iterable[Any]) -> Iterator[Any]:
    from compiler.text import syntax as S

    for st in stmts:
        if isinstance(st, S.FunctionDef):
            yield st
        elif isinstance(st, (S.ClassDef, S.Error)):
            yield from _function_defs(st.body)


def _is_buffer_annotation(ann: Any) -> bool:
    from compiler.text import syntax as S

    if type(ann) is not S.Call or type(ann.func) is not S.Attribute:
        return False
    return ann.func.attr in ("Buffer", "Tensor") and type(ann.func.value) is S.Name and ann.func.value.id == "T"


def scan_text(text: str, path: str) -> list[Symbol]:
    """The functions (with their parameter buffers) and buffers declared in ``text``."""
    from compiler.text.parser import parse_chunk, split_chunks

    lines = text.split("\n")
    if "\r" in text:
        lines = [ln.removesuffix("\r") for ln in lines]
    out: list[Symbol] = []
    for chunk in split_chunks(lines):
        end = _header_end(lines, chunk.start, chunk.end)
        if end is None:
            header, body_from = lines[chunk.start:chunk.end], chunk.end
        else:
            header, body_from = lines[chunk.start:end], end
            if not any(_FUNC_ATTR.match(ln) for ln in header):
                header = [*header, " " * (chunk.indent + 4) + "pass"]
        stmts, _diags = parse_chunk(header, chunk.start + 1)
        func: str | None = None
        for fdef in _function_defs(stmts):
            func = fdef.name.id
            gsym = _global_symbol(fdef.body)
            out.append(Symbol(func, "function", path, fdef.name.span, None, gsym if gsym != func else None))
            for p in fdef.params:
                if _is_buffer_annotation(p.annotation):
                    out.append(Symbol(p.name.id, "buffer", path, p.name.span, func))
        for k in range(body_from, chunk.end):
            m = _BUFFER_DECL.match(lines[k])
            if m:
                out.append(Symbol(m.group(1), "buffer", path, Span(k + 1, m.start(1) + 1, k + 1, m.end(1) + 1), func))
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
        from compiler.text.reader import decode_tir_bytes

        text, bad = decode_tir_bytes(data, path)
        syms = scan_text(text, path) if text is not None and bad is None else []
        with self._lock:
            self._by_path[path] = (stamp, syms)
            self._functions = None
        return True

    def set_file(self, path: str, text: str) -> None:
        syms = scan_text(text, path)
        with self._lock:
            self._by_path[path] = (file_stamp(path), syms)
            self._functions = None

    def paths(self) -> list[str]:
        with self._lock:
            return list(self._by_path)

    def symbols(self) -> list[Symbol]:
        with self._lock:
            return [s for _stamp, syms in self._by_path.values() for s in syms]

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
