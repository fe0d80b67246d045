"""A closed workspace file that an open document calls into is parsed once: the workspace
index hands the module it read to the server's module cache, which the cross-file checks use
(it was parsed a second time when the calls were first checked, and after each change on disk)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.lsp.conftest import DATA
from tir_lsp.compiler.text.parsed_file import ParsedFile
from tir_lsp.documents import Document
from tir_lsp.server import TirLanguageServer


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    shutil.copytree(DATA / "crossfile", tmp_path, dirs_exist_ok=True)
    return tmp_path


def test_a_called_file_is_parsed_once(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    main, lib = workspace / "src" / "tir-main.txt", workspace / "src" / "tir-lib.txt"
    parses: list[str] = []
    real = ParsedFile.parse.__func__  # type: ignore[attr-defined]

    def counting(cls, text, filename="<input>", prev=None):  # type: ignore[no-untyped-def]
        parses.append(filename)
        return real(cls, text, filename, prev)

    monkeypatch.setattr(ParsedFile, "parse", classmethod(counting))
    ls = TirLanguageServer()
    uri = main.as_uri()
    # The caller is open before the index has found its callee (as after initialize).
    ls.docs[uri] = Document(uri, str(main)).updated(main.read_text(), 1, ls.resolver_for(uri))
    assert [d.code for d in ls.docs[uri].diagnostics] == []  # nothing known of tir-lib.txt yet
    ls.index.index_roots([workspace])
    checked = ls.docs[uri].rechecked()
    assert [d.code for d in checked.diagnostics] == ["TIR101", "TIR103"]
    assert parses.count(str(lib)) == 1

    # Changed on disk: read again by the index (once), and the calls checked against the new text.
    lib.write_text(lib.read_text().replace("def add(", "def add_v2(").replace('"global_symbol": "add"',
                                                                               '"global_symbol": "add_v2"'))
    os.utime(lib, ns=(1, 1))  # a stamp surely different from the first one
    assert ls.index.refresh(str(lib))
    assert [d.code for d in checked.rechecked().diagnostics] == ["TIR103"]
    assert parses.count(str(lib)) == 2
