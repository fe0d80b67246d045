"""What the fuzzer runs on each input, and the oracle that judges it.

One input goes down the chain a user's file goes down: bytes -> ``tir-lsp check``'s decode
-> read (parse + build) -> analysis -> printer (print, read back) -> every pass of the
pipeline with both calling conventions (each stage printed) -> C backend -> JSON. A stage
runs only when the stages before it accepted the input without errors.

The oracle:
- only ``CompilerError`` may escape a stage (the reader and the analysis return
  diagnostics and may raise nothing); anything else is a crash;
- every diagnostic has a real position (1-based, inside the text, end after start) and a
  known code, and no diagnostic is an internal error (TIR900: a crash caught at a boundary,
  whose logged traceback is the finding's detail);
- text our printer wrote from an error-free module reads back without errors, to the same
  IR, and printing is a fixed point;
- no diagnostic message speaks of the parser's internals (its recovery placeholder,
  terminal names such as ``_NL`` or ``RPAR``) rather than of what the user wrote;
- the language server's document (fresh, and updated from an earlier version of the text),
  ``tir-lsp check`` and ``read_tir`` report the same diagnostics for the same text
  (``differential``);
- no input takes longer than ``HANG_SECONDS`` of CPU time (``Hang`` is raised by the
  runner's watchdog when the wall clock runs far past it).
"""

from __future__ import annotations

import json
import logging
import re
import time
import traceback
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from tir_lsp.compiler.diagnostics import CODES, ERROR, CompilerError, Diagnostic

HANG_SECONDS = 2.0
FILENAME = "fuzz.tir"

# Stage names, in chain order; `Stats.reached` counts inputs per stage.
STAGES = ("check", "read", "differential", "analysis", "printer", "pipeline", "c_backend", "json", "json_reader")


class _LastTraceback(logging.Handler):
    """The traceback of the last internal error the product logged (behind a TIR900)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.text = ""

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and record.exc_info[0] is not None:
            self.text = "".join(traceback.format_exception(*record.exc_info))


_LOGGED = _LastTraceback()
logging.getLogger("tir_lsp").addHandler(_LOGGED)


class Hang(BaseException):
    """Raised by the watchdog; a BaseException so that no ``except Exception`` swallows it."""


class Violation(Exception):
    """The oracle rejected what a stage did with an input."""

    def __init__(self, stage: str, kind: str, message: str, detail: str = "") -> None:
        super().__init__(f"{stage}: {kind}: {message}")
        self.stage, self.kind, self.message, self.detail = stage, kind, message, detail

    def signature(self) -> tuple[str, ...]:
        """What makes two violations the same bug (for deduplication and minimising)."""
        if self.kind == "crash":
            return (self.stage, self.kind, self.message.split(":")[0], _innermost_project_frame(self.detail))
        # Other findings have no traceback: the message, with positions and names blurred.
        return (self.stage, self.kind, re.sub(r"\d+|'[^']*'|\"[^\"]*\"", "_", self.message)[:120], "")


def _innermost_project_frame(detail: str) -> str:
    """``file:line`` of the deepest frame of the project in a formatted traceback."""
    last = ""
    for line in detail.splitlines():
        line = line.strip()
        if line.startswith('File "') and ("/compiler/" in line or "/tir_lsp/" in line):
            path, _, rest = line[6:].partition('", line ')
            last = f"{path.rsplit('/', 2)[-2]}/{path.rsplit('/', 1)[-1]}:{rest.split(',')[0]}"
    return last


@dataclass
class Stats:
    """Counters of one run: inputs per stage, diagnostics by code, the slowest input."""

    reached: Counter[str] = field(default_factory=Counter)
    codes: Counter[str] = field(default_factory=Counter)
    slowest: float = 0.0
    # CPU seconds of the differential's second reading of inputs (oracle work, which the hang
    # limit of an input does not count).
    oracle_cpu: float = 0.0


# ---------------------------------------------------------------------------------------------
# Oracle helpers.


def check_diagnostics(stage: str, diags: Sequence[Diagnostic], text: str | None, stats: Stats) -> None:
    """Every diagnostic has a known code and a real position inside ``text``."""
    # Lines as the reader (and LSP) count them: CRLF, LF and a lone CR each end one.
    n_lines = text.replace("\r\n", "\n").count("\n") + text.count("\r") - text.count("\r\n") + 1 \
        if text is not None else None
    for d in diags:
        stats.codes[d.code] += 1
        s = d.span
        where = f"{d.code} {s.line}:{s.column}-{s.end_line}:{s.end_column} {d.message[:80]!r}"
        if d.code not in CODES:
            raise Violation(stage, "unknown-code", where)
        if not all(isinstance(v, int) for v in (s.line, s.column, s.end_line, s.end_column)):
            raise Violation(stage, "no-position", where)
        if s.line < 1 or s.column < 1 or (s.end_line, s.end_column) < (s.line, s.column):
            raise Violation(stage, "no-position", where)
        if n_lines is not None and s.line > n_lines + 1:
            raise Violation(stage, "no-position", f"line past the end ({n_lines} lines): {where}")
        if "internal" in d.message and "error" in d.message:
            raise Violation(stage, "crash", f"caught internally: {d.message[:200]}", _LOGGED.text)
        leaked = internal_words(d.message)
        if leaked:
            raise Violation(stage, "internal-token", f"{leaked[0]!r} in {where}")


_QUOTED = re.compile(r"'(?:[^'\\]|\\.)*'")
_PLACEHOLDER = "__tir_error__"


def _terminal_names() -> frozenset[str]:
    from tir_lsp.compiler.text.parser import _plan

    names = {t[0] for t in _plan()["terminals"]} | {"_NL", "_INDENT", "_DEDENT", "$END"}
    # Keywords spelled in capitals (``NOT``, ``IN``...) may be quoted user text; the other
    # names, outside quotes, are the parser's.
    return frozenset(n for n in names if len(n) > 2 or n.startswith("_"))


def internal_words(message: str) -> list[str]:
    """The parser's internal names in ``message``: the recovery placeholder anywhere, terminal
    names (``_NL``, ``RPAR``, ``$END``...) outside the quotes that show the user's text."""
    found = [_PLACEHOLDER] if _PLACEHOLDER in message else []
    bare = _QUOTED.sub("", message)
    found += [w for w in re.findall(r"\$?[A-Z_][A-Z0-9_]*", bare) if w in _terminal_names()]
    return found


