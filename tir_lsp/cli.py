"""``tir-lsp``: the language server (stdio by default, or TCP) and ``tir-lsp check``.

    tir-lsp                      serve over stdio
    tir-lsp serve [--tcp --host 127.0.0.1 --port 2087]
    tir-lsp check FILE...        headless diagnostics (tir_lsp.check; tir-lsp check --help)
    tir-lsp --version
"""

from __future__ import annotations

import argparse
import difflib
import sys
from collections.abc import Sequence

COMMANDS = ("serve", "check")


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {value!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port {port} is out of range (0-65535)")
    return port


def _serve(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="tir-lsp serve", description="Run the TIR language server.")
    parser.add_argument("--stdio", action="store_true", help="talk over stdin/stdout (the default)")
    parser.add_argument("--tcp", action="store_true", help="listen on a TCP port instead of stdio")
    parser.add_argument("--host", default="127.0.0.1", help="TCP host (default 127.0.0.1)")
    parser.add_argument("--port", type=_port, default=2087, help="TCP port (default 2087)")
    args = parser.parse_args(list(argv))
    from tir_lsp import server

    if args.tcp:
        try:
            return server.start_tcp(args.host, args.port)
        except OSError as exc:  # a busy port, an unknown host, no permission
            reason = exc.strerror or str(exc) or type(exc).__name__
            print(f"tir-lsp serve: error: cannot listen on {args.host}:{args.port}: {reason}", file=sys.stderr)
            return 2
    return server.start_io()


def _unknown_command(name: str) -> int:
    close = difflib.get_close_matches(name, COMMANDS, n=1)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    print(f"tir-lsp: error: unknown command '{name}'{hint} (commands: {', '.join(COMMANDS)}; "
          "see tir-lsp --help)", file=sys.stderr)
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "check":
        # Imported only here, so that `tir-lsp check` never loads the server (pygls, lsprotocol).
        from tir_lsp.check import main as check_main

        return int(check_main(args[1:]) or 0)
    if args and args[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0
    if args and args[0] in ("--version", "-V"):
        from tir_lsp.check import package_version

        print(f"tir-lsp {package_version()}")
        return 0
    if args and args[0] == "serve":
        args = args[1:]
    elif args and not args[0].startswith("-"):
        return _unknown_command(args[0])
    return _serve(args)


if __name__ == "__main__":
    sys.exit(main())
