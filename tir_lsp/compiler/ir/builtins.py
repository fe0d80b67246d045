"""The table of known ``T.*`` names: builtin calls, statement forms, dtype constructors.

The builder uses it to type calls and check arity; the language server uses the same
entries for hover (``description``), completion and signature help (``signature``).
"""

from __future__ import annotations

from dataclasses import dataclass

from tir_lsp.compiler.ir.dtype import SMALL_FLOATS, is_dtype_name


@dataclass(frozen=True, slots=True)
class BuiltinInfo:
    """One ``T.<name>``.

    ``result`` is the dtype rule of a call: ``arg0`` (dtype of the first argument),
    ``bool``, ``int32``, ``handle``, ``void``, ``from_arg:N`` (the dtype string given as
    argument N), ``float_of_arg0`` (arg0's dtype when float, else float32), ``self`` (a
    dtype constructor: the dtype of its own name), ``none`` (a statement or type form, not
    an expression). ``kind`` is ``expr``, ``stmt``, ``type``, ``dtype`` or ``decorator``.
    """

    name: str
    min_args: int
    max_args: int | None
    description: str
    result: str
    signature: str
    kind: str = "expr"


BUILTINS: dict[str, BuiltinInfo] = {}


def _add(name: str, lo: int, hi: int | None, result: str, params: str, desc: str,
         kind: str = "expr") -> None:
    BUILTINS[name] = BuiltinInfo(name, lo, hi, desc, result, f"T.{name}({params})", kind)


# ---------------------------------------------------------------- statement / structure forms
_S = "stmt"
_add("prim_func", 0, 1, "none", "func=None, private=False, s_tir=False", "Decorator marking a TIR function.", "decorator")
_add("Buffer", 1, 2, "none", "shape, dtype=\"float32\", data=None, strides=None, elem_offset=None, scope=\"global\", align=0, offset_factor=0, buffer_type=\"default\", axis_separators=None", "A buffer: a typed, shaped view of memory (parameter annotation or declaration).", "type")
_add("grid", 1, None, "none", "*extents", "Nested serial loops, one per extent.", _S)
for _k in ("serial", "parallel", "vectorized", "unroll"):
    _add(_k, 1, 2, "none", "start, stop=None, annotations=None", f"A {_k} loop over [start, stop) (or [0, start)).", _S)
_add("thread_binding", 1, 3, "none", "start, stop=None, thread, annotations=None", "A loop bound to a GPU thread axis.", _S)
_add("sblock", 0, 2, "none", "name=\"\", no_realize=False", "A schedulable block with its own iterators, reads and writes.", _S)
_add("block", 0, 2, "none", "name=\"\", no_realize=False", "A schedulable block (classic spelling of T.sblock).", _S)
for _k, _d in (("spatial", "a spatial"), ("reduce", "a reduction"), ("scan", "a scan"), ("opaque", "an opaque")):
    _add(f"axis.{_k}", 2, 3, "none", "dom, binding, dtype=\"int32\"", f"Declares {_d} block iterator over dom bound to binding.", _S)
