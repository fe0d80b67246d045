"""Seed inputs: the TVM fixture corpus, the examples, the diagnostics test data and every
regression input found so far."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REGRESSIONS = Path(__file__).resolve().parent / "regressions"


def seed_paths(max_bytes: int | None = 20_000) -> list[Path]:
    """Seed files, sorted; files larger than ``max_bytes`` are left out (they slow a short
    run down more than they add)."""
    paths = sorted(ROOT.glob("tests/fixtures/tvm/*/*/*.tir"))
    paths += sorted(ROOT.glob("examples/*.tir")) + sorted(ROOT.glob("tests/data/diagnostics/*.tir"))
    paths += sorted(REGRESSIONS.glob("*.tir"))
    return [p for p in paths if max_bytes is None or p.stat().st_size <= max_bytes]


def seeds(max_bytes: int | None = 20_000) -> list[str]:
    return [p.read_text(encoding="utf-8", errors="replace") for p in seed_paths(max_bytes)]


def regression_inputs() -> list[Path]:
    """Every saved reproducer: ``*.tir`` (text), ``*.bin`` (raw bytes), ``*.json`` (JSON IR)."""
    return sorted(p for p in REGRESSIONS.iterdir() if p.suffix in (".tir", ".bin", ".json"))
