"""Functions and buffers of the workspace's TIR files that are not open, for definition,
references-by-name and workspace symbols across files.

Closed files are indexed with regular expressions, not parsed: a Model Library Format
``src/`` folder or a fixture tree may hold hundreds of files, and all we need from them is
where each function and buffer is declared. Open documents are always asked instead.
"""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path

from compiler.ir.span import Span

_DEF = re.compile(r"^[ \t]*def[ \t]+(\w+)")
_BUFFER_PARAM = re.compile(r"(\w+)\s*:\s*T\.Buffer\(")
_BUFFER_DECL = re.compile(r"^[ \t]*(\w+)\s*=\s*T\.(alloc_buffer|decl_buffer|match_buffer|Buffer|sblock_alloc_buffer)\(")
MAX_FILES = 5000


@dataclass(frozen=True, slots=True)
class Symbol:
    name: str
    kind: str  # "function" or "buffer"
    path: str
    span: Span
    container: str | None = None


def scan_text(text: str, path: str) -> list[Symbol]:
    """The functions and buffers declared in ``text`` (by regular expressions)."""
    out: list[Symbol] = []
    func: str | None = None
    for i, line in enumerate(text.split("\n"), start=1):
        m = _DEF.match(line)
        if m:
            func = m.group(1)
            out.append(Symbol(func, "function", path, Span(i, m.start(1) + 1, i, m.end(1) + 1)))
            for b in _BUFFER_PARAM.finditer(line, m.end()):
                out.append(Symbol(b.group(1), "buffer", path, Span(i, b.start(1) + 1, i, b.end(1) + 1), func))
            continue
        m = _BUFFER_DECL.match(line)
        if m:
            out.append(Symbol(m.group(1), "buffer", path, Span(i, m.start(1) + 1, i, m.end(1) + 1), func))
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


class WorkspaceIndex:
    """Symbols of the workspace files by path; filled in a background thread."""

    def __init__(self) -> None:
        self._by_path: dict[str, list[Symbol]] = {}
        self._lock = threading.Lock()
        self.ready = threading.Event()

    def index_roots(self, roots: list[Path]) -> None:
        for root in roots:
            for p in tir_files(root):
                try:
                    text = p.read_text(encoding="utf-8", errors="replace")
                except OSError:
                    continue
                self.set_file(str(p), text)
        self.ready.set()

    def start(self, roots: list[Path]) -> threading.Thread:
        t = threading.Thread(target=self.index_roots, args=(roots,), name="tir-workspace-index", daemon=True)
        t.start()
        return t

    def set_file(self, path: str, text: str) -> None:
        syms = scan_text(text, path)
        with self._lock:
            self._by_path[path] = syms

    def symbols(self) -> list[Symbol]:
        with self._lock:
            return [s for syms in self._by_path.values() for s in syms]

    def functions_named(self, name: str) -> list[Symbol]:
        return [s for s in self.symbols() if s.kind == "function" and s.name == name]
