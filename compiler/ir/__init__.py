"""The TIR intermediate representation: immutable nodes with source spans."""

from compiler.ir.attrs import MetadataRef, TargetLiteral
from compiler.ir.buffer import Buffer
from compiler.ir.dtype import DataType, PointerType, Type, parse_dtype
from compiler.ir.expr import (
    BinOp,
    Broadcast,
    BufferLoad,
    BufferRegion,
    Call,
    Cast,
    Expr,
    FloatImm,
    IntImm,
    Let,
    Not,
    Ramp,
    Range,
    Select,
    Shuffle,
    StringImm,
    TypeLiteral,
    Var,
)
from compiler.ir.function import IRModule, PrimFunc
from compiler.ir.node import Node
from compiler.ir.span import Span
from compiler.ir.stmt import (
    Allocate,
    AllocateConst,
    AllocBuffer,
    AssertStmt,
    AttrStmt,
    Bind,
    BufferStore,
    DeclBuffer,
    Evaluate,
    For,
    IfThenElse,
    IterVar,
    LaunchThread,
    MatchBufferRegion,
    SBlock,
    SBlockRealize,
    SeqStmt,
    Stmt,
    While,
)

__all__ = [
    "AllocBuffer", "Allocate", "AllocateConst", "AssertStmt", "AttrStmt", "BinOp", "Bind",
    "Broadcast", "Buffer", "BufferLoad", "BufferRegion", "BufferStore", "Call", "Cast",
    "DataType", "DeclBuffer", "Evaluate", "Expr", "FloatImm", "For", "IRModule", "IfThenElse",
    "IntImm", "IterVar", "LaunchThread", "Let", "MatchBufferRegion", "MetadataRef", "Node",
    "Not", "PointerType", "PrimFunc", "Ramp", "Range", "SBlock", "SBlockRealize", "Select",
    "SeqStmt", "Shuffle", "Span", "Stmt", "StringImm", "TargetLiteral", "Type", "TypeLiteral",
    "Var", "While", "parse_dtype",
]
