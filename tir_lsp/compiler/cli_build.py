"""``tirc build``: an ONNX model -> a Model Library Format archive.

    tirc build MODEL.onnx -o OUT.tar [--executor aot|graph] [--interface-api c|packed]
               [--unpacked-api] [--link-params [--link-params-format c|incbin]] [--runtime crt|cpp]
               [--target "c -executor=aot ..."]
               [--config FILE.json|FILE.toml] [--model-name NAME] [--print-after P[,P]|all] [--force]
               [--progress | --no-progress]

Options come from the command line, a config file (command line wins) or, deprecated, the
target string (it must agree with the others). Invalid combinations exit 1 with TIR107. A
model that cannot be imported exits 1 with ``MODEL.onnx: error: ... [TIR203]``.

``--link-params`` compiles the weights in: as C string literals of their bytes
(``--link-params-format c``, the default: portable C, but gcc needs ~6.5x the largest weights
file in memory), or as raw ``.bin`` files the assembler includes (``incbin``: GNU as or
clang, ELF targets; gcc needs ~the file's size, and the ``.c`` must be compiled by its path,
next to its ``.bin``). The archive is written as it is made: the build holds the weights
about once.

On a terminal (stderr a TTY) one line is redrawn as the build goes
(``[12/27] lowering fused_nn_conv2d_add_nn_relu_3``) and erased at the end; elsewhere (CI
logs) nothing is shown unless ``--progress`` asks for it, one line per step.
"""

from __future__ import annotations

import argparse
import json
import sys
import tarfile
import time
from pathlib import Path
from typing import Any, TextIO


def add_build_parser(subparsers: Any) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = subparsers.add_parser("build", help="compile an ONNX model to a Model Library Format archive")
    p.add_argument("model", metavar="MODEL.onnx")
    p.add_argument("-o", "--output", metavar="OUT.tar", required=True)
    p.add_argument("--executor", choices=("aot", "graph"))
    p.add_argument("--interface-api", choices=("c", "packed"))
    p.add_argument("--unpacked-api", action="store_true", default=None)
    p.add_argument("--link-params", action="store_true", default=None, help="compile the weights into the C")
    p.add_argument("--link-params-format", choices=("c", "incbin"),
                   help="with --link-params: C string literals (c, default, portable) or raw .bin files that "
                        "the assembler includes (incbin: GNU as/clang on ELF; far less compiler memory)")
    p.add_argument("--runtime", choices=("crt", "cpp"))
    p.add_argument("--target", metavar="TARGET", help='deprecated: options inside a target string, e.g. "c -executor=aot"')
    p.add_argument("--config", metavar="FILE", help="options from a JSON or TOML file")
    p.add_argument("--model-name", metavar="NAME")
    p.add_argument("--print-after", metavar="PASS[,PASS]|all", help="keep the TIR after these passes as src/tir-<N>.txt")
    p.add_argument("-f", "--force", action="store_true", help="replace an output file tirc did not write")
    shown = p.add_mutually_exclusive_group()
    shown.add_argument("--progress", action="store_true", default=None,
                       help="show progress even when stderr is not a terminal (one line per step)")
    shown.add_argument("--no-progress", dest="progress", action="store_false", help="never show progress")
    return p


_PHASE_WORDS = {"import": "importing", "generate": "generating TIR", "lower": "lowering", "emit": "emitting C",
                "archive": "writing"}


class ProgressLine:
    """Draws ``compile_model``'s progress on ``stream``: one line redrawn in place (carriage
    return, erase to the end of the line) on a terminal, or one line per step when ``redraw``
    is false. ``prefix`` (``tvmgen_<model>_``) is cut from function names to keep lines short."""

    def __init__(self, stream: TextIO, redraw: bool, prefix: str = "") -> None:
        self.stream = stream
        self.redraw = redraw
        self.prefix = prefix
        self.drawn = False

    def __call__(self, phase: str, done: int, total: int, what: str) -> None:
        words = _PHASE_WORDS.get(phase, phase)
        if phase == "lower":
            text = f"[{done + 1}/{total}] {words} {what.removeprefix(self.prefix)}"
        else:
            text = f"{words} {what}".rstrip()
        if self.redraw:
            self.stream.write(f"\r{text}\x1b[K")
            self.drawn = True
        else:
            self.stream.write(f"tirc: {text}\n")
        self.stream.flush()

    def clear(self) -> None:
        """Erase the redrawn line, so what is printed next starts a clean line."""
        if self.drawn:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self.drawn = False


def progress_for(choice: bool | None, stream: TextIO, prefix: str = "") -> ProgressLine | None:
    """The progress display ``--progress`` / ``--no-progress`` / neither (``choice`` True /
    False / None) asks for: by default only on a terminal."""
    is_tty = stream.isatty()
    if choice is False or (choice is None and not is_tty):
        return None
    return ProgressLine(stream, redraw=is_tty, prefix=prefix)


def _written_by_tirc(path: Path) -> bool:
    try:
        with tarfile.open(path) as tar:
            member = tar.extractfile("./metadata.json")
            if member is None:
                return False
            generator: object = json.loads(member.read()).get("generator")
            return generator == "Generated by tir-lsp"
    except (OSError, tarfile.TarError, KeyError, ValueError):
        return False