_add("axis.remap", 2, 2, "none", "kinds, bindings", "Declares block iterators at once: kinds is a string of S/R, one per binding.", _S)
_add("reads", 0, None, "none", "*buffer_regions", "The buffer regions a block reads.", _S)
_add("writes", 0, None, "none", "*buffer_regions", "The buffer regions a block writes.", _S)
_add("init", 0, 0, "none", "", "The initialization of a reduction block (runs on the first reduction iteration).", _S)
_add("where", 1, 1, "none", "predicate", "The predicate under which a block instance executes.", _S)
_add("sblock_attr", 1, 1, "none", "attrs", "Annotations of the enclosing block.", _S)
_add("block_attr", 1, 1, "none", "attrs", "Annotations of the enclosing block (classic spelling).", _S)
_add("alloc_buffer", 1, 2, "none", "shape, dtype=\"float32\", data=None, strides=None, elem_offset=None, scope=\"global\", align=-1, offset_factor=0, buffer_type=\"default\", axis_separators=None, annotations=None", "Allocates a buffer for the rest of the enclosing scope.", _S)
_add("alloc_local", 1, 2, "none", "shape, dtype=\"float32\", annotations=None", "Allocates a buffer in local (per-thread) memory for the rest of the scope.", _S)
_add("alloc_shared", 1, 2, "none", "shape, dtype=\"float32\", annotations=None", "Allocates a buffer in shared memory for the rest of the scope.", _S)
_add("sblock_alloc_buffer", 1, 2, "none", "shape, dtype=\"float32\", scope=\"global\", ...", "Allocates a buffer owned by the enclosing block (the implicit root block at function level).", _S)
_add("decl_buffer", 1, 2, "none", "shape, dtype=\"float32\", data=None, strides=None, elem_offset=None, scope=\"global\", align=0, offset_factor=0, buffer_type=\"default\", axis_separators=None", "Declares a buffer over existing memory (data=pointer).", _S)
_add("alloc_scalar", 1, 2, "none", "dtype, scope=\"global\"", "Allocates a one-element buffer read as x and written as x = v.", _S)
_add("local_scalar", 1, 1, "none", "dtype", "Allocates a one-element local buffer read as x and written as x = v.", _S)
_add("shared_scalar", 1, 1, "none", "dtype", "Allocates a one-element shared buffer read as x and written as x = v.", _S)
_add("decl_scalar", 1, 1, "none", "dtype, data=None, elem_offset=0, scope=\"global\"", "Declares a one-element buffer over existing memory, read as x and written as x = v.", _S)
_add("hint", 0, 1, "none", "message=\"\", **attrs", "A directive for the statements it wraps (with T.hint(...):) or that follow.", _S)
_add("buffer_decl", 1, 2, "none", "shape, dtype=\"float32\", data=None, strides=None, elem_offset=None, scope=\"global\", align=0, offset_factor=0", "Declares a buffer over existing memory (TVM 0.8-0.9 spelling of T.decl_buffer).", _S)
_add("match_buffer", 2, 3, "none", "param_or_region, shape, dtype=\"float32\", data=None, strides=None, elem_offset=None, scope=\"global\", align=-1, offset_factor=0, buffer_type=\"default\", axis_separators=None", "Binds a buffer to a handle parameter or to a region of another buffer.", _S)
_add("allocate", 2, 4, "none", "extents, dtype, scope=\"global\", condition=True, annotations=None", "Allocates memory and binds a pointer var (classic dialect).", _S)
_add("allocate_const", 3, 3, "none", "data, dtype, extents, annotations=None", "Binds a pointer to constant data.", _S)
_add("attr", 1, 3, "none", "node, attr_key, value", "An attribute attached to a node for the rest of the scope (or a with-body).", _S)
_add("launch_thread", 2, 2, "none", "thread_tag, extent", "Launches a thread axis and binds its index var.", _S)
_add("env_thread", 1, 1, "none", "thread_tag", "A thread index var for T.launch_thread.", _S)
_add("func_attr", 1, 1, "none", "attrs", "Attributes of the enclosing function.", _S)
_add("target", 1, 2, "none", "config, host=None", "A compilation target literal.", "type")
_add("let", 0, 0, "none", "", "Type annotation T.let[type] of an immutable binding.", "type")
_add("evaluate", 1, 1, "none", "value", "Evaluates an expression for its side effects.", _S)
_add("assume", 1, 1, "void", "cond", "Tells the compiler that cond holds.")
_add("handle", 0, 2, "handle", "dtype=None, storage_scope=\"global\"", "An opaque pointer type, optionally to elements of dtype.", "type")
_add("TensorMap", 0, 0, "handle", "", "An opaque handle to a CUDA tensor map descriptor (a type).", "type")
_add("Tensor", 1, 2, "none", "shape, dtype=\"float32\"", "Alias of T.Buffer.", "type")
_add("comm_reducer", 2, 2, "none", "combiner, identity", "A commutative reducer.", "expr")
_add("meta_var", 1, 1, "none", "value", "A meta-programming value.", "expr")

# ---------------------------------------------------------------- expression constructors
_add("Cast", 2, 2, "from_arg:0", "dtype, value", "Converts value to dtype.")
_add("Select", 3, 3, "arg1", "condition, true_value, false_value", "Picks one of two values (both evaluated).")
_add("if_then_else", 3, 3, "arg1", "cond, t, f", "Picks one of two values, evaluating only the chosen one.")
_add("Ramp", 3, 3, "arg0", "base, stride, lanes", "A vector base, base+stride, ... of lanes lanes.")
_add("Broadcast", 2, 2, "arg0", "value, lanes", "A vector of lanes copies of value.")
_add("Shuffle", 2, 2, "arg0", "vectors, indices", "A vector made of lanes picked from vectors.")
_add("Let", 1, 1, "arg0", "body, where={var: value}", "An expression-level binding.")
for _k, _d in (("Div", "Division (truncating for integers)."), ("truncdiv", "Truncating integer division."),
               ("truncmod", "Remainder of truncating division."), ("floordiv", "Division rounding toward minus infinity."),
               ("floormod", "Remainder of floor division."), ("min", "The smaller of a and b."),
               ("max", "The larger of a and b."), ("Add", "a + b."), ("Sub", "a - b."), ("Mul", "a * b."),
               ("FloorDiv", "Floor division."), ("FloorMod", "Floor modulo."), ("Mod", "Truncating modulo."),
               ("Min", "The smaller of a and b."), ("Max", "The larger of a and b.")):
    _add(_k, 2, 2, "arg0", "a, b", _d)
