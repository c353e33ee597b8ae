/* The transfers of one record, newest first, for its dossier's tab. */
import { useQuery } from '@connectrpc/connect-query';
import { Table } from 'antd';
import { Link } from 'react-router-dom';
import { useUnitNames } from '../../api/hooks';
import { Transfers, type Transfer } from '../../api/gen/transfers_pb';
import { ErrorBanner } from '../../components/ErrorBanner';
import { vi } from '../../i18n/vi';
import { timeText } from '../../lib/format';
import { StateTag } from './parts';

export function RecordTransfers({ recordId }: { recordId: string }) {
  const q = useQuery(Transfers.method.listTransfers, { recordId, pageSize: 50 });
  const rows = q.data?.transfers ?? [];
  const names = useUnitNames(rows.flatMap((t) => [t.fromUnitId, t.toUnitId]));
  return (
    <>
      <ErrorBanner error={q.error} />
      <Table<Transfer> rowKey="id" size="small" pagination={false} loading={q.isLoading} dataSource={rows} locale={{ emptyText: vi.tr.none }}
        columns={[
          { title: vi.tr.kind, dataIndex: 'kind', render: (k: number, t) => <Link to={`/transfers/${t.id}`}>{vi.trKind[k]}</Link> },
          { title: vi.tr.from, dataIndex: 'fromUnitId', render: (u: string) => names.get(u) ?? u },
          { title: vi.tr.to, key: 'to', render: (_: unknown, t) => (t.toUnitId ? names.get(t.toUnitId) ?? t.toUnitId : t.destination) },
          { title: vi.tr.decision, key: 'd', render: (_: unknown, t) => t.decision?.number },
          { title: vi.tr.state, dataIndex: 'state', render: (s: number) => <StateTag state={s} /> },
          { title: vi.tr.created, dataIndex: 'createdAt', render: (v: string) => timeText(v) },
        ]} />
    </>
  );
}
