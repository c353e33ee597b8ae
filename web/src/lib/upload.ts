/* Upload of a scanned document to the gateway's streaming route (POST
 * /v1/records/{id}/attachments, the file as the body) with progress: XMLHttpRequest, because
 * fetch reports no upload progress. The type and size are checked here first only to tell
 * the person early; the gateway and the service check again. */
import { csrfToken } from '../api/csrf';

export const MAX_UPLOAD = 20 * 1024 * 1024;
export const ACCEPTED = ['application/pdf', 'image/jpeg', 'image/png'];

export function precheck(file: { size: number; type: string; name: string }): 'tooLarge' | 'badType' | null {
  if (file.size > MAX_UPLOAD) return 'tooLarge';
  const ext = file.name.toLowerCase().split('.').pop() ?? '';
  if (!ACCEPTED.includes(file.type) && !['pdf', 'jpg', 'jpeg', 'png'].includes(ext)) return 'badType';
  return null;
}

export interface UploadError {
  status: number;
  code: string;
  message: string;
}

export function uploadAttachment(recordId: string, file: File, description: string, onProgress: (pct: number) => void, changeRequestId = ''): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const x = new XMLHttpRequest();
    const q = new URLSearchParams({ file_name: file.name.normalize('NFC'), description: description.normalize('NFC'), request_id: crypto.randomUUID() });
    if (changeRequestId) q.set('change_request_id', changeRequestId);
    x.open('POST', `/v1/records/${encodeURIComponent(recordId)}/attachments?${q.toString()}`);
    x.setRequestHeader('Content-Type', 'application/octet-stream');
    x.setRequestHeader('X-CSRF-Token', csrfToken());
    x.upload.onprogress = (e) => {
      if (e.lengthComputable) onProgress(Math.round((e.loaded * 100) / e.total));
    };
    x.onload = () => {
      let body: { code?: number | string; message?: string } = {};
      try {
        body = JSON.parse(x.responseText) as typeof body;
      } catch {
        /* not JSON: the status says enough */
      }
      if (x.status >= 200 && x.status < 300) resolve(body);
      else reject({ status: x.status, code: String(body.code ?? ''), message: body.message ?? x.statusText } satisfies UploadError);
    };
    x.onerror = () => reject({ status: 0, code: 'unavailable', message: 'network' } satisfies UploadError);
    x.send(file);
  });
}

export function attachmentUrl(id: string, inline: boolean): string {
  return `/v1/attachments/${encodeURIComponent(id)}/content${inline ? '?inline=1' : ''}`;
}

/* A scan sent inside a transfers request (Scan.content): PDF, JPEG or PNG up to 3 MiB, the
 * transfers service's limit; read whole into memory, its name in NFC. */
export const MAX_SCAN = 3 * 1024 * 1024;

export function precheckScan(file: { size: number; type: string; name: string }): 'scanTooLarge' | 'badType' | null {
  if (file.size > MAX_SCAN) return 'scanTooLarge';
  return precheck(file) === 'badType' ? 'badType' : null;
}

export async function readScan(file: File): Promise<{ fileName: string; content: Uint8Array }> {
  return { fileName: file.name.normalize('NFC'), content: new Uint8Array(await file.arrayBuffer()) };
}

/* A person's supporting paper for their own pending change request: the same upload route,
 * tied to the request (records files it with the record, for the unit that verifies it). */
export function uploadPaper(recordId: string, changeRequestId: string, file: File, onProgress: (pct: number) => void): Promise<unknown> {
  return uploadAttachment(recordId, file, '', onProgress, changeRequestId);
}

export function transferDocumentUrl(transferId: string, documentId: string, inline: boolean): string {
  return `/v1/transfers/${encodeURIComponent(transferId)}/documents/${encodeURIComponent(documentId)}/content${inline ? '?inline=1' : ''}`;
}
