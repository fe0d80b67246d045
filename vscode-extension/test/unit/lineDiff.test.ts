import * as assert from "assert";

import { DiffRow, lineDiff, splitLines } from "../../src/lineDiff";

/** The diff in unified notation, one string per row. */
function unified(rows: DiffRow[]): string[] {
  return rows.map((r) => `${r.kind === "same" ? " " : r.kind === "added" ? "+" : "-"}${r.text}`);
}

/** Every row points at its own line, and the rows rebuild both texts in order. */
function assertConsistent(a: string[], b: string[], rows: DiffRow[]): void {
  assert.deepStrictEqual(rows.filter((r) => r.kind !== "added").map((r) => r.before), a.map((_, i) => i));
  assert.deepStrictEqual(rows.filter((r) => r.kind !== "removed").map((r) => r.after), b.map((_, i) => i));
  rows.forEach((r) => {
    assert.strictEqual(r.text, r.kind === "added" ? b[r.after as number] : a[r.before as number]);
  });
}

describe("lineDiff", () => {
  it("finds a change inside a loop as one removed and one added line", () => {
    const a = ["for i in range(4):", "    C[i] = A[i] + B[i]", "    D[i] = C[i]"];
    const b = ["for i in range(4):", "    C_1[i] = A_1[i] + B_1[i]", "    D[i] = C[i]"];
    const rows = lineDiff(a, b);
    assert.deepStrictEqual(unified(rows), [" for i in range(4):", "-    C[i] = A[i] + B[i]", "+    C_1[i] = A_1[i] + B_1[i]", "     D[i] = C[i]"]);
    assertConsistent(a, b, rows);
  });

  it("keeps the longest common subsequence in the middle of a range", () => {
    const a = ["x", "a", "b", "c", "d", "y"];
    const b = ["x", "b", "q", "d", "a", "y"];
    const rows = lineDiff(a, b);
    assert.strictEqual(rows.filter((r) => r.kind === "same").length, 4); // x, b, d, y
    assertConsistent(a, b, rows);
  });

  it("handles empty sides", () => {
    assert.deepStrictEqual(unified(lineDiff([], ["a"])), ["+a"]);
    assert.deepStrictEqual(unified(lineDiff(["a"], [])), ["-a"]);
    assert.deepStrictEqual(lineDiff([], []), []);
  });

  it("splits ranges too large for an LCS table at lines unique on both sides", () => {
    // Two functions, each edited, with a table limit that forces the anchor split.
    const fn = (name: string, body: string) => [`def ${name}():`, ...Array.from({ length: 30 }, (_, i) => `    ${body} ${i % 3}`)];
    const a = [...fn("f", "x ="), ...fn("g", "y =")];
    const b = [...fn("f", "x +="), ...fn("g", "y +=")];
    const rows = lineDiff(a, b, 50);
    assertConsistent(a, b, rows);
    const same = rows.filter((r) => r.kind === "same").map((r) => r.text);
    assert.deepStrictEqual(same, ["def f():", "def g():"]);
    // The same answer as the full table here.
    assert.deepStrictEqual(unified(rows).filter((t) => t.startsWith(" ")), unified(lineDiff(a, b)).filter((t) => t.startsWith(" ")));
  });

  it("diffs 10k-line stages quickly", () => {
    const a = Array.from({ length: 10000 }, (_, i) => `    A[${i}] = B[${i}] + ${i % 7}`);
    const b = a.map((line, i) => (i % 100 === 0 ? line.replace("+", "*") : line));
    const start = Date.now();
    const rows = lineDiff(a, b);
    assert.ok(Date.now() - start < 2000, `took ${Date.now() - start} ms`);
    assert.strictEqual(rows.filter((r) => r.kind === "added").length, 100);
    assertConsistent(a, b, rows);
  });
});

describe("splitLines", () => {
  it("drops the empty line after a final line end, and CRs", () => {
    assert.deepStrictEqual(splitLines("a\r\nb\n"), ["a", "b"]);
    assert.deepStrictEqual(splitLines("a\n\n"), ["a", ""]);
    assert.deepStrictEqual(splitLines(""), []);
  });
});