def _errors(diags: Sequence[Diagnostic]) -> list[Diagnostic]:
    return [d for d in diags if d.severity == ERROR]


def _guard(stage: str, stats: Stats, text: str | None, fn: Callable[[], Any]) -> tuple[Any, CompilerError | None]:
    """``fn()``; a CompilerError comes back (its diagnostics checked), anything else is a crash."""
    stats.reached[stage] += 1
    try:
        return fn(), None
    except (Violation, Hang):
        raise
    except CompilerError as exc:
        check_diagnostics(stage, exc.diagnostics, text, stats)
        return None, exc
    except RecursionError as exc:
        raise Violation(stage, "crash", f"RecursionError: {exc}", traceback.format_exc()) from None
    except Exception as exc:  # noqa: BLE001 - the point: any other exception is a finding
        raise Violation(stage, "crash", f"{type(exc).__name__}: {str(exc)[:200]}", traceback.format_exc()) from None


# ---------------------------------------------------------------------------------------------
# The chain.


@dataclass
class Options:
    """Which optional work to do: ``check_path`` runs `tir-lsp check`'s in-process entry point
    (it repeats the analysis) and, with ``differential``, the language server's on the same text, ``round_trip`` compares IR after print/read, ``gcc`` compiles
    the C (slow: only for a sample)."""

    check_path: bool = True
    read_back: bool = True
    round_trip: bool = True
    print_stages: bool = True
    gcc: bool = False
    differential: bool = True


def run_bytes(data: bytes, stats: Stats, opts: Options | None = None) -> None:
    """Raw bytes through `tir-lsp check` (decode, analysis, every report format), then the
    text chain when they decode."""
    from tir_lsp.compiler.text.reader import decode_tir_bytes

    opts = opts or Options()
    text, bad = decode_tir_bytes(data, FILENAME)
    if bad is not None:
        check_diagnostics("check", [bad], data.decode("utf-8", "replace"), stats)
        _check_path(data, None, stats)
        return
    assert text is not None
    run_text(text, stats, opts, data=data)


