"""Facts kept in one place, and the copies of them in the docs checked against it: the
diagnostic codes (``diagnostics.CODES``) and the order of the passes (``pipeline.ORDER``)."""

from __future__ import annotations

import ast
import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

from tir_lsp.compiler.diagnostics import CODES
from tir_lsp.compiler.transform.pipeline import list_passes
from tir_lsp.compiler.transform.registry import PASSES

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "docs" / "diagnostic_codes.py"


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("diagnostic_codes", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_tables_of_codes_in_the_docs_are_the_list() -> None:
    script = _script()
    for path in script.FILES:
        text = path.read_text(encoding="utf-8")
        assert script.with_table(text, path.name) == text, f"{path.name}: run python docs/diagnostic_codes.py"


def test_the_script_rewrites_a_stale_table(tmp_path: Path) -> None:
    script = _script()
    stale = f"# Codes\n\n{script.BEGIN}\n| `TIR001` | error | old words |\n{script.END}\n\nafter\n"
    new = script.with_table(stale, "x.md")
    assert new.startswith(f"# Codes\n\n{script.BEGIN}\n| Code | Level | Meaning |\n")
    assert new.endswith(f"{script.END}\n\nafter\n")
    assert "| `TIR900` | error | internal error: a bug in tir-lsp" in new and "old words" not in new
    done = subprocess.run([sys.executable, str(SCRIPT), "--check"], check=False, capture_output=True, text=True,
                          timeout=60)
    assert (done.returncode, done.stderr) == (0, "")


def _code_literals() -> dict[str, list[str]]:
    """Every ``"TIRnnn"`` string in the package's source, with where it is."""
    found: dict[str, list[str]] = {}
    for path in sorted((ROOT / "tir_lsp").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and re.fullmatch(r"TIR\d{3}", node.value):
                found.setdefault(node.value, []).append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_every_code_the_source_reports_is_listed_and_every_listed_code_is_reported() -> None:
    used = _code_literals()
    assert {c: w for c, w in used.items() if c not in CODES} == {}
    # Listed codes appear outside the list itself (diagnostics.py) too.
    reported = {c for c, where in used.items() if any("diagnostics.py" not in w for w in where)}
    assert sorted(set(CODES) - reported) == []


def test_the_codes_are_sorted_with_known_severities() -> None:
    assert list(CODES) == sorted(CODES)
    assert {c.severity for c in CODES.values()} <= {"error", "warning", "info"}
    assert all(c.code == code and c.title for code, c in CODES.items())


def test_every_registered_pass_is_in_the_pipeline() -> None:
    assert sorted(PASSES) == sorted(list_passes())


def test_the_readme_names_the_passes_in_pipeline_order() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    bullet = readme[readme.index("- The pipeline (`tirc passes`):"):]
    bullet = bullet[:bullet.index("\n- ")]
    named = [n for n in re.findall(r"`(\w+)`", bullet) if n in PASSES]
    assert named == list_passes()
