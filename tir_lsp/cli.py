"""``tir-lsp``: the language server (stdio by default, or TCP) and ``tir-lsp check``.

    tir-lsp                      serve over stdio
    tir-lsp serve [--tcp --host 127.0.0.1 --port 2087]
    tir-lsp check FILE...        headless diagnostics (tir_lsp.check)
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def _serve(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="tir-lsp serve", description="Run the TIR language server.")
    parser.add_argument("--stdio", action="store_true", help="talk over stdin/stdout (the default)")
    parser.add_argument("--tcp", action="store_true", help="listen on a TCP port instead of stdio")
    parser.add_argument("--host", default="127.0.0.1", help="TCP host (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=2087, help="TCP port (default 2087)")
    args = parser.parse_args(list(argv))
    from tir_lsp import server

    if args.tcp:
        return server.start_tcp(args.host, args.port)
    return server.start_io()


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
        from tir_lsp.server import VERSION

        print(f"tir-lsp {VERSION}")
        return 0
    if args and args[0] == "serve":
        args = args[1:]
    return _serve(args)


if __name__ == "__main__":
    sys.exit(main())
