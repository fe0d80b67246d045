"""``tirc``: the compiler's command line.

    tirc print FILE...                 re-print through parse, analysis and printer
    tirc fmt FILE... [--check]         lay the text out again in place (whitespace only)
    tirc lower FILE [--unpacked-api] [--emit tir|json|c] [-o OUT]
                    [--print-after P[,P]|all] [--print-before ...] [--stop-after P]
                    [--dump-dir DIR] [--force]
    tirc build MODEL.onnx [--executor aot|graph] [--interface-api c|packed] [--unpacked-api]
                    [--link-params [--link-params-format c|incbin]] [--model-name NAME] -o OUT.tar
                    (tir_lsp/compiler/cli_build.py)
    tirc graph FILE.tir --format json|dot

Errors are ``file:line:col: error: message [TIRxxx]`` on stderr with exit 1; usage errors
exit 2; no traceback ever reaches the user. Output files are written atomically and never
replace a file that tirc did not write unless ``--force`` is given.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from tir_lsp.compiler.cli_support import (
    OutputError,
    UsageError,
    check_replaceable,
    load_module,
    pass_selection,
    report,
    with_file,
    write_output,
)
from tir_lsp.compiler.diagnostics import INFO, CompilerError, Diagnostic
from tir_lsp.compiler.ir.function import IRModule
from tir_lsp.compiler.ir.relax import RelaxFunction
from tir_lsp.compiler.ir.span import Span

# ---------------------------------------------------------------------------------------
# Commands


def cmd_print(args: argparse.Namespace, exit_when_done: bool = False) -> int:
    """Print each file; with ``exit_when_done`` (a real `tirc` process) end the process here."""
    from tir_lsp.compiler.text.printer import print_module

    if exit_when_done:
        # The process ends right after: the cyclic GC would only re-scan the whole IR.
        gc.disable()
    status = 0
    modules = []  # kept alive until the exit, so none is freed object by object
    for path in args.files:
        name, module, diags = load_module(path)
        modules.append(module)
        if report(diags, name):
            status = 1
            continue
        sys.stdout.write(print_module(module))
    if exit_when_done:
        _exit_now(status)
    return status


def cmd_fmt(args: argparse.Namespace) -> int:
    """Format each file in place (``-``: stdin to stdout); ``--check`` only says which files
    would change. Exit 1 when a file cannot be formatted or, with ``--check``, would change."""
    from tir_lsp.compiler.text.formatter import format_tir
    from tir_lsp.compiler.text.reader import decode_tir_bytes

    status = 0
    for path in args.files:
        if path == "-":
            name, text, bom = "<stdin>", sys.stdin.read(), b""
        else:
            p = Path(path)
            if not p.is_file():
                raise UsageError(f"{path}: {'is a directory' if p.is_dir() else 'no such file'}")
            data = p.read_bytes()
            decoded, bad = decode_tir_bytes(data, path)
            if bad is not None:
                report([bad], path)
                status = 1
                continue
            name, text, bom = path, decoded or "", data[:3] if data.startswith(b"\xef\xbb\xbf") else b""
        result = format_tir(text, name)
        if result.refused is not None:
            if result.error is not None:
                report([with_file(result.error, name)], name)
            else:
                print(f"{name}: {result.refused}", file=sys.stderr)
            status = 1
            if path == "-":
                sys.stdout.write(text)
            continue
        if path == "-":
            sys.stdout.write(result.text)
        elif result.text != text:
            if args.check:
                print(f"{name}: would reformat", file=sys.stderr)
                status = 1
            else:
                _replace_in_place(Path(path), bom + result.text.encode("utf-8"))
    return status


def _replace_in_place(path: Path, data: bytes) -> None:
    """Replace the file at ``path`` (through a symlink, its target) atomically, keeping its
    permission bits: a temporary file next to it is renamed over it, so an interrupted write
    leaves the old file whole."""
    target = path.resolve()
    mode = target.stat().st_mode & 0o7777
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _exit_now(status: int) -> None:
    """End the process without tearing down the IR: freeing a large module object by object
    cost about a sixth of `tirc print`'s time. Output is flushed first."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        pass
    sys.stderr.flush()
    os._exit(status)


def _stage_header(pass_name: str, when: str, index: int, total: int, argv_options: str) -> list[str]:
    return [
        f"tirc: TIR {when} pass {pass_name} ({index}/{total})",
        f"tirc: options: {argv_options or '(defaults)'}",
        "tirc: valid input for `tirc lower`; resuming from here gives the same C",
    ]


