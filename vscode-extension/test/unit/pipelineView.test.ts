import * as assert from "assert";

import { escapeHtml, renderPipelineHtml } from "../../src/pipelineView";

describe("pipelineView", () => {
  const result = {
    title: "m.pipeline",
    stages: [
      { pass: "LowerInitBlock", before: "a\n", after: "a\n", changed: false, diff: "" },
      { pass: "FlattenBuffer", before: "a\n", after: "<script>b</script>\n", changed: true,
        diff: "--- before FlattenBuffer\n+++ after FlattenBuffer\n@@ -1 +1 @@\n-a\n+<script>b</script>\n" },
    ],
  };

  it("escapes the TIR (text from a file must not become markup)", () => {
    assert.strictEqual(escapeHtml(`<a href="x">&</a>`), "&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;");
    const html = renderPipelineHtml(result, "abc", "vscode-webview://x");
    assert.ok(!html.includes("<script>"), html);
    assert.ok(html.includes("&lt;script&gt;b&lt;/script&gt;"));
  });

  it("lists every pass in order, opens the changed ones and classes the diff lines", () => {
    const html = renderPipelineHtml(result, "abc", "vscode-webview://x");
    assert.ok(html.indexOf("1. LowerInitBlock") < html.indexOf("2. FlattenBuffer"));
    assert.match(html, /<section id="stage-1" class="unchanged"><details>/);
    assert.match(html, /<section id="stage-2" class="changed"><details open>/);
    assert.match(html, /<span class="hunk">@@ -1 \+1 @@<\/span>\n<span class="del">-a<\/span>\n<span class="add">\+&lt;script&gt;/);
    assert.match(html, /2 passes, 1 changed the TIR\./);
  });

  it("allows only its own nonce-marked style", () => {
    const html = renderPipelineHtml(result, "n0nce", "vscode-webview://x");
    assert.match(html, /content="default-src 'none'; style-src vscode-webview:\/\/x 'nonce-n0nce';"/);
    assert.match(html, /<style nonce="n0nce">/);
  });
});