def write_archive(path: Path, compiled: Any, force: bool) -> None:
    """Write the archive of ``compiled`` atomically, as it is made (``mlf.write_archive``);
    refuse to replace a file that is not an archive tirc wrote."""
    from tir_lsp.compiler.cli_support import write_output_with
    from tir_lsp.compiler.executor import mlf

    write_output_with(path, lambda f: mlf.write_archive(compiled, f), force, written_by_tirc=_written_by_tirc)


def cmd_build(args: argparse.Namespace) -> int:
    from tir_lsp.compiler.cli_support import UsageError, pass_selection
    from tir_lsp.compiler.diagnostics import CompilerError
    from tir_lsp.compiler.executor.build import compile_model
    from tir_lsp.compiler.executor.options import read_config, resolve
    from tir_lsp.compiler.frontend.onnx_import import IMPORT_ERROR
    from tir_lsp.compiler.transform.pipeline import list_passes

    if not Path(args.model).is_file():
        raise UsageError(f"{args.model}: no such file")
    print_after = pass_selection(args.print_after, list_passes(), "--print-after") or None
    command_line = {"executor": args.executor, "interface-api": args.interface_api, "unpacked-api": args.unpacked_api,
                    "link-params": args.link_params, "runtime": args.runtime,
                    "link-params-format": getattr(args, "link_params_format", None)}
    config = read_config(args.config) if args.config else None
    options = resolve(command_line, config, args.target, args.model_name)
    for w in options.warnings:
        print(f"tirc: warning: {w}", file=sys.stderr)
    progress = progress_for(getattr(args, "progress", None), sys.stderr, f"tvmgen_{options.model_name}_")
    start = time.perf_counter()
    try:
        compiled = compile_model(args.model, options, print_after, progress=progress, stream_weights=True)
        if progress is not None:
            progress("archive", 0, 1, args.output)
        write_archive(Path(args.output), compiled, args.force)
    except CompilerError as exc:
        if progress is not None:
            progress.clear()
        if all(d.code == IMPORT_ERROR for d in exc.diagnostics):
            # A model file has no lines and columns to point at.
            for d in exc.diagnostics:
                print(f"{args.model}: {d.severity}: {d.message} [{d.code}]", file=sys.stderr)
            return 1
        raise
    finally:
        if progress is not None:
            progress.clear()
    print(build_summary(compiled, args.output, time.perf_counter() - start), file=sys.stderr)
    return 0


def build_summary(compiled: Any, output: str, seconds: float | None = None) -> str:
    """One line: fused operators (from how many ONNX nodes, of which kinds), the workspace
    pool (graph executor: the storage of the intermediates), the weights and where they
    are, the C written, and the time taken."""
    from tir_lsp.compiler.executor.streamed import file_size

    p = compiled.program
    plan = p.plan
    kinds: dict[str, int] = {}
    for n in p.graph.nodes:
        kinds[n.op_type] = kinds.get(n.op_type, 0) + 1
    ops = ", ".join(f"{k} {v}" for k, v in sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0])))
    weights = sum(p.graph.tensors[t].nbytes for t in p.param_names)
    where = "linked in" if p.options.link_params else f"in parameters/{p.options.model_name}.params.bin"
    if p.options.link_params and p.options.link_params_format == "incbin":
        where = f"linked in (.incbin of {len(compiled.data_files)} .bin files)"
    if p.options.executor == "graph" and not p.options.link_params:
        where = f"in parameters/{p.options.model_name}.params.npz"
    pool = "workspace" if p.options.executor == "aot" else "intermediate storage"
    c_bytes = sum(file_size(text) for text in compiled.sources.values())
    took = f", {seconds:.1f} s" if seconds is not None else ""
    return (f"tirc: wrote {output}: {len(p.fused)} operators (fused from {len(p.graph.nodes)} nodes: {ops}), "
            f"{pool} {plan.pool_size} bytes (peak live {plan.peak_live}, naive {plan.naive_size}), "
            f"weights {weights} bytes {where}, C {c_bytes} bytes in {len(compiled.sources)} files{took}")


def read_archive(path: str | Path) -> dict[str, bytes]:
    """Every file of an MLF archive by its path (without ``./``); for tests and tools."""
    out: dict[str, bytes] = {}
    with tarfile.open(path) as tar:
        for m in tar.getmembers():
            f = tar.extractfile(m)
            if f is not None:
                out[m.name.removeprefix("./")] = f.read()
    return out


def add_graph_parser(subparsers: Any) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = subparsers.add_parser("graph", help="the operator graph of an AOT module's __tvm_main__")
    p.add_argument("file", metavar="FILE.tir")
    p.add_argument("--format", choices=("json", "dot"), default="json")
    return p


def cmd_graph(args: argparse.Namespace) -> int:
    from tir_lsp.compiler.cli_support import load_module, report
    from tir_lsp.compiler.executor.graph import entry_function, to_dot, to_json

    name, module, diags = load_module(args.file)
    if report(diags, name):
        return 1
    if entry_function(module) is None:
        print(f"{name}: error: no entry function (__tvm_main__ or \"tir.is_entry_func\": True)", file=sys.stderr)
        return 1
    sys.stdout.write(to_json(module) if args.format == "json" else to_dot(module))
    return 0
