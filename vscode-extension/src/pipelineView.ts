// The pipeline viewer's page: every pass of the pipeline, in order, with the diff it made and
// the TIR after it. Plain HTML (no script: the webview runs with scripts disabled and a CSP that
// allows only this page's own style). No `import "vscode"` here: the unit tests load it directly.

import { PipelineResult } from "./commandProtocol";

export function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** A unified diff with each line classed by its kind (added, removed, hunk header). */
function diffHtml(diff: string): string {
  return diff
    .split("\n")
    .filter((line, index, lines) => line !== "" || index < lines.length - 1)
    .map((line) => {
      const kind = line.startsWith("+++") || line.startsWith("---") ? "file"
        : line.startsWith("@@") ? "hunk" : line.startsWith("+") ? "add" : line.startsWith("-") ? "del" : "ctx";
      return `<span class="${kind}">${escapeHtml(line)}</span>`;
    })
    .join("\n");
}

/**
 * The page for `result`. `nonce` marks the one allowed style element; `cspSource` is the
 * webview's own source (`webview.cspSource`).
 */
export function renderPipelineHtml(result: PipelineResult, nonce: string, cspSource: string): string {
  const rows = result.stages.map((stage, index) => {
    const id = `stage-${index + 1}`;
    const state = stage.changed ? "changed" : "unchanged";
    const body = stage.changed
      ? `<h3>Diff</h3>\n<pre class="diff">${diffHtml(stage.diff)}</pre>\n<details><summary>TIR after ${escapeHtml(stage.pass)}</summary>\n<pre>${escapeHtml(stage.after)}</pre></details>`
      : `<p>No change.</p>`;
    return `<section id="${id}" class="${state}"><details${stage.changed ? " open" : ""}>
<summary>${index + 1}. ${escapeHtml(stage.pass)} <span class="state">${state}</span></summary>
${body}
</details></section>`;
  });
  const first = result.stages[0];
  const input = first === undefined ? "" : `<details><summary>Input TIR</summary>\n<pre>${escapeHtml(first.before)}</pre></details>`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src ${cspSource} 'nonce-${nonce}';">
<title>${escapeHtml(result.title)}</title>
<style nonce="${nonce}">
body { font-family: var(--vscode-font-family); color: var(--vscode-foreground); }
pre { font-family: var(--vscode-editor-font-family); font-size: var(--vscode-editor-font-size); overflow-x: auto; }
summary { cursor: pointer; font-weight: bold; }
.unchanged summary { font-weight: normal; opacity: 0.7; }
.state { font-weight: normal; opacity: 0.7; margin-left: 0.5em; }
.add { color: var(--vscode-gitDecoration-addedResourceForeground, #3fb950); }
.del { color: var(--vscode-gitDecoration-deletedResourceForeground, #f85149); }
.hunk { color: var(--vscode-descriptionForeground); }
.file { opacity: 0.6; }
</style>
</head>
<body>
<h1>${escapeHtml(result.title)}</h1>
<p>${result.stages.length} passes, ${result.stages.filter((s) => s.changed).length} changed the TIR.</p>
${input}
${rows.join("\n")}
</body>
</html>
`;
}
