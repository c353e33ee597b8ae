/* The alerts of a unit's subtree (ListAlerts): salary steps and seniority allowances falling
 * due, retirements, secondments ending, records not updated, declarations and approvals waiting
 * past their deadline, transfer steps overdue; soonest first, server paged, the filters in the
 * URL. Each names the person (their dossier) or the transfer it is about. */
import { useQuery } from '@connectrpc/connect-query';
import { Alert as Banner, Button, Card, Form, InputNumber, Select, Space, Table, Tag, Typography } from 'antd';
import { useState } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import { AlertKind, Reporting, type Alert } from '../../api/gen/reporting_pb';
import { useUnitNames } from '../../api/hooks';
import { ErrorBanner } from '../../components/ErrorBanner';
import { Page } from '../../components/Page';
import { UnitSelect } from '../../components/Pickers';
import { vi } from '../../i18n/vi';
import { dateText } from '../../lib/format';

const KINDS = [AlertKind.RETIREMENT, AlertKind.SALARY_STEP, AlertKind.SENIORITY_ALLOWANCE, AlertKind.SECONDMENT_ENDING, AlertKind.RECORD_NOT_UPDATED,
  AlertKind.CHANGE_REQUEST_OVERDUE, AlertKind.APPROVAL_OVERDUE, AlertKind.TRANSFER_OVERDUE];

export function alertLink(a: Alert): string {
  if (a.kind === AlertKind.TRANSFER_OVERDUE && a.subjectId) return `/transfers/${a.subjectId}`;
  if (a.kind === AlertKind.CHANGE_REQUEST_OVERDUE && a.subjectId) return `/change-requests?id=${a.subjectId}`;
  return `/records/${a.recordId}`;
}

/* The alert's kind in words; a transfer step not yet past its deadline is "due", not "overdue"
 * (the service lists open steps within the window under the one kind). */
export function alertText(a: Pick<Alert, 'kind' | 'daysLeft'>): string {
  if (a.kind === AlertKind.TRANSFER_OVERDUE && a.daysLeft >= 0) return vi.rep.trDue;
  return vi.rep.alertKind[a.kind] ?? '';
}

export function AlertDays({ a }: { a: Alert }) {
  return <Typography.Text type={a.daysLeft < 0 ? 'danger' : a.daysLeft <= 30 ? 'warning' : undefined}>{vi.rep.daysLeft(a.daysLeft)}</Typography.Text>;
}

export function AlertsPage() {
  const [params, setParams] = useSearchParams();
  const unitId = params.get('unit') ?? '';
  const kinds = (params.get('k') ?? '').split(',').filter(Boolean).map(Number).filter((k) => KINDS.includes(k));
  const withinDays = Number(params.get('days') ?? '0') || 0;
  const pageToken = params.get('pt') ?? '';
  const [history, setHistory] = useState<string[]>([]);
  const q = useQuery(Reporting.method.listAlerts, { unitId, kinds, withinDays, pageSize: 50, pageToken }, { placeholderData: (p) => p });
  // units by name, as an officer knows them (the path is ids)
  const units = useUnitNames((q.data?.alerts ?? []).map((a) => a.managingUnitId));
  const set = (k: string, v: string) => {
    const n = new URLSearchParams(params);
    if (v) n.set(k, v);
    else n.delete(k);
    if (k !== 'pt') {
      n.delete('pt');
      setHistory([]);
    }
    setParams(n);
  };
  return (
    <Page crumbs={[{ title: vi.menu.home, to: '/' }, { title: vi.menu.alerts }]} title={vi.menu.alerts}>
      <Card size="small" style={{ marginBottom: 12 }}>
        <Form layout="inline">
          <Form.Item label={vi.rep.unit} htmlFor="alerts-unit"><UnitSelect id="alerts-unit" value={unitId} onChange={(v) => set('unit', v)} /></Form.Item>
          <Form.Item label={vi.rep.kinds} htmlFor="alerts-kinds">
            <Select id="alerts-kinds" mode="multiple" allowClear style={{ minWidth: 280 }} placeholder={vi.rep.allKinds} value={kinds}
              options={KINDS.map((k) => ({ value: k, label: vi.rep.alertKind[k] }))} onChange={(v: number[]) => set('k', v.join(','))} />
          </Form.Item>
          <Form.Item label={vi.rep.within} htmlFor="alerts-days">
            <InputNumber id="alerts-days" min={1} max={3660} value={withinDays || null} onChange={(v) => set('days', v ? String(v) : '')} />
          </Form.Item>
        </Form>
      </Card>
      <ErrorBanner error={q.error} />
      {q.data?.notes.map((n) => <Banner key={n} type="warning" showIcon message={`${vi.rep.notes}: ${n}`} style={{ marginBottom: 8 }} />)}
      <Table<Alert> rowKey={(a) => `${a.kind}-${a.recordId}-${a.subjectId}-${a.dueDate}`} size="middle" loading={q.isFetching} dataSource={q.data?.alerts ?? []}
        pagination={false} scroll={{ x: 900 }} locale={{ emptyText: vi.rep.noAlerts }}
        columns={[
          { title: vi.rep.kind, dataIndex: 'kind', width: 230, render: (k: AlertKind, a) => <Link to={alertLink(a)}><Tag color={a.daysLeft < 0 ? 'red' : 'blue'}>{alertText({ kind: k, daysLeft: a.daysLeft })}</Tag></Link> },
          { title: vi.rep.person, dataIndex: 'fullName', render: (v: string, a) => (a.recordId ? <Link to={`/records/${a.recordId}`}>{v}</Link> : v) },
          { title: vi.deadlines.unit, dataIndex: 'managingUnitId', render: (u: string) => units.get(u) ?? '' },
          { title: vi.rep.due, dataIndex: 'dueDate', width: 120, render: (v: string) => dateText(v) },
          { title: vi.rep.left, key: 'left', width: 150, render: (_: unknown, a) => <AlertDays a={a} /> },
          { title: vi.rep.detail, dataIndex: 'detail' },
        ]}
        footer={() => (
          <Space>
            <Button disabled={!pageToken} onClick={() => { const h = [...history]; const prev = h.pop() ?? ''; setHistory(h); set('pt', prev); }}>{vi.common.prev}</Button>
            <Button disabled={!q.data?.nextPageToken} onClick={() => { setHistory([...history, pageToken]); set('pt', q.data?.nextPageToken ?? ''); }}>{vi.common.next}</Button>
          </Space>
        )} />
    </Page>
  );
}
