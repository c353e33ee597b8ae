/* The one place that turns a service's error into what a person reads: a Connect error's code
 * and message become a Vietnamese sentence, and an INVALID_ARGUMENT naming a field path
 * ("record.employment.rank_code: unknown code …") becomes an error on that field of the form. */
import { Code, ConnectError } from '@connectrpc/connect';
import { vi } from '../i18n/vi';

export type FieldPath = (string | number)[];

export interface FieldError {
  name: FieldPath;
  errors: string[];
}

function camel(s: string): string {
  return s.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

/* "record.family[1].relation_code" under root "record" → ["family", 1, "relationCode"]. A path
 * outside the root, or a message without a path, gives null. */
export function fieldPathOf(message: string, root = 'record'): FieldPath | null {
  const m = /^([a-z_][a-z0-9_]*(?:\[\d+\])?(?:\.[a-z_][a-z0-9_]*(?:\[\d+\])?)*): /.exec(message);
  if (!m) return null;
  const parts: FieldPath = [];
  for (const seg of m[1].split('.')) {
    const a = /^([a-z0-9_]+)(?:\[(\d+)\])?$/.exec(seg);
    if (!a) return null;
    parts.push(camel(a[1]));
    if (a[2] !== undefined) parts.push(Number(a[2]));
  }
  if (root) {
    if (parts[0] !== camel(root)) return null;
    parts.shift();
  }
  return parts.length ? parts : null;
}

/* Known rule texts of the services, in Vietnamese; the service's own words follow in brackets
 * for anything not listed, so nothing is lost. */
const RULES: [RegExp, (m: RegExpExecArray) => string][] = [
  [/unknown code "([^"]*)" in catalogue (\w+)/, (m) => `mã "${m[1]}" không có trong danh mục ${vi.catalog[m[2]] ?? m[2]}`],
  [/must be given/, () => 'bắt buộc nhập'],
  [/not a date|expected YYYY-MM-DD|a real date/, () => 'ngày không hợp lệ (dd/mm/yyyy)'],
  [/in the future/, () => 'không được ở tương lai'],
  [/before from|not before/, () => 'ngày kết thúc không được trước ngày bắt đầu'],
  [/changed by someone else \(now version (\d+)\)/, (m) => `hồ sơ vừa được người khác sửa (nay là phiên bản ${m[1]})`],
  [/9 \(CMND\) or 12 \(CCCD\) digits/, () => 'số CMND phải có 9 chữ số, CCCD 12 chữ số'],
  [/decimal number/, () => 'phải là số thập phân viết như 2.34 (tối đa hai chữ số thập phân)'],
  [/greater than 0 and less than (\d+)/, (m) => `phải lớn hơn 0 và nhỏ hơn ${m[1]}`],
  [/salary step/, () => 'bậc lương phải từ 1 đến 20'],
  [/at least 10 characters/, () => 'mật khẩu phải có ít nhất 10 ký tự'],
  [/contain(s|ing)? the username/, () => 'mật khẩu không được chứa tên đăng nhập'],
  [/repeated character/, () => 'mật khẩu không được là một ký tự lặp lại'],
  [/wrong (old |current )?password|old_password/, () => 'mật khẩu hiện tại không đúng'],
  [/already exists|already taken|in use/, () => 'đã tồn tại'],
  [/only PDF, JPEG or PNG/, () => 'chỉ nhận bản quét PDF, JPEG hoặc PNG'],
];

export function ruleText(message: string): string {
  const body = message.replace(/^[a-z_][a-z0-9_.[\]]*: /, '');
  for (const [re, f] of RULES) {
    const m = re.exec(body);
    if (m) return f(m);
  }
  return body;
}

export function codeText(code: Code): string {
  return vi.codes[Code[code] as keyof typeof vi.codes] ?? vi.codes.Unknown;
}

/* The sentence for a banner or a notification: what happened, then the service's rule. */
export function errorText(e: unknown): string {
  const err = ConnectError.from(e);
  if (err.code === Code.Aborted) return vi.errors.stale;
  const rule = ruleText(err.rawMessage);
  const head = codeText(err.code);
  return rule && rule !== head ? `${head}: ${rule}` : head;
}

/* Field errors for a form whose values are the message under root; the rest of the message
 * stays for the banner (null when the error names no field of the form). */
export function fieldErrors(e: unknown, root = 'record'): FieldError[] | null {
  const err = ConnectError.from(e);
  if (err.code !== Code.InvalidArgument) return null;
  const path = fieldPathOf(err.rawMessage, root);
  if (!path) return null;
  return [{ name: path, errors: [ruleText(err.rawMessage)] }];
}

export function isCode(e: unknown, code: Code): boolean {
  return e instanceof ConnectError && e.code === code;
}