def cmd_lower(args: argparse.Namespace) -> int:
    from tir_lsp.compiler.transform.pass_api import PipelineOptions
    from tir_lsp.compiler.transform.pipeline import list_passes, passes_for, run_pipeline

    known = list_passes()
    print_after = pass_selection(args.print_after, known, "--print-after")
    print_before = pass_selection(args.print_before, known, "--print-before")
    if args.stop_after is not None and args.stop_after not in known:
        raise UsageError(f"--stop-after: unknown pass {args.stop_after}; known passes: {', '.join(known)}")
    if args.emit == "c" and args.stop_after is not None:
        raise UsageError("--stop-after stops before C can be emitted; use --emit tir or --emit json")
    dump_dir = Path(args.dump_dir) if args.dump_dir else None
    if dump_dir is not None and dump_dir.exists() and not dump_dir.is_dir():
        raise UsageError(f"--dump-dir {dump_dir}: not a directory")

    if dump_dir is not None and not (print_after or print_before):
        # A dump folder alone means every stage: naming the folder says what is wanted.
        print_after = "all"

    name, module, diags = load_module(args.file)
    if report(diags, name):
        return 1
    unpacked = args.unpacked_api or bool(module.attrs.get("unpacked-api", False))
    if module.relax_functions:
        from tir_lsp.compiler.executor.relax_entry import compile_entries

        # Chains of R.call_tir become PrimFuncs; the other Relax functions are left out (the
        # lowered PrimFuncs no longer take what their calls pass).
        module, left_out = compile_entries(module, packed=not unpacked)
        report(relax_not_compiled(left_out, name), name)
    # The options are written into every emitted module so each dump describes itself.
    module = _with_options(module, unpacked)
    options_text = "--unpacked-api" if unpacked else ""

    from tir_lsp.compiler.text.printer import print_module

    options = PipelineOptions(unpacked_api=unpacked, print_after=print_after, print_before=print_before,
                              stop_after=args.stop_after, dump_dir=dump_dir)
    order = [p.name for p in passes_for(options)]
    _check_in_pipeline(order, unpacked, [("--print-after", print_after), ("--print-before", print_before),
                                         ("--stop-after", {args.stop_after} if args.stop_after else set())])
    counter = {"n": 0}

    def on_stage(pass_name: str, mod: IRModule, when: str) -> None:
        index = order.index(pass_name) + 1 if pass_name in order else 0
        text = print_module(mod, header=_stage_header(pass_name, when, index, len(order), options_text))
        if dump_dir is not None:
            counter["n"] += 1
            fname = f"{counter['n']:02d}_{pass_name}.tir" if when == "after" else f"{counter['n']:02d}_before_{pass_name}.tir"
            write_output(dump_dir / fname, text, args.force)
        else:
            sys.stdout.write(text)
            sys.stdout.flush()

    if print_after or print_before:
        options.on_stage = on_stage
    lowered = run_pipeline(module, options)

    if args.emit == "tir":
        out = print_module(lowered, header=["tirc: TIR after the whole pipeline", f"tirc: options: {options_text or '(defaults)'}"]
                           if args.stop_after is None else
                           _stage_header(args.stop_after, "after", order.index(args.stop_after) + 1 if args.stop_after in order else 0, len(order), options_text))
    elif args.emit == "json":
        from tir_lsp.compiler.backend.json_format import dumps

        out = dumps(lowered, indent=1) + "\n"
    else:
        from tir_lsp.compiler.backend.c_codegen import emit_c
        from tir_lsp.compiler.backend.runtime_header import HEADER_NAME, runtime_header, with_runtime_inlined

        out = emit_c(lowered)
        if args.output:
            # Both files are checked before either is written: a refusal leaves nothing behind.
            header = Path(args.output).parent / HEADER_NAME
            check_replaceable(header, args.force)
            write_output(Path(args.output), out, args.force)
            write_output(header, runtime_header(), args.force)
            return 0
        # On standard output there is no folder to put the header in: the C carries it.
        out = with_runtime_inlined(out)
    if args.output:
        write_output(Path(args.output), out, args.force)
    elif dump_dir is not None or not (print_after or print_before) or args.emit != "tir":
        sys.stdout.write(out)
    return 0


def _check_in_pipeline(order: list[str], unpacked: bool, selections: list[tuple[str, set[str] | str]]) -> None:
    """Raise UsageError for a pass that exists but does not run with these options (its stage
    would never be printed, and the command would succeed having shown nothing)."""
    for flag, chosen in selections:
        absent = sorted(chosen - set(order)) if isinstance(chosen, set) else []
        if absent:
            hint = "without --unpacked-api" if unpacked else "with --unpacked-api"
            raise UsageError(f"{flag}: {', '.join(absent)} does not run in this pipeline (it runs {hint}); "
                             f"this pipeline: {', '.join(order)}")