def _check_path(data: bytes, text: str | None, stats: Stats) -> list[Diagnostic]:
    from tir_lsp import check

    def go() -> list[Diagnostic]:
        diags = check.check_bytes(data, FILENAME)
        check.format_text(diags, 1)
        json.loads(check.format_json(diags))
        json.loads(check.format_sarif(diags))
        check.format_github(diags, 1)
        return diags

    diags, _ = _guard("check", stats, text, go)
    check_diagnostics("check", diags or [], text, stats)
    return diags or []


def _comparable(diags: Sequence[Diagnostic]) -> list[tuple[object, ...]]:
    """What a user sees of each diagnostic (the file is this one's in every path)."""
    return sorted((d.span.line, d.span.column, d.span.end_line, d.span.end_column, d.code, d.severity, d.message,
                   tuple((r.span, r.message) for r in d.related)) for d in diags)


def _earlier_version(text: str) -> str:
    """The text with its middle line removed: updating a document from it to ``text`` reuses
    the functions before and after (moved by a line) and re-parses the rest."""
    lines = text.split("\n")
    del lines[len(lines) // 2]
    return "\n".join(lines)


def _first_difference(a: list[tuple[object, ...]], b: list[tuple[object, ...]]) -> str:
    only_a = [x for x in a if x not in b]
    only_b = [x for x in b if x not in a]
    show = lambda x: f"{x[4]} {x[0]}:{x[1]} {str(x[6])[:70]!r}" if x else "nothing"
    return f"{show(only_a[0] if only_a else None)} vs {show(only_b[0] if only_b else None)}"


def differential(text: str, checked: Sequence[Diagnostic], read: Any, stats: Stats) -> None:
    """The language server's diagnostics for ``text`` (a fresh document, and one edited to an
    earlier version of the text and back) are ``tir-lsp check``'s (``checked``), and its parse
    and build diagnostics are ``read_tir``'s (``read``)."""
    from tir_lsp.documents import Document

    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return  # a lone surrogate: `check` sees bytes that are not UTF-8, an editor never sends it

    def go() -> tuple[Any, Any]:
        fresh = Document("file:///fuzz.tir", FILENAME).updated(text, 1)
        # Both edits re-read only what they touch: the functions around the middle line.
        return fresh, fresh.updated(_earlier_version(text), 2).updated(text, 3)

    t0 = time.process_time()
    try:
        (fresh, edited), _ = _guard("differential", stats, text, go)
    finally:
        stats.oracle_cpu += time.process_time() - t0
    want = _comparable(checked)
    for name, got in (("server", fresh.diagnostics), ("server after an edit", edited.diagnostics)):
        have = _comparable(got)
        if have != want:
            raise Violation("differential", "mismatch",
                            f"{name} vs tir-lsp check: {_first_difference(have, want)}")
    if any(d.code == "TIR006" for d in checked):
        return  # not text that is read at all (a NUL byte): nothing for read_tir to agree with
    if _comparable(fresh.parsed.diagnostics) != _comparable(read.diagnostics):
        raise Violation("differential", "mismatch", "server vs read_tir: " + _first_difference(
            _comparable(fresh.parsed.diagnostics), _comparable(read.diagnostics)))


def run_text(text: str, stats: Stats, opts: Options | None = None, data: bytes | None = None) -> None:
    """``text`` down the whole chain; raises Violation for what the oracle rejects."""
    from tir_lsp.compiler.analysis.run import analyze_module
    from tir_lsp.compiler.text.reader import read_tir

    opts = opts or Options()
    checked: list[Diagnostic] | None = None
    if opts.check_path:
        checked = _check_path(data if data is not None else text.encode("utf-8", "surrogatepass"), text, stats)

    result, _ = _guard("read", stats, text, lambda: read_tir(text, FILENAME))
    check_diagnostics("read", result.diagnostics, text, stats)
    if checked is not None and opts.differential:
        differential(text, checked, result, stats)
    checked, _ = _guard("analysis", stats, text,
                        lambda: analyze_module(result.module, result.index, FILENAME, text=text))
    check_diagnostics("analysis", checked, text, stats)
    if _errors(result.diagnostics) or _errors(checked):
        return
    # The dtype of a call of an unknown builtin (TIR004) is guessed from where it stands, and
    # the printed text puts it elsewhere: such a module must read back, not to the same IR.
    guessed = any(d.code == "TIR004" for d in result.diagnostics)
    run_module(result.module, stats, replace(opts, round_trip=opts.round_trip and not guessed), source=text)


def run_module(module: Any, stats: Stats, opts: Options, source: str | None = None) -> None:
    """An error-free module through printer, pipeline, C backend and JSON."""
    from tir_lsp.compiler.backend.json_format import dumps, loads
    from tir_lsp.compiler.ir.structural import structural_diff
    from tir_lsp.compiler.text.printer import print_module
    from tir_lsp.compiler.text.reader import read_tir
    from tir_lsp.compiler.transform import PipelineOptions, run_pipeline

    printed, _ = _guard("printer", stats, source, lambda: print_module(module))
    again, _ = _guard("printer", stats, printed, lambda: read_tir(printed, FILENAME))
    check_diagnostics("printer", again.diagnostics, printed, stats)
    if opts.read_back and _errors(again.diagnostics):
        first = _errors(again.diagnostics)[0]
        raise Violation("printer", "round-trip", f"printed text does not read back: {first.render()}")
    if opts.round_trip and opts.read_back:
        reprinted, _ = _guard("printer", stats, printed, lambda: print_module(again.module))
        if reprinted != printed:
            raise Violation("printer", "round-trip", "printing is not a fixed point: " + _first_diff(printed, reprinted))
        diff, _ = _guard("printer", stats, None, lambda: structural_diff(module, again.module, map_free_vars=True))
        # Not differences: metadata references, and s_tir, which the printer sets for any
        # function with blocks (TVM requires it) while the reader accepts blocks without it.
        if diff is not None and "metadata" not in diff and not diff.endswith(".s_tir: False != True"):
            raise Violation("printer", "round-trip", f"read back differs: {diff[:200]}")

    def print_stage(name: str, mod: Any, _when: str) -> None:
        _guard("printer", stats, None, lambda: print_module(mod))

    for unpacked in (False, True):
        po = PipelineOptions(unpacked_api=unpacked)
        if opts.print_stages and not unpacked:
            po.print_after, po.on_stage = "all", print_stage
        lowered, err = _guard("pipeline", stats, source, lambda po=po: run_pipeline(module, po))
        if err is not None:
            continue
        c_text, err = _guard("c_backend", stats, source, lambda lowered=lowered: emit(lowered))
        if err is None and opts.gcc:
            _compile(c_text)

    encoded, err = _guard("json", stats, source, lambda: dumps(module))
    if err is None:
        back, _ = _guard("json", stats, None, lambda: loads(encoded))
        diff, _ = _guard("json", stats, None, lambda: structural_diff(module, back) if back is not None else None)
        if diff is not None:
            raise Violation("json", "round-trip", f"JSON read back differs: {diff[:300]}")


def emit(mod: Any) -> str:
    from tir_lsp.compiler.backend.c_codegen import emit_c

    return emit_c(mod)


def _first_diff(a: str, b: str) -> str:
    for i, (x, y) in enumerate(zip(a.splitlines(), b.splitlines())):
        if x != y:
            return f"line {i + 1}: {x.strip()[:80]!r} then {y.strip()[:80]!r}"
    return "lengths differ"


def _compile(c_text: str) -> None:
    """gcc -fsyntax-only on the generated C with its runtime header; an error is a finding."""
    import subprocess
    import tempfile
    from pathlib import Path

    from tir_lsp.compiler.backend import runtime_header

    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "tir_runtime.h").write_text(runtime_header())
        Path(tmp, "k.c").write_text(c_text)
        proc = subprocess.run(["gcc", "-std=c99", "-fsyntax-only", "-w", "k.c"], cwd=tmp,
                              capture_output=True, text=True, timeout=60, check=False)
    if proc.returncode != 0:
        raise Violation("c_backend", "bad-c", proc.stderr.strip().splitlines()[0][:200] if proc.stderr else "gcc failed")


def run_json(text: str, stats: Stats, opts: Options | None = None) -> None:
    """JSON IR text through our JSON reader; a module it accepts goes on down the chain."""
    from tir_lsp.compiler.backend.json_format import loads

    opts = opts or Options()
    module, err = _guard("json_reader", stats, text, lambda: loads(text))
    if err is not None or module is None:
        return
    # The JSON reader checks structure, not meaning: the printed text of what it accepts may
    # not read back cleanly (an undefined var), but nothing may crash.
    run_module(module, stats, replace(opts, read_back=False), source=None)


def timed(fn: Callable[[], None]) -> float:
    """CPU seconds ``fn`` took."""
    t0 = time.process_time()
    fn()
    return time.process_time() - t0
