"""Statements with a body: ``for`` loops, ``with`` statements (``T.sblock`` and the frame its
header fills, ``T.attr``, ``T.hint``, ``T.launch_thread``, ``T.allocate``), thread ids and
block axes.
"""

from __future__ import annotations

from tir_lsp.compiler.ir.builtins import lookup_builtin
from tir_lsp.compiler.ir.dtype import BOOL_T, INT32, DataType
from tir_lsp.compiler.ir.expr import Expr, IntImm, Var
from tir_lsp.compiler.ir.span import Span
from tir_lsp.compiler.ir.stmt import (
    Allocate,
    AllocateConst,
    For,
    IterVar,
    LaunchThread,
    SBlock,
    SBlockRealize,
    ScopeIdDef,
    Stmt,
    seq,
)
from tir_lsp.compiler.text import syntax as S
from tir_lsp.compiler.text.builder.attributes import value_spans
from tir_lsp.compiler.text.builder.buffers import BufferBuilder
from tir_lsp.compiler.text.builder.core import BlockFrame, seq_or_nop
from tir_lsp.compiler.text.builder.forms import argument, call_name, is_literal, keyword
from tir_lsp.compiler.text.symbols import Definition

_LOOP_KINDS = ("serial", "parallel", "vectorized", "unroll", "thread_binding")


def _names_in(e: S.SExpr) -> list[str]:
    """The plain names an expression reads (``n`` in ``T.vectorized(n + m)``)."""
    out: list[str] = []
    stack: list[object] = [e]
    while stack:
        x = stack.pop()
        if isinstance(x, S.Name):  # (a NamedTuple nothing derives from: same as type(x) is)
            out.append(x.id)
        elif type(x) is S.Attribute:
            continue  # ``T.vectorized``: a namespace, not a name read
        elif isinstance(x, tuple) and not isinstance(x, Span):
            stack.extend(x)
    return out


