"""The wheel must carry every package, the grammar and the license."""

from __future__ import annotations

import re
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - the tomli backport
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_folder_is_listed_in_pyproject() -> None:
    text = (ROOT / "pyproject.toml").read_text()
    listed = set(re.findall(r'"(tir_lsp(?:\.\w+)*)"', text.split("packages = [", 1)[1].split("]", 1)[0]))
    found = {
        ".".join(p.parent.relative_to(ROOT).parts)
        for top in ("tir_lsp",)
        for p in (ROOT / top).rglob("__init__.py")
        if "__pycache__" not in p.parts
    }
    assert found - listed == set(), f"add these to [tool.setuptools] packages: {sorted(found - listed)}"


def test_grammar_is_found_from_the_source_tree() -> None:
    from tir_lsp.compiler.text.parser import grammar_path

    assert grammar_path().read_text().startswith("// TIR text")


def test_the_license_is_an_spdx_expression_and_its_file_ships() -> None:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    # PEP 639: an SPDX string (the `{ text = ... }` table is deprecated) and the file it names.
    assert meta["project"]["license"] == "Apache-2.0"
    assert meta["project"]["license-files"] == ["LICENSE"]
    assert not any(c.startswith("License ::") for c in meta["project"].get("classifiers", []))
    # setuptools reads both from 77.0 on.
    (setuptools,) = [r for r in meta["build-system"]["requires"] if r.startswith("setuptools")]
    assert setuptools == "setuptools>=77"
    text = (ROOT / "LICENSE").read_text()
    assert text.lstrip().startswith("Apache License\n                           Version 2.0, January 2004")
    assert "END OF TERMS AND CONDITIONS" in text

