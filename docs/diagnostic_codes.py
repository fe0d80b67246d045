"""Write the tables of diagnostic codes in README.md and docs/check.md from the one list,
``tir_lsp.compiler.diagnostics.CODES``.

    python docs/diagnostic_codes.py          # rewrite the tables
    python docs/diagnostic_codes.py --check  # exit 1 when a table differs from the list

Each table sits between a BEGIN and an END marker line (HTML comments, invisible on GitHub);
tests/test_single_sources.py fails when a table is out of date.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FILES = (ROOT / "README.md", ROOT / "docs" / "check.md")
BEGIN = "<!-- diagnostic codes: written by docs/diagnostic_codes.py from tir_lsp/compiler/diagnostics.py -->"
END = "<!-- end of diagnostic codes -->"


def table() -> str:
    """The markdown table of every code, its level and its meaning."""
    sys.path.insert(0, str(ROOT))
    from tir_lsp.compiler.diagnostics import CODES

    rows = [f"| `{c.code}` | {c.severity} | {c.meaning} |" for c in CODES.values()]
    return "\n".join(["| Code | Level | Meaning |", "| --- | --- | --- |", *rows])


def with_table(text: str, name: str) -> str:
    """``text`` with the table between its markers replaced by the current one."""
    if text.count(BEGIN) != 1 or text.count(END) != 1:
        raise SystemExit(f"{name}: expected one line {BEGIN!r} and one line {END!r}")
    head, rest = text.split(BEGIN, 1)
    _old, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{table()}\n{END}{tail}"


def main(argv: list[str]) -> int:
    check = argv == ["--check"]
    if argv and not check:
        print(__doc__, file=sys.stderr)
        return 2
    stale = []
    for path in FILES:
        text = path.read_text(encoding="utf-8")
        new = with_table(text, path.name)
        if new != text:
            stale.append(path.relative_to(ROOT))
            if not check:
                path.write_text(new, encoding="utf-8")
    if check and stale:
        print(f"out of date: {', '.join(map(str, stale))}; run python docs/diagnostic_codes.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