def relax_not_compiled(left_out: list[tuple[RelaxFunction, str]], name: str) -> list[Diagnostic]:
    """TIR204 notes: one per Relax function ``tirc lower`` leaves out, with the reason."""
    return [Diagnostic("TIR204", f"Relax function '{f.name}' is not compiled ({why}): tirc lowers the "
                                 "module's PrimFuncs and leaves it out of its output",
                       f.name_span or f.span or Span(1, 1, 1, 1), INFO, file=name)
            for f, why in left_out]


def _with_options(module: IRModule, unpacked: bool) -> IRModule:
    """Record the calling convention in the module so its dumps say how to resume.

    Unpacked operators can only be called directly, which only the AOT executor does (the
    graph executor calls packed functions), so the two options are written together.
    """
    if not unpacked or (module.attrs.get("unpacked-api") is True and "executor" in module.attrs):
        return module
    attrs = dict(module.attrs)
    attrs.setdefault("executor", "aot")
    attrs["unpacked-api"] = True
    return module.with_(attrs=attrs)


# ---------------------------------------------------------------------------------------
# Entry point


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("tir-lsp")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "0.1.0 (not installed)"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="tirc", description="Compile TIR text (TVMScript) to C, JSON or TIR at any stage.")
    parser.add_argument("--version", action="version", version=f"tirc {_version()}")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser, metavar="COMMAND")
    p_print = sub.add_parser("print", help="re-print files through parse, analysis and printer")
    p_print.add_argument("files", nargs="+", metavar="FILE", help="TIR text or tirc's JSON (- for stdin)")
    p_fmt = sub.add_parser("fmt", help="format files in place: whitespace only, names and comments kept")
    p_fmt.add_argument("files", nargs="+", metavar="FILE", help="TIR text (- for stdin to stdout)")
    p_fmt.add_argument("--check", action="store_true", help="change nothing; exit 1 if a file would change")
    p_lower = sub.add_parser("lower", help="lower a file through the pass pipeline")
    p_lower.add_argument("file", metavar="FILE", help="TIR text or tirc's JSON (- for stdin)")
    p_lower.add_argument("--unpacked-api", action="store_true", help="MakeUnpackedAPI instead of MakePackedAPI")
    p_lower.add_argument("--emit", choices=("tir", "json", "c"), default="c",
                         help="what to write: C (default; with -o, tir_runtime.h is written next to it, "
                              "on standard output it is inlined), the lowered TIR, or tirc's JSON IR")
    p_lower.add_argument("-o", "--output", metavar="OUT", help="write to OUT instead of standard output")
    p_lower.add_argument("--print-after", metavar="PASS[,PASS]|all",
                         help="print the TIR after these passes (see `tirc passes`)")
    p_lower.add_argument("--print-before", metavar="PASS[,PASS]|all", help="print the TIR before these passes")
    p_lower.add_argument("--stop-after", metavar="PASS", help="stop after PASS (with --emit tir or json)")
    p_lower.add_argument("--dump-dir", metavar="DIR",
                         help="write each printed stage to DIR/NN_PassName.tir instead of standard output; "
                              "without --print-after/--print-before, every stage")
    p_lower.add_argument("-f", "--force", action="store_true", help="replace output files tirc did not write")
    sub.add_parser("passes", help="list the passes in pipeline order (both calling conventions)")
    from tir_lsp.compiler.cli_build import add_build_parser, add_graph_parser

    add_build_parser(sub)
    add_graph_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(list(argv) if argv is not None else None)
        if args.command == "print":
            # Exit early only as the real command line, not for a caller in this process.
            return cmd_print(args, exit_when_done=argv is None)
        if args.command == "fmt":
            return cmd_fmt(args)
        if args.command == "lower":
            return cmd_lower(args)
        if args.command in ("build", "graph"):
            from tir_lsp.compiler.cli_build import cmd_build, cmd_graph

            return cmd_build(args) if args.command == "build" else cmd_graph(args)
        if args.command == "passes":
            from tir_lsp.compiler.transform.pipeline import list_passes

            print("\n".join(list_passes()))
            return 0
        build_parser().print_help(sys.stderr)
        return 2
    except UsageError as exc:
        print(f"tirc: error: {exc}", file=sys.stderr)
        return 2
    except OutputError as exc:
        print(f"tirc: error: {exc}", file=sys.stderr)
        return 1
    except CompilerError as exc:
        for d in exc.diagnostics:
            print(d.render(d.file or getattr(args, "file", None) or getattr(args, "model", None)), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # noqa: BLE001 - the edge: never a traceback
        print(f"tirc: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
