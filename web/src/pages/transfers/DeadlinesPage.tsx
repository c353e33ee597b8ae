/* Every open step of the viewer's units with its deadline (SPEC §3's table, the province's
 * policy): transfer steps and records' own (a new record, a change awaiting approval, a
 * declaration to verify, a leaving), overdue first, server paged; the overdue-only filter and
 * the page in the URL. */
import { useQuery } from '@connectrpc/connect-query';
import { Button, Space, Switch, Table, Typography } from 'antd';
import { useState } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import { useUnitNames } from '../../api/hooks';
import { DeadlineSource, Transfers, type Deadline } from '../../api/gen/transfers_pb';
import { ErrorBanner } from '../../components/ErrorBanner';
import { Page } from '../../components/Page';
import { vi } from '../../i18n/vi';
import { dateText } from '../../lib/format';
import { DaysLeft } from './parts';

/* Where a deadline's work is done: the transfer, the change request, or the record. */
export function deadlineLink(d: Deadline): string {
  if (d.source === DeadlineSource.TRANSFER) return `/transfers/${d.transferId}`;
  if (d.ref) return `/change-requests?id=${d.ref}`;
  return `/records/${d.recordId}`;
}

export function DeadlinesPage() {
  const [params, setParams] = useSearchParams();
  const overdueOnly = params.get('overdue') === '1';
  const pageToken = params.get('pt') ?? '';
  const q = useQuery(Transfers.method.listDeadlines, { overdueOnly, pageSize: 50, pageToken }, { placeholderData: (p) => p });
  const [history, setHistory] = useState<string[]>([]);
  const rows = q.data?.deadlines ?? [];
  const names = useUnitNames(rows.map((d) => d.unitId));
  const go = (overdue: boolean, pt: string) => setParams(new URLSearchParams({ ...(overdue ? { overdue: '1' } : {}), ...(pt ? { pt } : {}) }));
  return (
    <Page crumbs={[{ title: vi.menu.home, to: '/' }, { title: vi.deadlines.title }]} title={vi.deadlines.title}
      extra={<Space><Switch checked={overdueOnly} onChange={(v) => { setHistory([]); go(v, ''); }} aria-label={vi.deadlines.overdueOnly} /><span>{vi.deadlines.overdueOnly}</span></Space>}>
      {q.data?.today && <Typography.Paragraph type="secondary">{vi.deadlines.today(dateText(q.data.today))}</Typography.Paragraph>}
      <ErrorBanner error={q.error} />
      <Table<Deadline> rowKey={(d) => `${d.source}-${d.transferId}-${d.recordId}-${d.ref}-${d.step}`} size="middle" loading={q.isFetching} dataSource={rows}
        pagination={false} scroll={{ x: 900 }} locale={{ emptyText: vi.deadlines.none }}
        columns={[
          { title: vi.deadlines.step, dataIndex: 'step', render: (k: number, d) => <Link to={deadlineLink(d)}>{vi.stepKind[k]}</Link> },
          { title: vi.deadlines.record, dataIndex: 'recordName', render: (v: string, d) => <Link to={`/records/${d.recordId}`}>{v || d.recordId}</Link> },
          { title: vi.deadlines.unit, dataIndex: 'unitId', render: (u: string) => names.get(u) ?? u },
          { title: vi.deadlines.start, dataIndex: 'startDate', width: 120, render: (v: string) => dateText(v) },
          { title: vi.deadlines.left, key: 'left', width: 260, render: (_: unknown, d) => <DaysLeft dueDate={d.dueDate} left={d.workingDaysLeft} overdue={d.overdue} estimated={d.estimated} /> },
        ]}
        footer={() => (
          <Space>
            <Button disabled={!pageToken} onClick={() => { setHistory([]); go(overdueOnly, ''); }}>{vi.common.first}</Button>
            <Button disabled={!pageToken} onClick={() => { const h = [...history]; const prev = h.pop() ?? ''; setHistory(h); go(overdueOnly, prev); }}>{vi.common.prev}</Button>
            <Button disabled={!q.data?.nextPageToken} onClick={() => { setHistory([...history, pageToken]); go(overdueOnly, q.data?.nextPageToken ?? ''); }}>{vi.common.next}</Button>
          </Space>
        )} />
    </Page>
  );
}
