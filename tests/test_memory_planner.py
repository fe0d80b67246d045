"""The workspace memory planner: liveness conflicts, pool size bounds, exact answers on chains."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tir_lsp.compiler.executor.memory_planner import BufferLife, plan_memory
from tir_lsp.compiler.ir.buffer import DEFAULT_DATA_ALIGNMENT


def test_chain_reuses_memory_two_steps_apart() -> None:
    # a -> b -> c -> d: a and c never live together, so c takes a's place.
    bufs = [BufferLife("a", 100, 0, 1), BufferLife("b", 50, 1, 2), BufferLife("c", 100, 2, 3)]
    plan = plan_memory(bufs, alignment=1)
    assert plan.offsets == {"a": 0, "c": 0, "b": 100}
    assert plan.pool_size == 150 == plan.peak_live
    assert plan.naive_size == 250


def test_alignment_rounds_offsets_and_sizes() -> None:
    plan = plan_memory([BufferLife("a", 10, 0, 1), BufferLife("b", 10, 1, 2)], alignment=16)
    assert plan.offsets == {"a": 0, "b": 16}
    assert plan.pool_size == 32


def test_disjoint_lifetimes_share_offset_zero() -> None:
    plan = plan_memory([BufferLife("a", 64, 0, 0), BufferLife("b", 32, 1, 1), BufferLife("c", 48, 2, 2)])
    assert set(plan.offsets.values()) == {0}
    assert plan.pool_size == 64


def test_empty_plan() -> None:
    plan = plan_memory([])
    assert (plan.pool_size, plan.peak_live, plan.naive_size) == (0, 0, 0)


_lives = st.lists(st.tuples(st.integers(1, 4096), st.integers(0, 12), st.integers(0, 6)), min_size=1, max_size=14)


@settings(max_examples=300, deadline=None)
@given(_lives)
def test_random_lifetimes_never_overlap_and_never_exceed_naive(spec: list[tuple[int, int, int]]) -> None:
    bufs = [BufferLife(f"t{i}", size, first, first + length) for i, (size, first, length) in enumerate(spec)]
    plan = plan_memory(bufs)
    assert plan.conflicts(bufs) == []
    assert plan.peak_live <= plan.pool_size <= plan.naive_size
    # The default is what the operators' buffer parameters promise (and check).
    assert all(off % DEFAULT_DATA_ALIGNMENT == 0 for off in plan.offsets.values())


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(1, 10000), min_size=1, max_size=20))
def test_chain_pool_equals_peak_live(sizes: list[int]) -> None:
    # A chain of operators: tensor i is written by step i and read by step i + 1.
    bufs = [BufferLife(f"t{i}", s, i, i + 1) for i, s in enumerate(sizes)]
    plan = plan_memory(bufs)
    assert plan.conflicts(bufs) == []
    assert plan.pool_size == plan.peak_live


def test_chain_where_greedy_by_size_is_not_optimal() -> None:
    # Greedy alone gives 64 here; the bottom/top layout reaches the peak, 48.
    bufs = [BufferLife(f"t{i}", s, i, i + 1) for i, s in enumerate([32, 16, 16, 32])]
    plan = plan_memory(bufs, alignment=16)
    assert plan.pool_size == plan.peak_live == 48
    assert plan.conflicts(bufs) == []


def test_another_order_reaches_the_peak_where_greedy_by_size_does_not() -> None:
    # Three buffers live at step 2, so the bottom/top layout does not apply. Greedy by size
    # puts d (96) at 0 and a above it, leaving c no room under 96: 208 bytes. Most conflicted
    # bytes first (a, b, c, then d in b's place) reaches the peak.
    bufs = [BufferLife("a", 80, 2, 4), BufferLife("b", 80, 0, 2), BufferLife("c", 32, 1, 2), BufferLife("d", 96, 3, 3)]
    plan = plan_memory(bufs, alignment=16)
    assert plan.pool_size == plan.peak_live == 192
    assert plan.offsets == {"a": 0, "b": 80, "c": 160, "d": 80}
    assert plan.conflicts(bufs) == []


def test_every_test_model_gets_the_peak_live_workspace() -> None:
    import importlib.util
    import sys
    from pathlib import Path

    from aot_models import MODELS

    from tir_lsp.compiler.executor.aot import build_aot
    from tir_lsp.compiler.executor.options import resolve
    from tir_lsp.compiler.frontend.onnx_import import import_onnx

    spec = importlib.util.spec_from_file_location("bench_build", Path(__file__).resolve().parents[1] / "bench" / "bench_build.py")
    assert spec is not None and spec.loader is not None
    bench_build = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("bench_build", bench_build)  # its dataclasses look their module up
    spec.loader.exec_module(bench_build)
    models = {**{k: make() for k, make in MODELS.items()}, "cnn50": bench_build.cnn50("tiny")}
    options = resolve({"executor": "aot", "interface-api": "c", "unpacked-api": True})
    for name, model in models.items():
        p = build_aot(import_onnx(model), options)
        assert p.plan.pool_size == p.plan.peak_live, name
        assert p.plan.conflicts(p.lives) == [], name