for _k in ("EQ", "NE", "LT", "LE", "GT", "GE", "And", "Or"):
    _add(_k, 2, 2, "bool", "a, b", f"Comparison/logic {_k}.")
_add("Not", 1, 1, "bool", "a", "Logical not.")
_add("min_value", 1, 1, "from_arg:0", "dtype", "The smallest value of dtype.")
_add("max_value", 1, 1, "from_arg:0", "dtype", "The largest value of dtype.")
_add("infinity", 1, 1, "from_arg:0", "dtype", "Positive infinity of dtype.")
_add("reinterpret", 2, 2, "from_arg:0", "dtype, value", "The bits of value seen as dtype.")

# ---------------------------------------------------------------- math intrinsics
for _k in ("exp", "exp2", "exp10", "log", "log2", "log10", "log1p", "sqrt", "rsqrt", "sin", "cos", "tan",
           "sinh", "cosh", "tanh", "asin", "acos", "atan", "asinh", "acosh", "atanh", "erf", "sigmoid",
           "floor", "ceil", "round", "nearbyint", "trunc", "expm1", "fabs"):
    _add(_k, 1, 1, "arg0", "x", f"Elementwise {_k} of x.")
_add("abs", 1, 1, "arg0", "x", "Absolute value of x.")
for _k in ("pow", "atan2", "fmod", "hypot", "copysign", "nextafter", "ldexp"):
    _add(_k, 2, 2, "arg0", "x, y", f"Elementwise {_k}(x, y).")
for _k in ("isnan", "isinf", "isfinite"):
    _add(_k, 1, 1, "bool", "x", f"Whether x {_k[2:]}.")
_add("popcount", 1, 1, "arg0", "x", "Number of set bits in x.")
_add("clz", 1, 1, "int32", "x", "Number of leading zero bits in x.")
_add("iter_var", 4, 4, "handle", "var, dom, iter_type, thread_tag", "An iteration variable (an attribute's node in lowered text).")
_add("likely", 1, 1, "arg0", "cond", "Marks cond as likely true.")
_add("bitwise_and", 2, 2, "arg0", "a, b", "Bitwise and.")
_add("bitwise_or", 2, 2, "arg0", "a, b", "Bitwise or.")
_add("bitwise_xor", 2, 2, "arg0", "a, b", "Bitwise exclusive or.")
_add("bitwise_not", 1, 1, "arg0", "a", "Bitwise complement.")
_add("shift_left", 2, 2, "arg0", "a, b", "a shifted left by b bits.")
_add("shift_right", 2, 2, "arg0", "a, b", "a shifted right by b bits.")
_add("q_multiply_shift", 4, 4, "arg0", "x, y, q, s", "Fixed-point multiply and shift.")

