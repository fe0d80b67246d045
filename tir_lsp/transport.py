"""The JSON-RPC transport: framing, message checks and the process exit code.

pygls' own loop drops what it cannot read: invalid JSON, a request without a method or with
params of the wrong type get no answer (the client waits forever), one bad ``Content-Length``
header desynchronises the stream for good, and the ``exit`` notification's exit code is lost.
This loop answers every request it can identify (JSON-RPC -32700 / -32600 / -32602, and
-32600 after ``shutdown`` as LSP asks), finds the next header after garbage, and returns the
exit code: 0 after ``shutdown`` + ``exit``, 1 for ``exit`` without ``shutdown`` or a client
that went away without either.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import sys
import threading
from collections.abc import Callable
from typing import Any, BinaryIO

import cattrs
from pygls.lsp.server import LanguageServer
from pygls.protocol.json_rpc import JsonRPCNotification, JsonRPCRequestMessage

logger = logging.getLogger(__name__)

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
INVALID_PARAMS = -32602
# Found anywhere at the end of a line, so that the next message is found again after garbage.
_CONTENT_LENGTH = re.compile(rb"content-length:[ \t]*(\d+)[ \t]*\r?\n$", re.IGNORECASE)
# A larger body is not a message from an LSP client; reading it would only exhaust memory.
MAX_BODY = 256 * 1024 * 1024


class Framer:
    """Header lines in, content lengths out: ``line()`` returns the body length once the blank
    line ending a header with a valid ``Content-Length`` arrives, else None."""

    def __init__(self) -> None:
        self.length: int | None = None

    def line(self, raw: bytes) -> int | None:
        m = _CONTENT_LENGTH.search(raw)
        if m is not None:
            n = int(m.group(1))
            self.length = n if n <= MAX_BODY else None
            return None
        if raw.strip() or self.length is None:
            return None  # another header, or garbage before the next Content-Length
        n, self.length = self.length, None
        return n


def _valid_id(value: Any) -> bool:
    return isinstance(value, (str, int)) and not isinstance(value, bool)


def _error(ls: LanguageServer, msg_id: Any, code: int, message: str) -> None:
    ls.protocol._send_data({"jsonrpc": "2.0", "id": msg_id if _valid_id(msg_id) else None,
                            "error": {"code": code, "message": message}})


def dispatch(ls: LanguageServer, body: bytes) -> None:
    """Check one message body and hand it to pygls; answer what pygls would leave unanswered."""
    protocol = ls.protocol
    try:
        data = json.loads(body)
    except ValueError as exc:  # also UnicodeDecodeError
        _error(ls, None, PARSE_ERROR, f"Parse error: {exc}")
        return
    if not isinstance(data, dict):
        _error(ls, None, INVALID_REQUEST, "Invalid Request: a message must be a JSON object (no batches in LSP)")
        return
    msg_id = data.get("id")
    method = data.get("method")
    is_response = "method" not in data and ("result" in data or "error" in data)
    if data.get("jsonrpc") != "2.0" or ("id" in data and not _valid_id(msg_id) and not is_response):
        _error(ls, msg_id, INVALID_REQUEST, 'Invalid Request: expected "jsonrpc": "2.0" and a string or integer id')
        return
    if not is_response and not isinstance(method, str):
        if "id" in data:
            _error(ls, msg_id, INVALID_REQUEST, "Invalid Request: no method")
        return
    is_request = "id" in data and not is_response
    if is_request and protocol._shutdown and method != "exit":
        _error(ls, msg_id, INVALID_REQUEST, f"Invalid Request: {method} after shutdown")
        return
    if is_response:
        protocol.handle_message(protocol.structure_message(data))
        return
    # Only the top-level object is a message (pygls' object_hook would also try nested ones).
    kind = protocol.get_message_type(method) or (JsonRPCRequestMessage if is_request else JsonRPCNotification)
    try:
        message = protocol._converter.structure(data, kind)
    except Exception as exc:  # noqa: BLE001 - cattrs raises several kinds; all mean bad params
        why = "; ".join(cattrs.transform_error(exc)) if isinstance(exc, cattrs.BaseValidationError) else str(exc)
        if is_request:
            _error(ls, msg_id, INVALID_PARAMS, f"Invalid params for {method}: {why}")
        else:
            logger.warning("dropped %s with invalid params: %s", method, why)
        return
    protocol.handle_message(message)


def _quiet_cancelled(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    # When the client goes away, asyncio cancels the work still running, and pygls' callbacks
    # re-raise the CancelledError: expected at that point, not worth a traceback.
    if isinstance(context.get("exception"), asyncio.CancelledError):
        return
    loop.default_exception_handler(context)


async def _serve(ls: LanguageServer, next_body: Callable[[], Any]) -> None:
    asyncio.get_running_loop().set_exception_handler(_quiet_cancelled)
    while True:
        body = await next_body()
        if body is None:
            return
        try:
            dispatch(ls, body)
        except (SystemExit, KeyboardInterrupt):
            raise
        except Exception:  # one bad message must not stop the server
            logger.exception("unable to handle a message")


def _exit_code(ls: LanguageServer, exc: SystemExit | None) -> int:
    if exc is not None and isinstance(exc.code, int):
        return exc.code
    return 0 if ls.protocol._shutdown else 1


class _FdReader:
    """``readline`` and ``read(n)`` over a raw file descriptor."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.buf = b""

    def _fill(self) -> bool:
        chunk = os.read(self.fd, 65536)
        self.buf += chunk
        return bool(chunk)

    def readline(self) -> bytes:
        while b"\n" not in self.buf:
            if len(self.buf) > MAX_BODY or not self._fill():
                out, self.buf = self.buf, b""
                return out
        i = self.buf.index(b"\n") + 1
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def read(self, n: int) -> bytes:
        while len(self.buf) < n and self._fill():
            pass
        out, self.buf = self.buf[:n], self.buf[n:]
        return out


