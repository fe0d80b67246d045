"""Speed of the language server over real JSON-RPC (a subprocess on stdio).

    python bench/bench_lsp.py [LINES [SERVER COMMAND...]]   (default 10000, `python -m tir_lsp serve`)

Prints: didOpen -> diagnostics of a LINES-line module (`bench/make_module.py`), with the CPU
time the server process spent meanwhile (from /proc: on a shared machine the wall time also
counts other people's work; compare two servers side by side by giving their commands); a one-line
edit inside one function -> fresh diagnostics (median, p95, max of 20 edits, alternating
between functions); hover and definition latency (p50/p99 over 300 requests each on names
spread over the module). Targets: < 1,000 ms, < 50 ms, p99 < 10 ms.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from make_module import make_module


class Client:
    """A minimal LSP client: Content-Length framing, requests by id, notifications queued."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.next_id = 0
        self.waiting: dict[int, asyncio.Future[Any]] = {}
        self.notes: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        while True:
            header = await self.proc.stdout.readuntil(b"\r\n\r\n")
            length = int(re.search(rb"Content-Length: (\d+)", header).group(1))  # type: ignore[union-attr]
            msg = json.loads(await self.proc.stdout.readexactly(length))
            if "id" in msg and "method" not in msg:
                fut = self.waiting.pop(msg["id"], None)
                if fut is not None:
                    fut.set_result(msg)
            elif "id" in msg:  # a request from the server: answer null
                self._send({"jsonrpc": "2.0", "id": msg["id"], "result": None})
            else:
                await self.notes.put(msg)

    def _send(self, msg: dict[str, Any]) -> None:
        body = json.dumps(msg).encode()
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    async def request(self, method: str, params: Any) -> Any:
        self.next_id += 1
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.waiting[self.next_id] = fut
        self._send({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params})
        msg = await fut
        if "error" in msg:
            raise RuntimeError(msg["error"])
        return msg.get("result")

    def notify(self, method: str, params: Any) -> None:
        self._send({"jsonrpc": "2.0", "method": method, "params": params})

    async def diagnostics(self, uri: str, version: int) -> list[Any]:
        while True:
            msg = await self.notes.get()
            p = msg.get("params", {})
            if msg.get("method") == "textDocument/publishDiagnostics" and p.get("uri") == uri \
                    and p.get("version") == version:
                return p["diagnostics"]  # type: ignore[no-any-return]


def cpu_ms(pid: int) -> float:
    """CPU time (user + system) the process ``pid`` has used so far, from /proc (Linux)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(q * (len(s) - 1)))]


async def main(lines: int) -> None:
    text = make_module(lines)
    src = text.split("\n")
    command = sys.argv[2:] or [sys.executable, "-m", "tir_lsp", "serve"]
    proc = await asyncio.create_subprocess_exec(*command, cwd=str(ROOT),
                                                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
    c = Client(proc)
    t0 = time.perf_counter()
    await c.request("initialize", {"processId": None, "rootUri": None, "capabilities": {}})
    c.notify("initialized", {})
    print(f"spawn -> initialize answered: {(time.perf_counter() - t0) * 1000:.0f} ms")
    uri = "file:///tmp/bench_module.tir"

    cpu0 = cpu_ms(proc.pid)
    t0 = time.perf_counter()
    c.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "tir", "version": 1, "text": text}})
    diags = await c.diagnostics(uri, 1)
    open_ms = (time.perf_counter() - t0) * 1000
    open_cpu = cpu_ms(proc.pid) - cpu0
    print(f"didOpen -> diagnostics, {len(src)} lines: {open_ms:.0f} ms, server CPU {open_cpu:.0f} ms "
          f"({len(diags)} diagnostics)  [target < 1000]")

    # Edits: append a space to a statement line deep inside functions (alternating two places).
    targets = [i for i in range(len(src) // 4, len(src)) if src[i].strip().startswith(("for ", "T.reads", "with "))]
    places = [targets[0], targets[len(targets) // 2]]
    version = 1
    times = []
    for k in range(20):
        line = places[k % 2]
        version += 1
        t0 = time.perf_counter()
        c.notify("textDocument/didChange", {
            "textDocument": {"uri": uri, "version": version},
            "contentChanges": [{"range": {"start": {"line": line, "character": len(src[line])},
                                          "end": {"line": line, "character": len(src[line])}}, "text": " "}]})
        src[line] += " "
        await c.diagnostics(uri, version)
        times.append((time.perf_counter() - t0) * 1000)
    print(f"one-line edit -> fresh diagnostics: median {statistics.median(times):.1f} ms, "
          f"p95 {pct(times, 0.95):.1f} ms, max {max(times):.1f} ms  [target < 50]")

    # A line that changes the number of lines (Enter inside a function).
    version += 1
    line = places[0]
    t0 = time.perf_counter()
    c.notify("textDocument/didChange", {
        "textDocument": {"uri": uri, "version": version},
        "contentChanges": [{"range": {"start": {"line": line, "character": len(src[line])},
                                      "end": {"line": line, "character": len(src[line])}}, "text": "\n"}]})
    await c.diagnostics(uri, version)
    print(f"newline inside a function -> fresh diagnostics: {(time.perf_counter() - t0) * 1000:.1f} ms")
    src.insert(line + 1, "")

    # Hover / definition on buffer names in `X[...]` loads spread over the module.
    spots = []
    step = max(1, len(src) // 300)
    for i in range(0, len(src), step):
        m = re.search(r"\b([A-Za-z_]\w*)\[", src[i])
        if m and not src[i].lstrip().startswith(("#", "@")):
            spots.append((i, m.start(1)))
    for method in ("textDocument/hover", "textDocument/definition"):
        lat = []
        hits = 0
        for line, col in spots[:300]:
            t0 = time.perf_counter()
            res = await c.request(method, {"textDocument": {"uri": uri}, "position": {"line": line, "character": col}})
            lat.append((time.perf_counter() - t0) * 1000)
            hits += res is not None
        print(f"{method}: {len(lat)} requests ({hits} answered), p50 {pct(lat, 0.5):.2f} ms, "
              f"p99 {pct(lat, 0.99):.2f} ms, max {max(lat):.2f} ms  [target p99 < 10]")

    await c.request("shutdown", None)
    c.notify("exit", None)
    await proc.wait()
    c.reader.cancel()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 10000))
