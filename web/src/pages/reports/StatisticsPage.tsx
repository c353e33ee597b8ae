/* Statistics of the people at work in a unit's subtree on a day, by one or two dimensions
 * (GetStatistics), as a table whose every count opens the people counted in it (DrillDown,
 * server paged). The unit, day and dimensions live in the URL, so a table can be shared. */
import { useQuery } from '@connectrpc/connect-query';
import { Button, Card, Form, Modal, Select, Space, Table, Typography } from 'antd';
import { lazy, Suspense, useMemo, useState } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { Reporting, type GetStatisticsResponse, type Person, type WhenSchema } from '../../api/gen/reporting_pb';
import { useUnitNames } from '../../api/hooks';
import { ErrorBanner } from '../../components/ErrorBanner';
import { Page } from '../../components/Page';
import { DateField, UnitSelect } from '../../components/Pickers';
import { vi } from '../../i18n/vi';
import { dateText, numberText } from '../../lib/format';
import { cellCount, chartText, rowTotal, statsChart } from '../../lib/reports';

const DIMS = Object.keys(vi.rep.dims);
type When = MessageInitShape<typeof WhenSchema>;
// ECharts (~400 kB) is fetched with the first chart, not with the login page.
const BarChart = lazy(() => import('../../components/BarChart').then((m) => ({ default: m.BarChart })));

interface Drill {
  dimensions: string[];
  cell: string[];
  title: string;
}

function People({ unitId, when, drill, onClose }: { unitId: string; when: When; drill: Drill | null; onClose: () => void }) {
  const [tokens, setTokens] = useState<string[]>(['']);
  const pageToken = tokens[tokens.length - 1];
  const q = useQuery(Reporting.method.drillDown, { unitId, when, dimensions: drill?.dimensions ?? [], cell: drill?.cell ?? [], pageSize: 20, pageToken },
    { enabled: !!drill, placeholderData: (p) => p });
  const units = useUnitNames((q.data?.people ?? []).map((p) => p.managingUnitId));
  return (
    <Modal open={!!drill} title={drill?.title} width={980} footer={null} onCancel={() => { setTokens(['']); onClose(); }} destroyOnClose>
      <ErrorBanner error={q.error} />
      {q.data && <Typography.Paragraph>{vi.rep.people(numberText(q.data.total))}</Typography.Paragraph>}
      <Table<Person> rowKey="recordId" size="small" loading={q.isFetching} dataSource={q.data?.people ?? []} pagination={false} scroll={{ x: 800 }}
        columns={[
          { title: vi.rep.person, dataIndex: 'fullName', render: (v: string, p) => <Link to={`/records/${p.recordId}`}>{v}</Link> },
          { title: vi.rep.birth, dataIndex: 'birthDate', width: 120, render: (v: string) => dateText(v) },
          { title: vi.rep.dims.gender, dataIndex: 'gender', width: 90, render: (g: number) => vi.gender[g] ?? '' },
          { title: vi.deadlines.unit, dataIndex: 'managingUnitId', render: (u: string) => units.get(u) ?? '' },
        ]}
        footer={() => (
          <Space>
            <Button disabled={tokens.length < 2} onClick={() => setTokens(tokens.slice(0, -1))}>{vi.common.prev}</Button>
            <Button disabled={!q.data?.nextPageToken} onClick={() => setTokens([...tokens, q.data?.nextPageToken ?? ''])}>{vi.common.next}</Button>
          </Space>
        )} />
    </Modal>
  );
}

type Row = { key: string; label: string };

/* The same counts drawn as bars; a bar opens the people its count is made of. */
function StatsChart({ data, dims, onDrill }: { data: GetStatisticsResponse; dims: string[]; onDrill: (d: Drill) => void }) {
  const chart = useMemo(() => statsChart(data, dims.length, vi.rep.count), [data, dims.length]);
  if (chart.series.length === 0) return null;
  const title = vi.rep.chartOf(dims.map((d) => vi.rep.dims[d] ?? d).join(' — '));
  return (
    <div className="hoso-chart-box">
      <Typography.Text strong>{title}</Typography.Text>
      <Suspense fallback={<div className="hoso-chart" />}>
        <BarChart data={chart} testId="stats-chart" label={`${title}. ${chartText(chart, numberText)}`}
          onBar={(keys, cat, ser) => onDrill({ dimensions: dims.slice(0, keys.length), cell: keys, title: keys.length > 1 ? `${cat} — ${ser}` : cat })} />
      </Suspense>
    </div>
  );
}

