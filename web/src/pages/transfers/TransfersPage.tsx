/* A unit's transfers: the inbox (addressed to it, or asked of it) and the outbox (sent by it),
 * open ones by due date with the overdue first, as ListTransfers orders them; server paged,
 * the box, the state group and the page in the URL. From here a transfer is started, a
 * record is asked for (002 Đ10), a package from outside the system is taken in. */
import { useQuery } from '@connectrpc/connect-query';
import { ImportOutlined, PlusOutlined, SendOutlined } from '@ant-design/icons';
import { Button, Segmented, Select, Space, Table, Typography } from 'antd';
import { useState } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router-dom';
import { useUnitNames } from '../../api/hooks';
import { Box, Transfers, TransferState, type Transfer } from '../../api/gen/transfers_pb';
import { ErrorBanner } from '../../components/ErrorBanner';
import { Page } from '../../components/Page';
import { vi } from '../../i18n/vi';
import { timeText } from '../../lib/format';
import { OPEN_STATES } from '../../lib/transfers';
import { useSession } from '../../session';
import { ImportPackage } from './ImportPackage';
import { DaysLeft, StateTag } from './parts';

const DONE_STATES = [TransferState.COMPLETED, TransferState.REJECTED, TransferState.REFUSED, TransferState.CANCELLED, TransferState.ENDED,
  TransferState.EXPORTED, TransferState.IMPORTED];

export function TransfersPage() {
  const s = useSession();
  const nav = useNavigate();
  const [params, setParams] = useSearchParams();
  const box = params.get('box') === 'out' ? Box.OUTBOX : params.get('box') === 'all' ? Box.UNSPECIFIED : Box.INBOX;
  const group = params.get('st') ?? 'open';
  const pageToken = params.get('pt') ?? '';
  const states = group === 'open' ? OPEN_STATES : group === 'done' ? DONE_STATES : [];
  const q = useQuery(Transfers.method.listTransfers, { box, states, pageSize: 20, pageToken }, { placeholderData: (p) => p });
  const [history, setHistory] = useState<string[]>([]);
  const [importing, setImporting] = useState(false);
  const rows = q.data?.transfers ?? [];
  const names = useUnitNames(rows.flatMap((t) => [t.fromUnitId, t.toUnitId, t.finalUnitId]));

  const set = (k: string, v: string) => {
    const p = new URLSearchParams(params);
    if (v) p.set(k, v);
    else p.delete(k);
    if (k !== 'pt') {
      p.delete('pt');
      setHistory([]);
    }
    setParams(p);
  };

  return (
    <Page crumbs={[{ title: vi.menu.home, to: '/' }, { title: vi.tr.title }]} title={vi.tr.title}
      extra={s.rights.update && (
        <Space wrap>
          <Button type="primary" icon={<SendOutlined />} onClick={() => nav('/transfers/new')}>{vi.tr.start}</Button>
          <Button icon={<PlusOutlined />} onClick={() => nav('/transfers/request')}>{vi.tr.request}</Button>
          <Button icon={<ImportOutlined />} onClick={() => setImporting(true)}>{vi.tr.importPkg}</Button>
        </Space>
      )}>
      <Space wrap style={{ marginBottom: 12 }}>
        <Segmented aria-label="Hộp hồ sơ" value={box === Box.OUTBOX ? 'out' : box === Box.INBOX ? 'in' : 'all'} onChange={(v) => set('box', v === 'in' ? '' : String(v))}
          options={[{ value: 'in', label: vi.tr.inbox }, { value: 'out', label: vi.tr.outbox }, { value: 'all', label: vi.tr.all }]} />
        <Select aria-label={vi.tr.state} value={group} style={{ width: 200 }} onChange={(v: string) => set('st', v === 'open' ? '' : v)}
          options={[{ value: 'open', label: vi.tr.openOnly }, { value: 'done', label: 'Đã kết thúc' }, { value: 'all', label: vi.tr.all }]} />
      </Space>
      <ErrorBanner error={q.error} />
      <Table<Transfer> rowKey="id" size="middle" loading={q.isFetching} dataSource={rows} pagination={false} scroll={{ x: 960 }}
        locale={{ emptyText: vi.tr.none }}
        onRow={(t) => ({ onDoubleClick: () => nav(`/transfers/${t.id}`) })}
        columns={[
          { title: vi.tr.person, dataIndex: 'recordName', render: (v: string, t) => <Link to={`/transfers/${t.id}`}>{v || t.recordId}</Link> },
          { title: vi.tr.kind, dataIndex: 'kind', width: 170, render: (k: number) => vi.trKind[k] },
          { title: `${vi.tr.from} → ${vi.tr.to}`, key: 'units', render: (_: unknown, t) => (
            <span>{names.get(t.fromUnitId) ?? t.fromUnitId} → {t.toUnitId ? names.get(t.toUnitId) ?? t.toUnitId : t.destination}
              {t.finalUnitId && <Typography.Text type="secondary"> → {names.get(t.finalUnitId) ?? t.finalUnitId}</Typography.Text>}</span>) },
          { title: vi.tr.state, dataIndex: 'state', width: 190, render: (st: TransferState) => <StateTag state={st} /> },
          { title: vi.tr.due, key: 'due', width: 250, render: (_: unknown, t) => {
            if (!OPEN_STATES.includes(t.state)) return <Typography.Text type="secondary">{vi.common.none}</Typography.Text>;
            const step = t.steps.find((x) => !x.doneAt); // whose work it is, the other side's or ours
            return <>
              <DaysLeft dueDate={t.dueDate} left={t.workingDaysLeft} overdue={t.overdue} />
              {step && <div><Typography.Text type="secondary">{vi.tr.whose(names.get(step.unitId) ?? step.unitId)}</Typography.Text></div>}
            </>;
          } },
          { title: vi.tr.created, dataIndex: 'createdAt', width: 140, render: (v: string) => timeText(v) },
        ]}
        footer={() => (
          <Space>
            <Button disabled={!pageToken} onClick={() => { setHistory([]); set('pt', ''); }}>{vi.common.first}</Button>
            <Button disabled={!pageToken} onClick={() => { const h = [...history]; const prev = h.pop() ?? ''; setHistory(h); set('pt', prev); }}>{vi.common.prev}</Button>
            <Button disabled={!q.data?.nextPageToken} onClick={() => { setHistory([...history, pageToken]); set('pt', q.data?.nextPageToken ?? ''); }}>{vi.common.next}</Button>
          </Space>
        )} />
      <ImportPackage open={importing} onClose={() => setImporting(false)} />
    </Page>
  );
}
