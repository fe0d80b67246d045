// A line diff for the pass pipeline view: common prefix and suffix first, then an LCS table
// for ranges small enough, and for larger ones the lines that occur exactly once on both sides
// (patience diff's anchors) split the range into smaller ones. No `import "vscode"`.

export interface DiffRow {
  kind: "same" | "removed" | "added";
  text: string;
  /** 0-based line in the text before (same, removed). */
  before?: number;
  /** 0-based line in the text after (same, added). */
  after?: number;
}

/** Cells an LCS table may have (4 bytes each) before a range is split by anchors instead. */
export const LCS_CELL_LIMIT = 4_000_000;

/** The rows that turn `a` into `b`: every line of both, in order, each once. */
export function lineDiff(a: readonly string[], b: readonly string[], cellLimit = LCS_CELL_LIMIT): DiffRow[] {
  const out: DiffRow[] = [];
  diffRange(a, 0, a.length, b, 0, b.length, cellLimit, out);
  return out;
}

/** Lines of a text; a final line end does not make an empty last line. */
export function splitLines(text: string): string[] {
  const lines = text.split(/\r?\n/);
  if (lines.length > 0 && lines[lines.length - 1] === "") {
    lines.pop();
  }
  return lines;
}

function diffRange(
  a: readonly string[], aLo: number, aHi: number,
  b: readonly string[], bLo: number, bHi: number,
  cellLimit: number, out: DiffRow[],
): void {
  let head = 0;
  while (aLo + head < aHi && bLo + head < bHi && a[aLo + head] === b[bLo + head]) {
    head++;
  }
  let tail = 0;
  while (aHi - tail > aLo + head && bHi - tail > bLo + head && a[aHi - 1 - tail] === b[bHi - 1 - tail]) {
    tail++;
  }
  for (let k = 0; k < head; k++) {
    out.push({ kind: "same", text: a[aLo + k], before: aLo + k, after: bLo + k });
  }
  const a0 = aLo + head, a1 = aHi - tail, b0 = bLo + head, b1 = bHi - tail;
  if (a0 === a1 || b0 === b1) {
    pushChanged(a, a0, a1, b, b0, b1, out);
  } else if ((a1 - a0 + 1) * (b1 - b0 + 1) <= cellLimit) {
    lcs(a, a0, a1, b, b0, b1, out);
  } else {
    const anchors = uniqueAnchors(a, a0, a1, b, b0, b1);
    if (anchors.length === 0) {
      pushChanged(a, a0, a1, b, b0, b1, out);
    } else {
      let i = a0, j = b0;
      for (const [ai, bj] of anchors) {
        diffRange(a, i, ai, b, j, bj, cellLimit, out);
        out.push({ kind: "same", text: a[ai], before: ai, after: bj });
        i = ai + 1;
        j = bj + 1;
      }
      diffRange(a, i, a1, b, j, b1, cellLimit, out);
    }
  }
  for (let k = tail; k > 0; k--) {
    out.push({ kind: "same", text: a[aHi - k], before: aHi - k, after: bHi - k });
  }
}

function pushChanged(a: readonly string[], a0: number, a1: number, b: readonly string[], b0: number, b1: number, out: DiffRow[]): void {
  for (let i = a0; i < a1; i++) {
    out.push({ kind: "removed", text: a[i], before: i });
  }
  for (let j = b0; j < b1; j++) {
    out.push({ kind: "added", text: b[j], after: j });
  }
}

function lcs(a: readonly string[], a0: number, a1: number, b: readonly string[], b0: number, b1: number, out: DiffRow[]): void {
  const n = a1 - a0, m = b1 - b0, w = m + 1;
  // table[i * w + j]: length of the LCS of a[a0 + i..a1) and b[b0 + j..b1).
  const table = new Uint32Array((n + 1) * w);
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      table[i * w + j] = a[a0 + i] === b[b0 + j]
        ? table[(i + 1) * w + j + 1] + 1
        : Math.max(table[(i + 1) * w + j], table[i * w + j + 1]);
    }
  }
  let i = 0, j = 0;
  while (i < n && j < m) {
    if (a[a0 + i] === b[b0 + j]) {
      out.push({ kind: "same", text: a[a0 + i], before: a0 + i, after: b0 + j });
      i++;
      j++;
    } else if (table[(i + 1) * w + j] >= table[i * w + j + 1]) {
      out.push({ kind: "removed", text: a[a0 + i], before: a0 + i });
      i++;
    } else {
      out.push({ kind: "added", text: b[b0 + j], after: b0 + j });
      j++;
    }
  }
  pushChanged(a, a0 + i, a1, b, b0 + j, b1, out);
}

/** Pairs (i, j) of lines that occur once in a[a0..a1) and once in b[b0..b1), the longest
 * run of them increasing on both sides. */
function uniqueAnchors(a: readonly string[], a0: number, a1: number, b: readonly string[], b0: number, b1: number): [number, number][] {
  const seen = new Map<string, { inA: number; inB: number; i: number; j: number }>();
  for (let i = a0; i < a1; i++) {
    const e = seen.get(a[i]);
    if (e === undefined) {
      seen.set(a[i], { inA: 1, inB: 0, i, j: -1 });
    } else {
      e.inA++;
    }
  }
  for (let j = b0; j < b1; j++) {
    const e = seen.get(b[j]);
    if (e !== undefined) {
      e.inB++;
      e.j = j;
    }
  }
  const pairs: [number, number][] = [];
  for (const e of seen.values()) {
    if (e.inA === 1 && e.inB === 1) {
      pairs.push([e.i, e.j]);
    }
  }
  pairs.sort((p, q) => p[0] - q[0]);
  // Longest increasing subsequence of the j's (patience sorting with back links).
  const tops: number[] = [];
  const back: number[] = new Array(pairs.length).fill(-1);
  for (let k = 0; k < pairs.length; k++) {
    let lo = 0, hi = tops.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (pairs[tops[mid]][1] < pairs[k][1]) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    back[k] = lo > 0 ? tops[lo - 1] : -1;
    tops[lo] = k;
  }
  const chain: [number, number][] = [];
  for (let k = tops.length > 0 ? tops[tops.length - 1] : -1; k >= 0; k = back[k]) {
    chain.push(pairs[k]);
  }
  return chain.reverse();
}
