/* Change requests declared by people (phiếu bổ sung lý lịch, 001 Đ9.2a) for the unit to
 * verify: pending first, each with the field changes it asks for, the papers the person sent
 * with it, and its deadline; approve (the record takes the proposed content) or reject with a
 * reason. */
import { useQuery, useTransport } from '@connectrpc/connect-query';
import { createClient } from '@connectrpc/connect';
import { Alert, Button, Card, Input, Modal, Select, Space, Tag, App as AntApp, Empty } from 'antd';
import { useMemo, useState } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import { errorText } from '../../api/errors';
import { useInvalidate } from '../../api/hooks';
import { ChangeRequestState, Records, type ChangeRequest } from '../../api/gen/records_pb';
import { ErrorBanner } from '../../components/ErrorBanner';
import { Page } from '../../components/Page';
import { vi } from '../../i18n/vi';
import { timeText } from '../../lib/format';
import { useSession } from '../../session';
import { ChangeList } from '../dossier/Versions';
import { Papers } from './Papers';

export function ChangeRequestCard({ c, actions, canAddPapers = false }: { c: ChangeRequest; actions?: React.ReactNode; canAddPapers?: boolean }) {
  return (
    <Card size="small" style={{ marginBottom: 12 }} data-testid={`cr-${c.id}`}
      title={<Space><Link to={`/records/${c.recordId}`}>{c.proposed?.fullName ?? c.recordId}</Link><Tag color={c.state === ChangeRequestState.PENDING ? 'gold' : c.state === ChangeRequestState.APPROVED ? 'green' : 'red'}>{vi.crState[c.state]}</Tag></Space>}
      extra={actions}>
      <div>{vi.cr.submittedAt}: {timeText(c.submittedAt)} · {vi.home.due}: {timeText(c.dueAt)}</div>
      {c.note && <div>{vi.cr.note}: {c.note}</div>}
      {c.decisionReason && <div>{vi.common.reason}: {c.decisionReason}</div>}
      <ChangeList changes={c.changes} />
      <Papers recordId={c.recordId} changeRequestId={c.id} canAdd={canAddPapers && c.state === ChangeRequestState.PENDING} />
    </Card>
  );
}

export function ChangeRequestsPage() {
  const s = useSession();
  const [params, setParams] = useSearchParams();
  const state = Number(params.get('state') ?? ChangeRequestState.PENDING);
  const q = useQuery(Records.method.listChangeRequests, { state, pageSize: 50 });
  const transport = useTransport();
  const client = useMemo(() => createClient(Records, transport), [transport]);
  const invalidate = useInvalidate();
  const { message } = AntApp.useApp();
  const [rejecting, setRejecting] = useState<ChangeRequest | null>(null);
  const [reason, setReason] = useState('');
  const [error, setError] = useState<unknown>(null);

  const approve = async (c: ChangeRequest) => {
    setError(null);
    try {
      await client.approveChangeRequest({ changeRequestId: c.id });
      void message.success(vi.cr.approved);
      await invalidate(Records);
    } catch (e) {
      setError(e);
    }
  };
  const reject = async () => {
    if (!rejecting) return;
    try {
      await client.rejectChangeRequest({ changeRequestId: rejecting.id, reason });
      void message.success(vi.cr.rejected);
      setRejecting(null);
      setReason('');
      await invalidate(Records);
    } catch (e) {
      setError(e);
    }
  };

  return (
    <Page crumbs={[{ title: vi.menu.home, to: '/' }, { title: vi.cr.title }]} title={vi.cr.title}
      extra={<Select value={state} onChange={(v: number) => setParams({ state: String(v) })} style={{ width: 200 }} aria-label={vi.cr.state}
        options={vi.crState.slice(1).map((l, i) => ({ value: i + 1, label: l }))} />}>
      <ErrorBanner error={q.error ?? error} />
      {q.data && q.data.changeRequests.length === 0 && <Empty description={vi.home.nothing} />}
      {(q.data?.changeRequests ?? []).map((c) => (
        <ChangeRequestCard key={c.id} c={c} actions={s.rights.approve && c.state === ChangeRequestState.PENDING && (
          <Space>
            <Button type="primary" size="small" onClick={() => void approve(c)}>{vi.cr.approve}</Button>
            <Button danger size="small" onClick={() => { setError(null); setRejecting(c); }}>{vi.cr.reject}</Button>
          </Space>)} />
      ))}
      <Modal open={!!rejecting} title={vi.cr.reject} okText={vi.common.confirm} cancelText={vi.common.cancel} okButtonProps={{ disabled: !reason.trim() }}
        onOk={() => void reject()} onCancel={() => setRejecting(null)}>
        {error !== null && <Alert type="error" showIcon message={errorText(error)} />}
        <Input.TextArea rows={3} value={reason} onChange={(e) => setReason(e.target.value)} aria-label={vi.common.reason} placeholder={vi.common.reason} />
      </Modal>
    </Page>
  );
}
