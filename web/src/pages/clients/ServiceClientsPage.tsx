/* Service clients of other government systems (004 Đ3.3: every connection needs written
 * approval): the list, server paged; a new client with its name, the units of its grant and
 * the reference of the approval, whose secret is shown this once; revocation with a reason. */
import { useQuery, useTransport } from '@connectrpc/connect-query';
import { createClient } from '@connectrpc/connect';
import { PlusOutlined } from '@ant-design/icons';
import { Alert, Button, Form, Input, Modal, Space, Table, Tag, Typography, App as AntApp } from 'antd';
import { useState } from 'react';
import { errorText, fieldErrors } from '../../api/errors';
import { useInvalidate, useUnitNames } from '../../api/hooks';
import { Identity, type ServiceClient } from '../../api/gen/identity_pb';
import { ErrorBanner } from '../../components/ErrorBanner';
import { Page } from '../../components/Page';
import { UnitSelect } from '../../components/Pickers';
import { vi } from '../../i18n/vi';
import { timeText } from '../../lib/format';

interface NewValues {
  name: string;
  unitIds: string[];
  approvalReference: string;
}

/* Several units, each chosen in the tree. */
function UnitsField(props: { value?: string[]; onChange?: (v: string[]) => void; id?: string }) {
  const v = props.value ?? [];
  const names = useUnitNames(v);
  return (
    <Space direction="vertical" style={{ width: '100%' }}>
      <Space wrap>{v.map((id) => <Tag key={id} closable onClose={() => props.onChange?.(v.filter((x) => x !== id))}>{names.get(id) ?? id}</Tag>)}</Space>
      <UnitSelect id={props.id} value="" onChange={(id) => id && !v.includes(id) && props.onChange?.([...v, id])} />
    </Space>
  );
}

export function ServiceClientsPage() {
  const [pageToken, setPageToken] = useState('');
  const [history, setHistory] = useState<string[]>([]);
  const q = useQuery(Identity.method.listServiceClients, { pageSize: 50, pageToken });
  const transport = useTransport();
  const invalidate = useInvalidate();
  const { message } = AntApp.useApp();
  const [op, setOp] = useState<'create' | ServiceClient | null>(null);
  const [secret, setSecret] = useState<{ id: string; secret: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [form] = Form.useForm();
  const rows = q.data?.clients ?? [];
  const names = useUnitNames(rows.flatMap((c) => c.unitIds));

  const run = async () => {
    const v = (await form.validateFields().catch(() => null)) as (NewValues & { reason?: string }) | null;
    if (!v || !op) return;
    setBusy(true);
    setError(null);
    const client = createClient(Identity, transport);
    try {
      if (op === 'create') {
        const r = await client.createServiceClient({ name: v.name.trim().normalize('NFC'), unitIds: v.unitIds, approvalReference: v.approvalReference.trim().normalize('NFC'), requestId: crypto.randomUUID() });
        setSecret({ id: r.client?.clientId ?? '', secret: r.clientSecret });
      } else {
        await client.revokeServiceClient({ clientId: op.clientId, reason: (v.reason ?? '').normalize('NFC') });
        void message.success(vi.clients.done);
      }
      setOp(null);
      await invalidate(Identity);
    } catch (e) {
      const fe = fieldErrors(e, '');
      if (fe) form.setFields(fe);
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Page crumbs={[{ title: vi.menu.home, to: '/' }, { title: vi.clients.title }]} title={vi.clients.title}
      extra={<Button type="primary" icon={<PlusOutlined />} onClick={() => { setError(null); form.resetFields(); setOp('create'); }}>{vi.clients.create}</Button>}>
      <ErrorBanner error={q.error} />
      <Table<ServiceClient> rowKey="clientId" size="middle" loading={q.isFetching} dataSource={rows} pagination={false} scroll={{ x: 960 }}
        columns={[
          { title: vi.clients.name, dataIndex: 'name' },
          { title: vi.clients.clientId, dataIndex: 'clientId', render: (v: string) => <Typography.Text code>{v}</Typography.Text> },
          { title: vi.clients.units, dataIndex: 'unitIds', render: (ids: string[]) => ids.map((id) => <Tag key={id}>{names.get(id) ?? id}</Tag>) },
          { title: vi.clients.approval, dataIndex: 'approvalReference' },
          { title: vi.clients.created, dataIndex: 'createdAt', width: 140, render: (v: string) => timeText(v) },
          { title: vi.accounts.status, dataIndex: 'revoked', width: 140, render: (r: boolean) => (r ? <Tag>{vi.clients.revoked}</Tag> : <Tag color="green">{vi.clients.active}</Tag>) },
          { title: vi.common.actions, key: 'a', width: 110, render: (_: unknown, c) => !c.revoked && (
            <Button size="small" danger onClick={() => { setError(null); form.resetFields(); setOp(c); }}>{vi.clients.revoke}</Button>) },
        ]}
        footer={() => (
          <Space>
            <Button disabled={!pageToken} onClick={() => { setHistory([]); setPageToken(''); }}>{vi.common.first}</Button>
            <Button disabled={!pageToken} onClick={() => { const h = [...history]; setPageToken(h.pop() ?? ''); setHistory(h); }}>{vi.common.prev}</Button>
            <Button disabled={!q.data?.nextPageToken} onClick={() => { setHistory([...history, pageToken]); setPageToken(q.data?.nextPageToken ?? ''); }}>{vi.common.next}</Button>
          </Space>
        )} />
      <Modal open={op !== null} title={op === 'create' ? vi.clients.create : op ? `${vi.clients.revoke}: ${op.name}` : ''} okText={vi.common.confirm} cancelText={vi.common.cancel}
        okButtonProps={{ danger: op !== 'create' }} confirmLoading={busy} onOk={() => void run()} onCancel={() => setOp(null)} destroyOnClose>
        {op && op !== 'create' && <Alert type="warning" showIcon message={vi.clients.revokeWarn} style={{ marginBottom: 12 }} />}
        {error !== null && <Alert type="error" showIcon role="alert" message={errorText(error)} style={{ marginBottom: 12 }} />}
        <Form form={form} layout="vertical" preserve={false}>
          {op === 'create' ? <>
            <Form.Item name="name" label={vi.clients.name} rules={[{ required: true, whitespace: true, message: vi.errors.required }]}><Input placeholder="Cơ sở dữ liệu quốc gia về CBCCVC" /></Form.Item>
            <Form.Item name="unitIds" label={vi.clients.units} rules={[{ required: true, message: vi.errors.required }]}><UnitsField /></Form.Item>
            <Form.Item name="approvalReference" label={vi.clients.approval} rules={[{ required: true, whitespace: true, message: vi.errors.required }]}><Input placeholder="Công văn 125/SNV-CNTT ngày 01/03/2026" /></Form.Item>
          </> : <Form.Item name="reason" label={vi.common.reason} rules={[{ required: true, whitespace: true, message: vi.errors.required }]}><Input.TextArea rows={2} /></Form.Item>}
        </Form>
      </Modal>
      <Modal open={!!secret} title={vi.clients.secret} okText={vi.common.close} cancelButtonProps={{ style: { display: 'none' } }} onOk={() => setSecret(null)} onCancel={() => setSecret(null)}>
        <Alert type="warning" showIcon message={vi.clients.secretOnce} style={{ marginBottom: 12 }} />
        <p>{vi.clients.clientId}: <Typography.Text code copyable data-testid="client-id">{secret?.id}</Typography.Text></p>
        <p>{vi.clients.secret}: <Typography.Text code copyable data-testid="client-secret">{secret?.secret}</Typography.Text></p>
      </Modal>
    </Page>
  );
}
