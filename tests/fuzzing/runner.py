"""The fuzzing loop: pick a seed, mutate it, run it down the chain under a watchdog, record
what the oracle rejects (deduplicated, saved, minimised)."""

from __future__ import annotations

import gc
import hashlib
import json
import random
import signal
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import corpus, mutators
from .targets import HANG_SECONDS, Hang, Options, Stats, Violation, run_bytes, run_json, run_text

# An input is killed after this much wall-clock time (CPU time decides what is a hang; the
# wall clock only stops an endless loop, and the machine may be busy).
WATCHDOG_SECONDS = 20.0
KINDS = ("text", "bytes", "json")
_KIND_WEIGHTS = (80, 8, 12)


@dataclass
class Finding:
    violation: Violation
    kind: str  # input kind: text, bytes or json
    data: bytes
    minimised: bytes | None = None
    saved: Path | None = None

    def describe(self) -> str:
        v = self.violation
        where = f" at {v.signature()[-1]}" if v.signature()[-1] else ""
        return f"[{v.stage}] {v.kind}: {v.message}{where}"


@dataclass
class Report:
    mutants: Counter[str] = field(default_factory=Counter)
    stats: Stats = field(default_factory=Stats)
    findings: dict[tuple[str, ...], Finding] = field(default_factory=dict)
    slowest: float = 0.0
    slowest_input: bytes = b""
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.mutants.values())

    def summary(self) -> str:
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(self.mutants.items()))
        lines = [f"mutants tried: {self.total} in {self.seconds:.1f} s ({kinds})",
                 "inputs reaching each stage: " + ", ".join(f"{s} {n}" for s, n in self.stats.reached.items()),
                 f"slowest input: {self.slowest * 1000:.0f} ms CPU (hang limit {HANG_SECONDS:.0f} s)",
                 f"distinct findings: {len(self.findings)}"]
        lines += [f"  {f.describe()}" + (f" -> {f.saved}" if f.saved else "") for f in self.findings.values()]
        return "\n".join(lines)


@contextmanager
def watchdog(seconds: float) -> Iterator[None]:
    """Raise Hang in this (main) thread after ``seconds`` of wall-clock time."""
    if seconds <= 0 or not hasattr(signal, "setitimer"):
        yield
        return

    def fire(_signum: int, _frame: Any) -> None:
        raise Hang()

    old = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def run_input(kind: str, data: bytes, stats: Stats, opts: Options) -> None:
    """One input of ``kind`` down the chain (raises Violation or Hang)."""
    if kind == "bytes":
        run_bytes(data, stats, opts)
    elif kind == "json":
        run_json(data.decode("utf-8", "surrogatepass"), stats, opts)
    else:
        run_text(data.decode("utf-8", "surrogatepass"), stats, opts)


def judge(kind: str, data: bytes, stats: Stats, opts: Options,
          watchdog_seconds: float = WATCHDOG_SECONDS, retry: bool = True) -> tuple[Violation | None, float]:
    """(the violation or None, CPU seconds) for one input; a hang is a violation too."""
    def cpu_now() -> float:  # the oracle's own second reading is not the input's cost
        return time.process_time() - stats.oracle_cpu

    t0 = cpu_now()
    try:
        with watchdog(watchdog_seconds):
            run_input(kind, data, stats, opts)
    except Violation as v:
        return v, cpu_now() - t0
    except Hang:
        return Violation("any", "hang", f"killed after {watchdog_seconds:.0f} s wall clock"), cpu_now() - t0
    cpu = cpu_now() - t0
    if cpu > HANG_SECONDS and retry:
        # A full collection of a long run's heap can land in any input: slow only if it is
        # slow again after one.
        gc.collect()
        again, cpu = judge(kind, data, Stats(), opts, watchdog_seconds, retry=False)
        return again, cpu
    if cpu > HANG_SECONDS:
        return Violation("any", "hang", f"took {cpu:.1f} s CPU"), cpu
    return None, cpu


