"""Calls to functions defined in other files of the workspace (a Model Library Format
``src/`` folder holds one TIR file per module): which files to look in, and their modules.

``tir-lsp check`` and the language server resolve a call the same way, so they report the
same TIR101..TIR104 diagnostics: a name not defined in the caller's own module is looked up
in the files that define a function of that name (by name or ``global_symbol``), those in the
caller's folder first, then the others by path; the first one found is the callee
(``calling_convention.find_callee``). Other files are parsed only when a call names one of
their functions, and their modules are cached by (mtime, size).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

from tir_lsp.compiler.ir.function import IRModule

Resolver = Callable[[set[str]], dict[str, IRModule]]


def search_order(paths: Iterable[str], own: str) -> list[str]:
    """The caller's folder first, then by path."""
    here = os.path.dirname(os.path.abspath(own))
    return sorted(set(paths) - {own}, key=lambda p: (os.path.dirname(os.path.abspath(p)) != here, p))


def read_module(path: str, name: str | None = None) -> IRModule | None:
    """The module of the file at ``path`` (named ``name`` in diagnostics), None if unreadable."""
    from tir_lsp.compiler.text.reader import decode_tir_bytes, read_tir

    try:
        data = Path(path).read_bytes()
    except OSError:
        return None
    text, bad = decode_tir_bytes(data, name or path)
    if text is None or bad is not None:
        return None
    return read_tir(text, name or path).module


class ModuleCache:
    """Whole modules of files on disk, read on demand, each parsed again only when its
    (mtime, size) changed."""

    def __init__(self) -> None:
        self._modules: dict[str, tuple[tuple[int, int], IRModule | None]] = {}
        self._lock = threading.Lock()

    def get(self, path: str, name: str | None = None) -> IRModule | None:
        from tir_lsp.workspace_index import file_stamp

        stamp = file_stamp(path)
        if stamp is None:
            return None
        with self._lock:
            hit = self._modules.get(path)
        if hit is not None and hit[0] == stamp:
            return hit[1]
        module = read_module(path, name)
        with self._lock:
            self._modules[path] = (stamp, module)
        return module

    def has(self, path: str) -> bool:
        with self._lock:
            return path in self._modules

    def put(self, path: str, stamp: tuple[int, int], module: IRModule) -> None:
        """``module`` read from ``path`` as it was at ``stamp`` (by someone else)."""
        with self._lock:
            self._modules[path] = (stamp, module)


def resolve(names: set[str], own: str, defined_in: Callable[[str], Iterable[str]],
            module_of: Callable[[str], IRModule | None]) -> dict[str, IRModule]:
    """The modules (by file) where the calls to ``names`` are resolved, in search order."""
    paths = {p for n in names for p in defined_in(n)}
    out: dict[str, IRModule] = {}
    for p in search_order(paths, own):
        module = module_of(p)
        if module is not None:
            out[p] = module
    return out


class FileSet:
    """The files ``tir-lsp check`` was given, as the workspace its calls are resolved in.
    Nothing is read until a file calls a function it does not define; then the files whose
    text contains the name are read (once: their modules are what the calls are checked against)."""

    def __init__(self, files: list[tuple[str, str]]) -> None:
        self.files = files  # (path, display name)
        self._texts: list[tuple[str, str]] | None = None
        self._defines: dict[str, set[str]] = {}
        self._modules = ModuleCache()
        self._read: dict[str, IRModule] = {}  # modules of the files scanned for a name
        self._display = dict(files)
        self._path_of = {display: path for path, display in files}

    def _all_texts(self) -> list[tuple[str, str]]:
        if self._texts is None:
            from tir_lsp.compiler.text.reader import decode_tir_bytes

            texts = []
            for path, display in self.files:
                try:
                    text, _bad = decode_tir_bytes(Path(path).read_bytes(), display)
                except OSError:
                    continue
                if text is not None:
                    texts.append((path, text))
            self._texts = texts
        return self._texts

    def _functions_of(self, path: str, text: str) -> set[str]:
        found = self._defines.get(path)
        if found is None:
            from tir_lsp.compiler.text.parsed_file import ParsedFile

            # Read once: the module found here is the one calls into the file are checked against.
            parsed = ParsedFile.parse(text, self._display.get(path, path))
            found = {name for name, _span, _f in parsed.function_names()}
            found |= {f.global_symbol for f in parsed.module.functions}
            self._defines[path] = found
            self._read[path] = parsed.module
        return found

    def defined_in(self, name: str) -> list[str]:
        return [p for p, text in self._all_texts() if name in text and name in self._functions_of(p, text)]

    def _module_of(self, path: str) -> IRModule | None:
        read = self._read.get(path)
        return read if read is not None else self._modules.get(path, self._display.get(path))

    def resolver_for(self, display: str) -> Resolver | None:
        """Resolves the calls of the file shown as ``display`` (None: not one of the files);
        the modules found are keyed by display name, as the diagnostics name files."""
        path = self._path_of.get(display)
        if path is None:
            return None

        def run(names: set[str]) -> dict[str, IRModule]:
            found = resolve(names, path, self.defined_in, self._module_of)
            return {self._display.get(p, p): m for p, m in found.items()}
        return run
