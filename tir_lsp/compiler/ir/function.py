"""PrimFunc and IRModule."""

from __future__ import annotations

from dataclasses import dataclass, field

from tir_lsp.compiler.ir.buffer import Buffer
from tir_lsp.compiler.ir.dtype import Type
from tir_lsp.compiler.ir.expr import Var
from tir_lsp.compiler.ir.node import SOURCE_SPANS, Node
from tir_lsp.compiler.ir.relax import RelaxFunction
from tir_lsp.compiler.ir.span import Span
from tir_lsp.compiler.ir.stmt import Stmt


@dataclass(frozen=True, slots=True, eq=False)
class PrimFunc(Node):
    """A TIR function.

    ``buffer_map`` pairs a handle param with the buffer it is bound to (a ``T.Buffer``
    annotation or a ``T.match_buffer`` of the param). ``attrs`` holds ``T.func_attr``.
    ``s_tir`` records ``@T.prim_func(s_tir=True)``; ``type_params`` the ``def f[M]`` names.
    """

    name: str
    params: tuple[Var, ...]
    buffer_map: tuple[tuple[Var, Buffer], ...]
    body: Stmt
    ret_type: Type | None = None
    attrs: dict[str, object] = field(default_factory=dict)
    s_tir: bool = False
    private: bool = False
    type_params: tuple[str, ...] = ()
    name_span: Span | None = field(default=None, compare=False, repr=False)
    # Where the value of each of ``attrs`` is written (``T.func_attr({"calling_conv": 1})``).
    attr_spans: dict[str, Span] = field(default_factory=dict, compare=False, repr=False, kw_only=True, metadata=SOURCE_SPANS)

    def buffer_of(self, param: Var) -> Buffer | None:
        """The buffer bound to ``param``, if any."""
        for var, buf in self.buffer_map:
            if var is param:
                return buf
        return None

    @property
    def global_symbol(self) -> str:
        """The C symbol: the ``global_symbol`` attr, else the function's name."""
        sym = self.attrs.get("global_symbol")
        return sym if isinstance(sym, str) else self.name


@dataclass(frozen=True, slots=True, eq=False)
class IRModule(Node):
    """An ordered set of functions plus module attrs (``I.module_attrs``).

    ``name`` is the class name in ``@I.ir_module class Module:``; a file holding a standalone
    ``@T.prim_func`` gives a module with ``standalone`` set. ``relax_functions`` are the
    module's ``@R.function``s: kept apart from ``functions`` because only PrimFuncs are
    compiled; ``global_infos`` holds the module's other Relax-level lines as written
    (``I.module_global_infos(...)``, ``f = R.ExternFunc("f")``), one per line.
    """

    functions: tuple[PrimFunc, ...]
    attrs: dict[str, object] = field(default_factory=dict)
    name: str = "Module"
    standalone: bool = False
    type_vars: tuple[str, ...] = ()
    relax_functions: tuple[RelaxFunction, ...] = ()
    global_infos: str = ""
    # Where the value of each of ``attrs`` is written (``I.module_attrs({"executor": "aot"})``).
    attr_spans: dict[str, Span] = field(default_factory=dict, compare=False, repr=False, kw_only=True, metadata=SOURCE_SPANS)
    # Where the class's name is written (``class Module:``); None for a standalone function.
    name_span: Span | None = field(default=None, compare=False, repr=False, kw_only=True, metadata=SOURCE_SPANS)

    def get(self, name: str) -> PrimFunc | None:
        """The function named ``name`` (its Python name, not its global symbol)."""
        for f in self.functions:
            if f.name == name:
                return f
        return None

    def with_function(self, func: PrimFunc) -> IRModule:
        """This module with ``func`` replacing the function of the same name (or appended)."""
        funcs = list(self.functions)
        for i, f in enumerate(funcs):
            if f.name == func.name:
                funcs[i] = func
                break
        else:
            funcs.append(func)
        return self.with_(functions=tuple(funcs))
