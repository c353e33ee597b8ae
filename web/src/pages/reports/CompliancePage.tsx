/* The half-yearly report on record management (GetComplianceReport): per unit directly below
 * the chosen one and in total, records and complete ones, changes entered on time or late,
 * transfer steps on time or overdue, accounts in use, the latest update; the report's due
 * date and what could not be counted. */
import { useQuery } from '@connectrpc/connect-query';
import { Alert, Card, Form, Select, Table, Typography } from 'antd';
import { useMemo } from 'react';
import { useSearchParams } from 'react-router-dom';
import { Reporting, type UnitCompliance } from '../../api/gen/reporting_pb';
import { ErrorBanner } from '../../components/ErrorBanner';
import { Page } from '../../components/Page';
import { UnitSelect } from '../../components/Pickers';
import { vi } from '../../i18n/vi';
import { dateText, numberText, timeText } from '../../lib/format';
import { recentPeriods } from '../../lib/reports';

// The columns' widths add up to this: the whole table fits the page at 1366 px beside the menu,
// and scrolls sideways (its unit column held) on a narrower screen.
const TABLE_WIDTH = 1060;

export function CompliancePage() {
  const [params, setParams] = useSearchParams();
  const unitId = params.get('unit') ?? '';
  const periods = useMemo(() => recentPeriods(new Date(), 6), []);
  const period = params.get('p') ?? '';
  const q = useQuery(Reporting.method.getComplianceReport, { unitId, period }, { placeholderData: (p) => p });
  const set = (k: string, v: string) => {
    const n = new URLSearchParams(params);
    if (v) n.set(k, v);
    else n.delete(k);
    setParams(n);
  };
  const d = q.data;
  const num = (v: bigint) => numberText(v);
  const rows = d ? [...d.units, ...(d.total ? [{ ...d.total, unitId: 'total', unitName: vi.rep.total }] : [])] : [];
  return (
    <Page crumbs={[{ title: vi.menu.home, to: '/' }, { title: vi.menu.compliance }]} title={vi.menu.compliance}>
      <Typography.Paragraph type="secondary">{vi.rep.complianceHint}</Typography.Paragraph>
      <Card size="small" style={{ marginBottom: 12 }}>
        <Form layout="inline">
          <Form.Item label={vi.rep.unit} htmlFor="comp-unit"><UnitSelect id="comp-unit" value={unitId} onChange={(v) => set('unit', v)} /></Form.Item>
          <Form.Item label={vi.rep.period} htmlFor="comp-period">
            <Select id="comp-period" style={{ width: 200 }} value={period || d?.period || periods[1]}
              options={periods.map((p) => ({ value: p, label: vi.rep.periodText(p) }))} onChange={(v: string) => set('p', v)} />
          </Form.Item>
        </Form>
      </Card>
      <ErrorBanner error={q.error} />
      {d && <Typography.Paragraph>{`${vi.rep.periodText(d.period)}: ${dateText(d.from)} – ${dateText(d.to)}. `}{vi.rep.dueBy(dateText(d.dueDate), d.updateDeadlineDays)}</Typography.Paragraph>}
      {d?.notes.map((n) => <Alert key={n} type="warning" showIcon message={`${vi.rep.notes}: ${n}`} style={{ marginBottom: 8 }} />)}
      <Table<UnitCompliance> rowKey="unitId" size="small" bordered loading={q.isFetching} dataSource={rows} pagination={false} scroll={{ x: TABLE_WIDTH }} tableLayout="fixed"
        rowClassName={(r) => (r.unitId === 'total' ? 'hoso-total-row' : '')}
        columns={[
          { title: vi.deadlines.unit, dataIndex: 'unitName', fixed: 'left', width: 220 },
          { title: vi.rep.records, dataIndex: 'records', align: 'right', width: 98, render: num },
          { title: vi.rep.complete, dataIndex: 'complete', align: 'right', width: 98, render: num },
          { title: vi.rep.changes, children: [
            { title: vi.rep.onTime, dataIndex: 'changesOnTime', align: 'right', width: 98, render: num },
            { title: vi.rep.late, dataIndex: 'changesLate', align: 'right', width: 98, render: num },
          ] },
          { title: vi.rep.trOnTime, dataIndex: 'transfersOnTime', align: 'right', width: 98, render: num },
          { title: vi.rep.trOverdue, dataIndex: 'transfersOverdue', align: 'right', width: 98, render: num },
          { title: vi.rep.accounts, dataIndex: 'accountsInUse', align: 'right', width: 98, render: num },
          { title: vi.rep.lastUpdate, dataIndex: 'lastUpdate', width: 150, render: (v: string) => (v ? timeText(v) : vi.common.none) },
        ]} />
    </Page>
  );
}
