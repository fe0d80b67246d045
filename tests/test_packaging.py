"""The wheel must carry every package and the grammar."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_folder_is_listed_in_pyproject() -> None:
    text = (ROOT / "pyproject.toml").read_text()
    listed = set(re.findall(r'"((?:compiler|tir_lsp)(?:\.\w+)*)"', text.split("packages = [", 1)[1].split("]", 1)[0]))
    found = {
        ".".join(p.parent.relative_to(ROOT).parts)
        for top in ("compiler", "tir_lsp")
        for p in (ROOT / top).rglob("__init__.py")
        if "__pycache__" not in p.parts
    }
    assert found - listed == set(), f"add these to [tool.setuptools] packages: {sorted(found - listed)}"


def test_grammar_is_found_from_the_source_tree() -> None:
    from compiler.text.parser import grammar_path

    assert grammar_path().read_text().startswith("// TIR text")
