/* A record import file cut into batches ImportRecords takes (each well under its 4 MiB limit,
 * and small enough that progress moves), and each batch's error lines taken back to the lines
 * of the person's own file. CSV batches repeat the header; rows are cut at record boundaries
 * (a quoted value may hold line breaks); a JSON array is cut by elements, JSON Lines by lines.
 * Pure. */

export const BATCH_BYTES = 1_500_000;
export const BATCH_ROWS = 1000;

export type ImportKind = 'csv' | 'json';

export interface Batch {
  text: string;
  rows: number;
  /* CSV and JSON Lines: the physical line of the file where the batch's first row starts;
   * JSON array: the index of its first element. */
  first: number;
}

export interface Split {
  batches: Batch[];
  /* CSV: the header's physical lines (errors there are the file's own lines) */
  headerLines: number;
  /* how batch lines map back */
  mode: 'csv' | 'array' | 'lines';
}

const enc = new TextEncoder();
const bytes = (s: string) => enc.encode(s).length;

/* Records of a CSV text with the physical line each starts on; line breaks inside quotes stay
 * in their record. The text after the last break is a record too when not blank. */
export function csvRecords(text: string): { text: string; line: number; lines: number }[] {
  const out: { text: string; line: number; lines: number }[] = [];
  let quoted = false;
  let start = 0;
  let line = 1;
  let startLine = 1;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') quoted = !quoted;
    else if (c === '\n' || (c === '\r' && text[i + 1] !== '\n')) {
      line++;
      if (!quoted) {
        out.push({ text: text.slice(start, i + 1), line: startLine, lines: line - startLine });
        start = i + 1;
        startLine = line;
      }
    }
  }
  if (start < text.length) out.push({ text: text.slice(start), line: startLine, lines: line - startLine + 1 });
  return out;
}

function cut<T>(items: T[], size: (x: T) => number, maxBytes: number, maxRows: number): T[][] {
  const groups: T[][] = [];
  let cur: T[] = [];
  let n = 0;
  for (const x of items) {
    const s = size(x);
    if (cur.length > 0 && (n + s > maxBytes || cur.length >= maxRows)) {
      groups.push(cur);
      cur = [];
      n = 0;
    }
    cur.push(x);
    n += s;
  }
  if (cur.length) groups.push(cur);
  return groups;
}

export function splitCsv(text: string, maxBytes = BATCH_BYTES, maxRows = BATCH_ROWS): Split {
  const body = text.startsWith('\ufeff') ? text.slice(1) : text;
  const recs = csvRecords(body);
  if (recs.length === 0) return { batches: [{ text: body, rows: 0, first: 1 }], headerLines: 1, mode: 'csv' };
  const [header, ...rows] = recs;
  const head = header.text.endsWith('\n') || header.text.endsWith('\r') ? header.text : `${header.text}\n`;
  const data = rows.filter((r) => r.text.trim() !== '');
  if (data.length === 0) return { batches: [{ text: head, rows: 0, first: header.line + header.lines }], headerLines: header.lines, mode: 'csv' };
  const groups = cut(data, (r) => bytes(r.text), maxBytes - bytes(head), maxRows);
  return {
    batches: groups.map((g) => {
      // blank lines stand in for what lies between the rows in the file, so a batch's lines
      // count as the file's do
      let t = head;
      let at = g[0].line;
      for (const r of g) {
        t += '\n'.repeat(r.line - at) + (/[\r\n]$/.test(r.text) ? r.text : `${r.text}\n`);
        at = r.line + r.lines;
      }
      return { text: t, rows: g.length, first: g[0].line };
    }),
    headerLines: header.lines,
    mode: 'csv',
  };
}

/* A JSON array, cut by elements; else JSON Lines, cut by lines. Throws on an array that does
 * not parse (its message says where). */
export function splitJson(text: string, maxBytes = BATCH_BYTES, maxRows = BATCH_ROWS): Split {
  const body = text.startsWith('\ufeff') ? text.slice(1) : text;
  if (body.trimStart().startsWith('[')) {
    const all = JSON.parse(body) as unknown[];
    if (!Array.isArray(all)) throw new Error('not an array');
    const items = all.map((v, i) => ({ s: JSON.stringify(v), i }));
    const groups = cut(items, (x) => bytes(x.s) + 1, maxBytes - 2, maxRows);
    if (groups.length === 0) return { batches: [{ text: '[]', rows: 0, first: 0 }], headerLines: 0, mode: 'array' };
    return { batches: groups.map((g) => ({ text: `[${g.map((x) => x.s).join(',')}]`, rows: g.length, first: g[0].i })), headerLines: 0, mode: 'array' };
  }
  const lines = body.split('\n').map((t, i) => ({ t, line: i + 1 })).filter((x) => x.t.trim() !== '');
  const groups = cut(lines, (x) => bytes(x.t) + 1, maxBytes, maxRows);
  if (groups.length === 0) return { batches: [{ text: '', rows: 0, first: 1 }], headerLines: 0, mode: 'lines' };
  return {
    batches: groups.map((g) => {
      // keep the file's own line numbers: blank lines stand in for the rows of other batches
      let t = '';
      let at = g[0].line;
      for (const x of g) {
        t += '\n'.repeat(x.line - at) + x.t;
        at = x.line;
      }
      return { text: `${t}\n`, rows: g.length, first: g[0].line };
    }),
    headerLines: 0,
    mode: 'lines',
  };
}

/* A line an error names in batch b, as the line (CSV, JSON Lines) or the record number (JSON
 * array) of the whole file. 0 stays 0 (the whole batch). */
export function fileLine(split: Split, b: Batch, line: number): number {
  if (line <= 0) return line;
  switch (split.mode) {
    case 'csv':
      return line <= split.headerLines ? line : b.first + (line - split.headerLines - 1);
    case 'array':
      return b.first + line;
    case 'lines':
      return b.first + (line - 1);
  }
}
