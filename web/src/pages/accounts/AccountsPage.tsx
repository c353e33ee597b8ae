/* Accounts of a unit's subtree, server paged; create with roles (only those the viewer may
 * grant), change an account's roles, disable, enable, revoke, reset a password — each offered
 * only when the viewer's roles allow it on that account (003 Đ4.1; nobody changes their own);
 * the identity service decides. */
import { useQuery, useTransport } from '@connectrpc/connect-query';
import { createClient } from '@connectrpc/connect';
import { PlusOutlined } from '@ant-design/icons';
import { Alert, Button, Checkbox, Form, Input, Modal, Select, Space, Table, Tag, App as AntApp } from 'antd';
import { useMemo, useState } from 'react';
import { useSearchParams } from 'react-router-dom';
import { errorText } from '../../api/errors';
import { useInvalidate } from '../../api/hooks';
import type { Role } from '../../api/gen/common_pb';
import { AccountStatus, Identity, type Account } from '../../api/gen/identity_pb';
import { UnitSelect } from '../../components/Pickers';
import { ErrorBanner } from '../../components/ErrorBanner';
import { Page } from '../../components/Page';
import { vi } from '../../i18n/vi';
import { timeText } from '../../lib/format';
import { grantableRoles, mayManageHolder } from '../../lib/roles';
import { useSession } from '../../session';

type Op = { kind: 'create' } | { kind: 'disable' | 'enable' | 'revoke' | 'reset' | 'roles'; account: Account } | null;

