/* Dates and numbers as a Vietnamese reader expects them: ISO dates from the services shown as
 * dd/mm/yyyy (a partial "YYYY-MM" as mm/yyyy), times in the browser's zone, numbers grouped
 * with dots; and back from what a person types to the ISO form the services take. */
const ISO_DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
const ISO_MONTH = /^(\d{4})-(\d{2})$/;

export function dateText(iso: string | undefined): string {
  if (!iso) return '';
  let m = ISO_DAY.exec(iso);
  if (m) return `${m[3]}/${m[2]}/${m[1]}`;
  m = ISO_MONTH.exec(iso);
  if (m) return `${m[2]}/${m[1]}`;
  return iso;
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/* An RFC 3339 time as "dd/mm/yyyy HH:mm" in the browser's zone. */
export function timeText(rfc3339: string | undefined): string {
  if (!rfc3339) return '';
  const d = new Date(rfc3339);
  if (Number.isNaN(d.getTime())) return rfc3339;
  return `${pad(d.getDate())}/${pad(d.getMonth() + 1)}/${d.getFullYear()} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/* The day in Vietnam (UTC+7 all year) of an RFC 3339 time, "YYYY-MM-DD": the day the services
 * judge "as of" on, whatever the browser's zone. */
export function vnDay(rfc3339: string): string {
  const t = Date.parse(rfc3339);
  return Number.isNaN(t) ? '' : new Date(t + 7 * 3600 * 1000).toISOString().slice(0, 10);
}

/* "dd/mm/yyyy" (or d/m/yyyy) typed by a person → "YYYY-MM-DD"; "mm/yyyy" → "YYYY-MM"; an ISO
 * text stays; anything else is returned unchanged for the service to refuse by name. */
export function isoOf(text: string): string {
  const t = text.trim();
  let m = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(t);
  if (m) return `${m[3]}-${pad(Number(m[2]))}-${pad(Number(m[1]))}`;
  m = /^(\d{1,2})\/(\d{4})$/.exec(t);
  if (m) return `${m[2]}-${pad(Number(m[1]))}`;
  return t;
}

export function numberText(n: number | bigint | string): string {
  const s = typeof n === 'string' ? n : n.toString();
  return s.replace(/\B(?=(\d{3})+(?!\d))/g, '.');
}

/* A search's total as counted: exact, or past the service's cap "hơn 1.000" (more than). */
export function totalText(r: { total: bigint; totalIsLowerBound: boolean }): string {
  return (r.totalIsLowerBound ? 'hơn ' : '') + numberText(r.total);
}

/* Days since 1970 of an ISO day in UTC, for "days left" arithmetic without time zones. */
export function dayNumber(iso: string): number {
  const m = ISO_DAY.exec(iso);
  if (!m) return NaN;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) / 86400000;
}
