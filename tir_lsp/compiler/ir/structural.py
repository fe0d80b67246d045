"""Structural equality: two trees are equal when they match up to a consistent renaming of
vars and buffers (the same definition structure), ignoring spans."""

from __future__ import annotations

import math
from typing import Any

from tir_lsp.compiler.ir.buffer import Buffer
from tir_lsp.compiler.ir.expr import Var
from tir_lsp.compiler.ir.node import Node, node_fields


class _Matcher:
    def __init__(self, map_free_vars: bool) -> None:
        self.lhs_to_rhs: dict[int, object] = {}
        self.rhs_to_lhs: dict[int, object] = {}
        self.map_free_vars = map_free_vars
        self.mismatch: str | None = None

    def bind(self, a: object, b: object) -> bool:
        ka, kb = id(a), id(b)
        if ka in self.lhs_to_rhs or kb in self.rhs_to_lhs:
            return self.lhs_to_rhs.get(ka) is b and self.rhs_to_lhs.get(kb) is a
        self.lhs_to_rhs[ka] = b
        self.rhs_to_lhs[kb] = a
        return True

    def eq(self, a: Any, b: Any, path: str) -> bool:
        if a is b and not isinstance(a, (Var, Buffer)):
            return True
        if isinstance(a, Node) or isinstance(b, Node):
            if type(a) is not type(b):
                return self.fail(path, f"{type(a).__name__} != {type(b).__name__}")
            if isinstance(a, (Var, Buffer)):
                seen = id(a) in self.lhs_to_rhs or id(b) in self.rhs_to_lhs
                if not self.bind(a, b):
                    return self.fail(path, f"{getattr(a, 'name', a)} bound to another definition")
                if seen:
                    return True
            for name in node_fields(type(a)):
                if name == "name_span":
                    continue
                if isinstance(a, (Var, Buffer)) and name == "name" and self.map_free_vars:
                    continue
                if not self.eq(getattr(a, name), getattr(b, name), f"{path}.{name}"):
                    return False
            return True
        if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
            if len(a) != len(b):
                return self.fail(path, f"length {len(a)} != {len(b)}")
            return all(self.eq(x, y, f"{path}[{i}]") for i, (x, y) in enumerate(zip(a, b)))
        if isinstance(a, dict) and isinstance(b, dict):
            if list(a.keys()) != list(b.keys()) and set(a.keys()) != set(b.keys()):
                return self.fail(path, f"keys {sorted(map(str, a))} != {sorted(map(str, b))}")
            return all(self.eq(a[k], b[k], f"{path}[{k!r}]") for k in a)
        if isinstance(a, float) and isinstance(b, float):
            if (math.isnan(a) and math.isnan(b)) or a == b:
                return True
            return self.fail(path, f"{a!r} != {b!r}")
        if type(a) is not type(b) or a != b:
            return self.fail(path, f"{a!r} != {b!r}")
        return True

    def fail(self, path: str, why: str) -> bool:
        if self.mismatch is None:
            self.mismatch = f"{path}: {why}"
        return False


def structural_equal(a: Any, b: Any, map_free_vars: bool = False) -> bool:
    """Whether ``a`` and ``b`` are the same tree up to consistent var/buffer identity.

    Names of vars and buffers must match too unless ``map_free_vars`` is set.
    """
    return _Matcher(map_free_vars).eq(a, b, "")


def structural_diff(a: Any, b: Any, map_free_vars: bool = False) -> str | None:
    """None when structurally equal, else the path and reason of the first difference."""
    m = _Matcher(map_free_vars)
    if m.eq(a, b, ""):
        return None
    return m.mismatch or "differs"