# ---------------------------------------------------------------- calls and runtime builtins
_add("call_extern", 2, None, "from_arg:0", "dtype, func_name, *args", "Direct call of an external C function.")
_add("call_pure_extern", 2, None, "from_arg:0", "dtype, func_name, *args", "Direct call of a side-effect-free external C function.")
_add("call_llvm_intrin", 2, None, "from_arg:0", "dtype, intrinsic, *args", "Call of an LLVM intrinsic.")
_add("call_llvm_pure_intrin", 2, None, "from_arg:0", "dtype, intrinsic, *args", "Call of a pure LLVM intrinsic.")
_add("call_intrin", 2, None, "from_arg:0", "dtype, op_name, *args", "Call of a TIR intrinsic by name.")
_add("call_packed", 1, None, "int32", "func_name, *args", "Late-bound call of a packed function by name through the runtime.")
_add("call_cpacked", 1, None, "int32", "func_name, *args", "Direct call of a packed function symbol.")
_add("call_packed_lowered", 1, None, "int32", "func_name, *args", "Lowered packed call.")
_add("call_cpacked_lowered", 1, None, "int32", "func_name, *args", "Lowered direct packed call.")
_add("tvm_call_packed", 1, None, "int32", "func_name, *args", "Packed call (builtin spelling).")
_add("tvm_call_cpacked", 1, None, "int32", "func_name, *args", "Direct packed call (builtin spelling).")
_add("tvm_call_packed_lowered", 5, 5, "int32", "func_name, args_stack, type_codes_stack, begin, end", "Packed call with arguments on a stack made by tvm_stack_alloca.")
_add("tvm_call_cpacked_lowered", 5, 5, "int32", "func_name, args_stack, type_codes_stack, begin, end", "Direct packed call with arguments on a stack.")
_add("tvm_struct_get", 4, 4, "from_arg:3", "handle, index, field, dtype", "Reads a field of a runtime struct (DLTensor, packed args).")
_add("tvm_struct_set", 4, 4, "int32", "handle, index, field, value", "Writes a field of a runtime struct.")
_add("tvm_stack_alloca", 2, 2, "handle", "type, num", "Allocates num entries of type on the stack.")
_add("tvm_stack_make_shape", 0, None, "handle", "*dims", "Builds a shape array on the stack.")
_add("tvm_stack_make_array", 6, 6, "handle", "data, shape, strides, ndim, dtype, elem_offset", "Builds a DLTensor on the stack.")
_add("tvm_throw_last_error", 0, 0, "int32", "", "Returns the last runtime error to the caller.")
_add("isnullptr", 1, 1, "bool", "handle", "Whether handle is a null pointer.")
_add("handle_add_byte_offset", 2, 2, "handle", "handle, offset", "The pointer handle moved by offset bytes.")
_add("address_of", 1, 1, "handle", "buffer_load", "The address of a buffer element.")
_add("tvm_access_ptr", 5, 5, "handle", "ptype, data, offset, extent, rw_mask", "A pointer to a buffer region with access mask.")
_add("type_annotation", 1, 1, "from_arg:0", "dtype", "A value standing for a type.")
_add("TVMBackendAllocWorkspace", 5, 5, "handle", "device_type, device_id, nbytes, dtype_code_hint, dtype_bits_hint", "Allocates workspace memory from the runtime.")
_add("TVMBackendFreeWorkspace", 3, 3, "int32", "device_type, device_id, ptr", "Frees workspace memory allocated by TVMBackendAllocWorkspace.")
_add("ret", 1, 1, "arg0", "value", "Returns value from the function.")
_add("tvm_check_return", 3, 3, "int32", "expected, return_unexpected, nested_call", "Checks a call's return value.")
_add("lookup_param", 1, 1, "handle", "param_name", "A linked parameter by name.")
_add("undef", 0, 0, "int32", "", "An undefined value.")
_add("start_profile_intrinsic", 1, 1, "void", "id", "Profiling start marker.")
_add("end_profile_intrinsic", 1, 1, "void", "id", "Profiling end marker.")
_add("tvm_thread_allreduce", 1, None, "handle", "*args", "Cross-thread reduction.")
_add("tvm_storage_sync", 1, 3, "int32", "scope, is_global=False, num_blocks=0", "Memory barrier for a storage scope.")
_add("prefetch", 2, None, "int32", "buffer, region", "Prefetch hint.")
_add("vscale", 0, 0, "int32", "", "The scalable vector multiplier.")
_add("call_ffi_kernel", 1, None, "int32", "kernel_name, *args, launch_params=[...], ret_ty=\"int32\"", "Launches a device kernel of the module through the FFI.")
for _k, _d in (("thread_id", "the thread in its cta"), ("thread_id_in_wg", "the thread in its warpgroup"),
               ("lane_id", "the thread in its warp"), ("warp_id", "the warp in its cta"),
               ("warp_id_in_wg", "the warp in its warpgroup"), ("warpgroup_id", "the warpgroup in its cta"),
               ("cta_id", "the cta in the kernel"), ("cta_id_in_cluster", "the cta in its cluster"),
               ("cluster_id", "the cluster in the kernel")):
    _add(_k, 0, 3, "none", "extents=None, dtype=\"int32\"", f"Binds the id(s) of {_d}, one name per extent: tx = T.{_k}([32]).", _S)
_add("cta_id_in_pair", 0, 1, "none", "dtype=\"int32\"", "Binds the id of the cta in its pair.", _S)


# ---------------------------------------------------------------- dtype constructors
def _dtype_info(name: str) -> BuiltinInfo:
    return BuiltinInfo(name, 0, 1, f"A {name} constant or conversion (no argument: declares a {name} var).",
                       "self", f"T.{name}(value=None, is_size_var=False)", "dtype")


_BASE_DTYPES = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float16",
                "float32", "float64", "bfloat16", "bool", *SMALL_FLOATS)
for _b in _BASE_DTYPES:
    for _lanes in (1, 2, 3, 4, 8, 16, 32, 64):
        _n = _b if _lanes == 1 else f"{_b}x{_lanes}"
        BUILTINS[_n] = _dtype_info(_n)
BUILTINS["void"] = BuiltinInfo("void", 0, 0, "The void type.", "void", "T.void()", "type")


def lookup_builtin(name: str) -> BuiltinInfo | None:
    """The entry for ``name`` (``exp``, ``T.exp``, ``axis.remap``), or None when unknown.

    Any dtype name (``int8x12``) is known as a dtype constructor even when not listed.
    """
    name = name.removeprefix("T.")
    info = BUILTINS.get(name)
    if info is None and is_dtype_name(name) and name not in ("handle", "void"):
        info = _dtype_info(name)
    return info