function StatsTable({ data, dims, onDrill }: { data: GetStatisticsResponse; dims: string[]; onDrill: (d: Drill) => void }) {
  const count = (n: bigint, d: Drill) => (n > 0n
    ? <Button type="link" size="small" onClick={() => onDrill(d)} aria-label={`${d.title}: ${numberText(n)}`}>{numberText(n)}</Button>
    : <Typography.Text type="secondary">0</Typography.Text>);
  if (dims.length === 0 || !data.dimensions[0])
    return <Typography.Title level={4}>{vi.rep.total}: {count(data.total, { dimensions: [], cell: [], title: vi.rep.total })}</Typography.Title>;
  const [d1, d2] = data.dimensions.slice(0, dims.length);
  const rows: Row[] = d1.values.map((v) => ({ key: v.key, label: v.label }));
  const cols = d2 ? d2.values : [];
  return (
    <Table<Row> rowKey="key" size="small" bordered pagination={false} dataSource={rows} scroll={{ x: 600 }}
      columns={[
        { title: vi.rep.dims[dims[0]] ?? dims[0], dataIndex: 'label', fixed: 'left', width: 220 },
        ...cols.map((c) => ({
          title: c.label, key: `c-${c.key}`, align: 'right' as const,
          render: (_: unknown, r: Row) => count(cellCount(data, [r.key, c.key]), { dimensions: dims, cell: [r.key, c.key], title: `${r.label} — ${c.label}` }),
        })),
        { title: d2 ? vi.rep.total : vi.rep.count, key: 'total', align: 'right' as const,
          render: (_: unknown, r: Row) => count(rowTotal(data, r.key), { dimensions: [dims[0]], cell: [r.key], title: r.label }) },
      ]}
      summary={() => (
        <Table.Summary.Row>
          <Table.Summary.Cell index={0}><b>{vi.rep.total}</b></Table.Summary.Cell>
          {cols.map((c, i) => (
            <Table.Summary.Cell key={c.key} index={i + 1} align="right">
              {numberText(data.cells.filter((x) => x.keys[1] === c.key).reduce((a, x) => a + x.count, 0n))}
            </Table.Summary.Cell>
          ))}
          <Table.Summary.Cell index={cols.length + 1} align="right"><b data-testid="stats-total">{numberText(data.total)}</b></Table.Summary.Cell>
        </Table.Summary.Row>
      )} />
  );
}

export function StatisticsPage() {
  const [params, setParams] = useSearchParams();
  const unitId = params.get('unit') ?? '';
  const asOf = params.get('d') ?? '';
  const snap = params.get('snap') ?? '';
  const knownOn = params.get('k') ?? '';
  // a snapshot (from the snapshots page) replaces the day: its facts are those of its month's first day
  const when = useMemo<When>(() => (snap ? { snapshotId: snap } : { asOf, knownOn }), [snap, asOf, knownOn]);
  const dims = (params.get('by') ?? 'gender').split(',').filter((d) => DIMS.includes(d)).slice(0, 2);
  const [drill, setDrill] = useState<Drill | null>(null);
  const q = useQuery(Reporting.method.getStatistics, { unitId, when, dimensions: dims }, { placeholderData: (p) => p });
  const set = (k: string, v: string) => {
    const n = new URLSearchParams(params);
    if (v) n.set(k, v);
    else n.delete(k);
    setParams(n);
  };
  const dimOptions = [{ value: '', label: vi.rep.none }, ...DIMS.map((d) => ({ value: d, label: vi.rep.dims[d] }))];
  return (
    <Page crumbs={[{ title: vi.menu.home, to: '/' }, { title: vi.menu.statistics }]} title={vi.menu.statistics}>
      <Card size="small" style={{ marginBottom: 12 }}>
        <Form layout="inline">
          <Form.Item label={vi.rep.unit} htmlFor="stats-unit"><UnitSelect id="stats-unit" value={unitId} onChange={(v) => set('unit', v)} /></Form.Item>
          <Form.Item label={vi.rep.asOf} htmlFor="stats-day" tooltip={vi.rep.asOfHint}><DateField id="stats-day" value={snap ? '' : asOf} onChange={(v) => { const n = new URLSearchParams(params); n.delete('snap'); if (v) n.set('d', v); else n.delete('d'); setParams(n); }} /></Form.Item>
          {!snap && <Form.Item label={vi.snap.knownOn} htmlFor="stats-known" tooltip={vi.snap.knownOnHint}><DateField id="stats-known" value={knownOn} onChange={(v) => set('k', v)} /></Form.Item>}
          <Form.Item label={vi.rep.by} htmlFor="stats-by1">
            <Select id="stats-by1" style={{ width: 200 }} value={dims[0] ?? ''} options={dimOptions}
              onChange={(v: string) => set('by', [v, dims[1]].filter(Boolean).join(',') || 'none')} />
          </Form.Item>
          <Form.Item label={vi.rep.then} htmlFor="stats-by2">
            <Select id="stats-by2" style={{ width: 200 }} value={dims[1] ?? ''} options={dimOptions} disabled={!dims[0]}
              onChange={(v: string) => set('by', [dims[0], v].filter(Boolean).join(','))} />
          </Form.Item>
        </Form>
      </Card>
      <ErrorBanner error={q.error} />
      {q.data && (
        <Card size="small" loading={q.isFetching && !q.data} title={vi.rep.statsOf(q.data.unitName, dateText(q.data.asOf))}>
          <StatsChart data={q.data} dims={dims} onDrill={setDrill} />
          <StatsTable data={q.data} dims={dims} onDrill={setDrill} />
        </Card>
      )}
      <People unitId={unitId} when={when} drill={drill} onClose={() => setDrill(null)} />
    </Page>
  );
}