def serve_stdio(ls: LanguageServer, stdin: BinaryIO | None = None, stdout: BinaryIO | None = None) -> int:
    """Serve over stdin/stdout until ``exit`` or end of input; returns the process exit code.

    stdin is read by a daemon thread, so a blocked read never keeps the process alive; it reads
    the file descriptor itself, because a daemon thread blocked inside ``sys.stdin.buffer`` holds
    its lock and makes the interpreter abort at exit."""
    from pygls.io_ import StdoutWriter

    inp = _FdReader((stdin or sys.stdin.buffer).fileno())
    ls.protocol.set_writer(StdoutWriter(stdout or sys.stdout.buffer))

    async def main() -> None:
        loop = asyncio.get_running_loop()
        bodies: asyncio.Queue[bytes | None] = asyncio.Queue()

        def pump() -> None:
            framer = Framer()
            try:
                while True:
                    raw = inp.readline()
                    if not raw:
                        break
                    n = framer.line(raw)
                    if n is not None:
                        body = inp.read(n)
                        if len(body) < n:
                            break
                        loop.call_soon_threadsafe(bodies.put_nowait, body)
            except (OSError, ValueError):
                pass  # stdin closed under us: the client is gone
            finally:
                try:
                    loop.call_soon_threadsafe(bodies.put_nowait, None)
                except RuntimeError:
                    pass  # the loop has already ended (after ``exit``)

        threading.Thread(target=pump, name="tir-lsp-stdin", daemon=True).start()
        await _serve(ls, bodies.get)

    exc: SystemExit | None = None
    try:
        asyncio.run(main())
    except SystemExit as e:  # pygls' ``exit`` handler
        exc = e
    except (BrokenPipeError, KeyboardInterrupt):
        pass
    finally:
        _stop(ls)
    return _exit_code(ls, exc)


def serve_tcp(ls: LanguageServer, host: str, port: int) -> int:
    """Serve the first client on ``host:port`` with the same message checks as stdio, until
    ``exit`` or the client goes away; returns the exit code."""
    codes: list[int] = []

    async def main() -> None:
        done = asyncio.Event()

        async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            ls.protocol.set_writer(writer)
            framer = Framer()

            async def next_body() -> bytes | None:
                while True:
                    raw = await reader.readline()
                    if not raw:
                        return None
                    n = framer.line(raw)
                    if n is not None:
                        try:
                            return await reader.readexactly(n)
                        except asyncio.IncompleteReadError:
                            return None

            try:
                await _serve(ls, next_body)
            except SystemExit as exc:  # pygls' ``exit`` handler, inside this connection's task
                codes.append(_exit_code(ls, exc))
            finally:
                done.set()

        srv = await asyncio.start_server(connection, host, port)
        async with srv:
            await done.wait()

    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
    finally:
        _stop(ls)
    return codes[0] if codes else _exit_code(ls, None)


def _stop(ls: LanguageServer) -> None:
    """Release worker threads without waiting for work nobody will read."""
    pool = getattr(ls, "analysis_pool", None)
    if pool is not None:
        pool.shutdown(wait=False, cancel_futures=True)
    if ls._thread_pool is not None:
        ls._thread_pool.shutdown(wait=False, cancel_futures=True)