class Fuzzer:
    """Seeded mutation fuzzing over the seed corpus; ``run`` for a time budget."""

    def __init__(self, seed: int = 0, max_seed_bytes: int | None = 20_000, crash_dir: Path | None = None,
                 minimise: bool = True, opts: Options | None = None, log: Callable[[str], None] | None = None,
                 check_every: int = 4, gcc_every: int = 0) -> None:
        self.rng = random.Random(seed)
        self.corpus = corpus.seeds(max_seed_bytes)
        self.crash_dir = crash_dir
        self.minimise = minimise
        self.opts = opts or Options()
        self.log = log or (lambda s: print(s, file=sys.stderr))
        self.check_every = check_every
        self.gcc_every = gcc_every
        self.report = Report()
        self._json_seeds: dict[int, str | None] = {}  # JSON text: few objects for the GC to scan

    def _json_seed(self) -> Any | None:
        """A decoded JSON document of a seed that reads without errors (cached)."""
        from tir_lsp.compiler.backend.json_format import module_to_json
        from tir_lsp.compiler.text.reader import read_tir

        i = self.rng.randrange(len(self.corpus))
        if i not in self._json_seeds:
            result = read_tir(self.corpus[i])
            ok = not any(d.severity == "error" for d in result.diagnostics)
            try:
                self._json_seeds[i] = json.dumps(module_to_json(result.module)) if ok else None
            except Exception:  # noqa: BLE001 - a module the encoder refuses is no seed
                self._json_seeds[i] = None
        text = self._json_seeds[i]
        return json.loads(text) if text is not None else None

    def next_input(self) -> tuple[str, bytes]:
        (kind,) = self.rng.choices(KINDS, weights=_KIND_WEIGHTS)
        if kind == "json":
            doc = self._json_seed()
            if doc is not None:
                for _ in range(self.rng.choice((1, 1, 2, 3))):
                    doc = mutators.mutate_json_value(doc, self.rng)
                text = json.dumps(doc, ensure_ascii=False)
                if self.rng.random() < 0.2:
                    text = mutators.mutate(text, self.rng, ())
                return kind, text.encode("utf-8", "surrogatepass")
            kind = "text"
        text = mutators.mutate(self.rng.choice(self.corpus), self.rng, self.corpus)
        data = text.encode("utf-8", "surrogatepass")
        if kind == "bytes":
            data = mutators.mutate_bytes(data, self.rng)
        return kind, data

    def run(self, seconds: float) -> Report:
        start = time.monotonic()
        n = 0
        while time.monotonic() - start < seconds:
            kind, data = self.next_input()
            n += 1
            opts = Options(check_path=n % self.check_every == 0, read_back=self.opts.read_back,
                           round_trip=self.opts.round_trip, print_stages=self.opts.print_stages,
                           gcc=bool(self.gcc_every) and n % self.gcc_every == 0)
            self.one(kind, data, opts)
        self.report.seconds = time.monotonic() - start
        return self.report

    def one(self, kind: str, data: bytes, opts: Options) -> Violation | None:
        rep = self.report
        rep.mutants[kind] += 1
        v, cpu = judge(kind, data, rep.stats, opts)
        if cpu > rep.slowest:
            rep.slowest, rep.slowest_input = cpu, data
        if v is None:
            return None
        sig = v.signature()
        if sig in rep.findings:
            return v
        finding = Finding(v, kind, data)
        rep.findings[sig] = finding
        self.log(f"FINDING {finding.describe()}")
        if self.minimise and v.kind != "hang":
            def still_fails(text: str) -> bool:
                got, _ = judge(kind, text.encode("utf-8", "surrogatepass"), Stats(), opts, watchdog_seconds=5)
                return got is not None and got.signature() == sig

            small = data.decode("utf-8", "surrogatepass")
            from .minimize import minimize

            finding.minimised = minimize(small, still_fails, budget=20).encode("utf-8", "surrogatepass")
            self.log("minimised reproducer:\n" + finding.minimised.decode("utf-8", "replace"))
        if self.crash_dir is not None:
            self.crash_dir.mkdir(parents=True, exist_ok=True)
            digest = hashlib.sha1(data).hexdigest()[:10]
            ext = {"text": ".tir", "bytes": ".bin", "json": ".json"}[kind]
            finding.saved = self.crash_dir / f"{v.stage}-{v.kind}-{digest}{ext}"
            finding.saved.write_bytes(finding.minimised or data)
            if finding.minimised:
                (self.crash_dir / f"{v.stage}-{v.kind}-{digest}.orig{ext}").write_bytes(data)
        return v
