"""Where the reference TVM 0.27 interpreter is, for interop tests and benchmarks.

Looked up in order: $TIR_TVM_PYTHON, the venv `.ci/run` creates (`.tvm027/`), the machine's
/opt/tvmenv install. TVM runs only in that separate interpreter, never in our process.
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CANDIDATES = (str(ROOT / ".tvm027" / "bin" / "python"), "/opt/tvmenv/tvm0.27.0.post1/bin/python")


def tvm_python() -> str | None:
    """The first existing interpreter with TVM 0.27, or None."""
    for cand in (os.environ.get("TIR_TVM_PYTHON"), *CANDIDATES):
        if cand and Path(cand).exists():
            return cand
    return None
