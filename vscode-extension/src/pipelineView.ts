// The pass pipeline panel without VS Code: the server's `tir.passPipeline` answer checked and
// read, the webview's HTML, and the messages the webview sends back. The pipeline runs on the
// server; this module only picks texts out of its answer and lays them out.

import { CommandProtocolError } from "./commandProtocol";
import { DiffRow, lineDiff, splitLines } from "./lineDiff";

/** A function of a stage's text (lines 0-based, end exclusive) and its definition line in the source. */
export interface StageFunction {
  name: string;
  startLine: number;
  endLine: number;
  sourceLine: number | null;
}

export interface PassStage {
  name: string;
  changed: boolean;
  /** The TIR after the pass; only for changed passes whose text was not left out. */
  text: string | null;
  functions: StageFunction[] | null;
  /** Index of the pass whose text is this pass's input; -1 = the pipeline's input. */
  before: number;
  /** Index of the pass whose text is this pass's output (itself when changed). */
  after: number;
  omitted: boolean;
}

export interface Pipeline {
  title: string;
  input: { text: string; functions: StageFunction[] };
  passes: PassStage[];
  omittedNote: string | null;
}

export interface Stage {
  text: string | null;
  functions: StageFunction[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isFunctions(value: unknown): value is StageFunction[] {
  return Array.isArray(value) && value.every((f) => isRecord(f) && typeof f.name === "string"
    && typeof f.startLine === "number" && typeof f.endLine === "number"
    && (f.sourceLine === null || typeof f.sourceLine === "number"));
}

/** The server's answer to `tir.passPipeline`, checked against the contract. */
export function toPipeline(result: unknown): Pipeline {
  const bad = (what: string): never => {
    throw new CommandProtocolError(`the server's pass pipeline is malformed: ${what}`);
  };
  if (!isRecord(result) || !isRecord(result.input) || typeof result.input.text !== "string" || !isFunctions(result.input.functions)) {
    return bad("no input stage");
  }
  if (!Array.isArray(result.passes)) {
    return bad("no pass list");
  }
  const count = result.passes.length;
  result.passes.forEach((p: unknown, i: number) => {
    if (!isRecord(p) || typeof p.name !== "string" || typeof p.changed !== "boolean"
      || !(p.text === null || typeof p.text === "string") || !(p.functions === null || isFunctions(p.functions))
      || typeof p.before !== "number" || typeof p.after !== "number" || p.before < -1 || p.before >= count
      || p.after < -1 || p.after >= count) {
      bad(`pass ${i + 1}`);
    }
  });
  return {
    title: typeof result.title === "string" ? result.title : "pipeline",
    input: { text: result.input.text, functions: result.input.functions },
    passes: result.passes as PassStage[],
    omittedNote: typeof result.omittedNote === "string" ? result.omittedNote : null,
  };
}

/** The text and functions of stage `index` (-1: the input). */
export function stageAt(pipeline: Pipeline, index: number): Stage {
  if (index < 0) {
    return pipeline.input;
  }
  const p = pipeline.passes[index];
  return { text: p.text, functions: p.functions ?? [] };
}

/** The source definition line of the function holding `line` of a stage, if any. */
export function sourceLineAt(functions: readonly StageFunction[], line: number): { name: string; line: number } | undefined {
  const f = functions.find((fn) => fn.startLine <= line && line < fn.endLine);
  return f !== undefined && f.sourceLine !== null ? { name: f.name, line: f.sourceLine } : undefined;
}

/** The rows the panel shows for pass `index`: its input against its output. */
export function passDiff(pipeline: Pipeline, index: number): DiffRow[] | undefined {
  const p = pipeline.passes[index];
  const before = stageAt(pipeline, p.before).text;
  const after = stageAt(pipeline, p.after).text;
  if (before === null || after === null) {
    return undefined;
  }
  return lineDiff(splitLines(before), splitLines(after));
}

/** What the webview asks for. */
export type WebviewMessage =
  | { type: "select"; index: number }
  | { type: "jump"; side: "before" | "after"; line: number }
  | { type: "refresh" };

export function parseWebviewMessage(message: unknown): WebviewMessage | undefined {
  if (!isRecord(message)) {
    return undefined;
  }
  if (message.type === "select" && Number.isInteger(message.index)) {
    return { type: "select", index: message.index as number };
  }
  if (message.type === "jump" && (message.side === "before" || message.side === "after") && Number.isInteger(message.line)) {
    return { type: "jump", side: message.side, line: message.line as number };
  }
  if (message.type === "refresh") {
    return { type: "refresh" };
  }
  return undefined;
}

/** The source line a click on a diff row of pass `index` leads to. */
export function jumpTarget(pipeline: Pipeline, index: number, side: "before" | "after", line: number): { name: string; line: number } | undefined {
  const p = pipeline.passes[index];
  if (p === undefined) {
    return undefined;
  }
  return sourceLineAt(stageAt(pipeline, side === "before" ? p.before : p.after).functions, line);
}

export function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** Lines kept around each change; longer runs of unchanged lines fold into one marker row. */
export const DIFF_CONTEXT = 3;

/** `rows` with every run of unchanged lines longer than 2 * context + 1 folded to its ends. */
export function foldUnchanged(rows: readonly DiffRow[], context = DIFF_CONTEXT): (DiffRow | { skipped: number })[] {
  const out: (DiffRow | { skipped: number })[] = [];
  let i = 0;
  while (i < rows.length) {
    if (rows[i].kind !== "same") {
      out.push(rows[i++]);
      continue;
    }
    let j = i;
    while (j < rows.length && rows[j].kind === "same") {
      j++;
    }
    const keepHead = i === 0 ? 0 : context;
    const keepTail = j === rows.length ? 0 : context;
    if (j - i > keepHead + keepTail + 1) {
      out.push(...rows.slice(i, i + keepHead), { skipped: j - i - keepHead - keepTail }, ...rows.slice(j - keepTail, j));
    } else {
      out.push(...rows.slice(i, j));
    }
    i = j;
  }
  return out;
}

function renderRows(rows: readonly (DiffRow | { skipped: number })[]): string {
  return rows.map((r) => {
    if ("skipped" in r) {
      return `<div class="skipped">⋯ ${r.skipped} unchanged line${r.skipped === 1 ? "" : "s"}</div>`;
    }
    const side = r.kind === "removed" ? "before" : "after";
    const line = side === "before" ? r.before : r.after;
    const mark = r.kind === "removed" ? "-" : r.kind === "added" ? "+" : " ";
    const num = (n: number | undefined) => (n === undefined ? "" : String(n + 1));
    return `<div class="row ${r.kind}" data-side="${side}" data-line="${line}"><span class="ln">${num(r.before)}</span>`
      + `<span class="ln">${num(r.after)}</span><span class="mark">${mark}</span><code>${escapeHtml(r.text)}</code></div>`;
  }).join("\n");
}

/** The panel: the passes in order (unchanged ones greyed) and the diff of the selected one. */
export function renderPipelineHtml(pipeline: Pipeline, selected: number | undefined, nonce: string, cspSource: string): string {
  const items = pipeline.passes.map((p, i) => {
    const classes = ["pass", p.changed ? "changed" : "unchanged", i === selected ? "selected" : ""].filter(Boolean).join(" ");
    // Greyed is what says "unchanged"; the tooltip says it in words.
    const note = p.omitted ? " (text left out)" : "";
    const tip = p.omitted ? "changed; its text was left out" : p.changed ? "changed the module" : "did not change the module";
    return `<li class="${classes}" data-index="${i}" title="${escapeHtml(p.name)}: ${tip}">`
      + `<span class="num">${i + 1}</span> ${escapeHtml(p.name)}${note}</li>`;
  }).join("\n");
  let body: string;
  if (selected === undefined || pipeline.passes[selected] === undefined) {
    body = `<p class="hint">Choose a pass to see the TIR before and after it. Click a line to go to its function in the source.</p>`;
  } else {
    const p = pipeline.passes[selected];
    const rows = passDiff(pipeline, selected);
    const head = `<h2>${selected + 1}. ${escapeHtml(p.name)}</h2>`;
    if (rows === undefined) {
      body = `${head}<p class="hint">${escapeHtml(pipeline.omittedNote ?? "The text of this stage was left out.")}</p>`;
    } else {
      const added = rows.filter((r) => r.kind === "added").length;
      const removed = rows.filter((r) => r.kind === "removed").length;
      const summary = p.changed ? `+${added} −${removed} lines` : "did not change the module";
      // A changed pass shows its changes in context; an unchanged one its whole text, to browse.
      const shown = p.changed ? foldUnchanged(rows) : rows;
      body = `${head}<p class="summary">${summary}</p><div class="diff">${renderRows(shown)}</div>`;
    }
  }
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src ${cspSource} 'nonce-${nonce}'; script-src 'nonce-${nonce}';">
<title>${escapeHtml(pipeline.title)}</title>
<style nonce="${nonce}">
body { display: flex; margin: 0; padding: 0; font-family: var(--vscode-font-family); color: var(--vscode-foreground); }
nav { flex: none; border-right: 1px solid var(--vscode-panel-border); padding: 0.5em; }
nav ul { list-style: none; margin: 0; padding: 0; }
.pass { padding: 2px 6px; cursor: pointer; white-space: nowrap; }
.pass .num { display: inline-block; min-width: 1.6em; text-align: right; opacity: 0.7; }
.pass.unchanged { opacity: 0.45; }
.pass.selected { background: var(--vscode-list-activeSelectionBackground); color: var(--vscode-list-activeSelectionForeground); }
main { flex: 1; min-width: 0; padding: 0.5em 1em; overflow: auto; }
.diff { font-family: var(--vscode-editor-font-family); font-size: var(--vscode-editor-font-size); }
.row { white-space: pre; cursor: pointer; line-height: 1.45; }
.row code { background: none; padding: 0; font: inherit; color: inherit; }
.row .ln { display: inline-block; min-width: 3.5em; text-align: right; padding-right: 0.5em; opacity: 0.5; }
.row .mark { display: inline-block; width: 1.2em; }
.row.added { background: var(--vscode-diffEditor-insertedLineBackground, rgba(155, 185, 85, 0.2)); }
.row.removed { background: var(--vscode-diffEditor-removedLineBackground, rgba(255, 0, 0, 0.2)); }
.row:hover { outline: 1px solid var(--vscode-focusBorder); }
.skipped { opacity: 0.6; font-style: italic; white-space: nowrap; padding: 2px 0 2px 8.5em; }
.hint, .summary { opacity: 0.8; }
</style></head>
<body>
<nav><button id="refresh">Refresh</button><ul>
${items}
</ul></nav>
<main>${body}</main>
<script nonce="${nonce}">
const vscode = acquireVsCodeApi();
document.querySelectorAll(".pass").forEach((el) => el.addEventListener("click", () =>
  vscode.postMessage({ type: "select", index: Number(el.dataset.index) })));
document.querySelectorAll(".row").forEach((el) => el.addEventListener("click", () =>
  vscode.postMessage({ type: "jump", side: el.dataset.side, line: Number(el.dataset.line) })));
document.getElementById("refresh").addEventListener("click", () => vscode.postMessage({ type: "refresh" }));
</script>
</body></html>`;
}
