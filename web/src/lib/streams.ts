/* The gateway's routes for the streamed methods a browser cannot call over Connect: a transfer
 * package out (POST /v1/transfers/{id}/package) and in (POST /v1/transfer-packages, the file as
 * the body), a report's file (POST /v1/reports:run) and a search export (POST
 * /v1/records:exportSearch, with ?progress=1 as lines of JSON). Downloads are read as they
 * arrive, with their progress, and can be cancelled (an AbortSignal); the upload goes by
 * XMLHttpRequest, because fetch reports no upload progress. */
import { fromJson, type JsonValue } from '@bufbuild/protobuf';
import type { Code } from '@connectrpc/connect';
import { ExportSearchResponseSchema } from '../api/gen/reporting_pb';
import { csrfToken } from '../api/csrf';
import { codeText, errorText, ruleText } from '../api/errors';
import { refreshSession } from '../api/transport';
import { vi } from '../i18n/vi';
import type { UploadError } from './upload';

export interface FileDownload {
  blob: Blob;
  fileName: string;
  sha256: string; // a package's (X-Package-Sha256), else ''
  size: number;
}

/* Content-Disposition's name: the exact UTF-8 one (RFC 5987) when given, else the plain one. */
export function fileNameOf(cd: string | null, fallback: string): string {
  const ext = /filename\*=UTF-8''([^;]+)/i.exec(cd ?? '');
  if (ext) {
    try {
      return decodeURIComponent(ext[1]).normalize('NFC');
    } catch {
      /* a malformed escape: the plain name below */
    }
  }
  const plain = /filename="([^"]*)"/i.exec(cd ?? '');
  return plain ? plain[1] : fallback;
}

async function replyError(res: Response): Promise<UploadError> {
  let body: { code?: number | string; message?: string } = {};
  try {
    body = (await res.json()) as typeof body;
  } catch {
    /* not JSON: the status says enough */
  }
  return { status: res.status, code: String(body.code ?? ''), message: body.message ?? res.statusText };
}

const NETWORK: UploadError = { status: 0, code: 'unavailable', message: 'network' };
// the person cancelled: not a failure to explain, only to acknowledge
const CANCELLED: UploadError = { status: -1, code: 'cancelled', message: 'cancelled' };

export function isCancelled(e: unknown): boolean {
  return isUploadError(e) && e.status === CANCELLED.status;
}

/* A percentage of a known total, else null (a reply without a length). */
export function percentOf(done: number, total: number | null): number | null {
  if (total === null || total <= 0) return null;
  return Math.min(100, Math.floor((done * 100) / total));
}

/* Splits text received so far into whole lines; the unfinished rest waits for the next piece. */
export function takeLines(buffered: string): { lines: string[]; rest: string } {
  const parts = buffered.split('\n');
  const rest = parts.pop() ?? '';
  return { lines: parts.filter((l) => l.trim() !== ''), rest };
}

