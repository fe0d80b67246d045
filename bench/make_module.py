"""Build a large TIR module from the fixture corpus, for the speed benchmarks.

Takes TVM 0.27's text of every kernel at every stage that TVM itself can read back (the
stages before MakePackedAPI, whose text refers to omitted metadata), renames each function
uniquely and stacks them into one `@I.ir_module` until it has at least N lines.

    python bench/make_module.py 10000 > /tmp/module10k.tir
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

CORPUS = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "tvm" / "0.27.0.post1"
_HEADER = "# from tvm.script import ir as I\n# from tvm.script import tirx as T\n\n@I.ir_module\nclass Module:\n"


def stage_functions() -> list[str]:
    """The function texts (with decorators, class-body indentation) of every usable stage."""
    out: list[str] = []
    for path in sorted(CORPUS.glob("*/*.tir")):
        text = path.read_text()
        if "metadata[" in text or "class Module:" not in text:
            continue
        body = text.split("class Module:\n", 1)[1].split("\n# Metadata", 1)[0].rstrip()
        if body.strip() in ("", "pass"):
            continue
        out.append(body)
    return out


def make_module(min_lines: int) -> str:
    funcs = stage_functions()
    parts = [_HEADER]
    lines = _HEADER.count("\n")
    i = 0
    while lines < min_lines:
        body = re.sub(r"\bdef (\w+)\(", lambda m, i=i: f"def {m.group(1)}_{i}(", funcs[i % len(funcs)])
        # Function names are also used as strings by calls; keep them consistent.
        parts.append(body + "\n\n")
        lines += body.count("\n") + 2
        i += 1
    return "".join(parts)


if __name__ == "__main__":
    sys.stdout.write(make_module(int(sys.argv[1]) if len(sys.argv) > 1 else 10000))