class BlockBuilder(BufferBuilder):
    """Builds loops, with-statements and the block frames they fill."""

    def predeclare_size_vars(self, body: list[S.SStmt] | tuple[S.SStmt, ...],
                              only: set[str] | None = None) -> None:
        """``n = T.int32()`` at the top of a body declares a symbolic size used by the params
        (TVM prints it after the signature that already uses ``n``); ``only`` limits this to
        some names (those a loop header uses before its body declares them)."""
        pairs: list[tuple[S.SExpr, S.SExpr]] = []
        for st in body:
            if isinstance(st, S.Assign) and isinstance(st.target, S.TupleExpr) and isinstance(st.value, S.TupleExpr):
                pairs += zip(st.target.elts, st.value.elts)
            elif isinstance(st, S.Assign):
                pairs.append((st.target, st.value))
        for target, value in pairs:
            if only is not None and not (isinstance(target, S.Name) and target.id in only):
                continue
            if isinstance(target, S.Name) and isinstance(value, S.Call):
                name = call_name(value)
                info = lookup_builtin(name) if name else None
                if info is not None and info.kind == "dtype" and not value.args:
                    dt = self.dtype_of(name or "int32", value.span)
                    v = Var(target.id, dt, span=target.span)
                    self.define(target.id, target.span, v, "size_var")

    def _stmt_For(self, st: S.For) -> list[Stmt]:
        targets: list[S.Name] = []
        if isinstance(st.target, S.Name):
            targets = [st.target]
        elif isinstance(st.target, S.TupleExpr) and all(isinstance(t, S.Name) for t in st.target.elts):
            targets = list(st.target.elts)
        else:
            raise self.fail("TIR005", "a loop target must be a name or a tuple of names", st.target.span)
        it = st.iter
        if not isinstance(it, S.Call):
            raise self.fail("TIR005", "loops iterate over range(...) or T.serial/T.grid/...", it.span)
        unknown = {n for n in _names_in(it) if self.lookup(n) is None}
        if unknown:
            # ``for j in T.vectorized(n): n = T.int32()``: TVM declares a size where it first
            # prints it, inside the loop whose header already uses it.
            self.predeclare_size_vars(st.body, unknown)
        fname = call_name(it)
        kind: str
        loops: list[tuple[Expr, Expr, Expr | None]]  # (min, extent, step)
        thread: str | None = None
        annotations: dict[str, object] = {}
        attr_spans: dict[str, Span] = {}
        ann = keyword(it, "annotations")
        if ann is not None:
            annotations = self.attr_dict(ann)
            attr_spans = value_spans(ann)
        if isinstance(it.func, S.Name) and it.func.id == "range":
            kind = "serial"
            loops = [self._range_args(it, "range")]
        elif fname == "grid":
            kind = "serial"
            loops = []
            for a in it.args:
                ext = self.expr(a, INT32)
                loops.append((IntImm(ext.dtype, 0, span=a.span), ext, None))
            if not loops:
                raise self.fail("TIR012", "T.grid needs at least one extent", it.span)
        elif fname in _LOOP_KINDS:
            kind = fname
            loops = [self._range_args(it, fname)]
            if fname == "thread_binding":
                th = keyword(it, "thread")
                if th is None and len(it.args) == 3:
                    th = it.args[2]
                if th is None:
                    raise self.fail("TIR012", "T.thread_binding needs thread=\"...\"", it.span)
                thread = self.const_str(th, "thread tag")
                attr_spans = {**attr_spans, "thread": th.span}
        else:
            shown = fname and f"T.{fname}" or "this call"
            raise self.fail("TIR005", f"cannot loop over {shown}", it.span)
        if len(loops) != len(targets):
            raise self.fail("TIR012", f"{len(targets)} loop variables for {len(loops)} loops", st.target.span)
        with self.scope():
            lvars: list[Var] = []
            defs: list[Definition] = []
            for t, (mn, ext, _) in zip(targets, loops):
                dt = ext.dtype if ext.dtype.is_int or ext.dtype.is_uint else INT32
                if mn.dtype != dt and mn.dtype.is_int and mn.dtype.bits > dt.bits:
                    dt = mn.dtype
                v = Var(t.id, dt, span=t.span)
                lvars.append(v)
                defs.append(self.define(t.id, t.span, v, "thread" if thread else "loop", check=False))
                self.open_loops[id(v)] = (mn, ext)
            # Each loop of a T.grid is a level of IR nesting (see ``stmt``).
            self.nesting += 2 * (len(loops) - 1)
            try:
                body = seq(self.stmts(st.body))
            finally:
                self.nesting -= 2 * (len(loops) - 1)
        for i in range(len(loops) - 1, -1, -1):
            mn, ext, step = loops[i]
            last = i == len(loops) - 1
            body = For(lvars[i], mn, ext, kind, body, thread, annotations if last else {},
                       step, span=st.span, attr_spans=attr_spans if last else {})
            defs[i].node = body
        return [body]

    def _range_args(self, it: S.Call, what: str) -> tuple[Expr, Expr, Expr | None]:
        args = [a for a in it.args]
        if what == "thread_binding" and len(args) == 3:
            args = args[:2]
        start_e = args[0] if args else keyword(it, "start")
        stop_e = args[1] if len(args) > 1 else keyword(it, "stop")
        step_e = args[2] if len(args) > 2 else keyword(it, "step")
        if start_e is None:
            raise self.fail("TIR012", f"{what} needs an extent", it.span)
        if stop_e is None:
            ext = self.expr(start_e, INT32)
            # ``range(T.uint32(4))``: the loop counts in its extent's dtype, as in TVM.
            is_index = ext.dtype.is_int or ext.dtype.is_uint
            return IntImm(ext.dtype if is_index else INT32, 0, span=start_e.span), ext, None
        if is_literal(start_e) and not is_literal(stop_e):
            stop = self.expr(stop_e, INT32)
            start = self.expr(start_e, stop.dtype)
        else:
            start = self.expr(start_e, INT32)
            stop = self.expr(stop_e, start.dtype)
        step = self.expr(step_e, start.dtype) if step_e is not None else None
        if isinstance(start, IntImm) and isinstance(stop, IntImm):
            extent: Expr = IntImm(stop.dtype, stop.value - start.value, span=stop.span)
        elif isinstance(start, IntImm) and start.value == 0:
            extent = stop
        else:
            extent = self.binop("sub", stop, start, stop_e.span)
        return start, extent, step

    def _stmt_With(self, st: S.With) -> list[Stmt]:
        if len(st.items) != 1:
            raise self.fail("TIR005", "one context per 'with' in TIR", st.span)
        item = st.items[0]
        ctx = item.context
        name = call_name(ctx)
        if not isinstance(ctx, S.Call) or name is None:
            raise self.fail("TIR005", "'with' needs a T.* context such as T.sblock(...) or T.attr(...)", ctx.span)
        if name in ("sblock", "block"):
            return [self._block(st, ctx)]
        if name == "init":
            frame = self.block_frame(ctx.span, "T.init")
            frame.init = self.body(st.body)
            return []
        if name == "attr":
            return [self.attr_stmt(ctx, self.body(st.body), st.span)]
        if name == "hint":
            return [self.hint_stmt(ctx, self.body(st.body), st.span)]
        if name in ("launch_thread", "allocate", "allocate_const", "let"):
            with self.scope():
                target = item.target
                if not isinstance(target, S.Name):
                    if name == "launch_thread" and target is None and ctx.args and isinstance(ctx.args[0], S.Name):
                        target = None
                    else:
                        raise self.fail("TIR005", f"'with T.{name}(...)' needs 'as <name>'", ctx.span)
                node: LaunchThread | Allocate | AllocateConst
                if name == "launch_thread":
                    node = self.launch_thread(target, ctx)
                elif name == "allocate":
                    node = self.allocate(target, ctx)
                elif name == "allocate_const":
                    node = self.allocate_const(target, ctx)
                else:
                    raise self.fail("TIR005", "'with T.let' is not supported; use x: T.let[...] = v", ctx.span)
                body = seq(self.stmts(st.body))
            built = node.with_(body=body)
            self.retarget_definition(node, built)
            return [built]
        raise self.fail("TIR005", f"T.{name} cannot be used with 'with'", ctx.span)

    def _block(self, st: S.With, ctx: S.Call) -> Stmt:
        name_e = argument(ctx, 0, "name")
        bname = self.const_str(name_e, "block name") if name_e is not None else ""
        frame = BlockFrame(bname)
        self.frames.append(frame)
        try:
            with self.scope():
                stmts = self.stmts(st.body)
        finally:
            self.frames.pop()
        block = SBlock(bname, tuple(frame.iter_vars), frame.reads, frame.writes, seq_or_nop(stmts),
                       frame.init, tuple(frame.alloc_buffers), tuple(frame.match_buffers), frame.annotations,
                       span=st.span, attr_spans=frame.attr_spans)
        self.blocks_made += 1
        pred = frame.predicate if frame.predicate is not None else IntImm(BOOL_T, 1)
        return SBlockRealize(tuple(frame.iter_values), pred, block, span=st.span)

    def launch_thread(self, target: S.Name | None, call: S.Call) -> LaunchThread:
        self.check_arity("launch_thread", call)
        first, ext_e = call.args[0], call.args[1]
        ext = self.expr(ext_e, INT32)
        if isinstance(first, S.Constant) and isinstance(first.value, str):
            tag = first.value
            if target is None:
                raise self.fail("TIR005", "T.launch_thread(\"tag\", n) must bind a name: tx = T.launch_thread(...)", call.span)
            v = Var(target.id, ext.dtype if ext.dtype.is_int else INT32, span=target.span)
            node = LaunchThread(v, tag, ext, span=call.span)
            self.define(target.id, target.span, v, "thread", node)
            return node
        # Classic: tx = T.env_thread("threadIdx.x"); T.launch_thread(tx, 16)
        var = self.expr(first)
        if not isinstance(var, Var):
            raise self.fail("TIR019", "T.launch_thread needs a thread tag string or an env_thread var", first.span)
        tag = self.env_threads.get(id(var), var.name)
        return LaunchThread(var, tag, ext, span=call.span)

    def scope_id(self, targets: tuple[S.SExpr, ...], call: S.Call, kind: str) -> ScopeIdDef:
        """``tx = T.thread_id([32])`` / ``bx, by = T.cta_id([2, 4], dtype="uint32")``."""
        if not all(isinstance(t, S.Name) for t in targets):
            raise self.fail("TIR005", f"T.{kind} binds names", call.span)
        dt_e = keyword(call, "dtype")
        if kind == "cta_id_in_pair" and dt_e is None and call.args:
            dt_e = call.args[0]
        dtype = self.dtype_arg(dt_e) if dt_e is not None else INT32
        ext_e = None if kind == "cta_id_in_pair" else argument(call, 0, "extents")
        extents = self._id_list(ext_e, dtype)
        preferred = self._id_list(argument(call, 1, "preferred") if kind.startswith("cta_id") else None, dtype)
        count = len(extents) if extents is not None else 1
        if count != len(targets):
            raise self.fail("TIR012", f"T.{kind} defines {count} id(s), assigned to {len(targets)} name(s)",
                            call.span)
        ids = tuple(Var(t.id, dtype, span=t.span) for t in targets)
        node = ScopeIdDef(ids, kind, extents, preferred, span=call.span)
        for t, v in zip(targets, ids):
            self.define(t.id, t.span, v, "thread", node)
        return node

    def _id_list(self, e: S.SExpr | None, dtype: DataType) -> tuple[Expr, ...] | None:
        if e is None or isinstance(e, S.Constant) and e.value is None:
            return None
        items = e.elts if isinstance(e, (S.ListExpr, S.TupleExpr)) else (e,)
        return tuple(self.expr(x, dtype) for x in items)

    def axis_remap(self, tgt: S.TupleExpr, call: S.Call) -> list[Stmt]:
        frame = self.block_frame(call.span, "T.axis.remap")
        self.check_arity("axis.remap", call)
        kinds = self.const_str(call.args[0], "iterator kinds")
        binds_e = call.args[1]
        binds = binds_e.elts if isinstance(binds_e, (S.ListExpr, S.TupleExpr)) else (binds_e,)
        if not (len(kinds) == len(binds) == len(tgt.elts)):
            raise self.fail("TIR012", f"T.axis.remap: {len(tgt.elts)} names, {len(kinds)} kinds, {len(binds)} bindings", call.span)
        for t, k, b in zip(tgt.elts, kinds, binds):
            if not isinstance(t, S.Name):
                raise self.fail("TIR005", "T.axis.remap targets must be names", t.span)
            if k not in "SR":
                raise self.fail("TIR019", f"iterator kind '{k}' is not S or R", call.args[0].span)
            binding = self.expr(b, INT32)
            dom = self._loop_extent_of(binding)
            if dom is None:
                raise self.fail("TIR019", "T.axis.remap binds loop variables only", b.span)
            v = Var(t.id, binding.dtype, span=t.span)
            iv = IterVar(v, dom[0], dom[1], k, span=t.span)
            frame.iter_vars.append(iv)
            frame.iter_values.append(binding)
            self.define(t.id, t.span, v, "block_iter", iv)
        return []

    def _loop_extent_of(self, v: Expr) -> tuple[Expr, Expr] | None:
        """The (min, extent) of the loop defining var ``v``."""
        if not isinstance(v, Var):
            return None
        d = self.index.definition_of(v)
        if d is None:
            return None
        node = d.node
        if isinstance(node, For):
            return node.min, node.extent
        # The For node is made after its body; find the loop bounds through a pending record.
        return self.open_loops.get(id(v))
