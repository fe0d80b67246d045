"""Type check the whole package in one mypy run and fail when a module listed in
.ci/mypy-clean.txt has an error (the list only grows; a module leaves it only by being fixed
elsewhere first). Errors in unlisted modules are counted, not fatal, until every module is
clean and .ci/run calls plain ``mypy tir_lsp``.

text/syntax.py is checked on its own: pyproject's [tool.mypy] says why its importers see it
as untyped.

Usage: python .ci/mypy_clean.py [path/to/mypy]
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LISTED = ROOT / ".ci" / "mypy-clean.txt"
ERROR = re.compile(r"^(?P<path>[^:\n]+\.py):\d+: error: ", re.MULTILINE)


def main() -> int:
    mypy = sys.argv[1] if len(sys.argv) > 1 else str(Path(sys.executable).parent / "mypy")
    listed = [ln.strip() for ln in LISTED.read_text().splitlines() if ln.strip()]
    missing = [p for p in listed if not (ROOT / p).is_file()]
    if missing:
        print(f"{LISTED.name}: no such file: {', '.join(missing)}")
        return 1
    runs = [[mypy, "tir_lsp"], [mypy, "tir_lsp/compiler/text/syntax.py"]]
    errors: Counter[str] = Counter()
    failed = False
    for args in runs:
        out = subprocess.run(args, check=False, cwd=ROOT, capture_output=True, text=True)
        if out.returncode not in (0, 1):  # a crash, a bad config, a file that does not parse
            print(out.stdout + out.stderr)
            return 1
        for line in out.stdout.splitlines():
            m = ERROR.match(line)
            if m is None:
                continue
            errors[m["path"]] += 1
            if m["path"] in listed:
                print(line)
                failed = True
    unlisted = sorted(p for p in errors if p not in listed)
    print(f"mypy: {sum(errors[p] for p in listed)} errors in the {len(listed)} listed modules; "
          f"{sum(errors[p] for p in unlisted)} in {len(unlisted)} unlisted modules")
    clean_unlisted = sorted(
        str(p.relative_to(ROOT)) for p in (ROOT / "tir_lsp").rglob("*.py")
        if str(p.relative_to(ROOT)) not in listed and str(p.relative_to(ROOT)) not in errors)
    if clean_unlisted:
        print(f"clean but not listed (add them to {LISTED.name}): {', '.join(clean_unlisted)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