export function AccountsPage() {
  const s = useSession();
  const [params, setParams] = useSearchParams();
  const unitId = params.get('unit') ?? s.account?.unitId ?? '';
  const status = Number(params.get('status') ?? 0);
  const pageToken = params.get('pt') ?? '';
  const q = useQuery(Identity.method.listAccounts, { unitId, status, pageSize: 50, pageToken });
  const transport = useTransport();
  const client = useMemo(() => createClient(Identity, transport), [transport]);
  const invalidate = useInvalidate();
  const { message } = AntApp.useApp();
  const [op, setOp] = useState<Op>(null);
  const [busy, setBusy] = useState(false);
  const [opError, setOpError] = useState<unknown>(null);
  const [form] = Form.useForm();
  const grantable = grantableRoles(s.roles);

  const set = (k: string, v: string) => {
    const p = new URLSearchParams(params);
    if (v) p.set(k, v);
    else p.delete(k);
    if (k !== 'pt') p.delete('pt');
    setParams(p);
  };

  const run = async () => {
    if (!op) return;
    // a field left wrong is shown on that field by the form itself: nothing to send
    const v = (await form.validateFields().catch(() => null)) as Record<string, unknown> | null;
    if (!v) return;
    setBusy(true);
    setOpError(null);
    try {
      if (op.kind === 'create') {
        await client.createAccount({ username: String(v.username).trim(), fullName: String(v.fullName).normalize('NFC'), unitId: String(v.unitId), roles: v.roles as Role[],
          initialPassword: String(v.password), personRecordId: String(v.personRecordId ?? ''), email: String(v.email ?? ''), requestId: crypto.randomUUID() });
        void message.success(vi.accounts.created);
      } else {
        const id = op.account.id;
        const reason = String(v.reason ?? '');
        if (op.kind === 'disable') await client.disableAccount({ accountId: id, reason });
        if (op.kind === 'enable') await client.enableAccount({ accountId: id, reason });
        if (op.kind === 'revoke') await client.revokeAccount({ accountId: id, reason });
        if (op.kind === 'reset') await client.resetPassword({ accountId: id, newPassword: String(v.password) });
        if (op.kind === 'roles')
          await client.updateAccountRoles({ accountId: id, roles: v.roles as Role[], personRecordId: String(v.personRecordId ?? '').trim(), reason: reason.normalize('NFC'), expectedVersion: op.account.version });
        void message.success(op.kind === 'roles' ? vi.roleChange.done : vi.accounts.done);
      }
      setOp(null);
      await invalidate(Identity);
    } catch (e) {
      setOpError(e);
    } finally {
      setBusy(false);
    }
  };

  const actions = (a: Account) => {
    if (a.id === s.account?.id || !mayManageHolder(s.roles, a.roles) || a.status === AccountStatus.REVOKED) return null;
    return (
      <Space size={4} wrap>
        {a.status === AccountStatus.ACTIVE && <Button size="small" onClick={() => setOp({ kind: 'disable', account: a })}>{vi.accounts.disable}</Button>}
        {a.status === AccountStatus.DISABLED && <Button size="small" onClick={() => setOp({ kind: 'enable', account: a })}>{vi.accounts.enable}</Button>}
        <Button size="small" onClick={() => { form.resetFields(); form.setFieldsValue({ roles: a.roles, personRecordId: a.personRecordId }); setOp({ kind: 'roles', account: a }); }}>{vi.roleChange.title}</Button>
        <Button size="small" onClick={() => setOp({ kind: 'reset', account: a })}>{vi.accounts.resetPassword}</Button>
        <Button size="small" danger onClick={() => setOp({ kind: 'revoke', account: a })}>{vi.accounts.revoke}</Button>
      </Space>
    );
  };

  const title = op && (op.kind === 'create' ? vi.accounts.create : `${{ disable: vi.accounts.disable, enable: vi.accounts.enable, revoke: vi.accounts.revoke, reset: vi.accounts.resetPassword, roles: vi.roleChange.title }[op.kind]}: ${op.account.username}`);
  return (
    <Page crumbs={[{ title: vi.menu.home, to: '/' }, { title: vi.accounts.title }]} title={vi.accounts.title}
      extra={<Button type="primary" icon={<PlusOutlined />} onClick={() => { form.resetFields(); form.setFieldsValue({ unitId }); setOp({ kind: 'create' }); }}>{vi.accounts.create}</Button>}>
      <Space wrap style={{ marginBottom: 12 }}>
        <span>{vi.accounts.unit}:</span>
        <UnitSelect value={unitId} onChange={(v) => set('unit', v)} allowClear={false} aria-label={vi.accounts.unit} />
        <Select value={status} onChange={(v: number) => set('status', v ? String(v) : '')} style={{ width: 180 }} aria-label={vi.accounts.filterStatus}
          options={[{ value: 0, label: 'Mọi trạng thái' }, ...vi.accountStatus.slice(1).map((l, i) => ({ value: i + 1, label: l }))]} />
      </Space>
      <ErrorBanner error={q.error} />
      <Table<Account> rowKey="id" size="middle" loading={q.isLoading} dataSource={q.data?.accounts ?? []} pagination={false} scroll={{ x: 1000 }}
        columns={[
          { title: vi.accounts.username, dataIndex: 'username' },
          { title: vi.accounts.fullName, dataIndex: 'fullName' },
          { title: vi.accounts.roles, dataIndex: 'roles', render: (rs: Role[]) => rs.map((r) => <Tag key={r}>{vi.roles[r]}</Tag>) },
          { title: vi.accounts.status, dataIndex: 'status', render: (st: AccountStatus, a: Account) => <>{vi.accountStatus[st]}{a.mustChangePassword && <Tag color="orange" style={{ marginLeft: 4 }}>{vi.accounts.mustChange}</Tag>}</> },
          { title: vi.accounts.lastLogin, dataIndex: 'lastLoginAt', render: (v: string) => timeText(v) },
          { title: vi.common.actions, key: 'a', render: (_: unknown, a: Account) => actions(a) },
        ]}
        footer={() => (
          <Space>
            <Button disabled={!pageToken} onClick={() => set('pt', '')}>{vi.common.first}</Button>
            <Button disabled={!q.data?.nextPageToken} onClick={() => set('pt', q.data?.nextPageToken ?? '')}>{vi.common.next}</Button>
          </Space>
        )} />
      <Modal open={op !== null} title={title} okText={vi.common.confirm} cancelText={vi.common.cancel} confirmLoading={busy} onOk={() => void run()}
        okButtonProps={{ danger: op?.kind === 'revoke' }} onCancel={() => { setOp(null); setOpError(null); }} destroyOnClose>
        {op?.kind === 'revoke' && <Alert type="warning" showIcon message={vi.accounts.revokeWarn} style={{ marginBottom: 12 }} />}
        {opError !== null && <Alert type="error" showIcon role="alert" message={errorText(opError)} style={{ marginBottom: 12 }} />}
        <Form form={form} layout="vertical" preserve={false}>
          {op?.kind === 'create' && <>
            <Form.Item name="username" label={vi.accounts.username} rules={[{ required: true, message: vi.errors.required }]}><Input autoComplete="off" /></Form.Item>
            <Form.Item name="fullName" label={vi.accounts.fullName} rules={[{ required: true, message: vi.errors.required }]}><Input /></Form.Item>
            <Form.Item name="unitId" label={vi.accounts.unit} rules={[{ required: true, message: vi.errors.required }]}><UnitSelect /></Form.Item>
            <Form.Item name="roles" label={vi.accounts.roles} rules={[{ required: true, message: vi.errors.required }]}>
              <Checkbox.Group options={grantable.map((r) => ({ value: r, label: vi.roles[r] }))} />
            </Form.Item>
            <Form.Item name="personRecordId" label={vi.accounts.personRecord}><Input /></Form.Item>
            <Form.Item name="email" label={vi.accounts.email}><Input /></Form.Item>
          </>}
          {op?.kind === 'roles' && <>
            <Form.Item name="roles" label={vi.accounts.roles} rules={[{ required: true, message: vi.errors.required }]}>
              <Checkbox.Group options={grantable.map((r) => ({ value: r, label: vi.roles[r] }))} />
            </Form.Item>
            <Form.Item name="personRecordId" label={vi.accounts.personRecord}><Input /></Form.Item>
            <Form.Item name="reason" label={vi.roleChange.reason} rules={[{ required: true, whitespace: true, message: vi.errors.required }]}><Input.TextArea rows={2} /></Form.Item>
          </>}
          {(op?.kind === 'create' || op?.kind === 'reset') && (
            <Form.Item name="password" label={op.kind === 'create' ? vi.accounts.initialPassword : vi.accounts.newPassword} extra={vi.session.policy}
              rules={[{ required: true, message: vi.errors.required }, { min: 10, message: vi.session.policy }]}><Input.Password autoComplete="new-password" /></Form.Item>
          )}
          {(op?.kind === 'disable' || op?.kind === 'enable' || op?.kind === 'revoke') && (
            <Form.Item name="reason" label={vi.common.reason} rules={[{ required: op.kind !== 'enable', message: vi.errors.required }]}><Input.TextArea rows={2} /></Form.Item>
          )}
        </Form>
      </Modal>
    </Page>
  );
}
