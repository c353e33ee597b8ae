/* The record search's filters live in the URL so a view can be shared or bookmarked: every
 * criterion of SearchRecords has a short parameter, lists are comma separated, enums travel as
 * their numbers. Parsing is forgiving (an unknown value is dropped), building is canonical
 * (empty criteria are left out), so the URL of a view is stable. */
import type { MessageInitShape } from '@bufbuild/protobuf';
import { SearchRecordsRequestSchema, type SearchOrder } from '../api/gen/records_pb';

export type SearchInit = MessageInitShape<typeof SearchRecordsRequestSchema>;

export interface Filters {
  name: string;
  text: string;
  unitId: string;
  directOnly: boolean;
  gender: number;
  statuses: number[];
  workflowStates: number[];
  categories: number[];
  birthFrom: string;
  birthTo: string;
  recruitedFrom: string;
  recruitedTo: string;
  party: number;
  rankCodes: string[];
  positionCodes: string[];
  degreeCodes: string[];
  ethnicityCodes: string[];
  order: number;
  pageSize: number;
  pageToken: string;
}

export const emptyFilters: Filters = {
  name: '', text: '', unitId: '', directOnly: false, gender: 0, statuses: [], workflowStates: [], categories: [],
  birthFrom: '', birthTo: '', recruitedFrom: '', recruitedTo: '', party: 0, rankCodes: [], positionCodes: [],
  degreeCodes: [], ethnicityCodes: [], order: 0, pageSize: 20, pageToken: '',
};

const ISO = /^\d{4}-\d{2}-\d{2}$/;

function nums(v: string | null, max: number): number[] {
  if (!v) return [];
  return v.split(',').map(Number).filter((n) => Number.isInteger(n) && n > 0 && n <= max);
}

function codes(v: string | null): string[] {
  return v ? v.split(',').filter((c) => c.length > 0 && c.length <= 64) : [];
}

function int(v: string | null, min: number, max: number, dflt: number): number {
  const n = Number(v);
  return v !== null && Number.isInteger(n) && n >= min && n <= max ? n : dflt;
}

function date(v: string | null): string {
  return v && ISO.test(v) ? v : '';
}

export function parseFilters(p: URLSearchParams): Filters {
  return {
    name: p.get('name') ?? '',
    text: p.get('q') ?? '',
    unitId: p.get('unit') ?? '',
    directOnly: p.get('direct') === '1',
    gender: int(p.get('gender'), 0, 2, 0),
    statuses: nums(p.get('status'), 6),
    workflowStates: nums(p.get('wf'), 4),
    categories: nums(p.get('cat'), 5),
    birthFrom: date(p.get('bfrom')),
    birthTo: date(p.get('bto')),
    recruitedFrom: date(p.get('rfrom')),
    recruitedTo: date(p.get('rto')),
    party: int(p.get('party'), 0, 2, 0),
    rankCodes: codes(p.get('rank')),
    positionCodes: codes(p.get('pos')),
    degreeCodes: codes(p.get('deg')),
    ethnicityCodes: codes(p.get('eth')),
    order: int(p.get('order'), 0, 3, 0),
    pageSize: int(p.get('ps'), 1, 500, 20),
    pageToken: p.get('pt') ?? '',
  };
}

export function filtersToParams(f: Filters): URLSearchParams {
  const p = new URLSearchParams();
  const set = (k: string, v: string) => {
    if (v) p.set(k, v);
  };
  set('name', f.name.trim());
  set('q', f.text.trim());
  set('unit', f.unitId);
  if (f.directOnly) p.set('direct', '1');
  if (f.gender) p.set('gender', String(f.gender));
  set('status', f.statuses.join(','));
  set('wf', f.workflowStates.join(','));
  set('cat', f.categories.join(','));
  set('bfrom', f.birthFrom);
  set('bto', f.birthTo);
  set('rfrom', f.recruitedFrom);
  set('rto', f.recruitedTo);
  if (f.party) p.set('party', String(f.party));
  set('rank', f.rankCodes.join(','));
  set('pos', f.positionCodes.join(','));
  set('deg', f.degreeCodes.join(','));
  set('eth', f.ethnicityCodes.join(','));
  if (f.order) p.set('order', String(f.order));
  if (f.pageSize !== 20) p.set('ps', String(f.pageSize));
  set('pt', f.pageToken);
  return p;
}

export function toRequest(f: Filters): SearchInit {
  return {
    name: f.name.trim().normalize('NFC'),
    text: f.text.trim().normalize('NFC'),
    unitId: f.unitId,
    directOnly: f.directOnly,
    gender: f.gender,
    statuses: f.statuses,
    workflowStates: f.workflowStates,
    categories: f.categories,
    birthDateFrom: f.birthFrom,
    birthDateTo: f.birthTo,
    recruitedFrom: f.recruitedFrom,
    recruitedTo: f.recruitedTo,
    partyMember: f.party,
    rankCodes: f.rankCodes,
    positionCodes: f.positionCodes,
    degreeCodes: f.degreeCodes,
    ethnicityCodes: f.ethnicityCodes,
    order: f.order as SearchOrder,
    pageSize: f.pageSize,
    pageToken: f.pageToken,
  };
}

/* CSV of the summaries for the export: a header row, RFC 4180 quoting, a BOM so spreadsheet
 * programs read the Vietnamese letters as UTF-8. */
export function csvLine(cells: string[]): string {
  return cells.map((c) => (/[",\r\n]/.test(c) ? `"${c.replace(/"/g, '""')}"` : c)).join(',') + '\r\n';
}