async function send(url: string, body: unknown, signal: AbortSignal | undefined): Promise<Response> {
  const go = () => fetch(url, {
    method: 'POST', credentials: 'same-origin', signal,
    headers: { 'X-CSRF-Token': csrfToken(), ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let res: Response;
  try {
    res = await go();
    // a session that ran out is renewed once, as the Connect calls do (api/transport.ts)
    if (res.status === 401 && await refreshSession()) res = await go();
  } catch {
    throw signal?.aborted ? CANCELLED : NETWORK;
  }
  if (!res.ok) throw await replyError(res);
  return res;
}

/* POSTs body (JSON, or nothing) and reads the file that comes back; onProgress(bytes, total),
 * total from Content-Length (a package, a report's file: the reporting service makes the file
 * whole and announces its size), null when none is sent. A reply cut short is an error, never
 * a truncated file. */
export async function postForFile(url: string, body: unknown, onProgress: (done: number, total: number | null) => void,
  signal?: AbortSignal): Promise<FileDownload> {
  const res = await send(url, body, signal);
  const total = res.headers.get('Content-Length') === null ? null : Number(res.headers.get('Content-Length'));
  const parts: BlobPart[] = [];
  let done = 0;
  onProgress(0, total);
  try {
    const reader = res.body?.getReader();
    for (;;) {
      if (!reader) throw new Error('no body');
      const r = await reader.read();
      if (r.done) break;
      parts.push(new Uint8Array(r.value));
      done += r.value.length;
      onProgress(done, total);
    }
  } catch {
    throw signal?.aborted ? CANCELLED : NETWORK;
  }
  if (total !== null && done !== total) throw NETWORK;
  const type = res.headers.get('Content-Type') ?? 'application/octet-stream';
  return {
    blob: new Blob(parts, { type }), fileName: fileNameOf(res.headers.get('Content-Disposition'), 'tep-tin'),
    sha256: res.headers.get('X-Package-Sha256') ?? '', size: done,
  };
}

export interface ExportProgress {
  rowsDone: number;
  rowsTotal: number;
  bytes: number; // of the file, once the rows are all written
  fileSize: number; // the whole file's, announced with its first chunk (0 until then)
}

/* A search exported whole by the reporting service (ExportSearch), read as its messages come
 * (one line of JSON each): the rows counted while the file is made, then the file's chunks. A
 * late error arrives as a last line; a reply without the file's end is an error too. */
export async function exportSearchFile(body: JsonValue, onProgress: (p: ExportProgress) => void, signal?: AbortSignal): Promise<FileDownload> {
  const res = await send('/v1/records:exportSearch?progress=1', body, signal);
  const reader = res.body?.getReader();
  if (!reader) throw NETWORK;
  const text = new TextDecoder();
  const parts: BlobPart[] = [];
  const p: ExportProgress = { rowsDone: 0, rowsTotal: 0, bytes: 0, fileSize: 0 };
  let rest = '';
  let fileName = '';
  let type = '';
  let late: UploadError | null = null;
  const take = (line: string) => {
    const j = JSON.parse(line) as { error?: { code?: number; message?: string } };
    if (j.error) {
      late = { status: 500, code: String(j.error.code ?? ''), message: j.error.message ?? '' };
      return;
    }
    const m = fromJson(ExportSearchResponseSchema, j as JsonValue);
    if (m.progress) {
      p.rowsDone = Number(m.progress.rowsDone);
      p.rowsTotal = Number(m.progress.rowsTotal);
    }
    if (m.file) {
      fileName ||= m.file.fileName;
      type ||= m.file.contentType;
      p.fileSize ||= Number(m.file.size);
      parts.push(new Uint8Array(m.file.chunk));
      p.bytes += m.file.chunk.length;
    }
    onProgress({ ...p });
  };
  onProgress({ ...p });
  try {
    for (;;) {
      const r = await reader.read();
      const got = takeLines(rest + text.decode(r.value ?? new Uint8Array(), { stream: !r.done }) + (r.done ? '\n' : ''));
      rest = got.rest;
      got.lines.forEach(take);
      if (r.done) break;
    }
  } catch {
    throw signal?.aborted ? CANCELLED : NETWORK;
  }
  if (late) throw late;
  if (!fileName && parts.length === 0) throw NETWORK;
  return { blob: new Blob(parts, { type: type || 'application/octet-stream' }), fileName: (fileName || 'ho-so').normalize('NFC'), sha256: '', size: p.bytes };
}

/* Hands a downloaded file to the browser's own download. */
export function saveFile(f: { blob: Blob; fileName: string }): void {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(f.blob);
  a.download = f.fileName;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 60_000);
}

/* The package of an OUT_OF_SYSTEM transfer (made once; asked again, the same bytes). */
export function exportPackage(transferId: string, requestId: string, onProgress: (done: number, total: number | null) => void,
  signal?: AbortSignal): Promise<FileDownload> {
  const q = new URLSearchParams({ request_id: requestId });
  return postForFile(`/v1/transfers/${encodeURIComponent(transferId)}/package?${q.toString()}`, undefined, onProgress, signal);
}

export interface ImportedPackage {
  recordId: string;
  transfer?: { id?: string };
}

/* A package taken in by unitId: the file streamed as the body, upload progress in percent. */
export function importPackage(file: Blob, unitId: string, note: string, onProgress: (pct: number) => void): Promise<ImportedPackage> {
  return new Promise((resolve, reject) => {
    const x = new XMLHttpRequest();
    const q = new URLSearchParams({ unit_id: unitId, note: note.normalize('NFC'), request_id: crypto.randomUUID() });
    x.open('POST', `/v1/transfer-packages?${q.toString()}`);
    x.setRequestHeader('Content-Type', 'application/octet-stream');
    x.setRequestHeader('X-CSRF-Token', csrfToken());
    x.upload.onprogress = (e) => {
      if (e.lengthComputable) onProgress(Math.round((e.loaded * 100) / e.total));
    };
    x.onload = () => {
      let body: { code?: number | string; message?: string; recordId?: string; transfer?: { id?: string } } = {};
      try {
        body = JSON.parse(x.responseText) as typeof body;
      } catch {
        /* not JSON: the status says enough */
      }
      if (x.status >= 200 && x.status < 300 && body.recordId) resolve({ recordId: body.recordId, transfer: body.transfer });
      else reject({ status: x.status, code: String(body.code ?? ''), message: body.message ?? x.statusText } satisfies UploadError);
    };
    x.onerror = () => reject(NETWORK);
    x.send(file);
  });
}

function isUploadError(e: unknown): e is UploadError {
  return typeof e === 'object' && e !== null && typeof (e as UploadError).status === 'number' && typeof (e as UploadError).message === 'string';
}

/* What a person reads of a failed route call: the code's sentence and the service's rule
 * (a 413 is tooLarge; a reply cut short says the file did not arrive whole). */
export function fileErrorText(e: unknown, tooLarge: string): string {
  if (!isUploadError(e)) return errorText(e);
  if (e.status === 413) return tooLarge;
  if (e.status === 0) return vi.files.cut;
  if (e.status === CANCELLED.status) return vi.files.cancelled;
  const code = Number(e.code);
  const head = Number.isInteger(code) && code > 0 ? codeText(code as Code) : vi.codes.Unknown;
  return e.message ? `${head}: ${ruleText(e.message)}` : head;
}
