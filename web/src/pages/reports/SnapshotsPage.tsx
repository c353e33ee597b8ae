/* Monthly snapshots (ListSnapshots, CreateSnapshot for the system administrator): the facts in
 * force on a month's first day, kept so a figure sent can be reproduced. Their totals for the
 * chosen unit (GetStatistics on each snapshot) draw the workforce's change over the months; a
 * point opens that month's statistics. */
import { useQuery, useTransport } from '@connectrpc/connect-query';
import { createClient } from '@connectrpc/connect';
import { useQuery as useTanQuery } from '@tanstack/react-query';
import { CameraOutlined } from '@ant-design/icons';
import { Button, Card, Form, Input, Modal, Space, Table, Tag, Typography, App as AntApp } from 'antd';
import { lazy, Suspense, useMemo, useState } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router-dom';
import { errorText } from '../../api/errors';
import { useInvalidate } from '../../api/hooks';
import { Reporting, type Snapshot } from '../../api/gen/reporting_pb';
import { ErrorBanner } from '../../components/ErrorBanner';
import { Page } from '../../components/Page';
import { UnitSelect } from '../../components/Pickers';
import { vi } from '../../i18n/vi';
import { numberText, timeText } from '../../lib/format';
import { chartText, monthText, trendChart } from '../../lib/reports';
import { useSession } from '../../session';

const BarChart = lazy(() => import('../../components/BarChart').then((m) => ({ default: m.BarChart })));
const TREND_MONTHS = 12;

/* The unit's total in each of the newest snapshots, oldest first. */
function Trend({ unitId, snapshots }: { unitId: string; snapshots: Snapshot[] }) {
  const transport = useTransport();
  const nav = useNavigate();
  const recent = useMemo(() => snapshots.slice(0, TREND_MONTHS).reverse(), [snapshots]);
  const q = useTanQuery({
    queryKey: ['snapshot-totals', unitId, recent.map((s) => s.id)],
    enabled: recent.length > 0,
    queryFn: async () => {
      const c = createClient(Reporting, transport);
      const out: { month: string; id: string; total: number }[] = [];
      for (const s of recent) out.push({ month: s.month, id: s.id, total: Number((await c.getStatistics({ unitId, when: { snapshotId: s.id } })).total) });
      return out;
    },
  });
  const chart = useMemo(() => trendChart(q.data ?? [], vi.rep.count), [q.data]);
  if (q.error) return <ErrorBanner error={q.error} />;
  if (!q.data || chart.categories.length === 0) return null;
  const title = vi.snap.trend;
  return (
    <Card size="small" title={title} style={{ marginBottom: 12 }}>
      <Suspense fallback={<div className="hoso-chart" />}>
        <BarChart data={chart} line testId="trend-chart" label={`${title}. ${chartText(chart, numberText)}`}
          onBar={(keys) => nav(`/reports/statistics?${new URLSearchParams({ ...(unitId ? { unit: unitId } : {}), snap: keys[0] }).toString()}`)} />
      </Suspense>
    </Card>
  );
}

export function SnapshotsPage() {
  const s = useSession();
  const [params, setParams] = useSearchParams();
  const unitId = params.get('unit') ?? '';
  const [tokens, setTokens] = useState<string[]>(['']);
  const q = useQuery(Reporting.method.listSnapshots, { pageSize: 24, pageToken: tokens[tokens.length - 1] }, { placeholderData: (p) => p });
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const [form] = Form.useForm<{ month: string }>();
  const transport = useTransport();
  const invalidate = useInvalidate();
  const { message } = AntApp.useApp();

  const take = async ({ month }: { month: string }) => {
    setBusy(true);
    try {
      const r = await createClient(Reporting, transport).createSnapshot({ month: (month ?? '').trim(), requestId: crypto.randomUUID() });
      void message.success(vi.snap.taken(monthText(r.snapshot?.month ?? ''), numberText(r.snapshot?.records ?? 0n)));
      setOpen(false);
      await invalidate(Reporting);
    } catch (e) {
      form.setFields([{ name: 'month', errors: [errorText(e)] }]);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Page crumbs={[{ title: vi.menu.home, to: '/' }, { title: vi.menu.snapshots }]} title={vi.menu.snapshots}
      extra={s.rights.manageUnits && <Button type="primary" icon={<CameraOutlined />} onClick={() => setOpen(true)}>{vi.snap.take}</Button>}>
      <Typography.Paragraph type="secondary">{vi.snap.hint}</Typography.Paragraph>
      <Card size="small" style={{ marginBottom: 12 }}>
        <Form layout="inline">
          <Form.Item label={vi.rep.unit} htmlFor="snap-unit">
            <UnitSelect id="snap-unit" value={unitId} onChange={(v) => setParams(v ? { unit: v } : {})} />
          </Form.Item>
        </Form>
      </Card>
      <ErrorBanner error={q.error} />
      {tokens.length === 1 && <Trend unitId={unitId} snapshots={q.data?.snapshots ?? []} />}
      <Table<Snapshot> rowKey="id" size="small" bordered loading={q.isFetching} dataSource={q.data?.snapshots ?? []} pagination={false}
        columns={[
          { title: vi.snap.month, dataIndex: 'month', render: (m: string, r) => <Link to={`/reports/statistics?${new URLSearchParams({ ...(unitId ? { unit: unitId } : {}), snap: r.id }).toString()}`}>{monthText(m)}</Link> },
          { title: vi.snap.records, dataIndex: 'records', align: 'right', render: (n: bigint) => numberText(n) },
          { title: vi.snap.takenAt, dataIndex: 'takenAt', render: (t: string) => timeText(t) },
          { title: vi.snap.how, dataIndex: 'automatic', render: (a: boolean) => <Tag>{a ? vi.snap.automatic : vi.snap.manual}</Tag> },
        ]}
        footer={() => (
          <Space>
            <Button disabled={tokens.length < 2} onClick={() => setTokens(tokens.slice(0, -1))}>{vi.common.prev}</Button>
            <Button disabled={!q.data?.nextPageToken} onClick={() => setTokens([...tokens, q.data?.nextPageToken ?? ''])}>{vi.common.next}</Button>
          </Space>
        )} />
      <Modal open={open} title={vi.snap.take} okText={vi.snap.take} cancelText={vi.common.cancel} confirmLoading={busy}
        onOk={() => form.submit()} onCancel={() => setOpen(false)} destroyOnClose>
        <Form form={form} layout="vertical" onFinish={(v) => void take(v)} preserve={false}>
          <Form.Item name="month" label={vi.snap.monthField} extra={vi.snap.monthHint}
            rules={[{ pattern: /^\d{4}-\d{2}$/, message: vi.snap.monthHint }]}>
            <Input placeholder="2026-12" />
          </Form.Item>
        </Form>
      </Modal>
    </Page>
  );
}
