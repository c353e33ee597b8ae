/* The versions of a record as a timeline, newest first: who, when, what action, why, and the
 * field-level changes (old → new); "show as of" opens the dossier as it was on that day. */
import { useQuery } from '@connectrpc/connect-query';
import { Button, Empty, Timeline, Typography } from 'antd';
import { useMemo } from 'react';
import { Records, type FieldChange } from '../../api/gen/records_pb';
import { useAccountNames, useUnitNames } from '../../api/hooks';
import { ErrorBanner } from '../../components/ErrorBanner';
import { vi } from '../../i18n/vi';
import { dateText, timeText, vnDay } from '../../lib/format';
import { labelOfPath } from './schema';

/* Enum names of the proto JSON, as a person reads them. */
const ENUMS: [RegExp, string[]][] = [
  [/^WORKFLOW_STATE_/, vi.workflow], [/^RECORD_STATUS_/, vi.recordStatus], [/^GENDER_/, vi.gender], [/^CATEGORY_/, vi.category],
];
const ENUM_ORDER: Record<string, string[]> = {
  WORKFLOW_STATE_: ['UNSPECIFIED', 'DRAFT', 'SUBMITTED', 'APPROVED', 'REJECTED'],
  RECORD_STATUS_: ['UNSPECIFIED', 'ACTIVE', 'PENDING_TRANSFER', 'TRANSFERRED_OUT', 'RETIRED', 'RESIGNED', 'DECEASED'],
  GENDER_: ['UNSPECIFIED', 'MALE', 'FEMALE'],
  CATEGORY_: ['UNSPECIFIED', 'CADRE', 'CIVIL_SERVANT', 'PUBLIC_EMPLOYEE', 'CONTRACT', 'COMMUNE_OFFICIAL'],
};

function enumText(v: string): string | null {
  for (const [re, labels] of ENUMS) {
    const m = re.exec(v);
    if (m) {
      const i = ENUM_ORDER[m[0]].indexOf(v.slice(m[0].length));
      return i > 0 ? labels[i] : '—';
    }
  }
  return null;
}

/* A FieldChange value is JSON text: a quoted string shown bare, dates as dd/mm/yyyy, times in
 * the browser's zone, enums and booleans in words. */
export function changeValue(json: string): string {
  if (!json) return '—';
  try {
    const v: unknown = JSON.parse(json);
    if (typeof v === 'string') {
      if (v === '') return '—';
      if (/^\d{4}-\d{2}-\d{2}T/.test(v)) return timeText(v);
      return enumText(v) ?? dateText(v);
    }
    if (typeof v === 'boolean') return v ? vi.common.yes : vi.common.no;
    if (v === null) return '—';
    return typeof v === 'object' ? JSON.stringify(v) : String(v);
  } catch {
    return json;
  }
}

const UNIT_PATH = /(^|\.)managing_unit_id$/;
const ACCOUNT_PATH = /(^|\.)approved_by$/;

/* The unit or account id a FieldChange value holds (a number or a string), else ''. */
export function unitIdOf(json: string): string {
  try {
    const v: unknown = JSON.parse(json);
    return typeof v === 'number' || (typeof v === 'string' && /^\d+$/.test(v)) ? String(v) : '';
  } catch {
    return '';
  }
}

/* A changed value in words; a managing unit by its name (the unit directory) and an approver
 * by the person's name (GetAccountNames), where the viewer may know them, else the id. */
export function namedValue(path: string, json: string, units: Map<string, string>, accounts: Map<string, string>): string {
  const names = UNIT_PATH.test(path) ? units : ACCOUNT_PATH.test(path) ? accounts : null;
  return (names && names.get(unitIdOf(json))) || changeValue(json);
}

/* The ids of a list of changes that name a unit (or an account). */
function idsAt(changes: FieldChange[], re: RegExp): string[] {
  return changes.filter((c) => re.test(c.path)).flatMap((c) => [unitIdOf(c.oldValue), unitIdOf(c.newValue)]);
}

/* The changes old → new. */
export function ChangeList({ changes }: { changes: FieldChange[] }) {
  const unitIds = useMemo(() => idsAt(changes, UNIT_PATH), [changes]);
  const accountIds = useMemo(() => idsAt(changes, ACCOUNT_PATH), [changes]);
  const units = useUnitNames(unitIds);
  const accounts = useAccountNames(accountIds);
  return (
    <ul style={{ margin: '4px 0', paddingLeft: 18 }}>
      {changes.map((c) => (
        <li key={c.path}>
          <b>{labelOfPath(c.path)}</b>: <span className="hoso-diff-old">{namedValue(c.path, c.oldValue, units, accounts)}</span> → <span className="hoso-diff-new">{namedValue(c.path, c.newValue, units, accounts)}</span>
        </li>
      ))}
    </ul>
  );
}

export function Versions({ recordId, onAsOf }: { recordId: string; onAsOf: (day: string) => void }) {
  const q = useQuery(Records.method.listRecordVersions, { recordId, pageSize: 100 });
  if (q.error) return <ErrorBanner error={q.error} />;
  if (!q.data) return null;
  if (!q.data.versions.length) return <Empty description={vi.common.empty} />;
  return (
    <Timeline
      items={q.data.versions.map((v) => ({
        key: String(v.version),
        children: (
          <div data-testid={`version-${v.version}`}>
            <Typography.Text strong>{vi.dossier.version} {String(v.version)} · {vi.dossier.actions[v.action] ?? v.action}</Typography.Text>{' '}
            <Typography.Text type="secondary">{timeText(v.changedAt)} · {v.changedByName || v.changedBy}</Typography.Text>{' '}
            <Button size="small" type="link" onClick={() => onAsOf(vnDay(v.changedAt))}>{vi.dossier.asOf} {dateText(vnDay(v.changedAt))}</Button>
            {v.reason?.text && <div>{vi.common.reason}: {v.reason.text}</div>}
            {v.reason?.decision?.number && <div>{vi.common.decisionNumber}: {v.reason.decision.number} {dateText(v.reason.decision.date)}</div>}
            {v.changes.length > 0 && <ChangeList changes={v.changes} />}
          </div>
        ),
      }))}
    />
  );
}
