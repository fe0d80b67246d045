import * as assert from "assert";

import {
  Pipeline,
  foldUnchanged,
  jumpTarget,
  parseWebviewMessage,
  passDiff,
  renderPipelineHtml,
  sourceLineAt,
  stageAt,
  toPipeline,
} from "../../src/pipelineView";

// A `tir.passPipeline` answer of the shape the server gives (tests/lsp/test_pipeline_view.py
// checks the server side): pass 2 unchanged, so its text is pass 1's.
const INPUT = "@T.prim_func\ndef f(A: T.Buffer((4,), \"int32\")):\n    for i in range(4):\n        A[i] = 0\n";
const AFTER_1 = "@T.prim_func\ndef f(A: T.Buffer((4,), \"int32\")):\n    for i in range(4):\n        A[i] = T.int32(0)\n";
const AFTER_3 = "@T.prim_func\ndef f(A: T.Buffer((4,), \"int32\")):\n    A[0:4] = T.Broadcast(0, 4)\n\n@T.prim_func\ndef g():\n    T.evaluate(0)\n";
const fn = (name: string, startLine: number, endLine: number, sourceLine: number | null) => ({ name, startLine, endLine, sourceLine });
const ANSWER = {
  title: "x.pipeline",
  input: { text: INPUT, functions: [fn("f", 0, 4, 7)] },
  passes: [
    { name: "Simplify", changed: true, text: AFTER_1, functions: [fn("f", 0, 4, 7)], before: -1, after: 0, omitted: false },
    { name: "UnrollLoop", changed: false, text: null, functions: null, before: 0, after: 0, omitted: false },
    { name: "VectorizeLoop", changed: true, text: AFTER_3, functions: [fn("f", 0, 3, 7), fn("g", 4, 7, null)], before: 0, after: 2, omitted: false },
    { name: "LowerIntrin", changed: true, text: null, functions: null, before: 2, after: 3, omitted: true },
  ],
  omittedNote: "1 changed stage(s) left out",
};

describe("toPipeline", () => {
  it("accepts the server's answer", () => {
    const p = toPipeline(ANSWER);
    assert.deepStrictEqual(p.passes.map((x) => x.name), ["Simplify", "UnrollLoop", "VectorizeLoop", "LowerIntrin"]);
  });

  it("refuses answers that break the contract", () => {
    assert.throws(() => toPipeline(null), /no input stage/);
    assert.throws(() => toPipeline({ ...ANSWER, passes: "x" }), /no pass list/);
    assert.throws(() => toPipeline({ ...ANSWER, passes: [{ ...ANSWER.passes[0], before: 7 }] }), /pass 1/);
  });
});

describe("stages and navigation", () => {
  const p: Pipeline = toPipeline(ANSWER);

  it("an unchanged pass diffs its input against the same text", () => {
    assert.strictEqual(stageAt(p, p.passes[1].after).text, AFTER_1);
    const rows = passDiff(p, 1);
    assert.ok(rows !== undefined && rows.every((r) => r.kind === "same"));
  });

  it("a changed pass diffs the stage before against its own", () => {
    const rows = passDiff(p, 2) ?? [];
    assert.deepStrictEqual(rows.filter((r) => r.kind === "removed").map((r) => r.text), ["    for i in range(4):", "        A[i] = T.int32(0)"]);
    assert.ok(rows.some((r) => r.kind === "added" && r.text === "def g():"));
    assert.strictEqual(passDiff(p, 3), undefined); // text left out
  });

  it("a line of a stage leads to its function's definition in the source", () => {
    assert.deepStrictEqual(sourceLineAt(p.input.functions, 3), { name: "f", line: 7 });
    assert.strictEqual(sourceLineAt(p.input.functions, 9), undefined);
    // After VectorizeLoop, line 2 is in f; g (new, not in the source) has no target.
    assert.deepStrictEqual(jumpTarget(p, 2, "after", 2), { name: "f", line: 7 });
    assert.strictEqual(jumpTarget(p, 2, "after", 5), undefined);
    // A removed line is looked up in the stage before the pass.
    assert.deepStrictEqual(jumpTarget(p, 2, "before", 3), { name: "f", line: 7 });
    assert.strictEqual(jumpTarget(p, 9, "after", 0), undefined);
  });
});

describe("foldUnchanged", () => {
  it("keeps three lines of context around changes and folds the rest", () => {
    const same = (n: number) => ({ kind: "same" as const, text: `s${n}`, before: n, after: n });
    const rows = [...Array.from({ length: 10 }, (_, n) => same(n)), { kind: "added" as const, text: "x", after: 10 },
      ...Array.from({ length: 10 }, (_, n) => same(n + 10))];
    const folded = foldUnchanged(rows);
    assert.deepStrictEqual(folded.map((r) => ("skipped" in r ? `…${r.skipped}` : r.text)),
      ["…7", "s7", "s8", "s9", "x", "s10", "s11", "s12", "…7"]);
    // A short run between two changes stays whole.
    const short = [{ kind: "removed" as const, text: "a", before: 0 }, same(1), same(2), { kind: "added" as const, text: "b", after: 3 }];
    assert.deepStrictEqual(foldUnchanged(short), short);
  });
});

describe("parseWebviewMessage", () => {
  it("reads the three messages and nothing else", () => {
    assert.deepStrictEqual(parseWebviewMessage({ type: "select", index: 2 }), { type: "select", index: 2 });
    assert.deepStrictEqual(parseWebviewMessage({ type: "jump", side: "before", line: 3 }), { type: "jump", side: "before", line: 3 });
    assert.deepStrictEqual(parseWebviewMessage({ type: "refresh" }), { type: "refresh" });
    assert.strictEqual(parseWebviewMessage({ type: "jump", side: "left", line: 3 }), undefined);
    assert.strictEqual(parseWebviewMessage({ type: "select", index: "2" }), undefined);
    assert.strictEqual(parseWebviewMessage("select"), undefined);
  });
});

describe("renderPipelineHtml", () => {
  const p = toPipeline(ANSWER);

  it("lists every pass in order, greying the unchanged ones", () => {
    const html = renderPipelineHtml(p, 2, "N0NCE", "vscode-resource:");
    const items = [...html.matchAll(/<li class="([^"]*)" data-index="(\d+)"/g)].map((m) => [m[2], m[1]]);
    assert.deepStrictEqual(items, [["0", "pass changed"], ["1", "pass unchanged"], ["2", "pass changed selected"], ["3", "pass changed"]]);
    assert.match(html, /\.pass\.unchanged \{ opacity: 0\.45; \}/);
    assert.match(html, /title="UnrollLoop: did not change the module"><span class="num">2<\/span> UnrollLoop<\/li>/);
    assert.match(html, /LowerIntrin \(text left out\)<\/li>/);
  });

  it("shows the selected pass's diff with lines that know where they come from", () => {
    const html = renderPipelineHtml(p, 2, "N0NCE", "vscode-resource:");
    assert.match(html, /<h2>3\. VectorizeLoop<\/h2>/);
    assert.match(html, /<div class="row removed" data-side="before" data-line="2">/);
    assert.match(html, /<div class="row added" data-side="after" data-line="5">.*<code>def g\(\):<\/code>/);
    assert.match(html, /<code>def f\(A: T\.Buffer\(\(4,\), &quot;int32&quot;\)\):<\/code>/); // escaped
    assert.match(html, /script-src 'nonce-N0NCE'/);
  });

  it("says so when a stage's text was left out, and hints when nothing is selected", () => {
    assert.match(renderPipelineHtml(p, 3, "n", "c"), /1 changed stage\(s\) left out/);
    assert.match(renderPipelineHtml(p, undefined, "n", "c"), /Choose a pass/);
  });
});
